#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "initramfs/depmod.h"
#include "initramfs/module_index.h"
#include "initramfs/modules.h"
#include "system/fd.h"
#include "system/file.h"

using namespace imgroot;
using namespace imgroot::initramfs;

namespace {

// tests/fixtures/modules: a small kernel "6.1.0-test" shaped like Debian's.
std::string fixture_root() {
  return IMGROOT_FIXTURES "/modules";
}
constexpr const char* kRelease = "6.1.0-test";

ModuleIndex load_index(const std::string& root, const std::string& release) {
  auto dir = Fd::open_dir(modules_dir(root, release));
  REQUIRE(dir);
  auto index = load_module_index(dir->get());
  REQUIRE(index);
  return *index;
}

ModuleIndex fixture_index() { return load_index(fixture_root(), kRelease); }

LoadOrder resolve(const ModuleIndex& index, std::vector<std::string> names,
                  const std::string& release = kRelease) {
  auto order = resolve_load_order(index, names, release);
  if (!order) FAIL(order.error().message);
  return *order;
}

std::vector<std::string> names_of(const LoadOrder& order) {
  std::vector<std::string> names;
  for (const auto& path : order.paths) names.push_back(module_name_of_path(path));
  return names;
}

// Index of `name` in `names`; fails the test when it is missing.
size_t position(const std::vector<std::string>& names, const std::string& name) {
  auto it = std::find(names.begin(), names.end(), name);
  INFO(name << " in the load order");
  REQUIRE(it != names.end());
  return static_cast<size_t>(it - names.begin());
}

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/imgroot-test-XXXXXX";
    REQUIRE(::mkdtemp(name));
    path = name;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);  // best effort: a leftover in /tmp harms nothing
  }
};

}  // namespace

TEST_CASE("ext4 loads after crc16, mbcache, jbd2 and both modules behind crypto-crc32c",
          "[modules]") {
  auto order = resolve(fixture_index(), {"ext4"});
  auto names = names_of(order);
  CHECK(names.size() == 6);
  size_t ext4 = position(names, "ext4");
  CHECK(ext4 == names.size() - 1);
  for (const char* before : {"crc16", "mbcache", "jbd2", "crc32c_intel", "crc32c_generic"})
    CHECK(position(names, before) < ext4);
  // jbd2 has the same softdep, so the crc32c modules come before it too.
  CHECK(position(names, "crc32c_intel") < position(names, "jbd2"));
  CHECK(position(names, "crc32c_generic") < position(names, "jbd2"));
  CHECK(order.notes.empty());
}

TEST_CASE("the load order holds the paths of modules.dep", "[modules]") {
  auto order = resolve(fixture_index(), {"ext4"});
  CHECK(std::find(order.paths.begin(), order.paths.end(), "kernel/arch/x86/crypto/crc32c-intel.ko") !=
        order.paths.end());
  CHECK(order.paths.back() == "kernel/fs/ext4/ext4.ko");
}

TEST_CASE("an alias stands for every module it matches", "[modules]") {
  auto index = fixture_index();
  auto r = resolve_name(index, "crypto-crc32c");
  CHECK(r.modules == std::vector<std::string>{"crc32c_generic", "crc32c_intel"});
  CHECK_FALSE(r.builtin);
  CHECK(resolve_name(index, "crypto_crc32c").modules == r.modules);
  CHECK(resolve_name(index, "virtio:d00000002v00001AF4").modules ==
        std::vector<std::string>{"virtio_blk"});
}

TEST_CASE("'-' and '_' are the same character in module names", "[modules]") {
  auto index = fixture_index();
  CHECK(resolve_name(index, "crc32c-intel").modules == std::vector<std::string>{"crc32c_intel"});
  CHECK(resolve_name(index, "virtio-blk").modules == std::vector<std::string>{"virtio_blk"});
  CHECK(names_of(resolve(index, {"virtio-pci"})).back() == "virtio_pci");
}

TEST_CASE("builtin modules and aliases of builtins are skipped without a word", "[modules]") {
  auto index = fixture_index();
  auto order = resolve(index, {"zstd_common", "sd-mod", "crypto-sha256"});
  CHECK(order.paths.empty());
  CHECK(order.notes.empty());
  auto sha256 = resolve_name(index, "sha256");
  CHECK(sha256.builtin);
  CHECK(sha256.modules == std::vector<std::string>{"sha256_ssse3"});
}

TEST_CASE("a requested module that does not exist is an error naming it and the kernel",
          "[modules]") {
  std::vector<std::string> names{"ext4", "no_such_module"};
  auto order = resolve_load_order(fixture_index(), names, kRelease);
  REQUIRE_FALSE(order);
  CHECK(order.error().message.find("'no_such_module'") != std::string::npos);
  CHECK(order.error().message.find(kRelease) != std::string::npos);
}

TEST_CASE("every softdep line of a module counts, not only the first", "[modules]") {
  auto names = names_of(resolve(fixture_index(), {"btrfs"}));
  size_t btrfs = position(names, "btrfs");
  for (const char* before : {"sha256_ssse3", "crc32c_intel", "crc32c_generic", "libcrc32c"})
    CHECK(position(names, before) < btrfs);
}

TEST_CASE("a post: softdep loads after its module", "[modules]") {
  auto names = names_of(resolve(fixture_index(), {"ipmi_msghandler"}));
  CHECK(names == std::vector<std::string>{"ipmi_msghandler", "ipmi_devintf"});
}

TEST_CASE("names before pre: or post: in a softdep line are ignored, as modprobe does",
          "[modules]") {
  auto order = resolve(fixture_index(), {"cifs"});
  CHECK(names_of(order) == std::vector<std::string>{"cifs"});
  CHECK(order.notes.empty());
}

TEST_CASE("a softdep that names nothing is noted and skipped", "[modules]") {
  auto order = resolve(fixture_index(), {"loop"});
  CHECK(names_of(order) == std::vector<std::string>{"loop"});
  REQUIRE(order.notes.size() == 1);
  CHECK(order.notes[0].find("no_such_alias") != std::string::npos);
}

TEST_CASE("a dependency cycle is cut instead of followed forever", "[modules]") {
  auto order = resolve(fixture_index(), {"cycle_a"});
  auto names = names_of(order);
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"cycle_a", "cycle_b"});
  REQUIRE_FALSE(order.notes.empty());
  CHECK(order.notes[0].find("cycle") != std::string::npos);
}

TEST_CASE("the requested list is a set: order and repetitions do not matter", "[modules]") {
  auto index = fixture_index();
  auto a = resolve(index, {"virtio_pci", "virtio_blk", "ext4", "loop"});
  auto b = resolve(index, {"loop", "ext4", "virtio-blk", "virtio_pci", "ext4"});
  CHECK(a.paths == b.paths);
}

TEST_CASE("each module appears once, after all its hard dependencies", "[modules]") {
  auto index = fixture_index();
  std::vector<std::string> all;
  for (const auto& [name, module] : index.modules) all.push_back(name);
  auto names = names_of(resolve(index, all));
  auto sorted = names;
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
  CHECK(names.size() == index.modules.size());
  for (const auto& [name, module] : index.modules) {
    if (name == "cycle_a" || name == "cycle_b") continue;  // a cycle cannot be ordered
    for (const auto& dep : module.deps) CHECK(position(names, dep) < position(names, name));
  }
}

TEST_CASE("a modules.dep line without ':' is reported with its line number", "[modules]") {
  ModuleIndex index;
  auto st = parse_modules_dep("kernel/a.ko:\nkernel/b.ko kernel/a.ko\n", index);
  REQUIRE_FALSE(st);
  CHECK(st.error().message == "parse modules.dep line 2: no ':' after the module path");
}

TEST_CASE("module names come from file names, compressed or not", "[modules]") {
  CHECK(module_name_of_path("kernel/arch/x86/crypto/crc32c-intel.ko") == "crc32c_intel");
  CHECK(module_name_of_path("kernel/fs/xfs/xfs.ko.zst") == "xfs");
  CHECK(module_name_of_path("/lib/modules/x/extra/foo-bar.ko.xz") == "foo_bar");
}

TEST_CASE("depmod writes the modules.dep that an unpacked kernel package lacks", "[depmod]") {
  if (::access("/usr/sbin/depmod", X_OK) != 0 && ::access("/sbin/depmod", X_OK) != 0) {
    WARN("skipped: depmod is not installed (Debian package kmod)");
    return;
  }
  TempDir root;
  const std::string dir = root.path + "/lib/modules/9.9.9-test";
  std::filesystem::create_directories(dir + "/kernel");
  // What a kernel package ships besides the modules; depmod warns without them.
  for (const char* name : {"modules.order", "modules.builtin", "modules.builtin.modinfo"})
    REQUIRE(std::ofstream(dir + "/" + name).good());
  auto before = has_modules_dep(root.path, "9.9.9-test");
  REQUIRE(before);
  CHECK_FALSE(*before);
  auto st = run_depmod(root.path, "9.9.9-test");
  if (!st) FAIL(st.error().message);
  CHECK(*has_modules_dep(root.path, "9.9.9-test"));
  CHECK(has_modules_dep(root.path, "no-such-release").error().code == ENOENT);
}

TEST_CASE("the unpacked Debian kernel's ext4 closure has crc32c and jbd2 before ext4",
          "[kernel]") {
  const std::string root = "/var/cache/imgroot-dev/k";
  const std::string release = "6.1.0-56-amd64";
  if (!std::filesystem::exists(root + "/lib/modules/" + release + "/modules.dep")) {
    WARN("skipped: no unpacked kernel with modules.dep in " << root << "/lib/modules/" << release
                                                            << " (dpkg -x and depmod -b it there)");
    return;
  }
  auto index = load_index(root, release);
  auto names = names_of(resolve(index, {"virtio_pci", "virtio_blk", "ext4", "loop"}, release));
  size_t ext4 = position(names, "ext4");
  CHECK(position(names, "crc32c_intel") < ext4);
  CHECK(position(names, "crc32c_generic") < ext4);
  CHECK(position(names, "jbd2") < ext4);
  CHECK(position(names, "virtio") < position(names, "virtio_pci"));
  CHECK(position(names, "virtio_ring") < position(names, "virtio_blk"));
  CHECK(names.size() == 13);
}

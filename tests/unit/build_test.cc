#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include "boot/module_table.h"
#include "initramfs/build.h"
#include "compress/zstd.h"
#include "initramfs/elf.h"
#include "system/file.h"
#include "test_support.h"

using namespace imgroot;
using namespace imgroot::initramfs;
using namespace imgroot::test;

namespace {

// tests/fixtures/modules: a small kernel "6.1.0-test" shaped like Debian's.
std::string fixture_root() { return IMGROOT_FIXTURES "/modules"; }

// A spec over the fixture kernel with a fake (non-ELF) init.
InitramfsSpec fixture_spec(const TempDir& tmp) {
  InitramfsSpec spec;
  spec.init = tmp.write("imgroot-init", "fake init\n");
  spec.modules_root = fixture_root();
  spec.kernel_release = "6.1.0-test";
  spec.modules = {"virtio_pci", "virtio_blk", "ext4", "loop"};
  return spec;
}

// The entries of a newc archive, name and content, in order (a minimal
// walk; cpio_test checks the format itself).
std::vector<std::pair<std::string, std::string>> entries_of(const std::string& cpio) {
  std::vector<std::pair<std::string, std::string>> entries;
  size_t pos = 0;
  while (pos + 110 <= cpio.size()) {
    auto field = [&](int i) { return std::stoul(cpio.substr(pos + 6 + 8 * i, 8), nullptr, 16); };
    size_t namesize = field(11), filesize = field(6);
    std::string name = cpio.substr(pos + 110, namesize - 1);
    if (name == "TRAILER!!!") break;
    pos = (pos + 110 + namesize + 3) & ~size_t{3};
    entries.emplace_back(std::move(name), cpio.substr(pos, filesize));
    pos = (pos + filesize + 3) & ~size_t{3};
  }
  return entries;
}

std::vector<std::string> names_in(const std::string& cpio) {
  std::vector<std::string> names;
  for (auto& [name, content] : entries_of(cpio)) names.push_back(std::move(name));
  return names;
}

std::optional<std::string> content_of(const std::string& cpio, const std::string& wanted) {
  for (auto& [name, content] : entries_of(cpio))
    if (name == wanted) return std::move(content);
  return std::nullopt;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// An ELF64 header and one program header of type `type`.
std::string tiny_elf(uint32_t type) {
  Elf64_Ehdr ehdr{};
  std::memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
  ehdr.e_ident[EI_CLASS] = ELFCLASS64;
  ehdr.e_phoff = sizeof ehdr;
  ehdr.e_phentsize = sizeof(Elf64_Phdr);
  ehdr.e_phnum = 1;
  Elf64_Phdr phdr{};
  phdr.p_type = type;
  std::string file(reinterpret_cast<const char*>(&ehdr), sizeof ehdr);
  file.append(reinterpret_cast<const char*>(&phdr), sizeof phdr);
  return file;
}

}  // namespace

TEST_CASE("the initramfs has /init, the mount points, /dev/console and the modules", "[build]") {
  TempDir tmp;
  auto initramfs = assemble_initramfs(fixture_spec(tmp));
  if (!initramfs) FAIL(initramfs.error().message);
  auto names = names_in(initramfs->cpio);
  for (const char* name : {"init", "dev", "dev/console", "proc", "sys", "run", "sysroot",
                           "hostpart", "etc", "bin", "lib/modules", "etc/imgroot/modules.load",
                           "lib/modules/6.1.0-test/kernel/fs/ext4/ext4.ko",
                           "lib/modules/6.1.0-test/kernel/arch/x86/crypto/crc32c-intel.ko"})
    CHECK(contains(names, name));
  CHECK_FALSE(contains(names, "bin/sh"));
  REQUIRE(initramfs->modules.size() == 13 - 2);  // no virtio_pci_*_dev in the fixture
  CHECK(initramfs->modules.back() == "/lib/modules/6.1.0-test/kernel/drivers/virtio/virtio_pci.ko");
  // Nothing is forced: the init loads what the devices and filesystems need.
  CHECK(initramfs->forced.empty());
}

TEST_CASE("the module table gives every module its load order and every alias of it",
          "[build]") {
  TempDir tmp;
  auto initramfs = assemble_initramfs(fixture_spec(tmp));
  REQUIRE(initramfs);
  auto text = content_of(initramfs->cpio, "etc/imgroot/modules.table");
  REQUIRE(text);
  auto table = parse_module_table(*text);
  if (!table) FAIL(table.error().message);
  REQUIRE(table->load_paths.size() == initramfs->modules.size());
  const std::string dir = "/lib/modules/6.1.0-test/kernel/";
  // ext4's softdep (pre: crypto-crc32c) and its hard dependencies come first.
  const auto& ext4 = table->load_paths.at("ext4");
  CHECK(ext4.back() == dir + "fs/ext4/ext4.ko");
  CHECK(std::find(ext4.begin(), ext4.end(), dir + "arch/x86/crypto/crc32c-intel.ko") != ext4.end());
  CHECK(std::find(ext4.begin(), ext4.end(), dir + "fs/jbd2/jbd2.ko") != ext4.end());
  CHECK(table->load_paths.at("loop") == std::vector<std::string>{dir + "drivers/block/loop.ko"});
  CHECK(modules_for(*table, "fs-ext4") == std::vector<std::string>{"ext4"});
  CHECK(modules_for(*table, "devname:loop-control") == std::vector<std::string>{"loop"});
  CHECK(modules_for(*table, "virtio:d00000002v00001AF4") == std::vector<std::string>{"virtio_blk"});
  // The aliases of modules left out stay out (sha256_ssse3 is not in this initramfs).
  CHECK(modules_for(*table, "sha256").empty());
}

TEST_CASE("forced modules (--add-modules) and what they need are in modules.load",
          "[build]") {
  TempDir tmp;
  auto spec = fixture_spec(tmp);
  spec.modules = {"virtio_blk"};
  spec.forced = {"ext4"};
  auto initramfs = assemble_initramfs(spec);
  if (!initramfs) FAIL(initramfs.error().message);
  REQUIRE_FALSE(initramfs->forced.empty());
  CHECK(initramfs->forced.back() == "/lib/modules/6.1.0-test/kernel/fs/ext4/ext4.ko");
  CHECK(initramfs->modules.size() > initramfs->forced.size());  // virtio_blk is there, not forced
  std::string list;
  for (const auto& line : initramfs->forced) list += line + "\n";
  CHECK(content_of(initramfs->cpio, "etc/imgroot/modules.load") == list);
}

TEST_CASE("busybox comes with a /bin/sh symlink for the rescue shell", "[build]") {
  TempDir tmp;
  auto spec = fixture_spec(tmp);
  spec.busybox = tmp.write("busybox", "fake busybox\n");
  auto initramfs = assemble_initramfs(spec);
  REQUIRE(initramfs);
  auto names = names_in(initramfs->cpio);
  CHECK(contains(names, "bin/busybox"));
  CHECK(contains(names, "bin/sh"));
}

TEST_CASE("building twice, or with the modules listed in another order, gives the same bytes",
          "[build]") {
  TempDir tmp;
  auto spec = fixture_spec(tmp);
  auto first = assemble_initramfs(spec);
  REQUIRE(first);
  spec.modules = {"loop", "ext4", "virtio-blk", "virtio_pci"};
  auto second = assemble_initramfs(spec);
  REQUIRE(second);
  CHECK(first->cpio == second->cpio);
  auto a = compress_zstd(first->cpio, 19);
  auto b = compress_zstd(second->cpio, 19);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a == *b);

  spec.mtime = 1700000000;
  auto stamped = assemble_initramfs(spec);
  REQUIRE(stamped);
  CHECK(stamped->cpio != first->cpio);
  CHECK(stamped->cpio.size() == first->cpio.size());
}

TEST_CASE("the zstd output decompresses to the archive", "[build]") {
  std::string data(100000, 'x');
  auto packed = compress_zstd(data, 19);
  REQUIRE(packed);
  CHECK(packed->size() < 1000);
  std::string unpacked(data.size(), '\0');
  size_t n = ZSTD_decompress(unpacked.data(), unpacked.size(), packed->data(), packed->size());
  REQUIRE_FALSE(ZSTD_isError(n));
  CHECK(unpacked == data);
}

TEST_CASE("a missing init or a dynamically linked one is refused", "[build]") {
  TempDir tmp;
  auto spec = fixture_spec(tmp);
  spec.init = tmp / "no-such-init";
  auto missing = assemble_initramfs(spec);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("no-such-init") != std::string::npos);

  spec.init = tmp.write("dynamic", tiny_elf(PT_INTERP));
  auto dynamic = assemble_initramfs(spec);
  REQUIRE_FALSE(dynamic);
  CHECK(dynamic.error().message.find("dynamically linked") != std::string::npos);
}

TEST_CASE("only an ELF file with PT_INTERP needs an interpreter", "[build]") {
  CHECK(elf_needs_interpreter(tiny_elf(PT_INTERP)));
  CHECK_FALSE(elf_needs_interpreter(tiny_elf(PT_LOAD)));
  CHECK_FALSE(elf_needs_interpreter("#!/bin/sh\n"));
  CHECK_FALSE(elf_needs_interpreter(tiny_elf(PT_INTERP).substr(0, 70)));  // truncated
  auto self = read_file("/proc/self/exe");  // the test binary links libc dynamically
  REQUIRE(self);
  CHECK(elf_needs_interpreter(*self));
}

TEST_CASE("the output replaces an older file whole, without leaving a temp file", "[build]") {
  TempDir tmp;
  const std::string out = tmp / "initramfs.img";
  REQUIRE(write_initramfs(out, "old"));
  REQUIRE(write_initramfs(out, "new contents"));
  CHECK(*read_file(out) == "new contents");
  auto dir = Fd::open_dir(tmp.path());
  REQUIRE(dir);
  CHECK(*list_dir(dir->get()) == std::vector<std::string>{"initramfs.img"});
  CHECK_FALSE(write_initramfs(tmp / "missing-dir/x.img", "x"));
}

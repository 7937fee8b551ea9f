// Staging onto a real (loop-mounted ext4) host partition. Needs root and
// loop devices; skips with a message otherwise. Each test runs in its own
// mount namespace (ctest runs every test case as its own process), so a
// failing test cannot leave anything mounted on the machine.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <random>
#include <thread>

#include "base/layout.h"
#include "stage/stage.h"
#include "root_support.h"
#include "stage_support.h"
#include "state/hostpart.h"
#include "state/state_file.h"
#include "system/fd.h"
#include "system/loop.h"
#include "system/mount.h"

using namespace imgroot;
using namespace imgroot::test;

namespace {

// What is mounted and which files are attached to loop devices, to compare
// before and after.
std::string mounts_and_loops() {
  std::string out = read_text("/proc/self/mountinfo");
  for (const auto& e : std::filesystem::directory_iterator("/sys/block")) {
    std::string backing = e.path().string() + "/loop/backing_file";
    if (exists(backing)) out += e.path().filename().string() + " " + read_text(backing);
  }
  return out;
}

// The mkfs command line for a host partition of 'type', labelled 'label'.
std::string mkfs_for(const std::string& type, const std::string& label) {
  if (type == "btrfs") return "mkfs.btrfs -q -L " + label;
  if (type == "xfs") return "mkfs.xfs -q -L " + label;
  return "mkfs.ext4 -q -b 4096 -L " + label;
}

// Whether this machine can make and mount a 'type' filesystem; says why not.
bool can_make(const std::string& type) {
  if (run("command -v mkfs." + type).status != 0) {
    WARN("skipped: no mkfs." + type);
    return false;
  }
  if (run("grep -qw " + type + " /proc/filesystems || modprobe " + type).status != 0) {
    WARN("skipped: this kernel has no " + type);
    return false;
  }
  return true;
}

// The names in 'dir', sorted.
std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// A fresh filesystem (ext4 unless told) on a loop device, mounted at dir/mnt.
struct HostFs {
  TempDir dir;
  std::optional<LoopDevice> loop;
  std::optional<Mount> mount;
  Fd fd;

  explicit HostFs(const std::string& size, const std::string& label = "imgroot-test",
                  const std::string& type = "ext4") {
    auto r = run("truncate -s " + size + " " + shell_quote(dir / "host.fs") + " && " +
                 mkfs_for(type, label) + " " + shell_quote(dir / "host.fs"));
    REQUIRE(r.status == 0);
    auto file = Fd::open(dir / "host.fs", O_RDWR);
    REQUIRE(file);
    auto attached = LoopDevice::attach(*file, false);
    REQUIRE(attached);
    loop.emplace(std::move(*attached));
    std::filesystem::create_directory(dir / "mnt");
    auto mounted = Mount::create(loop->path(), dir / "mnt", type);
    REQUIRE(mounted);
    mount.emplace(std::move(*mounted));
    auto opened = Fd::open_dir(dir / "mnt");
    REQUIRE(opened);
    fd = std::move(*opened);
  }

  std::string mnt() const { return dir / "mnt"; }
  // Nothing on it but what mkfs made.
  bool untouched() const { return names_in(mnt()) == std::vector<std::string>{"lost+found"}; }
  std::string at(const std::string& name) const { return dir / ("mnt/" + name); }
};

stage::StageRequest request(const std::string& image, bool inspect = true) {
  stage::StageRequest r;
  r.image = image;
  r.inspect = inspect;
  return r;
}

// Why staging 'r' onto 'host' fails; it must fail.
std::string refusal(const HostFs& host, const stage::StageRequest& r) {
  auto staged = stage::stage_image(host.fd.get(), r, {});
  REQUIRE_FALSE(staged);
  return staged.error().message;
}

// Staging 'r' onto 'host' fails with 'message' and leaves nothing mounted,
// attached or written.
void check_refused_cleanly(const HostFs& host, const stage::StageRequest& r,
                           const std::string& message) {
  const std::string before = mounts_and_loops();
  CHECK(refusal(host, r) == message);
  CHECK(mounts_and_loops() == before);
  CHECK(host.untouched());
}

// 'size' bytes of random data at 'offset' in 'path', in repeated 4 MiB blocks.
void fill_random(const std::string& path, off_t offset, off_t size) {
  std::vector<unsigned char> block(4 << 20);
  std::mt19937_64 rng(42);
  for (auto& b : block) b = static_cast<unsigned char>(rng());
  auto fd = Fd::open(path, O_WRONLY | O_CREAT, 0644);
  REQUIRE(fd);
  for (off_t done = 0; done < size; done += static_cast<off_t>(block.size()))
    REQUIRE(::pwrite(fd->get(), block.data(), block.size(), offset + done) ==
            static_cast<ssize_t>(block.size()));
}

// A big image (an ext4 superblock, then random data) that takes a while to copy.
void make_big_image(const std::string& path, off_t size) {
  REQUIRE(run("truncate -s " + std::to_string(size) + " " + shell_quote(path) +
              " && mkfs.ext4 -q -F -b 4096 " + shell_quote(path))
              .status == 0);
  fill_random(path, 64 << 20, size - (64 << 20));
}

// Wait until the child has started writing its partial copy.
bool copy_started(const HostFs& host, pid_t pid) {
  for (int i = 0; i < 20000; ++i) {
    struct stat st {};
    if (::stat(host.at(host_files::kPartial).c_str(), &st) == 0 && st.st_size > 0) return true;
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return false;
}

}  // namespace

TEST_CASE("staging a good image leaves nothing mounted or attached", "[root][stage][machine]") {
  if (!can_loop_mount_privately()) return;
  HostFs host("64M");
  TempDir src;
  make_good_image(src / "good.img", src / "root");
  const std::string before = mounts_and_loops();
  auto staged = stage::stage_image(host.fd.get(), request(src / "good.img"), {});
  REQUIRE(staged);
  CHECK(mounts_and_loops() == before);
  CHECK(read_text(host.at("hn-root-new.img")) == read_text(src / "good.img"));
  CHECK(names_in(host.mnt()) ==
        std::vector<std::string>{"hn-root-new.img", "imgroot", "lost+found"});
}

TEST_CASE("stage refuses an image of a filesystem type imgroot does not boot, before mounting it",
          "[root][stage][machine]") {
  if (!can_loop_mount_privately()) return;
  HostFs host("64M");
  TempDir src;
  for (const std::string type : {"vfat", "minix"}) {
    const std::string image = src / (type + ".img");
    make_foreign_image(image, type);
    check_refused_cleanly(host, request(image), foreign_refusal(image, type));
  }
}

TEST_CASE("ext2 and ext3 images are inspected and staged", "[root][stage]") {
  if (!can_loop_mount_privately()) return;
  HostFs host("64M");
  TempDir src;
  for (const std::string type : {"ext2", "ext3"}) {
    const std::string root = src / ("root-" + type);
    make_good_image(src / "good.img", root);
    const std::string image = src / (type + ".img");
    REQUIRE(run("mkfs." + type + " -q -F -b 4096 -d " + shell_quote(root) + " " +
                shell_quote(image) + " 8M")
                .status == 0);
    auto staged = stage::stage_image(host.fd.get(), request(image), {});
    REQUIRE(staged);
    CHECK(staged->fs_type == type);
  }
}

TEST_CASE("an image without /sbin/init is refused with its message", "[root][stage][machine]") {
  if (!can_loop_mount_privately()) return;
  HostFs host("64M");
  TempDir src;
  make_ext4_image(src / "noinit.img", src / "root",
                  {{"boot/kernel", "k"}, {"boot/initramfs", "i"}, {"bin/sh", "x:"}});
  check_refused_cleanly(host, request(src / "noinit.img"), "the image has no /sbin/init");
}

TEST_CASE("an init that is not executable is refused", "[root][stage]") {
  if (!can_loop_mount_privately()) return;
  HostFs host("64M");
  TempDir src;
  make_ext4_image(src / "img", src / "root",
                  {{"sbin/init", "not executable"}, {"boot/kernel", "k"}, {"boot/initramfs", "i"}});
  CHECK(refusal(host, request(src / "img")) == "the image's /sbin/init is not executable");
}

TEST_CASE("symlinks in the image resolve inside the image, never on the host", "[root][stage]") {
  if (!can_loop_mount_privately()) return;
  HostFs host("64M");
  TempDir src;
  // /etc/hostname exists on the host, not in the image.
  make_ext4_image(src / "img", src / "root",
                  {{"sbin/init", "x:"},
                   {"boot/kernel", "->/etc/hostname"},
                   {"boot/initramfs", "->../../../../../etc/hostname"}});
  CHECK(refusal(host, request(src / "img")) == "the image has no /boot/kernel");
}

TEST_CASE("the image must have the program --init names", "[root][stage]") {
  if (!can_loop_mount_privately()) return;
  HostFs host("64M");
  TempDir src;
  make_good_image(src / "good.img", src / "root");
  auto r = request(src / "good.img");
  r.init = "/lib/systemd/systemd";
  CHECK(refusal(host, r) == "the image has no /lib/systemd/systemd");
}

TEST_CASE("running out of space mid-copy leaves no partial file and the images intact",
          "[root][stage]") {
  if (!can_loop_mount_privately()) return;
  HostFs host("16M");
  fill_random(host.at("hn-root.img"), 0, 4 << 20);
  const std::string current = read_text(host.at("hn-root.img"));
  TempDir src;
  fill_random(src / "big.img", 0, 32 << 20);
  auto image = Fd::open(src / "big.img", O_RDONLY);
  REQUIRE(image);

  // The verb's pre-check refuses and says how much is missing...
  auto checked = stage::check_free_space(host.fd.get(), *image);
  REQUIRE_FALSE(checked);
  CHECK(checked.error().message.starts_with(
      "not enough space on the host partition: the copy needs 32 MiB, "));
  CHECK(checked.error().message.find(" missing); remove hn-root-broken.img") != std::string::npos);

  // ...and the copy itself, run past it, fails cleanly.
  auto copied = stage::copy_to_partial(host.fd.get(), *image, {});
  REQUIRE_FALSE(copied);
  CHECK(copied.error().code == ENOSPC);
  CHECK(copied.error().message ==
        "write '.hn-root-new.img.partial': No space left on device");
  CHECK(names_in(host.mnt()) == std::vector<std::string>{"hn-root.img", "lost+found"});
  CHECK(read_text(host.at("hn-root.img")) == current);
}

TEST_CASE("kill -9 during a copy leaves nothing a boot could load, and status cleans up",
          "[root][stage]") {
  if (!can_loop_mount_privately()) return;
  HostFs host("1536M");
  write_text(host.at("hn-root.img"), "current");
  TempDir src;
  make_big_image(src / "big.img", 1 << 30);

  pid_t pid = spawn_imgroot({"stage", "--no-inspect", "--hostpart", host.mnt(), src / "big.img"});
  const bool started = copy_started(host, pid);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  REQUIRE(started);

  CHECK_FALSE(exists(host.at("hn-root-new.img")));
  for (const auto& name : names_in(host.mnt()))
    CHECK((name == "hn-root.img" || !name.starts_with("hn-root")));
  CHECK(read_text(host.at("hn-root.img")) == "current");

  auto status = run(std::string(IMGROOT_BINARY) + " status --hostpart " + shell_quote(host.mnt()));
  CHECK(status.status == 0);
  CHECK(names_in(host.mnt()) == std::vector<std::string>{"hn-root.img", "lost+found"});
}

TEST_CASE("SIGTERM during a copy removes the partial copy and exits 1", "[root][stage]") {
  if (!can_loop_mount_privately()) return;
  HostFs host("1536M");
  TempDir src;
  make_big_image(src / "big.img", 1 << 30);

  pid_t pid = spawn_imgroot({"stage", "--no-inspect", "--hostpart", host.mnt(), src / "big.img"});
  const bool started = copy_started(host, pid);
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(started);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(host.untouched());
}

TEST_CASE("on btrfs and xfs, an image on the host partition is staged as an unhashed reflink",
          "[root][stage]") {
  const std::string type = GENERATE(as<std::string>{}, "btrfs", "xfs");
  if (!can_loop_mount_privately() || !can_make(type)) return;
  // xfs wants at least 300 MiB; the file is sparse.
  HostFs host("512M", "imgroot-test", type);
  std::filesystem::create_directory(host.at("images"));
  make_good_image(host.at("images/good.img"), host.dir / "root", "64M");
  fill_random(host.at("images/good.img"), 64 << 20, 16 << 20);  // after the filesystem
  const std::string image = host.at("images/good.img");
  const std::string sha = run("sha256sum " + shell_quote(image)).output.substr(0, 64);

  // The clone path: nothing read, nothing hashed, recorded as a reflink.
  auto staged = stage::stage_image(host.fd.get(), request(image), {});
  REQUIRE(staged);
  CHECK(staged->copy.reflinked);
  CHECK(staged->copy.sha256.empty());
  CHECK(staged->copy.data_bytes == 0);
  CHECK(staged->copy.size == 80 << 20);
  CHECK(read_text(host.at("hn-root-new.img")) == read_text(image));
  const state::ImageRecord r = recorded(host.fd.get(), host.at("hn-root-new.img"));
  CHECK(r.reflinked);
  CHECK(r.sha256.empty());

  // --hash: still a reflink, and hashed by reading the copy.
  stage::CopyControl hash;
  hash.hash_reflink = true;
  auto hashed = stage::stage_image(host.fd.get(), request(image), hash);
  REQUIRE(hashed);
  CHECK(hashed->copy.reflinked);
  CHECK(hashed->copy.sha256 == sha);

  // The CLI says what it did and what it did not compute.
  auto cli = run(std::string(IMGROOT_BINARY) + " stage --tries 0 --hostpart " +
                 shell_quote(host.mnt()) + " " + shell_quote(image));
  CHECK(cli.status == 0);
  CHECK(cli.output.find(", reflinked) as ") != std::string::npos);
  CHECK(cli.output.find("sha256 not computed: the copy is a reflink (--hash computes it)\n") !=
        std::string::npos);
}

TEST_CASE("stage and revert work offline through the CLI on a mounted ext4 partition",
          "[root][cli]") {
  if (!can_loop_mount_privately()) return;
  HostFs host("64M");
  TempDir src;
  make_good_image(src / "good.img", src / "root");
  const std::string hp = " --hostpart " + shell_quote(host.mnt());
  const std::string bin = IMGROOT_BINARY;

  auto staged = run(bin + " stage" + hp + " " + shell_quote(src / "good.img"));
  CHECK(staged.status == 0);
  CHECK(staged.output.find("staged ") != std::string::npos);
  CHECK(exists(host.at("hn-root-new.img")));

  write_text(host.at("hn-root.img"), "current");
  write_text(host.at("hn-root-old.img"), "old");
  auto refused = run(bin + " revert" + hp);
  CHECK(refused.status == 1);
  auto reverted = run(bin + " revert --unstage" + hp);
  CHECK(reverted.status == 0);
  CHECK(exists(host.at("system-revert")));
  CHECK_FALSE(exists(host.at("hn-root-new.img")));
}

TEST_CASE("the host partition is found by its label in the mount table", "[root][hostpart]") {
  if (!can_loop_mount_privately()) return;
  HostFs host("64M", "hostpart");
  auto found = state::open_hostpart(std::nullopt, state::SystemPaths{});
  REQUIRE(found);
  CHECK(found->path == host.mnt());
}

TEST_CASE("without root, stage says inspecting needs root and how to do without",
          "[root][cli]") {
  if (!can_loop_mount_privately()) return;
  if (run("command -v setpriv").status != 0) {
    WARN("skipped: needs setpriv (util-linux) to drop root");
    return;
  }
  TempDir src;
  make_good_image(src / "good.img", src / "root");
  std::filesystem::create_directory(src / "hp");
  REQUIRE(::chmod(src.path().c_str(), 0755) == 0);
  REQUIRE(::chmod((src / "good.img").c_str(), 0644) == 0);
  REQUIRE(::chmod((src / "hp").c_str(), 0777) == 0);
  auto r = run("setpriv --reuid=65534 --regid=65534 --clear-groups " +
               std::string(IMGROOT_BINARY) + " stage --hostpart " + shell_quote(src / "hp") +
               " " + shell_quote(src / "good.img"));
  CHECK(r.status == 1);
  CHECK(r.output == "imgroot: stage '" + (src / "good.img") +
                        "': open '/dev/loop-control': Permission denied; inspecting an image "
                        "needs root (or pass --no-inspect)\n");
  CHECK(std::filesystem::is_empty(src / "hp"));
}

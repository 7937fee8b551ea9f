// lib/image: opening, probing, mounting an image and the one bootable
// check. The [root] cases mount images; they skip with a message without
// root and loop devices, and run in their own mount namespace.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "image/bootable.h"
#include "image/mount.h"
#include "image/open.h"
#include "root_support.h"
#include "stage_support.h"
#include "system/fd.h"

using namespace imgroot;
using namespace imgroot::test;

namespace {

Fd open_dir(const std::string& path) {
  auto fd = Fd::open_dir(path);
  REQUIRE(fd);
  return std::move(*fd);
}

std::string refusal(int dir, const std::string& name, image::Symlink symlink) {
  auto fd = image::open_image(dir, name, O_RDONLY, symlink);
  REQUIRE_FALSE(fd);
  return fd.error().message;
}

// A root tree: 'files' as make_ext4_image writes them, without an image.
void make_tree(const std::string& root,
               const std::initializer_list<std::pair<std::string, std::string>>& files) {
  for (const auto& [path, content] : files) {
    std::filesystem::path p = root + "/" + path;
    std::filesystem::create_directories(p.parent_path());
    if (content.starts_with("->")) {
      std::filesystem::create_symlink(content.substr(2), p);
    } else {
      write_text(p, content.substr(content.starts_with("x:") ? 2 : 0));
      ::chmod(p.c_str(), content.starts_with("x:") ? 0755 : 0644);
    }
  }
}

std::string unbootable(const std::string& root, const std::string& init, image::Needs needs) {
  Fd dir = open_dir(root);
  auto st = image::check_bootable(dir.get(), init, needs);
  REQUIRE_FALSE(st);
  return st.error().message;
}

}  // namespace

TEST_CASE("opening an image refuses a directory", "[image]") {
  TempDir tmp;
  std::filesystem::create_directory(tmp / "dir.img");
  Fd dir = open_dir(tmp.path());
  CHECK(refusal(dir.get(), "dir.img", image::Symlink::kFollow) ==
        "'dir.img' is a directory, not an image file");
}

TEST_CASE("opening an image refuses a FIFO without blocking on it", "[image]") {
  TempDir tmp;
  REQUIRE(::mkfifo((tmp / "fifo.img").c_str(), 0644) == 0);
  Fd dir = open_dir(tmp.path());
  // No writer: a blocking open would never return.
  CHECK(refusal(dir.get(), "fifo.img", image::Symlink::kRefuse) ==
        "'fifo.img' is a FIFO, not an image file");
}

TEST_CASE("a symlink to an image is refused unless the caller asks to follow it", "[image]") {
  TempDir tmp;
  make_ext4_image(tmp / "real.img", tmp / "root", {{"sbin/init", "x:"}});
  std::filesystem::create_symlink("real.img", tmp / "link.img");
  Fd dir = open_dir(tmp.path());
  CHECK(refusal(dir.get(), "link.img", image::Symlink::kRefuse) ==
        "'link.img' is a symlink, not an image file");
  auto followed = image::open_image(dir.get(), "link.img", O_RDONLY, image::Symlink::kFollow);
  REQUIRE(followed);
  auto type = image::probe_image(*followed, "link.img");
  REQUIRE(type);
  CHECK(*type == "ext4");
}

TEST_CASE("an opened image reads with blocking I/O, in the mode asked for", "[image]") {
  TempDir tmp;
  write_text(tmp / "file.img", "x");
  Fd dir = open_dir(tmp.path());
  auto fd = image::open_image(dir.get(), "file.img", O_RDWR, image::Symlink::kRefuse);
  REQUIRE(fd);
  const int flags = ::fcntl(fd->get(), F_GETFL);
  CHECK((flags & O_NONBLOCK) == 0);
  CHECK((flags & O_ACCMODE) == O_RDWR);
  CHECK((::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC) != 0);
}

TEST_CASE("probing names the filesystem a refused image holds", "[image]") {
  TempDir tmp;
  make_foreign_image(tmp / "fat.img", "vfat");
  auto fd = image::open_image(AT_FDCWD, tmp / "fat.img", O_RDONLY, image::Symlink::kRefuse);
  REQUIRE(fd);
  auto type = image::probe_image(*fd, tmp / "fat.img");
  REQUIRE_FALSE(type);
  CHECK(type.error().message == foreign_refusal(tmp / "fat.img", "vfat"));
}

TEST_CASE("probing says when a file holds no filesystem at all", "[image]") {
  TempDir tmp;
  write_text(tmp / "junk.img", std::string(1 << 20, 'j'));
  auto fd = image::open_image(AT_FDCWD, tmp / "junk.img", O_RDONLY, image::Symlink::kRefuse);
  REQUIRE(fd);
  auto type = image::probe_image(*fd, "junk.img");
  REQUIRE_FALSE(type);
  CHECK(type.error().message == "'junk.img' has no filesystem that libblkid recognises");
}

TEST_CASE("rotation counts an image file unless libblkid finds no allowed filesystem on it",
          "[image]") {
  TempDir tmp;
  make_ext4_image(tmp / "good.img", tmp / "root", {{"sbin/init", "x:"}});
  write_text(tmp / "junk.img", std::string(1 << 20, 'j'));
  make_foreign_image(tmp / "fat.img", "vfat");
  Fd dir = open_dir(tmp.path());
  CHECK(image::may_hold_image(dir.get(), "good.img"));
  CHECK_FALSE(image::may_hold_image(dir.get(), "junk.img"));
  CHECK_FALSE(image::may_hold_image(dir.get(), "fat.img"));
  // Not readable here: no proof of garbage, mounting it will tell.
  CHECK(image::may_hold_image(dir.get(), "missing.img"));
}

TEST_CASE("an absolute symlinked init resolves inside the image tree", "[image]") {
  TempDir tmp;
  const std::string root = tmp / "root";
  // /bin/true exists on the machine running the test; in the tree the link
  // leads to the tree's own usr/bin/true.
  make_tree(root, {{"usr/bin/true", "x:#!/bin/sh\n"}, {"sbin/init", "->/usr/bin/true"}});
  Fd dir = open_dir(root);
  CHECK(image::check_bootable(dir.get(), "/sbin/init", image::Needs::kInit));
  // A link that leads out of the tree finds nothing, even where the host has it.
  make_tree(root, {{"sbin/escape", "->../../../../../../bin/true"}});
  CHECK(unbootable(root, "/sbin/escape", image::Needs::kInit) == "the image has no /sbin/escape");
}

TEST_CASE("an image without its init, or with one that is not executable, is not bootable",
          "[image]") {
  TempDir tmp;
  const std::string root = tmp / "root";
  make_tree(root, {{"lib/systemd/systemd", "not executable"}, {"sbin/init/x", ""}});
  CHECK(unbootable(root, "/bin/init", image::Needs::kInit) == "the image has no /bin/init");
  CHECK(unbootable(root, "/lib/systemd/systemd", image::Needs::kInit) ==
        "the image's /lib/systemd/systemd is not executable");
  CHECK(unbootable(root, "/sbin/init", image::Needs::kInit) ==
        "the image's /sbin/init is a directory");
}

TEST_CASE("the kernel and initramfs are needed only where GRUB boots the image", "[image]") {
  TempDir tmp;
  const std::string root = tmp / "root";
  make_tree(root, {{"sbin/init", "x:"}});
  Fd dir = open_dir(root);
  CHECK(image::check_bootable(dir.get(), "/sbin/init", image::Needs::kInit));
  CHECK(unbootable(root, "/sbin/init", image::Needs::kInitKernelInitramfs) ==
        "the image has no /boot/kernel");
  make_tree(root, {{"boot/kernel", "k"}});
  CHECK(unbootable(root, "/sbin/init", image::Needs::kInitKernelInitramfs) ==
        "the image has no /boot/initramfs");
  make_tree(root, {{"boot/initramfs", "i"}});
  CHECK(image::check_bootable(dir.get(), "/sbin/init", image::Needs::kInitKernelInitramfs));
}

TEST_CASE("a mounted image's symlinked init resolves inside the image", "[root][image]") {
  if (!have_root_and_loop_devices()) return;
  enter_private_mount_namespace();
  TempDir tmp;
  // Absolute links: on the host they would lead elsewhere (or nowhere).
  make_good_image(tmp / "good.img", tmp / "root");
  make_tree(tmp / "root", {{"usr/lib/imgroot-test-init", "x:#!/bin/sh\n"},
                           {"sbin/linked-init", "->/usr/lib/imgroot-test-init"}});
  REQUIRE(run("mkfs.ext4 -q -F -b 4096 -d " + shell_quote(tmp / "root") + " " +
              shell_quote(tmp / "good.img") + " 8M")
              .status == 0);
  auto fd = image::open_image(AT_FDCWD, tmp / "good.img", O_RDONLY, image::Symlink::kRefuse);
  REQUIRE(fd);
  auto type = image::probe_image(*fd, tmp / "good.img");
  REQUIRE(type);
  auto mounted = image::mount_read_only(*fd, *type);
  REQUIRE(mounted);
  CHECK(image::check_bootable(mounted->root.get(), "/sbin/linked-init",
                              image::Needs::kInitKernelInitramfs));
  CHECK(image::inspect_image(*fd, *type, "/sbin/linked-init"));
  auto missing = image::inspect_image(*fd, *type, "/lib/systemd/systemd");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "the image has no /lib/systemd/systemd");
}

TEST_CASE("a mounted image is read-only", "[root][image]") {
  if (!have_root_and_loop_devices()) return;
  enter_private_mount_namespace();
  TempDir tmp;
  make_good_image(tmp / "good.img", tmp / "root");
  auto fd = image::open_image(AT_FDCWD, tmp / "good.img", O_RDONLY, image::Symlink::kRefuse);
  REQUIRE(fd);
  auto mounted = image::mount_read_only(*fd, "ext4");
  REQUIRE(mounted);
  auto root = Fd::open_at(mounted->root.get(), ".", O_RDONLY | O_DIRECTORY);
  REQUIRE(root);
  CHECK(::mkdirat(root->get(), "new", 0755) < 0);
  CHECK(errno == EROFS);
}

TEST_CASE("a refused mount says what the machine lacks", "[image]") {
  auto e = image::explain_mount_error(Error{ENOENT, "open '/dev/loop-control': No such file"},
                                      "inspecting an image", "pass --no-inspect");
  CHECK(e.message ==
        "open '/dev/loop-control': No such file; this machine has no loop devices (modprobe "
        "loop, or pass --no-inspect)");
  auto root = image::explain_mount_error(Error{EPERM, "mount"}, "mounting an image");
  CHECK(root.message == "mount; mounting an image needs root");
  CHECK(root.code == EPERM);
}

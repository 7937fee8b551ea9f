#include "stage/inspect.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "dev/blkid.h"
#include "image/filesystems.h"
#include "image/no_replay.h"
#include "system/detached_mount.h"
#include "system/loop.h"
#include "system/mount_hints.h"

namespace imgroot::stage {

namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string explain(const Error& e) {
  return with_mount_hint(e, "inspecting an image", "pass --no-inspect");
}

Status expect_file(int root, const std::string& path, bool executable) {
  auto fd = open_in_root(root, path);
  if (!fd) {
    if (fd.error().code == ENOENT) return fail("the image has no " + path);
    return std::unexpected(std::move(fd.error()).context("the image's " + path));
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return fail_errno("stat the image's " + path);
  if (!S_ISREG(st.st_mode)) return fail("the image's " + path + " is " + kind_of(st.st_mode));
  if (executable && (st.st_mode & 0111) == 0)
    return fail("the image's " + path + " is not executable");
  return {};
}

}  // namespace

Result<Fd> open_image(const std::string& path) {
  auto fd = Fd::open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd) return std::unexpected(fd.error());
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return fail_errno("stat " + quoted(path));
  if (!S_ISREG(st.st_mode)) return fail(quoted(path) + " is " + kind_of(st.st_mode) +
                                        ", not an image file");
  // Reads of a regular file never block; clear the flag anyway so it means nothing later.
  if (::fcntl(fd->get(), F_SETFL, 0) < 0) return fail_errno("fcntl " + quoted(path));
  return fd;
}

Result<std::string> probe_image(const Fd& image, const std::string& path) {
  auto type = probe_filesystem_type(image.get(), Filesystems::kImage);
  if (!type) return std::unexpected(type.error());
  if (*type) return **type;
  // Probed for every type only to name it: what it finds is never mounted.
  auto other = probe_filesystem_type(image.get(), Filesystems::kAny);
  if (other && *other)
    return fail(quoted(path) + " holds a filesystem of type " + **other +
                "; imgroot boots only " + kImageFilesystemsText + " images");
  return fail(quoted(path) + " has no filesystem that libblkid recognises");
}

Status refuse_unreadable_by_grub(const std::string& fs_type, const std::string& path,
                                 const std::string& hint) {
  if (grub_reads(fs_type)) return {};
  return fail(quoted(path) + " holds an " + fs_type +
              " filesystem, which GRUB 2.06 (Debian 12) cannot read: GRUB would not find the "
              "image's /boot/kernel and the node would not boot; make the image squashfs or "
              "ext4" + hint);
}

Status inspect_contents(const Fd& image, const std::string& fs_type, const std::string& init) {
  auto loop = LoopDevice::attach(image, /*read_only=*/true);
  if (!loop) return fail(explain(loop.error()));
  const std::string type = image_mount_type(fs_type);
  auto root = mount_detached_read_only(loop->path(), type, no_replay_options(type));
  if (!root) return fail(explain(root.error()));
  if (auto st = expect_file(root->get(), init, true); !st) return st;
  if (auto st = expect_file(root->get(), "/boot/kernel", false); !st) return st;
  return expect_file(root->get(), "/boot/initramfs", false);
}

}  // namespace imgroot::stage

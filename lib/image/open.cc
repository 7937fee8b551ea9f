#include "image/open.h"

#include <sys/stat.h>

#include "dev/blkid.h"
#include "image/filesystems.h"
#include "system/tree.h"

namespace imgroot::image {

namespace {

std::unexpected<Error> not_an_image(const std::string& path, mode_t mode) {
  return fail(quoted(path) + " is " + file_type_name(mode) + ", not an image file");
}

}  // namespace

Result<Fd> open_image(int dir, const std::string& path, int access, Symlink symlink) {
  const int nofollow = symlink == Symlink::kRefuse ? O_NOFOLLOW : 0;
  auto fd = Fd::open_at(dir, path, access | nofollow | O_NONBLOCK | O_NOCTTY);
  if (!fd) {
    // O_NOFOLLOW says ELOOP for a link: say what stands there instead.
    struct stat st {};
    if (fd.error().code == ELOOP && nofollow &&
        ::fstatat(dir, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
      return not_an_image(path, st.st_mode);
    return std::unexpected(fd.error());
  }
  struct stat st {};
  if (::fstat(fd->get(), &st) < 0) return fail_errno("stat " + quoted(path));
  if (!S_ISREG(st.st_mode)) return not_an_image(path, st.st_mode);
  // Reads of a regular file never block; clear the flag anyway so it means
  // nothing later (the loop device reads through this file).
  if (::fcntl(fd->get(), F_SETFL, 0) < 0) return fail_errno("clear O_NONBLOCK on " + quoted(path));
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

bool may_hold_image(int dir, const std::string& name) {
  auto file = open_image(dir, name, O_RDONLY, Symlink::kRefuse);
  if (!file) return true;
  auto type = probe_filesystem_type(file->get(), Filesystems::kImage);
  return !type || type->has_value();
}

Status refuse_unreadable_by_grub(const std::string& fs_type, const std::string& path,
                                 const std::string& hint) {
  if (grub_reads(fs_type)) return {};
  return fail(quoted(path) + " holds an " + fs_type +
              " filesystem, which GRUB 2.06 (Debian 12) cannot read: GRUB would not find the "
              "image's /boot/kernel and the node would not boot; make the image squashfs or "
              "ext4" + hint);
}

}  // namespace imgroot::image

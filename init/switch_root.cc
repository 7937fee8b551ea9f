#include "switch_root.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "base/layout.h"
#include "log.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/mount.h"

namespace imgroot::init {

namespace {

bool is_ram_filesystem(int fd) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) < 0) return false;
  return fs.f_type == RAMFS_MAGIC || fs.f_type == TMPFS_MAGIC;
}

}  // namespace

Status switch_root(const std::string& new_root, const std::string& hostpart_in_run) {
  for (const char* api : {"/dev", "/proc", "/sys", "/run"}) {
    const std::string target = new_root + api;
    (void)::mkdir(target.c_str(), 0755);  // images ship these; a read-only one must
    if (auto moved = move_mount_to(api, target); !moved) {
      // The image cannot take it: leaving it behind would pin the initramfs.
      warn(moved.error().message + "; unmounting it instead");
      (void)unmount(api, MNT_DETACH);  // best effort, as systemd does
    }
  }

  const std::string hostpart_target = new_root + root_paths::kHostpart;
  (void)::mkdir(hostpart_target.c_str(), 0755);  // EEXIST, or a read-only image
  if (auto moved = move_mount_to(new_root + hostpart_in_run, hostpart_target); !moved)
    warn(moved.error().message + "; the host partition stays at " + hostpart_in_run);

  auto old_root = Fd::open("/", O_RDONLY | O_DIRECTORY);
  if (!old_root) return std::unexpected(old_root.error());
  if (::chdir(new_root.c_str()) < 0) return fail_errno("chdir " + quoted(new_root));
  if (auto moved = move_mount_to(new_root, "/"); !moved) return moved;
  if (::chroot(".") < 0) return fail_errno("chroot into the image");
  if (::chdir("/") < 0) return fail_errno("chdir / in the image");

  if (is_ram_filesystem(old_root->get()))
    (void)remove_contents(old_root->get());  // the RAM is freed or it is not; boot on
  else
    warn("the old root is not a RAM filesystem; not deleting its files");
  return {};
}

}  // namespace imgroot::init

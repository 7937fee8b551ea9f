#include "image/mount.h"

#include <sys/mount.h>

#include "image/bootable.h"
#include "image/filesystems.h"
#include "image/no_replay.h"
#include "system/detached_mount.h"
#include "system/mount.h"

namespace imgroot::image {

Result<MountedImage> mount_read_only(const Fd& image, const std::string& fs_type) {
  auto loop = LoopDevice::attach(image, /*read_only=*/true);
  if (!loop) return std::unexpected(loop.error());
  const std::string type = image_mount_type(fs_type);
  auto root = mount_detached_read_only(loop->path(), type, no_replay_options(type));
  if (!root) return std::unexpected(root.error());
  return MountedImage{std::move(*loop), std::move(*root)};
}

Status mount_read_only_at(const Fd& image, const std::string& fs_type, const std::string& target,
                          unsigned long flags) {
  auto loop = LoopDevice::attach(image, /*read_only=*/true);
  if (!loop) return std::unexpected(loop.error());
  const std::string type = image_mount_type(fs_type);
  return mount_fs(loop->path(), target, type, MS_RDONLY | flags, no_replay_data(type));
}

Error explain_mount_error(Error e, std::string_view doing, std::string_view instead) {
  const std::string alternative(instead);
  if (e.code == EPERM || e.code == EACCES)
    e.message += "; " + std::string(doing) + " needs root" +
                 (alternative.empty() ? "" : " (or " + alternative + ")");
  else if (e.code == ENOENT || e.code == ENXIO)
    e.message += "; this machine has no loop devices (modprobe loop" +
                 (alternative.empty() ? "" : ", or " + alternative) + ")";
  else if (e.code == ENODEV)
    e.message += "; this kernel cannot mount that filesystem type";
  return e;
}

Status inspect_image(const Fd& image, const std::string& fs_type, const std::string& init,
                     std::string_view instead) {
  auto mounted = mount_read_only(image, fs_type);
  if (!mounted)
    return std::unexpected(explain_mount_error(std::move(mounted.error()), "inspecting an image",
                                               instead));
  return check_bootable(mounted->root.get(), init, Needs::kInitKernelInitramfs);
}

}  // namespace imgroot::image

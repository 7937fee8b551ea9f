// An image mounted read-only: attached read-only to a loop device that
// clears itself, mounted as image_mount_type() says without replaying any
// journal (image/no_replay.h), so nothing is ever written to the image.
// Host-only (imgroot_host): the CLI's verbs, not the init, which mounts the
// root it boots itself (init/image_root.cc).
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "system/fd.h"
#include "system/loop.h"

namespace imgroot::image {

// A read-only mount never attached to any directory (system/detached_mount.h):
// it lives as long as 'root' and 'loop', so nothing stays mounted or attached
// afterwards, whatever happens. Read inside it with open_in_root.
struct MountedImage {
  LoopDevice loop;
  Fd root;  // O_PATH on the image's root directory
};

// Mount 'image' (open_image, of type 'fs_type' as probe_image said) where
// nothing else sees it: what `stage` and `provision` inspect and `diff`
// compares. Needs root (CAP_SYS_ADMIN) and loop devices; explain_mount_error
// says so.
Result<MountedImage> mount_read_only(const Fd& image, const std::string& fs_type);

// The same, mounted on the directory 'target' with MS_RDONLY | 'flags'
// (mount(2)), for an overlayfs lowerdir, which takes a path (`imgroot try`,
// in its own mount namespace). The loop device stays while the mount uses it
// and goes with it.
Status mount_read_only_at(const Fd& image, const std::string& fs_type, const std::string& target,
                          unsigned long flags);

// 'e' (from mounting an image) with what it means on this machine: root is
// needed, there are no loop devices, the kernel lacks the filesystem.
// 'doing' names the step ("inspecting an image"), 'instead' what the
// operator can do without it ("pass --no-inspect"; empty: nothing).
Error explain_mount_error(Error e, std::string_view doing, std::string_view instead = {});

// Mount the image read-only and check_bootable() with
// Needs::kInitKernelInitramfs: `stage` and `provision`, before an image goes
// onto a host partition a node boots through GRUB. 'instead' as for
// explain_mount_error.
Status inspect_image(const Fd& image, const std::string& fs_type, const std::string& init,
                     std::string_view instead = {});

}  // namespace imgroot::image

// The chosen image, loop-mounted as the new root.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "boot/cmdline.h"
#include "system/loop.h"
#include "system/mount.h"

namespace imgroot::init {

struct ImageRoot {
  LoopDevice loop;
  std::string fs_type;
  std::vector<Mount> mounts;  // unmounted in reverse order if we give up on it

  // Keep everything mounted (we are switching into it).
  void release();
};

// Attach 'image' (a name in the host partition directory 'hostpart_dir') to
// a loop device and mount it at 'target': read-write by default, read-only
// with `ro`, read-only under a RAM overlay with imgroot.overlay. 'scratch'
// is a directory on /run for the overlay's layers.
Result<ImageRoot> mount_image(int hostpart_dir, const std::string& image, const BootConfig& config,
                              const std::string& target, const std::string& scratch);

// The image's init must be an executable regular file; symlinks resolve
// inside the image (an absolute link points into the image, not the initramfs).
Status check_init(const std::string& root, const std::string& init);

}  // namespace imgroot::init

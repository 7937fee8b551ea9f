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
  std::vector<Mount> mounts;  // if given up: detached first to last (MNT_DETACH: any order works)

  // Keep everything mounted (we are switching into it).
  void release();
};

// An image file on the mounted host partition.
struct ImageFile {
  int hostpart_dir;           // the host partition's root directory
  std::string hostpart_path;  // where it is mounted (overlayfs takes paths)
  std::string image;          // the file's name in it
};

// Attach the image to a loop device and mount it at 'target': read-write by
// default, read-only with `ro`, read-only under an overlay with
// imgroot.overlay= (changes in a tmpfs, or in the image's layer on the host
// partition). 'scratch' is a directory on /run for the read-only image and
// the tmpfs.
Result<ImageRoot> mount_image(const ImageFile& source, const BootConfig& config,
                              const std::string& target, const std::string& scratch);

}  // namespace imgroot::init

// What `imgroot diff` compares: an image file, mounted read-only where
// nothing else sees it, or a directory.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "diff/warm.h"
#include "system/fd.h"
#include "system/loop.h"

namespace imgroot::diff {

class Tree {
 public:
  // A directory is used as it is. A regular file is probed with libblkid,
  // attached read-only to a loop device (autoclear) and mounted read-only (image/mount.h)
  // without journal replay and without attaching the mount anywhere
  // (system/detached_mount.h): nothing is written to the image, and nothing
  // stays mounted or attached when the Tree goes, whatever happens. Images
  // need root and loop devices; the error says so. 'warm': also read the
  // image file ahead in a thread (diff/warm.h), for a comparison that will
  // read every file's content.
  static Result<Tree> open(const std::string& path, bool warm = false);

  int root() const { return root_.get(); }
  const std::string& fs_type() const { return fs_type_; }  // empty for a directory

 private:
  Tree() = default;
  Fd image_;
  ImageWarmer warmer_;  // after image_: stops before the image is closed
  std::optional<LoopDevice> loop_;
  Fd root_;
  std::string fs_type_;
};

}  // namespace imgroot::diff

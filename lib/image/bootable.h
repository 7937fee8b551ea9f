// The one answer to "can this image boot?", asked of its mounted root tree
// by the init (before it switches into the image, and of a staged image on
// trial) and by `imgroot stage` and `imgroot provision` (docs/design.md section 1).
// Core: the static init uses it.
#pragma once

#include <string>

#include "base/error.h"

namespace imgroot::image {

// What an image needs besides a filesystem.
enum class Needs {
  // An executable init. What the init checks: the kernel that runs was
  // already loaded (by GRUB from this image, or directly by -kernel or PXE),
  // so the image's own /boot/kernel is none of this boot's business, and an
  // image booted without GRUB may lack it.
  kInit,
  // The init, and /boot/kernel and /boot/initramfs as regular files: what
  // GRUB loads from the image. What `stage` and `provision` check before an
  // image goes onto a host partition a node will boot through GRUB.
  kInitKernelInitramfs,
};

// Whether the image whose root directory is 'root' (an fd, O_PATH is
// enough) can boot: 'init' (an absolute path in the image) is an executable
// regular file, and with kInitKernelInitramfs so are /boot/kernel and
// /boot/initramfs regular files. Every symlink on the way resolves inside
// the image (an absolute link points into the image, never at the caller's
// own root: system/resolve.h). The error says what is missing or wrong
// ("the image has no /sbin/init", "the image's /sbin/init is not
// executable").
Status check_bootable(int root, const std::string& init, Needs needs);

}  // namespace imgroot::image

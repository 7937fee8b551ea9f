// Leaving the initramfs for the image, the way systemd and util-linux do it:
// rootfs cannot be pivot_root'ed, so the new root is moved over "/" and
// chroot'ed into, and the initramfs's files are deleted to give back the RAM.
#pragma once

#include <string>

#include "base/error.h"

namespace imgroot::init {

// Move /dev, /proc, /sys and /run under 'new_root', move the host partition
// (already under /run) to 'new_root'/hostpart, empty the initramfs, make
// 'new_root' the root. Returns with "/" being the image; the caller execs.
// 'hostpart_in_run' is where the host partition is mounted, below /run.
Status switch_root(const std::string& new_root, const std::string& hostpart_in_run);

}  // namespace imgroot::init

// The safety checks of `imgroot provision` before it erases anything: the
// disk must not be in use. Everything is read from the files SystemPaths
// names, so the decisions are tested on fixtures.
#pragma once

#include "base/error.h"
#include "provision/target.h"

namespace imgroot::provision {

// Refuses, saying what uses it and what to do:
// - a block device that holds the running root (/ on one of its partitions,
//   directly or through a loop device whose backing file is there, as on an
//   imgroot node), any mounted partition (or the disk itself mounted), a
//   partition used as swap or held by device mapper, RAID or LVM;
// - a disk image file that is attached to a loop device (its partitions
//   may be mounted through it).
Status check_not_in_use(const Target& target, const SystemPaths& paths);

// Open a block device exclusively (O_EXCL) and let go at once: the kernel
// refuses while a partition is mounted, swapped on or held by another
// driver, whatever the tables above say. Nothing to do for a file.
Status check_exclusive(const Target& target);

}  // namespace imgroot::provision

// Device discovery and filesystem identification through libblkid.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "boot/device_spec.h"

namespace imgroot {

enum class Filesystems {
  kAny,    // every type libblkid knows: to say what a file holds, never to mount it
  kImage,  // image/filesystems.h: what an image may hold, so what imgroot mounts
  kHost,   // ext2/3/4, btrfs, xfs: what a host partition may hold (fewer reads)
};

// The filesystem type libblkid recognises on the file or device behind 'fd'
// ("ext4", "btrfs", "squashfs", ...); nullopt when there is none.
Result<std::optional<std::string>> probe_filesystem_type(int fd,
                                                         Filesystems among = Filesystems::kAny);

// Every block device (/dev/NAME for each /sys/class/block entry) that matches
// 'spec', probed directly (no blkid cache). LABEL= and UUID= match only
// the filesystems a host partition may carry (ext2/3/4, btrfs, xfs). More
// than one match is the caller's to report: two partitions labelled
// hostpart is an error.
Result<std::vector<std::string>> find_devices(const DeviceSpec& spec);

}  // namespace imgroot

// The filesystems of a provisioned disk, made by the standard mkfs tools.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"
#include "base/layout.h"
#include "grub/config.h"
#include "provision/layout.h"

namespace imgroot::provision {

// The labels (filesystem and GPT partition name) are labels::kEsp and
// labels::kHostpart, the ones GRUB's script and the init search for.

// Zero the first MiB of 'device' (at most its size), so no old signature
// there survives under the new filesystem and confuses libblkid.
Status wipe_start(const std::string& device, std::uint64_t size);

// mkfs.vfat -n EFI-BOOT: FAT32 from kMinFat32Size on, else what mkfs.vfat picks.
Status make_esp_filesystem(const std::string& device, std::uint64_t size);

// mkfs.ext4, mkfs.btrfs or mkfs.xfs, labelled hostpart.
Status make_host_filesystem(const std::string& device, HostFs fs);

}  // namespace imgroot::provision

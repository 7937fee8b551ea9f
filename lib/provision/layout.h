// Where the two partitions of a provisioned disk go (docs/design.md section 1):
// a GPT disk with EFI-BOOT first and hostpart taking the rest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace imgroot::provision {

inline constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
inline constexpr std::uint64_t kDefaultEspSize = 128 * kMiB;
// GRUB's BOOTX64.EFI with its modules built in is about 3 MiB.
inline constexpr std::uint64_t kMinEspSize = 8 * kMiB;
// From this size on the ESP is FAT32; smaller ones get what mkfs.vfat picks
// (FAT16 or FAT12), since FAT32 needs 65525 clusters.
inline constexpr std::uint64_t kMinFat32Size = 64 * kMiB;

enum class HostFs { kExt4, kBtrfs, kXfs };

// "ext4", "btrfs", "xfs"; nullopt for anything else.
std::optional<HostFs> parse_host_fs(std::string_view name);
const char* host_fs_name(HostFs fs);
// The smallest filesystem its mkfs makes (xfs: 300 MiB; btrfs: about 110 MiB).
std::uint64_t min_host_fs_size(HostFs fs);

// A size on the command line: a number of bytes, or with a unit K/KiB, M/MiB,
// G/GiB, T/TiB (all powers of 1024: partition sizes are whole MiB anyway).
Result<std::uint64_t> parse_size(std::string_view text);

struct Extent {
  std::uint64_t start = 0;  // bytes from the start of the disk
  std::uint64_t size = 0;   // bytes
  std::uint64_t end() const { return start + size; }  // compute_layout keeps it <= the disk size
};

struct Layout {
  std::uint64_t disk_size = 0;
  Extent esp;       // partition 1, EFI-BOOT
  Extent hostpart;  // partition 2, hostpart
};

// Partition 1 starts at 1 MiB (after the protective MBR and the GPT) and is
// esp_size long, rounded up to a whole MiB (refused when that does not fit on
// the disk or is below kMinEspSize); partition 2 runs from there to
// the last whole MiB that leaves at least 1 MiB for the backup GPT. Refuses
// (saying by how much) a disk on which partition 2 would be smaller than
// 'fs' needs or than 'image_size' plus room for the filesystem's own data.
Result<Layout> compute_layout(std::uint64_t disk_size, std::uint64_t esp_size, HostFs fs,
                              std::uint64_t image_size);

// The space a host partition needs besides the image: the filesystem's own
// metadata and journal, and some room.
std::uint64_t hostpart_overhead(std::uint64_t image_size);

}  // namespace imgroot::provision

// The filesystems a root image may hold (docs/design.md section 1), the one list
// that decides what `stage`, `provision`, `diff` and `try` let the host
// kernel mount: every other type libblkid knows is refused before any loop
// device is attached, so a file someone handed over cannot pick a rarely
// used, crash-prone filesystem driver of the host kernel.
#pragma once

#include <string>

namespace imgroot {

// For libblkid's BLKID_FLTR_ONLYIN filter (null-terminated). ext2 and ext3
// are here to be recognised; they are mounted as ext4 (image_mount_type).
inline constexpr const char* kImageFilesystems[] = {"ext4", "ext3",     "ext2",  "btrfs",
                                                    "xfs",  "squashfs", "erofs", nullptr};

// The same list as a message says it.
inline constexpr const char* kImageFilesystemsText = "ext4, btrfs, xfs, squashfs and erofs";

// The type to mount a probed image as: the ext4 driver for ext2 and ext3,
// so that no other driver ever parses an image.
inline std::string image_mount_type(const std::string& probed) {
  if (probed == "ext2" || probed == "ext3") return "ext4";
  return probed;
}

// Whether GRUB can read the image to load its /boot/kernel and
// /boot/initramfs: GRUB 2.06 (Debian 12) has no erofs driver (2.12 has).
inline bool grub_reads(const std::string& probed) { return probed != "erofs"; }

}  // namespace imgroot

// Checking that a file is a bootable root image before it goes anywhere near
// the host partition (docs/design.md section 1: a filesystem with an executable
// init, /boot/kernel and /boot/initramfs).
#pragma once

#include <string>

#include "base/error.h"
#include "system/fd.h"

namespace imgroot::stage {

// Open 'path' for reading (following a symlink to it) and refuse anything
// that is not a regular file: a device, a directory, a FIFO. Never blocks on
// a FIFO.
Result<Fd> open_image(const std::string& path);

// The filesystem libblkid recognises in the image, looking only for those
// an image may hold (image/filesystems.h); an error naming the file when
// there is none, and the type it holds when that is another one. The one
// gate before `stage`, `provision`, `diff` and `try` mount an image.
Result<std::string> probe_image(const Fd& image, const std::string& path);

// Refuse an image of a filesystem GRUB cannot read (erofs): GRUB could not
// load its kernel. 'hint' ends the message (what else the caller allows).
Status refuse_unreadable_by_grub(const std::string& fs_type, const std::string& path,
                                 const std::string& hint = "");

// Attach the image read-only to a loop device, mount it read-only without
// replaying any journal, and look for 'init', boot/kernel and boot/initramfs,
// resolving every symlink inside the image. The mount is never attached to a
// directory (see system/detached_mount.h) and the loop device clears itself,
// so nothing stays mounted or attached afterwards, whatever happens. Needs
// root (CAP_SYS_ADMIN) and loop devices; the error says so.
Status inspect_contents(const Fd& image, const std::string& fs_type, const std::string& init);

}  // namespace imgroot::stage

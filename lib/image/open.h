// Opening and probing an image file: the one gate every program passes
// before an image goes near a loop device (docs/design.md section 1). Core: the
// static init uses it (libc and libblkid only).
#pragma once

#include <fcntl.h>

#include <string>

#include "base/error.h"
#include "system/fd.h"

namespace imgroot::image {

// What to do when the last component of the path is a symbolic link.
enum class Symlink {
  // Refuse it (O_NOFOLLOW): the init on the host partition, where only a
  // regular file under an image name is an image (rotation sets anything
  // else aside), and a link could lead anywhere.
  kRefuse,
  // Open what it points to: the CLI, for the path an operator named on its
  // command line (`imgroot stage ./latest.img` where latest.img is a link).
  kFollow,
};

// Open 'path' (relative to 'dir', AT_FDCWD for the working directory) for
// 'access' (O_RDONLY, or O_RDWR for a root mounted read-write) and refuse
// anything that is not a regular file: a directory, a device, a FIFO, a
// socket, a symbolic link unless 'symlink' says to follow it. Never blocks
// on a FIFO (opened O_NONBLOCK); the flag is cleared again on the image, so
// the loop device reads it with ordinary, blocking I/O. Errors name 'path'.
Result<Fd> open_image(int dir, const std::string& path, int access, Symlink symlink);

// The filesystem libblkid recognises in the image, looking only for those
// an image may hold (image/filesystems.h); an error naming 'path' when there
// is none, and the type it holds when that is another one. The one gate
// before anything mounts an image.
Result<std::string> probe_image(const Fd& image, const std::string& path);

// Whether rotation may count the regular file 'name' in 'dir' as an image
// (rotation::ImageCheck's first question, asked by the init): false only
// when libblkid reads it and finds no filesystem an image may hold. A file
// that cannot be opened or read is not proof of garbage: it counts, and
// mounting it will tell.
bool may_hold_image(int dir, const std::string& name);

// Refuse an image of a filesystem GRUB cannot read (erofs): GRUB could not
// load its kernel. 'hint' ends the message (what else the caller allows).
Status refuse_unreadable_by_grub(const std::string& fs_type, const std::string& path,
                                 const std::string& hint = "");

}  // namespace imgroot::image

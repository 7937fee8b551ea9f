// Where imgroot.overlay=persistent keeps an image's changes: a directory
// under imgroot/overlay/ on the host partition, one per image file.
//
// The directory is named after the image file's identity, not after its
// name: rotation renames files (hn-root-new.img becomes hn-root.img), and a
// changed layer must follow its image through those renames, back to it on
// a revert, and never onto a newly staged image, which starts clean. The
// identity is a random id kept in an extended attribute of the image file
// (host_files::kLayerXattr), so that it survives a copy of the host
// partition to another disk (cp -a, rsync -aX, tar --xattrs). Layers made
// before identities existed are named after the file's inode number and
// birth time; such a name becomes the image's identity the first time the
// init mounts its layer, and it is the name used on a filesystem without
// user extended attributes.
#pragma once

#include <functional>
#include <string>

#include "base/error.h"
#include "base/layout.h"

namespace imgroot::overlay_layer {

using Warn = std::function<void(const std::string&)>;

// Give the open image file 'image_fd' ('what' for messages) an identity of
// its own, replacing any it carried from where it was copied: a newly
// staged image starts with an empty layer. The caller fsyncs the file.
// Error code ENOTSUP: the filesystem keeps no user extended attributes.
Status give_new_identity(int image_fd, const std::string& what);

// The layer directory's name (relative to imgroot/overlay/) for the image
// file 'image' in the host partition directory 'hostpart_dir', recorded on
// the file when it had none: the inode name of a layer made before
// identities, else a new random id. Without user extended attributes, the
// inode name ('warn' says that it does not survive a copy).
Result<std::string> layer_for(int hostpart_dir, const std::string& image, const Warn& warn);

// Move the layers of images no longer on the host partition (a rotation
// dropped them, or they were copied without their identity) into
// imgroot/overlay/.orphaned/, each one reported to 'warn'. Nothing is
// deleted, and nothing moves when the identity of an image present cannot
// be read. Runs before a layer is mounted.
void prune(int hostpart_dir, const Warn& warn);

}  // namespace imgroot::overlay_layer

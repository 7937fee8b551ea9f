// Where imgroot.overlay=persistent keeps an image's changes: a directory
// under imgroot/overlay/ on the host partition, one per image file.
//
// The directory is named after the image file's identity on the host
// partition (inode number and birth time), not after its name: rotation
// renames files (hn-root-new.img becomes hn-root.img), and a changed layer
// must follow its image through those renames, back to it on a revert, and
// never onto a newly staged image, which is a new file and so starts clean.
#pragma once

#include <functional>
#include <string>

#include "base/error.h"

namespace imgroot::overlay_layer {

// The layer directory's name (relative to imgroot/overlay/) for the image
// file 'image' in the host partition directory 'hostpart_dir'.
Result<std::string> name_for(int hostpart_dir, const std::string& image);

// Delete the layers of images no longer on the host partition (a rotation
// dropped them). Best effort; 'warn' hears about what could not go.
void prune(int hostpart_dir, const std::function<void(const std::string&)>& warn);

}  // namespace imgroot::overlay_layer

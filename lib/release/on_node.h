// Whether a node already has a release's image, so that `imgroot stage URL`
// again is no change (docs/releases.md, "Staging a release").
#pragma once

#include <string>

#include "base/error.h"

namespace imgroot::release {

enum class OnNode {
  kAbsent,
  kCurrent,  // hn-root.img, and the next boot keeps it (nothing staged, no revert pending)
  kStaged,   // hn-root-new.img: the next boot makes it current
};

// Where the image with this SHA-256 is on the host partition open as
// 'hostpart_dir', by the SHA-256 `imgroot stage` recorded for each file: an
// image copied on by other means, or a reflink staged without --hash, is not
// recognised. Reads only.
Result<OnNode> image_on_node(int hostpart_dir, const std::string& sha256);

// "current", "staged"; "" for kAbsent.
const char* on_node_name(OnNode where);

}  // namespace imgroot::release

// The system-revert flag (docs/design.md section 2): at the next boot, go back to
// hn-root-old.img.
#pragma once

#include "base/error.h"

namespace imgroot::state {

struct RevertRequest {
  // Remove a staged hn-root-new.img first. Without it a staged image is a
  // refusal: revert and upgrade together are the state docs/design.md section 2
  // says imgroot does not create unless told to.
  bool unstage = false;
};

// Create system-revert durably and visibly to GRUB (write, fsync, rename,
// fsync, checkpoint). Refuses when there is no hn-root-old.img to go back to.
Status request_revert(int hostpart_dir, const RevertRequest& request);

// Remove system-revert, as durably. Returns whether there was one.
Result<bool> cancel_revert(int hostpart_dir);

}  // namespace imgroot::state

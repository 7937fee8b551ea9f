// Boot assessment (docs/design.md section 5): the running system says whether
// the image it booted is good. Recorded in imgroot/state.json, for status;
// GRUB never reads it: its boot trial is in grubenv (grub/trial.h).
#pragma once

#include <string>

#include "base/error.h"
#include "state/hostpart.h"
#include "state/state_file.h"

namespace imgroot::state {

// Record 'verdict' for the running image: the image / is backed by when it
// is on this host partition, else (offline, or / is not an image)
// hn-root.img, the image the init runs after rotating. Returns its name.
Result<std::string> mark_image(const Hostpart& hostpart, const SystemPaths& paths,
                               Assessment verdict);

}  // namespace imgroot::state

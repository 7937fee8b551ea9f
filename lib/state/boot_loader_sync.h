// GRUB reads the host partition without replaying its journal: a change is
// only visible to it once the journal is written back home.
#pragma once

#include "base/error.h"

namespace imgroot::state {

// checkpoint_filesystem() on the host partition, with an error that says what
// it means and what to do when it fails (typically: not root).
Status sync_for_boot_loader(int hostpart_dir);

}  // namespace imgroot::state

// The new root of `imgroot try`, built inside the new mount namespace
// (see try.h): the image read-only under a tmpfs overlay, the API
// filesystems, the binds, then pivot_root into it.
#pragma once

#include <string>

#include "base/error.h"
#include "system/fd.h"
#include "try/try.h"

namespace imgroot::try_ {

// Run in the child that owns the new mount namespace; on success the
// calling process's root and working directory are the overlay's root and
// the host's tree is gone from the namespace.
Status enter_root(const Request& request, const Fd& image, const std::string& fs_type);

// Bring up lo in a new network namespace.
Status bring_up_loopback();

}  // namespace imgroot::try_

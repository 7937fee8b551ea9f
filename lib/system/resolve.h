// Paths resolved inside a directory as if it were "/": what the CLI reads
// inside a mounted image and what the init writes into the new root.
#pragma once

#include <fcntl.h>

#include <cstdint>
#include <string>

#include "base/error.h"
#include "system/fd.h"

namespace imgroot {

// openat2(root, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra):
// every symlink met on the way, absolute ones included, resolves as if 'root'
// were "/", so nothing outside it is ever reached. 'extra' adds resolve flags
// (RESOLVE_NO_XDEV: never leave root's filesystem). O_CLOEXEC always.
Result<Fd> open_in_root(int root, const std::string& path, int flags = O_PATH,
                        std::uint64_t extra = 0);

}  // namespace imgroot

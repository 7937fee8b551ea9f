// Where `imgroot try --bind SRC:DST` mounts: DST inside the new root.
#pragma once

#include <string>

#include "base/error.h"
#include "system/fd.h"

namespace imgroot::try_ {

// The mount point 'path' inside 'root', every symlink resolved inside it
// (an absolute link from the root, ".." never above it), created as a
// directory or an empty file when missing. Nothing is ever created outside
// 'root': a dangling symlink in the image has its target created inside it.
Result<Fd> mount_point(int root, const std::string& path, bool is_dir);

}  // namespace imgroot::try_

// Filesystems mounted with the new mount API (fsopen/fsmount) and never
// attached to any directory: the mount lives exactly as long as its fd, so a
// crash or kill of the process that made it cannot leave it mounted, and no
// other process ever sees it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "system/fd.h"
#include "system/resolve.h"  // open_in_root, for what reads inside such a mount

namespace imgroot {

struct DetachedMountOptions {
  std::vector<std::string> flags;                            // e.g. "noload"
  std::vector<std::pair<std::string, std::string>> strings;  // key=value options
};

// Mount 'source' (a block device) as 'type', read-only, nosuid, nodev,
// noexec; returns an O_PATH handle on the root of the mounted filesystem.
// What the kernel said about a refusal ends the error message.
Result<Fd> mount_detached_read_only(const std::string& source, const std::string& type,
                                   const DetachedMountOptions& options);

// The same, read-write when !read_only (still nosuid, nodev, noexec): for a
// filesystem imgroot fills itself (provision's new host partition). When the
// last fd on anything in it is closed, the filesystem is unmounted and
// written back, as by umount.
Result<Fd> mount_detached(const std::string& source, const std::string& type,
                          const DetachedMountOptions& options, bool read_only);

}  // namespace imgroot

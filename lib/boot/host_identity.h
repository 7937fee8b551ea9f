// The per-host identity (docs/host-identity.md): files kept on the host
// partition under imgroot/host/, mirroring absolute paths of the root
// (imgroot/host/etc/hostname is /etc/hostname), and copied over the image's
// files by imgroot-init at every boot, before it switches root. Part of
// imgroot_core: libc and lib/system only.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "base/error.h"
#include "system/fd.h"

namespace imgroot::host_identity {

// What applying did. A failure for one entry is a warning, never an error:
// the host boots with the image's file there instead.
struct ApplyReport {
  int applied = 0;    // files and symlinks written into the root
  int unchanged = 0;  // already in the root as captured (content, mode, owner, mtime)
  int warnings = 0;   // entries not applied; each was passed to the warn callback
};

using Warn = std::function<void(const std::string& message)>;

// imgroot/host on the host partition, read-only; nullopt when there is none
// (the host boots with the image's defaults).
Result<std::optional<Fd>> open_identity_dir(int hostpart_dir);

// Copy every entry of 'identity_dir' (an fd from open_identity_dir; -1
// applies nothing) into the root 'root_dir' (the writable root: the mounted
// read-write image, or the overlay), at the same path: regular files and
// symlinks atomically (temporary name, owner, mode, atime and mtime, rename
// over the image's entry), directories created where missing (with the
// captured owner and mode; existing ones are left as the image has them).
// Paths resolve inside 'root_dir' and on its filesystem only: a symlink in
// the image never leads a write outside it. Other types are skipped with a
// warning; a read-only root gets one warning and nothing is written.
ApplyReport apply_host_identity(int identity_dir, int root_dir, const Warn& warn);

// The files and symlinks (not directories) in 'identity_dir'.
Result<int> count_files(int identity_dir);

// "etc/hostname" -> "/etc/hostname", for messages.
inline std::string absolute(const std::string& relative) { return "/" + relative; }

}  // namespace imgroot::host_identity

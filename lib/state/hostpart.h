// Finding and opening the host partition, and the system files that say
// what booted. Every path is injectable so tests run on fixtures.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "base/layout.h"
#include "system/fd.h"
#include "system/kernel_paths.h"

namespace imgroot::state {

struct SystemPaths : KernelPaths {
  std::string cmdline = "/proc/cmdline";
  // Where the running system has the host partition (docs/design.md section 1).
  std::string default_hostpart = root_paths::kHostpart;
};

struct Hostpart {
  std::string path;  // as given or found, for messages and the status
  Fd dir;            // O_DIRECTORY handle every operation is relative to
};

// 'given' (--hostpart) when there is one; else where the partition labelled
// hostpart is mounted; else the default path when it is a directory. The
// error says what was tried and how to point imgroot at the partition.
Result<Hostpart> open_hostpart(const std::optional<std::string>& given, const SystemPaths& paths);

}  // namespace imgroot::state

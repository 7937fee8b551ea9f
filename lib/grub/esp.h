// GRUB's files on the EFI system partition (EFI-BOOT, mounted at
// /boot/loader on a running node): grub/grub.cfg and grub/grubenv.
#pragma once

#include <string>

#include "base/error.h"
#include "base/layout.h"
#include "grub/env.h"
#include "system/fd.h"

namespace imgroot::grub {

inline constexpr const char* kDefaultEsp = "/boot/loader";
using esp_files::kConfigFile;
using esp_files::kEnvFile;
using esp_files::kGrubDir;

struct Esp {
  std::string path;  // the partition's mount point, for messages
  Fd grub_dir;       // <path>/grub
};

// Open <path>/grub; fails when it is not there.
Result<Esp> open_esp(const std::string& path);

// grub/grubenv; an empty environment when the file does not exist yet.
Result<Env> load_grubenv(const Esp& esp);

// Write grub/grubenv. An existing file is rewritten in place at its size
// (one write, then fsync), as GRUB's save_env does: on FAT a rename is not
// atomic, and GRUB writes to the blocks the file already has. A missing
// file is created as a 1024-byte block (temp file, fsync, rename).
Status save_grubenv(const Esp& esp, const Env& env);

// Create grub/grubenv when it does not exist: GRUB's save_env cannot.
// Returns whether it created one.
Result<bool> ensure_grubenv(const Esp& esp);

}  // namespace imgroot::grub

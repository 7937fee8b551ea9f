// --esp DIR, shared by the verbs that read or write GRUB's files on the
// EFI-BOOT partition (grub.cfg, grubenv).
#pragma once

#include <optional>

#include "cli.h"
#include "grub/esp.h"

namespace imgroot::cli {

void add_esp_option(po::options_description& options);

// Whether --esp was given.
bool esp_given(const po::variables_map& vars);

// The partition --esp names (an error when it has no grub/ folder), else
// the default /boot/loader when it has one; nullopt when there is no
// --esp and nothing at the default: not an error for verbs that only keep
// grubenv in step, which say so.
Result<std::optional<grub::Esp>> open_esp_option(const po::variables_map& vars);

}  // namespace imgroot::cli

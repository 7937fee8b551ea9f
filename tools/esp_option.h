// --esp DIR, shared by the verbs that read or write GRUB's files on the
// EFI-BOOT partition (grub.cfg, grubenv).
#pragma once

#include <optional>
#include <string>

#include "cli.h"

namespace imgroot::cli {

void add_esp_option(po::options_description& options);

// Whether --esp was given.
bool esp_given(const po::variables_map& vars);

// The EFI-BOOT partition to keep grubenv in: the folder --esp names (whether
// or not it has a grub/ folder: opening it says what is wrong), else the
// default /boot/loader when it has a grub/ folder; nullopt when there is no
// --esp and nothing at the default: not an error for verbs that only keep
// grubenv in step (state/boot_trial.h), which say so.
std::optional<std::string> esp_option(const po::variables_map& vars);

}  // namespace imgroot::cli

// Keeping GRUB's boot trial (grubenv on EFI-BOOT, grub/trial.h) in step
// with what a verb does to the host partition: stage starts a trial, a
// verdict or a revert ends it.
#pragma once

#include <functional>
#include <optional>

#include "cli.h"
#include "grub/trial.h"

namespace imgroot::cli {

// Read grubenv from the EFI-BOOT partition --esp names (or /boot/loader),
// let 'change' edit it, write it back when it changed. Returns the trial
// as it is afterwards; nullopt when there is no --esp and nothing at the
// default (the verb says what that means).
Result<std::optional<grub::Trial>> update_trial(const po::variables_map& vars,
                                                const std::function<Status(grub::Env&)>& change);

// The same without changing anything, for status.
Result<std::optional<grub::Trial>> read_trial(const po::variables_map& vars);

}  // namespace imgroot::cli

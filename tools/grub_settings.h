// The settings of the GRUB script (docs/grub.md): /etc/imgroot/grub.conf or
// --config FILE, overridden by --timeout and --cmdline. Shared by `imgroot
// grub` and `imgroot provision`, which writes the same grub.cfg.
#pragma once

#include "cli.h"
#include "grub/config.h"

namespace imgroot::cli {

// --timeout, --cmdline, --config.
void add_grub_settings_options(po::options_description& options);

// The settings file (a missing default one is no error, a missing --config
// one is), then the options over it, checked.
Result<grub::ConfigOptions> load_grub_settings(const po::variables_map& vars);

}  // namespace imgroot::cli

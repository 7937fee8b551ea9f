// --hostpart DIR, shared by every verb that works on the host partition.
#pragma once

#include "cli.h"
#include "state/hostpart.h"

namespace imgroot::cli {

void add_hostpart_option(po::options_description& options);

// The host partition the command line names, or the one found on this system.
Result<state::Hostpart> open_hostpart(const po::variables_map& vars);

}  // namespace imgroot::cli

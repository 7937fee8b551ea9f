// Running one check or green.d/red.d script: stdin from /dev/null, its
// stdout and stderr to the journal under the tag "imgroot-check/NAME" (by
// running it under systemd-cat) when journald is running, else to the
// runner's own stdout and stderr (which systemd logs under the unit's name).
// It runs in a process group of its own, so a check that hangs is killed
// with everything it started.
#pragma once

#include <string>

#include "assess/checks.h"
#include "base/error.h"

namespace imgroot::assess {

// The journal tag of a check's output: "imgroot-check/required/50-nginx".
std::string journal_tag(const std::string& name);

// Run 'path' for at most 'timeout' seconds (then SIGTERM to its group, and
// SIGKILL 10 seconds later). Passed: exit status 0. An error only when it
// could not be started at all.
Result<Try> run_script(const std::string& path, const std::string& tag, int timeout);

}  // namespace imgroot::assess

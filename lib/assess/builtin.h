// The built-in checks, each switched in assess.conf (assess/config.h) and
// required: a failure makes the image bad.
//
//   builtin/failed-units    no systemd unit is in the failed state, but for
//                           those matching ignore_units (shell patterns)
//   builtin/default-target  `systemctl is-active default.target` says active:
//                           the unit runs ordered after default.target, so
//                           the target's start job has finished by then, and
//                           it is active unless a unit it Requires= failed.
//                           (Not is-system-running: that says "starting"
//                           until every boot job, ours included, is done.)
//   builtin/tcp-port        a TCP connection to 127.0.0.1 (else ::1) on
//                           tcp_port is accepted within 5 seconds
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "assess/checks.h"
#include "assess/config.h"

namespace imgroot::assess {

// The built-in checks switched on, in the order above (path empty).
std::vector<Check> builtin_checks(const Config& config);
bool is_builtin(const Check& check);

// Run one of them.
Try run_builtin(const Check& check, const Config& config);

// The failed units in the output of `systemctl list-units --state=failed
// --plain --no-legend`, less those matching a pattern of 'ignore'.
std::vector<std::string> failed_units(std::string_view list_units_output,
                                      const std::vector<std::string>& ignore);

// Whether something accepts a TCP connection on localhost 'port'.
Try tcp_port_answers(int port);

}  // namespace imgroot::assess

// /etc/imgroot/assess.conf: how the boot assessment runs (docs/assessment.md
// has every key). A KEY=VALUE file: one setting a line, '#' starts a
// comment line, spaces around '=' and at either end are ignored. An unknown
// key or a malformed value is an error naming the line, so a typo never
// silently switches a check off.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace imgroot::assess {

struct Config {
  int retries = 0;          // extra tries of a failing required check
  int interval = 5;         // seconds between two tries
  int timeout = 300;        // seconds one try of a check may take
  bool failed_units = true;                // built-in: no systemd unit failed
  std::vector<std::string> ignore_units;  // ... except these (whitespace-separated)
  bool default_target = true;              // built-in: default.target is active
  bool tcp_check = true;                   // built-in: a TCP port answers on localhost
  int tcp_port = 22;
  int reboot_delay = 30;  // seconds between a red verdict on trial and the reboot
  int watchdog = 60;      // RuntimeWatchdogSec during a trial, seconds; 0: leave it alone
};

// Apply the settings of 'text' over 'config'.
Status apply_config(std::string_view text, Config& config);

}  // namespace imgroot::assess

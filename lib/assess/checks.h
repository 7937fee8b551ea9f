// The health checks of /etc/imgroot/check.d and the scripts of green.d and
// red.d: finding them, and running a check with its retries.
//
//   check.d/NAME           required (the layout before required/ and wanted/)
//   check.d/required/NAME  required: a failure makes the image bad
//   check.d/wanted/NAME    wanted: a failure is reported, the image can be good
//
// Only executable regular files count, in name order; leftovers of editors
// and package managers (NAME~, NAME.dpkg-*, .rpmsave, .rpmnew, .bak) and
// hidden files are skipped.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "assess/config.h"
#include "assess/verdict.h"
#include "base/error.h"

namespace imgroot::assess {

struct Check {
  std::string name;  // "20-net", "required/50-nginx", "wanted/60-metrics"
  std::string path;
  Kind kind = Kind::kRequired;
};

// The checks under 'check_dir' (missing: none): the flat ones, then
// required/, then wanted/.
Result<std::vector<Check>> find_checks(const std::string& check_dir);

// The executable files of 'dir' (green.d, red.d) in name order; none when
// it does not exist.
Result<std::vector<std::string>> find_scripts(const std::string& dir);

// One try of a check: passed, or how it failed ("exit 1").
struct Try {
  bool passed = false;
  std::string failure;
};

struct Retry {
  std::function<Try(const Check&)> run;
  std::function<void(int seconds)> sleep;  // between two tries
};

// Run 'check' once; a required check that fails is tried again, up to
// config.retries more times, config.interval seconds apart.
CheckResult run_with_retries(const Check& check, const Config& config, const Retry& retry);

}  // namespace imgroot::assess

// The boot verdict as pure functions of what the checks did and what the
// host partition says (docs/assessment.md): no script runs here, so a
// table of results is enough to test them.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace imgroot::assess {

// required/: a failure makes the image bad (a flat check.d/ file and the
// built-in checks are required too); wanted/: a failure is only reported.
enum class Kind { kRequired, kWanted };

struct CheckResult {
  std::string name;  // as reported: "required/50-nginx", "check.d/20-net", "builtin/tcp-port"
  Kind kind = Kind::kRequired;
  bool passed = false;
  int attempts = 1;
  // How the last try failed: "exit 1", "killed by signal 9", "timed out after 300s",
  // "port 22 refused the connection"...
  std::string failure;
};

struct Verdict {
  bool green = true;
  std::vector<std::string> failed;         // the required checks that failed, described
  std::vector<std::string> wanted_failed;  // the wanted checks that failed, described
};

// "required/50-nginx (exit 1)"; "... after 3 tries" when retried.
std::string describe_failure(const CheckResult& result);

Verdict decide(const std::vector<CheckResult>& results);

// What the host partition and GRUB say when the verdict is red.
struct RedContext {
  // GRUB's trial is counting the running image: no image is staged and the
  // phase is "counting" (an image staged meanwhile has its own trial).
  bool on_trial = false;
  bool old_image_present = false;  // hn-root-old.img, what the next boot goes back to
  bool old_image_red = false;      // ... and state.json has it marked bad
};

struct RedPlan {
  bool reboot = false;
  std::string why;  // one sentence for the log, the journal and the banner
};

// Red on trial with a previous image that is not red itself: reboot, so
// GRUB goes back. Never when not on trial, never towards a red image (no
// reboot loop between two bad images), never with nothing to go back to.
RedPlan plan_red(const RedContext& context);

}  // namespace imgroot::assess

#include "assess/verdict.h"

#include "base/layout.h"

namespace imgroot::assess {

std::string describe_failure(const CheckResult& r) {
  std::string text = r.name + " (" + r.failure;
  if (r.attempts > 1) text += ", " + std::to_string(r.attempts) + " tries";
  return text + ")";
}

Verdict decide(const std::vector<CheckResult>& results) {
  Verdict v;
  for (const auto& r : results) {
    if (r.passed) continue;
    if (r.kind == Kind::kRequired) {
      v.green = false;
      v.failed.push_back(describe_failure(r));
    } else {
      v.wanted_failed.push_back(describe_failure(r));
    }
  }
  return v;
}

RedPlan plan_red(const RedContext& c) {
  if (!c.on_trial)
    return {false, "the running image is not on trial: staying up (no image to go back to by itself)"};
  const std::string old = host_files::kOld;
  if (!c.old_image_present) return {false, "there is no " + old + " to go back to: staying up"};
  if (c.old_image_red)
    return {false, old + " is marked bad too: staying up rather than rebooting between two "
                         "bad images"};
  return {true, "the image on trial is bad: rebooting into " + old};
}

}  // namespace imgroot::assess

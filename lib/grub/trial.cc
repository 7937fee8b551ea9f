#include "grub/trial.h"

namespace imgroot::grub {

const char* phase_value(Phase phase) {
  switch (phase) {
    case Phase::kCounting: return "counting";
    case Phase::kReverting: return "reverting";
    case Phase::kDiscarding: return "discarding";
    case Phase::kNone: break;
  }
  return "";
}

Trial read_trial(const Env& env) {
  Trial t;
  const std::string phase = env.get(kTrialVar).value_or("");
  if (phase.empty()) return t;
  if (phase == phase_value(Phase::kReverting)) {
    t.phase = Phase::kReverting;
  } else if (phase == phase_value(Phase::kDiscarding)) {
    t.phase = Phase::kDiscarding;
  } else {
    t.phase = Phase::kCounting;
    t.unknown_phase = phase != phase_value(Phase::kCounting);
  }
  const std::string tries = env.get(kTriesVar).value_or("");
  // Exactly the strings GRUB compares against: one digit.
  if (tries.size() == 1 && tries[0] >= '0' && tries[0] <= '0' + kMaxTries) t.tries_left = tries[0] - '0';
  return t;
}

Status start_trial(Env& env, int tries) {
  if (tries < 1 || tries > kMaxTries)
    return fail("a boot trial has 1 to " + std::to_string(kMaxTries) + " tries, not " +
                std::to_string(tries));
  env.set(kTrialVar, phase_value(Phase::kCounting));
  env.set(kTriesVar, std::to_string(tries));
  return {};
}

void end_trial(Env& env) {
  env.erase(kTrialVar);
  env.erase(kTriesVar);
}

void exhaust_trial(Env& env) {
  if (read_trial(env).phase == Phase::kCounting) env.set(kTriesVar, "0");
}

std::string describe_trial(const Trial& t) {
  switch (t.phase) {
    case Phase::kNone: return "none";
    case Phase::kReverting:
      return "tries used up: the next boot reverts to hn-root-old.img";
    case Phase::kDiscarding:
      return "tries used up before the staged image booted: the next boot gives it up";
    case Phase::kCounting: break;
  }
  if (!t.tries_left) return "on trial, but the counter is unreadable: the next boot gives it up";
  if (*t.tries_left == 0) return "on trial, no try left: the next boot gives it up";
  return "on trial, " + std::to_string(*t.tries_left) +
         (*t.tries_left == 1 ? " boot" : " boots") + " left before it is given up";
}

}  // namespace imgroot::grub

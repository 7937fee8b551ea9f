// Boot assessment in grubenv (docs/design.md section 5; docs/grub.md has the
// state machine). A newly staged image is on trial for a number of boots.
// GRUB counts them down in grubenv before each boot; `imgroot mark-good`
// ends the trial; when the tries are used up GRUB boots the image before it.
//
// Two variables, both strings because GRUB has no arithmetic:
//   imgroot_trial   "" (no trial), "counting", "reverting", "discarding"
//   imgroot_tries   the boots left, "0" to "9"
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "grub/env.h"

namespace imgroot::grub {

inline constexpr const char* kTrialVar = "imgroot_trial";
inline constexpr const char* kTriesVar = "imgroot_tries";
inline constexpr int kDefaultTries = 3;
// GRUB counts down with one string comparison per value: the script has a
// branch for each of 1..kMaxTries.
inline constexpr int kMaxTries = 9;

enum class Phase {
  kNone,        // no image on trial
  kCounting,    // the image on trial boots while tries are left
  kReverting,   // tries used up on hn-root.img: GRUB boots hn-root-old.img with imgroot.revert=1
  kDiscarding,  // tries used up before the staged image ever became current:
                // GRUB boots hn-root.img with imgroot.unstage=1
};

// The value GRUB and the CLI store for a phase ("" for kNone).
const char* phase_value(Phase phase);

struct Trial {
  Phase phase = Phase::kNone;
  // The boots left while counting. nullopt when the counter is not a number
  // GRUB can count down: GRUB treats that as no try left.
  std::optional<int> tries_left;
  // imgroot_trial held a value this version does not know; GRUB counts
  // such a trial (as kCounting) rather than trust it.
  bool unknown_phase = false;
};

Trial read_trial(const Env& env);

// Put the staged image on trial for 'tries' boots (1..kMaxTries).
Status start_trial(Env& env, int tries);
// mark-good, or a revert asked for by hand: no image on trial any more.
void end_trial(Env& env);
// mark-bad: no try left; the next boot gives the image up.
void exhaust_trial(Env& env);

// "counting, 2 tries left" and the like, for `imgroot status`.
std::string describe_trial(const Trial& trial);

}  // namespace imgroot::grub

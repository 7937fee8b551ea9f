// imgroot mark-good | mark-bad: the boot assessment of the running image.
// The two verbs differ only in the verdict, so they share this file.
#include <iostream>

#include "esp_option.h"
#include "grub/esp.h"
#include "host_lock.h"
#include "hostpart_option.h"
#include "log_event.h"
#include "state/boot_trial.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

// What to tell the user about GRUB's boot trial once the verdict is recorded.
std::string trial_note(const state::Verdict& done, state::Assessment verdict) {
  if (done.staged_trial_left) return std::string();
  if (!done.trial)
    return std::string("note: no EFI-BOOT partition at ") + grub::kDefaultEsp +
           " (--esp DIR): GRUB's boot trial, if any, is unchanged";
  if (verdict == state::Assessment::kBad && done.trial->phase == grub::Phase::kCounting)
    return std::string("the image was on trial: the next boot goes back to the image before it");
  return std::string();
}

int run_mark(const std::string& verb, state::Assessment verdict,
             const std::vector<std::string>& args) {
  po::options_description options;
  add_hostpart_option(options);
  add_esp_option(options);
  const std::string description =
      std::string("Record that the running image is ") + state::assessment_name(verdict) +
      " in the host partition's imgroot/state.json. The running image is the one /\n"
      "is backed by when it is on the host partition; otherwise (offline, or / is\n"
      "not an image) hn-root.img, the image the next boot starts when nothing is\n"
      "staged.\n\n"
      "When no image is staged, the verdict also settles GRUB's boot trial in\n"
      "grub/grubenv on the EFI-BOOT partition (--esp, default /boot/loader):\n"
      "mark-good ends it, mark-bad uses up its tries so the next boot goes back to\n"
      "the image before (docs/grub.md).";
  auto parsed = parse(verb, args, options, {}, verb + " [--hostpart DIR] [--esp DIR]", description);
  if (parsed.exit_now) return *parsed.exit_now;

  auto hostpart = open_hostpart(parsed.vars);
  if (!hostpart) return report(std::move(hostpart.error()).context(verb));
  auto lock = lock_hostpart(*hostpart);
  if (!lock) return report(std::move(lock.error()).context(verb));
  auto done = state::record_verdict(*hostpart, state::SystemPaths{}, esp_option(parsed.vars),
                                    verdict);
  if (!done) return report(std::move(done.error()).context(verb));
  log_event(*hostpart, {"", "mark",
                        {{"image", done->image}, {"verdict", std::string(state::assessment_name(verdict))}}});
  std::cout << "marked " << done->image << " " << state::assessment_name(verdict) << "\n";
  if (auto note = trial_note(*done, verdict); !note.empty()) std::cout << note << "\n";
  return kExitOk;
}

}  // namespace

int run_mark_good(const std::vector<std::string>& args) {
  return run_mark("mark-good", state::Assessment::kGood, args);
}

int run_mark_bad(const std::vector<std::string>& args) {
  return run_mark("mark-bad", state::Assessment::kBad, args);
}

}  // namespace imgroot::cli

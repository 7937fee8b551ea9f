// imgroot mark-good | mark-bad: the boot assessment of the running image.
// The two verbs differ only in the verdict, so they share this file.
#include <iostream>

#include "base/layout.h"
#include "boot_trial.h"
#include "esp_option.h"
#include "host_lock.h"
#include "hostpart_option.h"
#include "state/assessment.h"
#include "system/file.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

// The verdict's say on GRUB's boot trial. With no image staged, the image on
// trial is the running one: good ends the trial, bad uses up its tries so
// the next boot goes back. A staged image's trial is left alone. grubenv
// is written before the state file: a crash in between leaves an
// unassessed image without a trial, never a good one GRUB would revert.
// Returns what to tell the user once the verdict is recorded. Called under
// the host partition's lock: no stage publishes between the check for a
// staged image and the grubenv write.
Result<std::string> settle_trial(const po::variables_map& vars, int hostpart,
                                 state::Assessment verdict) {
  auto staged = exists_at(hostpart, host_files::kNew);
  if (!staged) return std::unexpected(staged.error());
  if (*staged) return std::string();
  auto trial = update_trial(vars, [verdict](grub::Env& env) -> Status {
    if (verdict == state::Assessment::kGood) grub::end_trial(env);
    else grub::exhaust_trial(env);
    return {};
  });
  if (!trial) return std::unexpected(std::move(trial.error()).context("boot trial"));
  if (!*trial)
    return std::string("note: no EFI-BOOT partition at ") + grub::kDefaultEsp +
           " (--esp DIR): GRUB's boot trial, if any, is unchanged";
  if (verdict == state::Assessment::kBad && (*trial)->phase == grub::Phase::kCounting)
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
  auto settled = settle_trial(parsed.vars, hostpart->dir.get(), verdict);
  if (!settled) return report(std::move(settled.error()).context(verb));
  auto marked = state::mark_image(*hostpart, state::SystemPaths{}, verdict);
  if (!marked) return report(std::move(marked.error()).context(verb));
  std::cout << "marked " << *marked << " " << state::assessment_name(verdict) << "\n";
  if (!settled->empty()) std::cout << *settled << "\n";
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

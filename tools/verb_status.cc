// imgroot status [--json]: what booted, what is staged, what the next boot does.
#include <iostream>

#include "esp_option.h"
#include "hostpart_option.h"
#include "release/fetch.h"
#include "stage/stage.h"
#include "state/boot_trial.h"
#include "state/event_log.h"
#include "state/explain.h"
#include "state/known_bad.h"
#include "state/status.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

const char* kDescription =
    "Show which image booted and how that is known (imgroot.image= on the kernel\n"
    "command line, the loop device behind / and its backing file), the images on the\n"
    "host partition with size, modification time and the SHA-256 recorded when they\n"
    "were staged, whether an image is staged or a revert is pending, what the next\n"
    "boot will do (by the rules GRUB and the init follow), and the boot assessment.\n"
    "Offline (--hostpart on another disk's partition) nothing booted from it, and the\n"
    "status says so. --json prints the form documented in docs/status-json.md.\n"
    "GRUB's boot trial (the image on trial and its tries left) comes from\n"
    "grub/grubenv on the EFI-BOOT partition (--esp, default /boot/loader).\n"
    "A partial copy left by a killed 'imgroot stage' is removed.";

}  // namespace

int run_status(const std::vector<std::string>& args) {
  po::options_description options;
  options.add_options()("json", po::bool_switch(), "print JSON (docs/status-json.md)");
  add_hostpart_option(options);
  add_esp_option(options);
  auto parsed = parse("status", args, options, {}, "status [--hostpart DIR] [--esp DIR] [--json]",
                      kDescription);
  if (parsed.exit_now) return *parsed.exit_now;

  auto hostpart = open_hostpart(parsed.vars);
  if (!hostpart) return report(std::move(hostpart.error()).context("status"));
  // A read-only host partition cannot lose its stale partial; the status matters more.
  auto removed = stage::remove_stale_partial(hostpart->dir.get());
  auto status = state::read_status(*hostpart, state::SystemPaths{});
  if (!status) return report(std::move(status.error()).context("status"));
  status->removed_stale_partial = removed && *removed;
  if (auto d = release::store_state(hostpart->dir.get()); d && !d->release.empty())
    status->download = state::Download{d->release, d->url,      d->image_size,
                                       d->written, d->complete, d->running};
  // An unreadable grubenv makes the trial unknown, not the status fail.
  if (auto trial = state::read_boot_trial(esp_option(parsed.vars)))
    status->trial = *trial;
  else
    status->trial_note = trial.error().message;
  // Why it runs what it runs: an unreadable event log only shortens the story.
  auto events = state::read_events(hostpart->dir.get());
  auto recorded = state::load_state(hostpart->dir.get());
  if (recorded && state::remember_broken(hostpart->dir.get(), *recorded))  // in memory only
    status->explanation = state::explain_rollback(
        *status, *recorded, events ? *events : std::vector<state::Event>());
  std::cout << (parsed.vars["json"].as<bool>() ? state::status_to_json(*status)
                                               : state::status_to_text(*status));
  return kExitOk;
}

}  // namespace imgroot::cli

// imgroot revert [--unstage] | --cancel: the system-revert flag.
#include <iostream>

#include "esp_option.h"
#include "host_lock.h"
#include "hostpart_option.h"
#include "log_event.h"
#include "state/boot_trial.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

const char* kDescription =
    "Ask the next boot to go back to hn-root-old.img: it becomes hn-root.img again and\n"
    "the current image is kept as hn-root-broken.img. Writes the system-revert flag\n"
    "durably, where GRUB sees it too. Refuses when there is no hn-root-old.img, and\n"
    "when an image is staged (the boot after the revert would start it) unless\n"
    "--unstage removes the staged image. --cancel removes the flag again.\n\n"
    "A revert ends GRUB's boot trial (grub/grubenv on the EFI-BOOT partition, --esp,\n"
    "default /boot/loader): the image on trial is the one being reverted away from.";

}  // namespace

int run_revert(const std::vector<std::string>& args) {
  po::options_description options;
  options.add_options()("unstage", po::bool_switch(),
                        "remove a staged hn-root-new.img instead of refusing")(
      "cancel", po::bool_switch(), "remove a pending revert flag");
  add_hostpart_option(options);
  add_esp_option(options);
  auto parsed = parse("revert", args, options, {},
                      "revert [--hostpart DIR] [--esp DIR] [--unstage | --cancel]",
                      kDescription);
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;
  const bool cancel = vars["cancel"].as<bool>();
  if (cancel && vars["unstage"].as<bool>())
    return usage_error("revert", "--cancel and --unstage cannot be used together");

  auto hostpart = open_hostpart(vars);
  if (!hostpart) return report(std::move(hostpart.error()).context("revert"));
  // The checks for a staged image and the grubenv write, with no stage between.
  auto lock = lock_hostpart(*hostpart);
  if (!lock) return report(std::move(lock.error()).context("revert"));

  if (cancel) {
    auto had = state::cancel_revert(hostpart->dir.get());
    if (!had) return report(std::move(had.error()).context("revert --cancel"));
    std::cout << (*had ? "cancelled the pending revert\n" : "no revert was pending\n");
    if (*had) log_event(*hostpart, {"", "revert", {{"requested", std::string("cancelled")}}});
    return kExitOk;
  }
  state::RevertRequest request;
  request.unstage = vars["unstage"].as<bool>();
  auto done = state::revert_ending_trial(hostpart->dir.get(), request, esp_option(vars));
  if (!done) return report(std::move(done.error()).context("revert"));
  log_event(*hostpart, {"", "revert",
                        {{"requested", std::string("pending")}, {"unstaged", request.unstage}}});
  std::cout << "the next boot goes back to hn-root-old.img; the current image will be kept as "
               "hn-root-broken.img\n";
  if (!done->trial_ended) return report(std::move(done->trial_ended.error()).context("revert"));
  return kExitOk;
}

}  // namespace imgroot::cli

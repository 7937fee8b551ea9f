// imgroot stage IMAGE: check an image and copy it in as hn-root-new.img.
#include <iostream>
#include <optional>

#include "base/bytes.h"
#include "base/layout.h"
#include "esp_option.h"
#include "grub/esp.h"
#include "host_lock.h"
#include "hostpart_option.h"
#include "log_event.h"
#include "progress.h"
#include "stage/stage.h"
#include "state/boot_trial.h"
#include "stop_signals.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

const char* kUsage =
    "stage [--hostpart DIR] [--esp DIR] [--tries N] [--init PATH] [--no-inspect]\n"
    "          [--cancel-revert] [--boots-without-grub] [--hash] [--force] IMAGE";

const char* kDescription =
    "Check IMAGE (a regular file holding a filesystem with an executable /sbin/init,\n"
    "/boot/kernel and /boot/initramfs, inspected through a read-only loop mount that\n"
    "nothing else sees), copy it onto the host partition while computing its SHA-256,\n"
    "and rename the copy to hn-root-new.img: the next boot makes it the current image\n"
    "and keeps the current one as hn-root-old.img. A previously staged image is\n"
    "replaced. Holes in IMAGE stay holes; on btrfs or xfs, when IMAGE is on the host\n"
    "partition's filesystem, the copy is an instant reflink, which is not hashed\n"
    "(that would read the whole image) unless --hash asks for it. Interrupting the\n"
    "copy (Ctrl-C, kill) leaves the host partition as it was.\n\n"
    "Inspecting needs root and loop devices; --no-inspect skips the mount (the file\n"
    "type and filesystem are still checked) and trusts IMAGE to boot.\n\n"
    "IMAGE must hold ext4 (or ext2/ext3), btrfs, xfs, squashfs or erofs. erofs is\n"
    "refused unless --boots-without-grub: GRUB 2.06 (Debian 12) cannot read it, so\n"
    "it could not load the image's kernel.\n\n"
    "The staged image is then on trial (docs/grub.md): GRUB boots it at most --tries\n"
    "times (default 3) until 'imgroot mark-good', then goes back to the image before\n"
    "it. The count is kept in grub/grubenv on the EFI-BOOT partition (--esp, default\n"
    "/boot/loader); without that partition the image is staged without a trial.\n"
    "--tries 0 stages it without a trial.\n\n"
    "An image whose SHA-256 is that of one given up before (reverted, discarded or\n"
    "marked bad: it became hn-root-broken.img) is refused unless --force\n"
    "(docs/assessment.md).";

// After staging: the image is on trial for 'tries' boots (state/boot_trial.h
// has why the image comes first).
int put_on_trial(const std::optional<std::string>& esp, int tries, const std::string& what) {
  auto trial = state::start_boot_trial(esp, tries);
  if (!trial)
    return report(std::move(trial.error())
                      .context(what + ": the image is staged, but its boot trial could not be "
                                      "started"));
  if (!*trial) {
    if (tries > 0)
      std::cerr << "imgroot: note: no EFI-BOOT partition at " << grub::kDefaultEsp
                << " (--esp DIR): the image boots without a trial, GRUB cannot count its boots\n";
  } else if (tries > 0) {
    std::cout << "on trial: GRUB boots it at most " << tries
              << (tries == 1 ? " time" : " times") << " until 'imgroot mark-good'\n";
  }
  return kExitOk;
}

}  // namespace

int run_stage(const std::vector<std::string>& args) {
  po::options_description options;
  options.add_options()("image", po::value<std::string>()->required()->value_name("IMAGE"),
                        "the image to stage (also the first positional argument)")(
      "init", po::value<std::string>()->default_value("/sbin/init")->value_name("PATH"),
      "the program the image must have, executable, to boot")(
      "no-inspect", po::bool_switch(), "do not mount the image to look inside it")(
      "cancel-revert", po::bool_switch(),
      "cancel a pending revert (system-revert) instead of refusing to stage")(
      "boots-without-grub", po::bool_switch(),
      "the node boots without GRUB (PXE, a direct kernel boot): stage an erofs image")(
      "hash", po::bool_switch(),
      "compute the SHA-256 of a reflinked copy too (reads the whole image)")(
      "tries", po::value<int>()->default_value(grub::kDefaultTries)->value_name("N"),
      "boots GRUB gives the image before going back (1-9; 0: no trial)")(
      "force", po::bool_switch(),
      "stage an image even when one with the same SHA-256 was given up before");
  add_hostpart_option(options);
  add_esp_option(options);
  auto parsed = parse("stage", args, options, {{"image"}}, kUsage, kDescription);
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;
  const int tries = vars["tries"].as<int>();
  if (tries < 0 || tries > grub::kMaxTries)
    return usage_error("stage", "--tries " + std::to_string(tries) + ": not 0 to " +
                                    std::to_string(grub::kMaxTries));

  stage::StageRequest request;
  request.image = vars["image"].as<std::string>();
  request.init = vars["init"].as<std::string>();
  request.inspect = !vars["no-inspect"].as<bool>();
  request.cancel_revert = vars["cancel-revert"].as<bool>();
  request.boots_without_grub = vars["boots-without-grub"].as<bool>();
  request.force = vars["force"].as<bool>();
  const std::string what = "stage " + quoted(request.image);

  auto hostpart = open_hostpart(vars);
  if (!hostpart) return report(std::move(hostpart.error()).context(what));
  // A wrong --esp is found before the copy, not after it.
  const auto esp = esp_option(vars);
  if (esp)
    if (auto opened = grub::open_esp(*esp); !opened)
      return report(std::move(opened.error()).context(what));

  const auto* stop_requested = catch_stop_signals();
  // Taken once the copy is done, held until the trial is started: no other
  // verb sees the image staged without its trial.
  std::optional<state::HostLock> lock;
  stage::Staged staged;
  {
    ProgressBar bar("copying");
    request.before_publish = [&]() -> Status {
      bar.clear();  // a "waiting for" line gets a line of its own
      auto locked = lock_hostpart(*hostpart, stop_requested);
      if (!locked) return std::unexpected(locked.error());
      lock = std::move(*locked);
      return {};
    };
    stage::CopyControl control;
    control.progress = [&bar](std::uint64_t done, std::uint64_t total) { bar.update(done, total); };
    control.cancel = stop_requested;
    control.hash_reflink = vars["hash"].as<bool>();
    auto result = stage::stage_image(hostpart->dir.get(), request, control);
    if (!result) {
      if (*stop_requested) return report(Error::plain(what + ": interrupted; nothing was staged"));
      return report(std::move(result.error()).context(what));
    }
    staged = std::move(*result);
  }
  if (staged.cancelled_revert) std::cout << "cancelled the pending revert\n";
  std::cout << "staged " << request.image << " (" << staged.fs_type << ", "
            << format_bytes(staged.copy.size) << (staged.copy.reflinked ? ", reflinked" : "")
            << ") as " << hostpart->path << "/hn-root-new.img\n";
  if (staged.copy.sha256.empty())
    std::cout << "sha256 not computed: the copy is a reflink (--hash computes it)\n";
  else
    std::cout << "sha256 " << staged.copy.sha256 << "\n";
  std::cout << "the next boot makes it the current image\n";
  const int rc = put_on_trial(esp, tries, what);
  log_event(*hostpart, {"", "stage",
                        {{"image", std::string(host_files::kNew)},
                         {"source", request.image},
                         {"sha256", staged.copy.sha256},
                         {"tries", std::int64_t{tries}},
                         {"forced", request.force}}});
  return rc;
}

}  // namespace imgroot::cli

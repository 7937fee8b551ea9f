// imgroot provision DISK: partition and populate a disk as docs/design.md
// section 1 describes it.
#include <unistd.h>

#include <iostream>

#include "base/bytes.h"
#include "base/layout.h"
#include "grub_settings.h"
#include "progress.h"
#include "provision/provision.h"
#include "stop_signals.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

const char* kUsage =
    "provision DISK --image IMAGE [--esp-size SIZE] [--fs ext4|btrfs|xfs]\n"
    "          [--timeout SECONDS] [--cmdline ARGS] [--config FILE] [--init PATH]\n"
    "          [--yes | --dry-run]";

const char* kDescription =
    "Turn DISK (a whole block device, or a disk image file) into a bootable imgroot\n"
    "node (docs/provision.md): a new GPT with partition 1, FAT32 labelled EFI-BOOT\n"
    "(--esp-size, default 128MiB, the EFI system partition), and partition 2, the\n"
    "rest, labelled hostpart (--fs, default ext4). GRUB for x86_64 EFI goes on\n"
    "EFI-BOOT as EFI/BOOT/BOOTX64.EFI with the grub.cfg 'imgroot grub' writes\n"
    "(--timeout, --cmdline, --config as there) and an empty grubenv; IMAGE is\n"
    "checked and copied onto hostpart as hn-root.img, beside data/ and imgroot/.\n\n"
    "Refuses a disk that holds the running root or has a mounted partition, a disk\n"
    "image file attached to a loop device, and an image that 'imgroot stage' would\n"
    "refuse. Everything on DISK is erased: provision prints the plan, and carries\n"
    "it out only with --yes. --dry-run prints the plan and changes nothing.\n"
    "Needs root (loop devices, mounting the host partition), parted's library,\n"
    "mkfs.vfat and mkfs.<fs>, grub-mkimage and mcopy.";

int refuse(const std::string& what, Error e) { return report(std::move(e).context(what)); }

}  // namespace

int run_provision(const std::vector<std::string>& args) {
  po::options_description options;
  options.add_options()("disk", po::value<std::string>()->required()->value_name("DISK"),
                        "the disk or disk image file (also the first positional argument)")(
      "image", po::value<std::string>()->required()->value_name("IMAGE"),
      "the root image to install as hn-root.img")(
      "esp-size", po::value<std::string>()->default_value("128MiB")->value_name("SIZE"),
      "the size of EFI-BOOT (K, M, G, or KiB, MiB, GiB; at least 8MiB)")(
      "fs", po::value<std::string>()->default_value("ext4")->value_name("TYPE"),
      "the host partition's filesystem: ext4, btrfs or xfs")(
      "init", po::value<std::string>()->default_value("/sbin/init")->value_name("PATH"),
      "the program the image must have, executable, to boot")(
      "yes,y", po::bool_switch(), "erase DISK and carry the plan out")(
      "dry-run,n", po::bool_switch(), "print the plan and change nothing");
  add_grub_settings_options(options);
  auto parsed = parse("provision", args, options, {{"disk"}}, kUsage, kDescription);
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;

  provision::Request request;
  request.disk = vars["disk"].as<std::string>();
  request.image = vars["image"].as<std::string>();
  request.init = vars["init"].as<std::string>();
  auto fs = provision::parse_host_fs(vars["fs"].as<std::string>());
  if (!fs) return usage_error("provision", "--fs " + vars["fs"].as<std::string>() + ": not ext4, btrfs or xfs");
  request.fs = *fs;
  auto esp_size = provision::parse_size(vars["esp-size"].as<std::string>());
  if (!esp_size) return usage_error("provision", "--esp-size: " + esp_size.error().message);
  request.esp_size = *esp_size;
  const bool yes = vars["yes"].as<bool>(), dry_run = vars["dry-run"].as<bool>();
  if (yes && dry_run) return usage_error("provision", "--yes and --dry-run exclude each other");
  const std::string what = "provision " + quoted(request.disk);

  auto settings = load_grub_settings(vars);
  if (!settings) return refuse(what + ": GRUB settings", std::move(settings.error()));
  auto grub_cfg = grub::generate_config(*settings, IMGROOT_VERSION);
  if (!grub_cfg) return refuse(what, std::move(grub_cfg.error()));

  provision::SystemPaths paths;
  if (const char* tmp = ::getenv("TMPDIR"); tmp && *tmp) paths.work_dir_base = tmp;
  auto plan = provision::make_plan(request, paths);
  if (!plan) return refuse(what, std::move(plan.error()));
  std::cout << provision::describe_plan(*plan);
  if (dry_run) {
    std::cout << "dry run: nothing was changed\n";
    return kExitOk;
  }
  if (!yes)
    return report(Error::plain(what + ": everything on it would be erased; nothing was changed. "
                                      "Check the plan above and run again with --yes"));
  std::cout.flush();

  const auto* stop_requested = catch_stop_signals();
  provision::Provisioned done;
  {
    ProgressBar bar("copying");
    provision::Progress progress;
    progress.step = [](const std::string& step) { std::cout << step << std::endl; };
    progress.copy.progress = [&bar](std::uint64_t n, std::uint64_t total) { bar.update(n, total); };
    progress.copy.cancel = stop_requested;
    auto result = provision::carry_out(*plan, *grub_cfg, paths, progress);
    if (!result) return refuse(what, std::move(result.error()));
    done = std::move(*result);
  }
  std::cout << "provisioned " << request.disk << ": GPT with " << labels::kEsp << " and "
            << labels::kHostpart << " (" << provision::host_fs_name(request.fs) << ", "
            << format_bytes(plan->layout.hostpart.size) << "), GRUB, and " << request.image
            << " as hn-root.img (sha256 " << done.staged.copy.sha256 << ")\n";
  return kExitOk;
}

}  // namespace imgroot::cli

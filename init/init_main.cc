// imgroot-init: PID 1 of the standalone initramfs (docs/design.md sections 2-3).
//
// Finds the host partition, rotates the images, loop-mounts hn-root.img and
// switches root into it. Every failure leads to the previous image or to the
// rescue path; as PID 1, main never returns.
//
// `imgroot-init --prepare-sysroot` (not as PID 1) does the same up to a
// mounted /sysroot and exits, for initramfs generators with their own
// switch-root (the dracut module).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <exception>
#include <vector>

#include "boot/cmdline.h"
#include "boot_record.h"
#include "base/layout.h"
#include "boot/host_identity.h"
#include "boot/overlay_layer.h"
#include "boot/rotation.h"
#include "cross_check.h"
#include "early.h"
#include "fall_back.h"
#include "hostpart.h"
#include "image/bootable.h"
#include "image/open.h"
#include "image_root.h"
#include "log.h"
#include "modules.h"
#include "rescue.h"
#include "shutdown.h"
#include "switch_root.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/mount.h"

namespace imgroot::init {
namespace {

using initramfs_paths::kNewRoot;
using run_paths::kHostpartMount;
using run_paths::kScratch;
// --prepare-sysroot: where the image is mounted and checked before it moves
// to kNewRoot, so that systemd never sees an image it must give up on.
using run_paths::kStagingRoot;
// Where a staged image is mounted on trial before an upgrade makes room for it.
using run_paths::kTrialRoot;

// Everything up to a mounted host partition, or the reason there is none.
Result<Mount> find_and_mount_hostpart(const BootConfig& config, ModuleLoader& modules) {
  modules.load_forced();
  modules.coldplug();
  const long long start = now_ms();
  // Disks behind a controller (SCSI, USB) appear after its driver loaded:
  // theirs is loaded while we wait.
  auto device = wait_for_hostpart(config.hostpart, config.timeout_seconds,
                                  [&modules] { modules.coldplug(); },
                                  [&modules](int ms) { modules.wait_a_little(ms); },
                                  [&modules] { return modules.settled(); });
  if (!device) return std::unexpected(device.error());
  info("host partition " + config.hostpart.to_string() + " is " + *device + ", found in " +
       std::to_string(now_ms() - start) + " ms");

  (void)::mkdir(kScratch, 0755);
  (void)::mkdir(kHostpartMount, 0755);
  return mount_hostpart(*device, kHostpartMount);
}

// The image mounted at 'target' can boot: its init is there (image/bootable.h;
// the kernel that runs was loaded already, so /boot/kernel is not asked for).
Status init_found(const char* target, const std::string& init) {
  auto root = Fd::open_dir(target);
  if (!root) return std::unexpected(root.error());
  return image::check_bootable(root->get(), init, image::Needs::kInit);
}

// Log what the init did or found about the images, and keep it for this
// boot's record in the event log.
void report(BootRecord& record, const std::vector<LogLine>& lines) {
  log_all(lines);
  record.add(lines);
}

// Mount image 'name' at 'target' and find its init there. When it cannot be
// booted, say why, and keep its loop device attached (unmounted) in 'kept'
// until the switch: see mount_bootable_image.
Result<ImageRoot> mount_usable(int hostpart, const char* name, const BootConfig& config,
                               const char* target, std::vector<LoopDevice>& kept,
                               BootRecord& record) {
  auto root = mount_image({hostpart, kHostpartMount, name}, config, target, kScratch);
  Status usable = root ? init_found(target, config.init) : std::unexpected(root.error());
  if (usable) return root;
  report(record, {{Level::kError, "cannot boot " + std::string(name) + ": " + usable.error().message}});
  if (root) kept.push_back(std::move(root->loop));
  return std::unexpected(usable.error());
}  // an image given up is unmounted here

// A staged image is booted only once it has been mounted and its init
// found: the upgrade's first rename makes room for it by letting the old
// image go, which must not happen for an image that cannot boot. The
// trial's loop device is kept too, so that the root gets another one.
bool staged_image_mounts(int hostpart, const BootConfig& config, std::vector<LoopDevice>& kept,
                         BootRecord& record) {
  BootConfig trial = config;
  trial.read_only = config.read_only || config.overlay != Overlay::kNone;
  trial.overlay = Overlay::kNone;
  (void)::mkdir(kTrialRoot, 0755);  // EEXIST; the mount says otherwise
  auto root = mount_usable(hostpart, host_files::kNew, trial, kTrialRoot, kept, record);
  if (!root) return false;
  kept.push_back(std::move(root->loop));
  return true;
}  // the trial mount goes here

// What rotation asks before it counts an image file (rotation::ImageCheck).
rotation::ImageCheck image_check(const BootConfig& config, std::vector<LoopDevice>& kept,
                                 BootRecord& record) {
  return [&config, &kept, &record](int dir, const char* name) {
    if (!image::may_hold_image(dir, name)) return false;
    return std::strcmp(name, host_files::kNew) != 0 ||
           staged_image_mounts(dir, config, kept, record);
  };
}

// Mount the current image at 'target', or give up on it and fall back to
// the old one until one can be mounted or none is left. The loop devices of
// the images given up stay attached in 'given_up' (unmounted) until the
// caller drops them: the next image then gets another loop device, and
// systemd, which binds a mount unit to its device, cannot mistake the late
// detach of the old one for the loss of the new root.
Result<ImageRoot> mount_bootable_image(int hostpart, const BootConfig& config,
                                       const char* target, std::vector<LoopDevice>& given_up,
                                       BootRecord& record, const BeforeReboot& before_reboot) {
  for (;; ++record.fell_back) {
    auto root = mount_usable(hostpart, host_files::kCurrent, config, target, given_up, record);
    if (root) return root;
    if (!may_fall_back(record.fell_back))
      return fail("no image on the host partition can be mounted");
    auto fallen = rotation::fall_back(hostpart, nullptr, image_check(config, given_up, record));
    if (!fallen) return std::unexpected(std::move(fallen.error()).context("fall back"));
    report(record, fall_back_log(*fallen));
    if (auto st = checkpoint_filesystem(hostpart); !st) warn(st.error().message);
    if (auto why = kernel_left_behind(config.image))
      reboot_once_for_kernel(hostpart, *why, before_reboot);
  }
}

// What every root gets besides the image: the data directory on the host
// partition with /data0 pointing to it (in the image, or in its overlay).
void furnish_root(int hostpart, int root) {
  if (::mkdirat(hostpart, host_files::kDataDir, 0755) < 0 && errno != EEXIST)
    warn("cannot create " + std::string(host_files::kDataDir) + "/ on the host partition: " +
         std::strerror(errno));
  const std::string target = std::string(root_paths::kHostpart) + "/" + host_files::kDataDir;
  if (::symlinkat(target.c_str(), root, root_paths::kDataLink) == 0) return;
  const int e = errno;
  if (e == EEXIST) return;  // the image has its own /data0: not ours to replace
  warn("cannot create /data0 -> " + target + " in the image: " + std::strerror(e) +
       (e == EROFS ? " (a read-only root without imgroot.overlay=)" : ""));
}

// The host's own files (imgroot/host/) over the image's: the image is the
// class, the host partition knows which host this is.
void apply_identity(int hostpart, int root) {
  auto identity = host_identity::open_identity_dir(hostpart);
  if (!identity) return warn("host identity not applied: " + identity.error().message);
  if (!*identity) return;  // none captured yet: the image's defaults
  auto report = host_identity::apply_host_identity((*identity)->get(), root, warn);
  info("host identity: " + std::to_string(report.applied) + " files applied, " +
       std::to_string(report.unchanged) + " already in place" +
       (report.warnings ? ", " + std::to_string(report.warnings) + " not applied" : ""));
}

// The image mounted at the given root, with the host partition mounted at
// kHostpartMount: everything but leaving the initramfs.
struct PreparedRoot {
  std::vector<LoopDevice> given_up;  // see mount_bootable_image; destroyed last
  Mount hostpart;
  ImageRoot image;
};

Result<PreparedRoot> prepare_root(const BootConfig& config, const char* root_dir,
                                  ModuleLoader& modules) {
  auto hostpart_mount = find_and_mount_hostpart(config, modules);
  if (!hostpart_mount) return std::unexpected(hostpart_mount.error());
  // No fd of ours may keep the host partition's directory open afterwards:
  // this one goes out of scope on return.
  auto hostpart = Fd::open_dir(kHostpartMount);
  if (!hostpart) return std::unexpected(hostpart.error());

  std::vector<LoopDevice> given_up;  // loop devices kept until the switch
  BootRecord record = BootRecord::from(config);
  auto outcome =
      rotation::rotate_at_boot(hostpart->get(), config, image_check(config, given_up, record));
  if (!outcome) {
    record.error = outcome.error().message;
    write_boot_record(hostpart->get(), record);
    return std::unexpected(outcome.error());
  }
  record.rotation = rotation::action_name(outcome->action);
  record.chosen = outcome->chosen;
  report(record, rotation_log(*outcome));
  // GRUB reads the disk without replaying the journal: make the renames
  // visible to it before anything else can go wrong. (Without renames there
  // is nothing GRUB needs, and a checkpoint costs a journal commit.)
  if (!outcome->steps.empty()) {
    if (auto st = checkpoint_filesystem(hostpart->get()); !st) warn(st.error().message);
  }
  // A copy: when the reboot fails the boot goes on, and its own record must
  // not say it rebooted.
  const BeforeReboot record_reboot = [&record, &hostpart](const std::string& why) {
    BootRecord rebooting = record;
    rebooting.rebooted = why;
    write_boot_record(hostpart->get(), rebooting);
  };
  cross_check_kernel(hostpart->get(), config, outcome->chosen, record_reboot);

  // Before a layer is mounted: the layers of images that are gone move aside.
  overlay_layer::prune(hostpart->get(), warn);
  auto root =
      mount_bootable_image(hostpart->get(), config, root_dir, given_up, record, record_reboot);
  if (root) {
    record.image = host_files::kCurrent;
    record.fs = root->fs_type;
  } else {
    record.error = root.error().message;
  }
  // Now, while the host partition is ours and read-write: once switched,
  // it is the running system's.
  write_boot_record(hostpart->get(), record);
  if (!root) return std::unexpected(root.error());
  info("mounted " + std::string(host_files::kCurrent) + " (" + root->fs_type + ") from " +
       root->loop.path());
  if (auto root_fd = Fd::open_dir(root_dir)) {
    furnish_root(hostpart->get(), root_fd->get());
    apply_identity(hostpart->get(), root_fd->get());
  } else {
    warn(root_fd.error().message + "; no /data0 and no host identity in the image");
  }
  return PreparedRoot{std::move(given_up), std::move(*hostpart_mount), std::move(*root)};
}

BootConfig read_config() {
  auto cmdline_text = read_file("/proc/cmdline");
  auto parsed = parse_cmdline(cmdline_text ? *cmdline_text : "");
  for (const auto& w : parsed.warnings) warn(w);
  return parsed.config;
}

// PID 1 of the standalone initramfs.
[[noreturn]] void boot(char** argv) {
  if (auto st = mount_api_filesystems(); !st) {
    open_log();
    rescue(st.error().message);
  }
  open_log();
  info("starting");
  (void)make_private_recursive("/");  // moves below need a private parent; rootfs usually is
  const BootConfig config = read_config();

  ModuleLoader modules = ModuleLoader::from_initramfs();
  modules.install();
  auto prepared = prepare_root(config, kNewRoot, modules);
  modules.collect();
  if (const auto loaded = modules.summary(); !loaded.empty()) info(loaded);
  if (!prepared) rescue(prepared.error().message);

  install_shutdown_program();
  info("switching root to " + config.init);
  if (auto st = switch_root(kNewRoot, kHostpartMount); !st) rescue(st.error().message);
  prepared->image.release();
  prepared->hostpart.release();
  close_log();
  // The kernel hands init the words of its command line it did not
  // understand ("single", "emergency"): they are for the image's init.
  argv[0] = const_cast<char*>(config.init.c_str());
  ::execv(config.init.c_str(), argv);
  rescue("exec " + config.init + ": " + std::string(std::strerror(errno)));
}

// systemd makes every mount shared, and the kernel refuses to move a mount
// out of a shared parent (EINVAL). The host partition gets a private parent:
// the scratch directory bind-mounted onto itself and made private. It goes
// along with /run when the initramfs switches root.
Status make_private_scratch() {
  (void)::mkdir(kScratch, 0755);  // EEXIST is fine; the mount says otherwise
  if (auto st = mount_fs(kScratch, kScratch, "", MS_BIND); !st) return st;
  return make_private_recursive(kScratch);
}

// Inside another initramfs (dracut): /dev, /proc, /sys and /run are there
// and its own switch-root follows. Prepare /sysroot, with the host partition
// at /sysroot/hostpart, and exit: 0 when it is ready, 1 when not (the log
// says why; dracut then offers its emergency shell).
int prepare_sysroot() {
  open_log(/*take_console=*/false);
  info("preparing " + std::string(kNewRoot) + " for the initramfs's own switch-root");
  const BootConfig config = read_config();
  if (auto st = make_private_scratch(); !st)
    warn(st.error().message + "; the image and the host partition may not move to " + kNewRoot);
  (void)::mkdir(kStagingRoot, 0755);  // EEXIST; the mount says otherwise
  // dracut's udev loads the modules: its initramfs has no module table.
  ModuleLoader modules = ModuleLoader::from_initramfs();
  modules.install();
  auto prepared = prepare_root(config, kStagingRoot, modules);
  if (!prepared) {
    error("nothing to boot: " + prepared.error().message);
    return 1;
  }
  // Only the image that will boot appears at /sysroot, once: systemd turns
  // every mount into a unit, and an unmount there (a fallback) would stop
  // the units that depend on it.
  (void)::mkdir(kNewRoot, 0755);  // EEXIST: dracut made it
  if (auto st = move_mount_to(kStagingRoot, kNewRoot); !st) {
    error("nothing to boot: " + st.error().message);
    return 1;
  }
  const std::string target = std::string(kNewRoot) + root_paths::kHostpart;
  (void)::mkdir(target.c_str(), 0755);  // EEXIST, or a read-only image
  if (auto st = move_mount_to(kHostpartMount, target); !st)
    warn(st.error().message + "; the host partition stays at " + kHostpartMount);
  prepared->image.release();
  prepared->hostpart.release();
  close_log();
  return 0;
}

}  // namespace
}  // namespace imgroot::init

int main(int argc, char** argv) {
  // systemd-shutdown runs our copy in /run/initramfs as /shutdown VERB.
  if (imgroot::init::started_as_shutdown_program(argv[0])) {
    try {
      imgroot::init::shut_down(argc > 1 ? argv[1] : "reboot");
    } catch (...) {
      imgroot::init::rescue("shutdown: internal error");
    }
  }
  // Only a command line we were given on purpose selects the dracut mode:
  // as PID 1, argv holds whatever the kernel passed on.
  if (argc == 2 && ::getpid() != 1 && std::strcmp(argv[1], "--prepare-sysroot") == 0) {
    try {
      return imgroot::init::prepare_sysroot();
    } catch (const std::exception& e) {
      imgroot::init::error(std::string("internal error: ") + e.what());
      return 1;
    }
  }
  try {
    imgroot::init::boot(argv);
  } catch (const std::exception& e) {
    imgroot::init::rescue(std::string("internal error: ") + e.what());
  } catch (...) {
    imgroot::init::rescue("internal error");
  }
}

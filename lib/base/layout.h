// Every name that more than one program (imgroot-init, its shutdown program,
// the initramfs builder, the CLI, the dracut module, GRUB's script) relies
// on: the host partition's files, the two labels, the ESP's files, the paths
// inside the initramfs and what the init leaves under /run. Users and scripts
// rely on them too (docs/design.md section 1); they are spelled here and nowhere else
// in the C++ tree. The shell side (dracut-module/, the QEMU tests) spells
// the same names: docs/design.md section 1 is their list.
#pragma once

namespace imgroot {

// Filesystem labels: provision writes them, the init and GRUB find the
// partitions by them.
namespace labels {
inline constexpr const char* kHostpart = "hostpart";
inline constexpr const char* kEsp = "EFI-BOOT";
}  // namespace labels

// Names relative to the host partition's top directory.
namespace host_files {
inline constexpr const char* kCurrent = "hn-root.img";
inline constexpr const char* kNew = "hn-root-new.img";
inline constexpr const char* kOld = "hn-root-old.img";
inline constexpr const char* kBroken = "hn-root-broken.img";
inline constexpr const char* kRevertFlag = "system-revert";
inline constexpr const char* kDataDir = "data";
inline constexpr const char* kStateDir = "imgroot";
// In kStateDir: the images' records and assessments (state/state_file.h).
inline constexpr const char* kStateFile = "state.json";
// In kStateDir: the event log (state/event_log.h), JSON lines, and the
// older half it rotates to when it reaches its cap.
inline constexpr const char* kEventLog = "events.jsonl";
inline constexpr const char* kEventLogRotated = "events.jsonl.1";
// In kStateDir: a fall-back left the running kernel behind the image's; the
// init reboots once so GRUB loads the right one (init/cross_check.h).
inline constexpr const char* kMismatchMarker = "kernel-mismatch-reboot";
// In kStateDir: a capture's and a forget's work in progress (identity/).
inline constexpr const char* kCaptureTemp = ".host-capture.tmp";
inline constexpr const char* kForgetTemp = ".host-forget.tmp";
// flock(2)ed by every CLI verb that changes the images, imgroot/state.json or
// grubenv, for the whole read-check-write (state/host_lock.h).
inline constexpr const char* kLockFile = "imgroot/lock";
// imgroot.overlay=persistent: one directory of changes per image (boot/overlay_layer.h).
inline constexpr const char* kOverlayDir = "imgroot/overlay";
// In kOverlayDir: the layers of images no longer on the host partition,
// moved aside for the operator to delete.
inline constexpr const char* kOrphanedLayersDir = ".orphaned";
// The extended attribute of an image file that names its layer.
inline constexpr const char* kLayerXattr = "user.imgroot.layer";
// The per-host identity: files that mirror absolute paths of the root
// ("imgroot/host/etc/hostname" is /etc/hostname), copied into the root at
// every boot (boot/host_identity.h, docs/host-identity.md).
inline constexpr const char* kHostIdentityDir = "imgroot/host";
// Where rotation keeps what stood under an image name but was no image file
// (a directory, a symlink, a FIFO...), as NAME.N: out of the way of every
// rename, and never deleted (docs/crash-safety.md, "Odd entries").
inline constexpr const char* kSetAsideDir = "imgroot/set-aside";
// The owner and group names of its entries, beside it (boot/host_owners.h).
inline constexpr const char* kHostOwners = "imgroot/host-owners";
// A second name for an image while it is being given a new one. It is always
// a hard link to an image that has another name too, so removing it never
// loses data; a name no boot path ever loads.
inline constexpr const char* kLinkTemp = ".hn-root-link.tmp";
// The copy in progress (stage/stage.h). Not an hn-root*.img name: neither
// GRUB nor the init ever loads it, and the next stage or status removes one
// left by a kill.
inline constexpr const char* kPartial = ".hn-root-new.img.partial";
// `imgroot stage URL`'s download in progress: the release's manifest and
// index and the image as far as it is assembled, kept across interruptions
// so that the next stage of the same release fetches only the rest
// (release/fetch.h).
inline constexpr const char* kFetchDir = "imgroot/fetch";
}  // namespace host_files

// Names relative to the ESP's top directory.
namespace esp_files {
inline constexpr const char* kGrubDir = "grub";
inline constexpr const char* kConfigFile = "grub.cfg";  // in kGrubDir
inline constexpr const char* kEnvFile = "grubenv";      // in kGrubDir
// The removable-media path firmware boots without an NVRAM entry.
inline constexpr const char* kGrubEfiPath = "EFI/BOOT/BOOTX64.EFI";
}  // namespace esp_files

// Paths in the running system.
namespace root_paths {
// Where the switched-to root has the host partition.
inline constexpr const char* kHostpart = "/hostpart";
// Its link to the host partition's data directory.
inline constexpr const char* kDataLink = "data0";
}  // namespace root_paths

// Paths inside the initramfs: the builder lays them out, the init uses them.
namespace initramfs_paths {
// The modules loaded at every boot (--add-modules), one path a line, in order.
inline constexpr const char* kModulesLoad = "/etc/imgroot/modules.load";
// Every module of the initramfs, its load order and its aliases: the init
// loads those the devices and filesystems it meets need (boot/module_table.h).
inline constexpr const char* kModuleTable = "/etc/imgroot/modules.table";
// Where the image that boots is mounted for the switch (dracut's name too).
inline constexpr const char* kNewRoot = "/sysroot";
inline constexpr const char* kShell = "/bin/sh";
}  // namespace initramfs_paths

// What imgroot-init makes under /run, which moves into the image's root, so
// the running system finds it there (docs/boot.md, "What stays mounted").
namespace run_paths {
inline constexpr const char* kScratch = "/run/imgroot";
// The host partition until the switch.
inline constexpr const char* kHostpartMount = "/run/imgroot/hostpart";
// The image on its way to kNewRoot, and a staged image mounted on trial.
inline constexpr const char* kStagingRoot = "/run/imgroot/root";
inline constexpr const char* kTrialRoot = "/run/imgroot/trial";
// With imgroot.overlay=, the image itself, read-only, under the overlay at /.
inline constexpr const char* kOverlayLower = "/run/imgroot/lower";
// systemd-shutdown's contract (src/shutdown/shutdown.c): it pivots into
// kShutdownRoot, leaves the old root at kOldRoot there and executes
// kShutdownRoot/kShutdownProgram.
inline constexpr const char* kShutdownRoot = "/run/initramfs";
inline constexpr const char* kShutdownProgram = "shutdown";
inline constexpr const char* kOldRoot = "/oldroot";
// The boot assessment's verdict of this boot, "green" or "red"; the
// deadline (imgroot assess --deadline) acts only when there is none.
inline constexpr const char* kVerdict = "/run/imgroot/verdict";
// Held by a running assessment and by the deadline: one verdict per boot,
// the deadline waiting for checks already under way (each has a time limit).
inline constexpr const char* kAssessLock = "/run/imgroot/assess.lock";
// The login banner (pam_motd reads /run/motd.d): during a trial, after a
// red verdict and after a rollback; removed when there is nothing to say.
inline constexpr const char* kMotd = "/run/motd.d/50-imgroot";
// systemd's RuntimeWatchdogSec during a trial: a drop-in of system.conf that
// lasts until the verdict (or the next boot); PID 1 reads it at daemon-reload.
inline constexpr const char* kWatchdogDropIn = "/run/systemd/system.conf.d/50-imgroot-watchdog.conf";
}  // namespace run_paths

// The boot assessment's configuration in the running system (docs/assessment.md).
namespace assess_paths {
inline constexpr const char* kConfig = "/etc/imgroot/assess.conf";
inline constexpr const char* kCheckDir = "/etc/imgroot/check.d";
inline constexpr const char* kGreenDir = "/etc/imgroot/green.d";
inline constexpr const char* kRedDir = "/etc/imgroot/red.d";
}  // namespace assess_paths

// The public keys a release must be signed by (docs/signing.md); the
// package creates the directory, an image build fills it.
namespace trust_paths {
inline constexpr const char* kKeysDir = "/etc/imgroot/keys";
}  // namespace trust_paths

}  // namespace imgroot

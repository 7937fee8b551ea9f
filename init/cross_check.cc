#include "cross_check.h"

#include <fcntl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "base/layout.h"
#include "log.h"
#include "system/fd.h"
#include "system/file.h"

namespace imgroot::init {

namespace {

// How every "booting anyway" ends.
constexpr const char* kMayNotMatch = "booting anyway; this kernel may not match the image's modules";

// An error reading it counts as no marker: the reboot is then made (again).
bool marker_exists(int hostpart) {
  auto marked =
      exists_at(hostpart, std::string(host_files::kStateDir) + "/" + host_files::kMismatchMarker);
  return marked && *marked;
}

void remove_marker(int hostpart) {
  auto dir = Fd::open_at(hostpart, host_files::kStateDir, O_RDONLY | O_DIRECTORY);
  Status st = dir ? remove_durably_at(dir->get(), host_files::kMismatchMarker)
                  : Status(std::unexpected(dir.error()));
  if (!st) warn("remove the kernel mismatch marker: " + st.error().message);
}

Status leave_marker(int hostpart, const std::string& why) {
  auto dir = open_or_make_dir_at(hostpart, host_files::kStateDir, 0755);
  if (!dir) return std::unexpected(dir.error());
  if (auto st = write_file_atomic_at(dir->get(), host_files::kMismatchMarker, why + "\n"); !st) return st;
  return fsync_fd(hostpart, "host partition directory");
}

void reboot_for_kernel(int hostpart, const std::string& why, const BeforeReboot& before_reboot) {
  warn(why + ": rebooting once so that GRUB loads the kernel of the image that boots");
  if (auto st = leave_marker(hostpart, why); !st) {
    // Without the marker the next boot could not tell it rebooted already.
    error("cannot record the reboot (" + st.error().message +
          "): " + kMayNotMatch);
    return;
  }
  // GRUB does not replay the journal: the renames must be in their home
  // locations for it to choose what the init chose.
  if (auto st = checkpoint_filesystem(hostpart); !st) warn(st.error().message);
  before_reboot(why);
  ::sync();
  ::reboot(RB_AUTOBOOT);
  error("reboot: " + std::string(std::strerror(errno)) + ": " + kMayNotMatch);
}

void carry_out(int hostpart, const KernelDecision& decision, const BeforeReboot& before_reboot) {
  switch (decision.step) {
    case KernelStep::kBootOn:
      return;
    case KernelStep::kForgetMarker:
      info(decision.why);
      return remove_marker(hostpart);
    case KernelStep::kBootAnyway:
      error(decision.why + ", again after rebooting for it: " + kMayNotMatch);
      return remove_marker(hostpart);
    case KernelStep::kRebootOnce:
      return reboot_for_kernel(hostpart, decision.why, before_reboot);
  }
}

}  // namespace

KernelDecision decide_kernel_check(const std::optional<std::string>& grub_image,
                                   const std::string& chosen, bool marker_present) {
  // No imgroot.image=: the kernel did not come from an image; nothing to check.
  if (!grub_image) return {};
  if (*grub_image == chosen) {
    if (!marker_present) return {};
    return {KernelStep::kForgetMarker,
            "after the reboot GRUB loaded the kernel of " + chosen + ", as the rules choose"};
  }
  return decide_reboot_once("GRUB loaded the kernel of " + *grub_image + " but the rules choose " +
                                (chosen.empty() ? "no image" : chosen),
                            marker_present);
}

KernelDecision decide_reboot_once(const std::string& why, bool marker_present) {
  return {marker_present ? KernelStep::kBootAnyway : KernelStep::kRebootOnce, why};
}

void cross_check_kernel(int hostpart, const BootConfig& config, const std::string& chosen,
                        const BeforeReboot& before_reboot) {
  // The marker is looked at only when GRUB named an image.
  const bool marked = config.image && marker_exists(hostpart);
  carry_out(hostpart, decide_kernel_check(config.image, chosen, marked), before_reboot);
}

void reboot_once_for_kernel(int hostpart, const std::string& why,
                            const BeforeReboot& before_reboot) {
  carry_out(hostpart, decide_reboot_once(why, marker_exists(hostpart)), before_reboot);
}

}  // namespace imgroot::init

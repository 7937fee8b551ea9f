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

Result<bool> marker_exists(int hostpart) {
  return exists_at(hostpart, std::string(host_files::kStateDir) + "/" + host_files::kMismatchMarker);
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

}  // namespace

void cross_check_kernel(int hostpart, const BootConfig& config, const std::string& chosen) {
  // No imgroot.image=: the kernel did not come from an image; nothing to check.
  if (!config.image) return;
  if (*config.image == chosen) {
    auto marked = marker_exists(hostpart);
    if (marked && *marked) {
      info("after the reboot GRUB loaded the kernel of " + chosen + ", as the rules choose");
      remove_marker(hostpart);
    }
    return;
  }
  reboot_once_for_kernel(hostpart, "GRUB loaded the kernel of " + *config.image +
                                       " but the rules choose " +
                                       (chosen.empty() ? "no image" : chosen));
}

void reboot_once_for_kernel(int hostpart, const std::string& why) {
  auto marked = marker_exists(hostpart);
  if (marked && *marked) {
    error(why + ", again after rebooting for it: booting anyway; this kernel may not match "
                "the image's modules");
    remove_marker(hostpart);
    return;
  }
  warn(why + ": rebooting once so that GRUB loads the kernel of the image that boots");
  if (auto st = leave_marker(hostpart, why); !st) {
    // Without the marker the next boot could not tell it rebooted already.
    error("cannot record the reboot (" + st.error().message +
          "): booting anyway; this kernel may not match the image's modules");
    return;
  }
  // GRUB does not replay the journal: the renames must be in their home
  // locations for it to choose what the init chose.
  if (auto st = checkpoint_filesystem(hostpart); !st) warn(st.error().message);
  ::sync();
  ::reboot(RB_AUTOBOOT);
  error("reboot: " + std::string(std::strerror(errno)) +
        ": booting anyway; this kernel may not match the image's modules");
}

}  // namespace imgroot::init

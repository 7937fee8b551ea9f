#include "shutdown.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ranges>
#include <vector>

#include "base/layout.h"
#include "log.h"
#include "rescue.h"
#include "system/fd.h"
#include "system/file.h"
#include "system/mount.h"

namespace imgroot::init {

namespace {

using run_paths::kOldRoot;
using run_paths::kShutdownProgram;
using run_paths::kShutdownRoot;
// Where the host partition goes while the image above it is taken down: the
// same path it had in the old root, now in the shutdown root.
using root_paths::kHostpart;

// Unmount every mount at or below 'top' in unmount_order(). A busy one
// gets another chance once the others are gone (an overlay's layers, a loop
// device letting go of its file), with a short pause when a whole pass made
// no progress. What cannot be unmounted is remounted read-only, so that at
// least its journal is clean. True when nothing is left.
bool unmount_tree(const std::string& top) {
  std::vector<std::string> left;
  for (int pass = 0; pass < kUnmountPasses; ++pass) {
    auto points = read_mount_points();
    if (!points) {
      warn("shutdown: " + points.error().message);
      return false;
    }
    left = unmount_order(*points, top);
    if (left.empty()) return true;
    bool progress = false;
    for (const auto& p : left)
      if (::umount2(p.c_str(), 0) == 0) progress = true;
    if (!progress) ::usleep(100 * 1000);
  }
  // The last try, in the order they were mounted.
  for (const auto& p : left | std::views::reverse) {
    const int unmount_errno = ::umount2(p.c_str(), 0) < 0 ? errno : 0;
    if (unmount_errno == 0) continue;
    const bool read_only =
        ::mount(nullptr, p.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0;
    warn("shutdown: cannot unmount " + quoted(p) + ": " + std::strerror(unmount_errno) +
         (read_only ? "; remounted it read-only" : "; it stays mounted read-write"));
  }
  return false;
}

// Loop devices whose filesystem is gone but which still hold their backing
// file (attached without autoclear, or by someone else): each pins the host
// partition. LOOP_CLR_FD on one still in use only marks it for autoclear.
void detach_loop_devices() {
  auto sys_block = Fd::open_dir("/sys/block");
  if (!sys_block) return;
  auto names = list_dir(sys_block->get());
  if (!names) return;
  for (const auto& name : *names) {
    if (!name.starts_with("loop")) continue;
    auto backing = read_file_at(sys_block->get(), name + "/loop/backing_file");
    if (!backing) continue;  // not attached
    auto device = Fd::open("/dev/" + name, O_RDWR | O_CLOEXEC);
    if (!device) continue;
    if (::ioctl(device->get(), LOOP_CLR_FD, 0) == 0) info("shutdown: detached /dev/" + name);
  }
}

int reboot_command(const std::string& verb) {
  if (verb == "poweroff") return RB_POWER_OFF;
  if (verb == "halt") return RB_HALT_SYSTEM;
  if (verb == "kexec") return RB_KEXEC;
  return RB_AUTOBOOT;  // "reboot", and anything we do not know: the safe way on
}

}  // namespace

bool is_at_or_below(const std::string& path, const std::string& top) {
  return path == top || (path.size() > top.size() && path.starts_with(top) && path[top.size()] == '/');
}

std::vector<std::string> unmount_order(const std::vector<std::string>& mount_points,
                                       const std::string& top) {
  std::vector<std::string> order;
  for (auto it = mount_points.rbegin(); it != mount_points.rend(); ++it)
    if (is_at_or_below(*it, top)) order.push_back(*it);
  return order;
}

void install_shutdown_program() {
  const std::string consequence =
      "; at shutdown the host partition cannot be unmounted cleanly (its journal is replayed "
      "at the next boot)";
  (void)::mkdir(kShutdownRoot, 0755);  // EEXIST is fine; opening it says otherwise
  (void)::mkdir((std::string(kShutdownRoot) + kOldRoot).c_str(), 0755);
  auto dir = Fd::open_dir(kShutdownRoot);
  if (!dir) return warn(dir.error().message + consequence);
  auto self = read_file("/proc/self/exe");
  if (!self) return warn(self.error().message + consequence);
  if (auto st = write_file_atomic_at(dir->get(), kShutdownProgram, *self, 0755); !st)
    warn(st.error().message + consequence);
}

bool started_as_shutdown_program(const char* argv0) {
  if (::getpid() != 1 || argv0 == nullptr) return false;
  const char* slash = std::strrchr(argv0, '/');
  return std::strcmp(slash ? slash + 1 : argv0, kShutdownProgram) == 0;
}

[[noreturn]] void shut_down(const std::string& verb) {
  open_log();
  info("shutdown: unmounting the image root and the host partition before " + verb);
  // systemd makes every mount shared, and the kernel refuses to move a mount
  // out of a shared parent.
  if (auto st = make_private_recursive(kOldRoot); !st) warn("shutdown: " + st.error().message);
  // The host partition is mounted inside the image it backs: move it out
  // first, then the image can go, then the host partition.
  (void)::mkdir(kHostpart, 0755);
  auto moved = move_mount_to(std::string(kOldRoot) + kHostpart, kHostpart);
  if (!moved) warn("shutdown: " + moved.error().message);

  bool clean = unmount_tree(kOldRoot);
  detach_loop_devices();
  if (moved) clean = unmount_tree(kHostpart) && clean;
  ::sync();
  info(clean ? "shutdown: everything unmounted" : "shutdown: not everything could be unmounted");

  int command = reboot_command(verb);
  if (command == RB_KEXEC) {
    (void)::reboot(RB_KEXEC);  // returns only when no kernel was loaded for kexec
    warn("shutdown: kexec failed (" + std::string(std::strerror(errno)) + "); rebooting");
    command = RB_AUTOBOOT;
  }
  (void)::reboot(command);
  rescue("shutdown: reboot(2) failed: " + std::string(std::strerror(errno)));
}

}  // namespace imgroot::init

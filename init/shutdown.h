// The way out: systemd's shutdown protocol for a root loop-mounted from the
// host partition (docs/shutdown.md).
//
// A file on the host partition backs the root, so the host partition cannot
// be unmounted, nor even remounted read-only, while the root is mounted, and
// systemd-shutdown leaves both with dirty journals. It offers a way out:
// when /run/initramfs/shutdown exists, it pivots into /run/initramfs (the old
// root at /oldroot) and executes /shutdown VERB as PID 1. imgroot-init
// leaves a copy of itself there, and that copy takes the tree apart in the
// order it was built.
#pragma once

#include <string>
#include <vector>

namespace imgroot::init {

// Whether 'path' is 'top' or lies below it (a path component boundary:
// /hostpart2 is not below /hostpart).
bool is_at_or_below(const std::string& path, const std::string& top);

// Which of 'mount_points' (in the order they were mounted, as mountinfo
// lists them) to unmount to take the tree at 'top' apart, and in which
// order: those at or below 'top', the last mounted first, 'top' itself
// after everything mounted over or below it. A path mounted twice comes
// twice.
std::vector<std::string> unmount_order(const std::vector<std::string>& mount_points,
                                       const std::string& top);

// How often shut_down() goes over what is left before it gives up on
// unmounting and remounts the rest read-only.
inline constexpr int kUnmountPasses = 30;

// Before switching root: copy this program to /run/initramfs/shutdown (and
// make /run/initramfs/oldroot) so that systemd-shutdown hands over to it.
void install_shutdown_program();

// True when this process is that copy, started by systemd-shutdown.
bool started_as_shutdown_program(const char* argv0);

// As /shutdown, PID 1 in /run/initramfs: unmount the image root under
// /oldroot, let its loop device go, unmount the host partition, then do what
// VERB says ("reboot", "poweroff", "halt", "kexec"). Never returns.
[[noreturn]] void shut_down(const std::string& verb);

}  // namespace imgroot::init

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

namespace imgroot::init {

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

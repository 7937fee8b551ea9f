// The GRUB script that boots imgroot images: grub.cfg written by `imgroot
// grub`, and the same entries emitted into grub-mkconfig's output by the
// /etc/grub.d snippet (which runs `imgroot grub --stdout --snippet`).
// There is one generator, here. docs/grub.md explains the script.
//
// The script chooses the image file by the rules of rotation::boot_choice
// (the ones imgroot-init follows), loopback-mounts it and loads its own
// /boot/kernel and /boot/initramfs, passing imgroot.image=<file>. It counts
// the boots of an image on trial in grubenv (see grub/trial.h).
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace imgroot::grub {

inline constexpr const char* kDefaultSettings = "/etc/imgroot/grub.conf";
// A kernel that panics reboots after this many seconds, so a new image
// that panics uses up its tries instead of hanging. A later panic= in the
// extra arguments wins (the kernel takes the last one).
inline constexpr int kPanicSeconds = 10;

struct ConfigOptions {
  int timeout = 5;      // seconds the menu waits; 0 boots at once
  std::string cmdline;  // extra kernel arguments, appended
  // For /etc/grub.d: grub-mkconfig's header sets the timeout (GRUB_TIMEOUT).
  bool snippet = false;
};

// The settings file (default /etc/imgroot/grub.conf): "key = value" lines,
// '#' comments, keys 'timeout' and 'cmdline'. Applied over 'options'.
Status apply_settings(std::string_view text, ConfigOptions& options);

// Check the options' values (the timeout's range, arguments GRUB can quote).
Status check_options(const ConfigOptions& options);

// The script; fails when check_options() does.
Result<std::string> generate_config(const ConfigOptions& options, std::string_view version);

}  // namespace imgroot::grub

// The kernel command line as imgroot-init reads it (docs/design.md section 3).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boot/device_spec.h"

namespace imgroot {

enum class Overlay { kNone, kTmpfs, kPersistent };
// "none", "tmpfs", "persistent": the values of imgroot.overlay=.
const char* overlay_name(Overlay overlay);

struct BootConfig {
  DeviceSpec hostpart = kDefaultHostpart;
  // The file GRUB loaded the kernel from (imgroot.image=), when it said.
  std::optional<std::string> image;
  bool revert = false;
  // imgroot.unstage=1: give up the staged image before rotating (GRUB asks
  // for it when the staged image used up its boot trial without becoming
  // current; docs/grub.md).
  bool unstage = false;
  // imgroot.broken=FILE (may be repeated): GRUB could not load a kernel
  // from FILE this boot and booted the next image by the rules; the init
  // sets FILE aside so that it chooses the same (docs/grub.md).
  std::vector<std::string> broken;
  Overlay overlay = Overlay::kNone;
  int timeout_seconds = 30;
  std::string init = "/sbin/init";
  std::string rootflags;
  bool read_only = false;  // `ro` on the command line; the image is read-write by default
};

struct ParsedCmdline {
  BootConfig config;
  // One line per malformed imgroot value, each naming the default used.
  std::vector<std::string> warnings;
};

// Split like the kernel does: on spaces, with double quotes grouping
// ("a=b c" is one word, the quotes removed).
std::vector<std::string> split_cmdline(std::string_view text);

// Never fails: unknown words are ignored, bad values reported and defaulted.
ParsedCmdline parse_cmdline(std::string_view text);

}  // namespace imgroot

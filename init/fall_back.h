// What the init decides around the rotation (lib/boot/rotation.h does the
// renames): what it logs of a rotation or a fall-back, how often it falls
// back when hn-root.img cannot be booted, and when the running kernel was
// left behind by a fall-back.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "boot/rotation.h"
#include "log.h"

namespace imgroot::init {

struct LogLine {
  Level level;
  std::string text;
  bool operator==(const LogLine&) const = default;
};

void log_all(const std::vector<LogLine>& lines);

// A rotation at boot: what could not be set aside (warnings), each step
// ("rotation: ..."), and a revert asked for with no old image to go back to.
std::vector<LogLine> rotation_log(const rotation::Outcome& outcome);

// A fall-back: what could not be set aside (warnings), each step ("fall back: ...").
std::vector<LogLine> fall_back_log(const rotation::Outcome& outcome);

// hn-root.img cannot be booted after 'fallen_back' fall-backs in this boot:
// fall back once more, or give up. Each fall-back gives up one image, but
// the last resort swaps the current and the broken image: bounded
// (rotation::kMaxFallBacks), so two images that cannot be mounted are not
// swapped forever.
bool may_fall_back(int fallen_back);

// After a fall-back: the kernel that runs came with the image just given up
// ('grub_image', imgroot.image=), and the image that boots now has its own,
// with the modules its root expects. Why to reboot once for it; nothing
// when the kernel came from no image.
std::optional<std::string> kernel_left_behind(const std::optional<std::string>& grub_image);

}  // namespace imgroot::init

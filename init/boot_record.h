// The init's own record of a boot: one "init" event in the event log on the
// host partition (docs/assessment.md, "The event log"), appended after the
// rotation and the mount of the root, before the switch of root, so that a
// boot that never gets as far as the running system's record says what the
// init did. The line is written with base/json_line.h (no nlohmann here);
// state::event_from_json reads it back.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "boot/cmdline.h"
#include "fall_back.h"

namespace imgroot::init {

inline constexpr const char* kInitEvent = "init";

struct BootRecord {
  std::optional<std::string> loaded;  // imgroot.image=: the file GRUB loaded the kernel from
  // What the command line asked for: "revert", "unstage", "broken=FILE".
  std::vector<std::string> asked;
  std::string rotation;  // rotation::action_name(); empty when the rotation failed
  std::string chosen;    // the file the rules chose, before the renames
  // What the init logged of the images, in its words: its info lines
  // ("rotation: ...", "fall back: ...") and its warnings and errors
  // ("cannot boot hn-root-new.img: ...", "... set aside as hn-root-broken.img").
  std::vector<std::string> steps;
  std::vector<std::string> warnings;
  int fell_back = 0;   // how often hn-root.img could not be booted and was given up
  std::string image;   // mounted as the root; empty: none
  std::string fs;      // its filesystem
  std::string error;   // why nothing boots (the rescue shell follows); empty when something does
  // Why the init rebooted at once instead of booting (GRUB loaded the kernel
  // of another image than the one that boots); empty when it went on.
  std::string rebooted;

  static BootRecord from(const BootConfig& config);
  // Lines the init logged: info ones are steps, the others warnings.
  void add(const std::vector<LogLine>& lines);
};

// The event as one JSON line, without its newline (pure: the tests give
// 'time' and 'boot_id'; an empty boot_id is left out).
std::string boot_record_line(const BootRecord& record, const std::string& time,
                             const std::string& boot_id);

// Append the line to imgroot/events.jsonl on the host partition open as
// 'hostpart' (creating imgroot/ when missing), durably, on a line of its
// own. Never rotates: the host side does, at its next append past the cap.
Status append_boot_record(int hostpart, const BootRecord& record, const std::string& time,
                          const std::string& boot_id);

// append_boot_record now, with this boot's id; a failure is a warning on
// the console and the boot goes on.
void write_boot_record(int hostpart, const BootRecord& record);

}  // namespace imgroot::init

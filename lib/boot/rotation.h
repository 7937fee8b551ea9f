// Rotation of the images on the host partition (design.md section 2).
//
// Every rotation is a sequence of single, durable directory operations
// (link, rename, unlink, each followed by fsync of the directory), chosen so
// that the state after any prefix of the sequence is one from which both
// GRUB's choice and a rerun of the rotation lead to a complete image.
// docs/crash-safety.md walks through every intermediate state.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace imgroot::rotation {

// What is on the host partition, as far as rotation cares.
struct HostState {
  bool current = false;
  bool staged = false;  // hn-root-new.img
  bool old = false;
  bool broken = false;
  bool revert_flag = false;
  // hn-root.img and hn-root-old.img are links to one file: an upgrade was
  // interrupted after keeping the current image as the old one.
  bool current_is_old = false;
};

Result<HostState> read_state(int hostpart_dir);

// The image file that GRUB loads and the init boots for this state, before
// any rotation: with a revert pending (flag or command line) the old image,
// else a staged image, else the current one; a missing file falls through
// to the next. nullopt when there is no image at all.
std::optional<std::string> boot_choice(const HostState& state, bool revert_requested);

enum class Action {
  kNone,     // boot hn-root.img as it is
  kUpgrade,  // hn-root.img -> hn-root-old.img, hn-root-new.img -> hn-root.img
  kRevert,   // hn-root.img -> hn-root-broken.img, hn-root-old.img -> hn-root.img
};

const char* action_name(Action action);

// The rotation that makes boot_choice() the current image.
Action plan(const HostState& state, bool revert_requested);

// Fault injection for the crash tests: the power fails once this many
// durable steps are done; the next step is not started. Production code
// passes nullptr.
struct CrashAfter {
  int steps;
};

struct Outcome {
  Action action = Action::kNone;
  std::string chosen;               // boot_choice() before rotating: the file GRUB loaded
  std::vector<std::string> steps;   // what was done, for the log
  bool dropped_stale_flag = false;  // system-revert without an old image to go back to
};

// Read the state, plan and apply. After success, hn-root.img is the image to
// boot. The caller checkpoints the filesystem afterwards.
Result<Outcome> rotate(int hostpart_dir, bool revert_requested, CrashAfter* crash = nullptr);

// Give up the staged image (imgroot.unstage=1: it used up its boot trial
// before it ever became current): hn-root-new.img becomes
// hn-root-broken.img in one durable rename. Nothing to do without one.
Result<Outcome> discard_staged(int hostpart_dir, CrashAfter* crash = nullptr);

// Give up on hn-root.img (it cannot be booted): it becomes hn-root-broken.img
// and hn-root-old.img becomes current. Fails when there is no old image.
Result<Outcome> fall_back(int hostpart_dir, CrashAfter* crash = nullptr);

}  // namespace imgroot::rotation

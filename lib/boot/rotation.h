// Rotation of the images on the host partition (docs/design.md section 2).
//
// Every rotation is a sequence of single, durable directory operations
// (link, rename, exchange, unlink, a move into imgroot/set-aside/, each
// followed by fsync of the directory), chosen so
// that the state after any prefix of the sequence is one from which both
// GRUB's choice and a rerun of the rotation lead to a complete image.
// docs/crash-safety.md walks through every intermediate state.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "boot/cmdline.h"

namespace imgroot::rotation {

// What is on the host partition, as far as rotation cares. An image name
// counts only when it is a regular file: a directory, symlink, FIFO, device
// or mount point under an image name is no image (GRUB's `-f` is false for
// a directory, and the init never follows a link or opens a FIFO), and
// rotate() sets such an entry aside before it reads the state.
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
  // Entries under an image name that are no image and could not be set
  // aside (they stay, and are ignored), one line each for the log.
  std::vector<std::string> ignored;
};

// Whether the regular file 'name' in 'dir' can be booted: the init asks
// libblkid for a filesystem, and mounts a staged image on trial before an
// upgrade would make room for it. Rotation sets aside an image file that
// fails. Empty: every regular file counts.
using ImageCheck = std::function<bool(int dir, const char* name)>;

// Set aside what is no image, read the state, plan and apply. After
// success, hn-root.img is the image to boot. The caller checkpoints the
// filesystem afterwards.
//
// Setting aside, before anything else:
// - an entry under any of the four image names that is not a regular file
//   of the host partition (a directory, symlink, FIFO, device, mount point)
//   moves to imgroot/set-aside/NAME.N, kept for a human; where it cannot
//   (a mount point), it is ignored;
// - a regular file under a boot name that 'check' rejects becomes
//   hn-root-broken.img, as set_aside() does;
// - a staged name that is a second link to the current image is dropped:
//   there is nothing to upgrade to.
Result<Outcome> rotate(int hostpart_dir, bool revert_requested, CrashAfter* crash = nullptr,
                       const ImageCheck& check = {});

// Give up the image 'name' (one of hn-root-new.img, hn-root.img,
// hn-root-old.img) before rotating: its boot trial ended before it became
// current (imgroot.unstage=1), or GRUB could not load its kernel
// (imgroot.broken=). It becomes hn-root-broken.img in one durable rename, and
// every other image name of the same file goes with it. The rotation that
// follows then boots the next image by the rules. Nothing to do without one.
Result<Outcome> set_aside(int hostpart_dir, const std::string& name, CrashAfter* crash = nullptr);

// set_aside(hn-root-new.img).
Result<Outcome> discard_staged(int hostpart_dir, CrashAfter* crash = nullptr);

// What the init does at boot: set aside what GRUB gave up (imgroot.unstage=1,
// imgroot.broken=), then rotate(), with the steps of all of it.
Result<Outcome> rotate_at_boot(int hostpart_dir, const BootConfig& config,
                               const ImageCheck& check = {}, CrashAfter* crash = nullptr);

// Give up on hn-root.img (it cannot be booted): it becomes
// hn-root-broken.img and the next image by the rules becomes current (the
// staged one, else the old one). With neither, the image given up earlier
// (hn-root-broken.img) and hn-root.img swap names: it beats a node that does
// not boot. Fails, and changes nothing, when there is none of the three.
Result<Outcome> fall_back(int hostpart_dir, CrashAfter* crash = nullptr,
                          const ImageCheck& check = {});
// How often one boot falls back before it gives up: one for each image
// besides the current one (staged, old, broken).
inline constexpr int kMaxFallBacks = 3;

}  // namespace imgroot::rotation

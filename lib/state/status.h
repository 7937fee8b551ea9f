// What `imgroot status` reports: what booted and how that is known, the
// images and flags on the host partition, what the next boot will do (by
// the rules of boot/rotation.h, the ones GRUB and the init follow), and the
// boot assessment. docs/status-json.md documents the JSON form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "boot/cmdline.h"
#include "boot/rotation.h"
#include "grub/trial.h"
#include "state/hostpart.h"
#include "state/state_file.h"

namespace imgroot::state {

struct Booted {
  // The running root filesystem is an image file on this host partition.
  // False offline (the partition belongs to another disk) or when / is not
  // an image at all.
  bool from_this_hostpart = false;
  std::optional<std::string> image;         // its file name, when from_this_hostpart
  std::optional<std::string> kernel_image;  // imgroot.image= on the kernel command line
  std::optional<std::string> root_device;   // the source of the mount at /
  std::optional<std::string> backing_file;  // the loop device's backing file
  std::optional<std::string> root_fstype;   // of the topmost mount at /
  Overlay overlay = Overlay::kNone;         // imgroot.overlay= on the kernel command line
};

// The running system's overlay (imgroot.overlay=); only where the host
// partition is the running system's.
struct RunningOverlay {
  Overlay mode = Overlay::kNone;
  std::optional<bool> root_is_overlay;  // nullopt: the mount table was unreadable
};

struct ImageStatus {
  std::string name;
  const char* role = "";  // "current", "staged", "old", "broken"
  bool present = false;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;                // seconds since the epoch
  std::optional<ImageRecord> record;     // what imgroot recorded when staging it
  bool modified_since_staged = false;    // written after it was staged
};

// `imgroot stage URL`'s download (release/fetch.h), filled in by the caller.
struct Download {
  std::string release;  // NAME-VERSION
  std::string url;
  std::uint64_t image_size = 0;
  std::uint64_t written = 0;
  bool complete = false;  // checked, waiting to be staged (--download-only)
  bool running = false;   // an `imgroot stage` is at it now
};

struct HostStatus {
  std::string hostpart;
  Booted booted;
  std::vector<ImageStatus> images;  // always the four, in the order of base/layout.h
  bool staged = false;
  bool revert_pending = false;
  std::optional<std::string> next_boot_image;
  rotation::Action next_boot_action = rotation::Action::kNone;
  std::optional<std::string> assessed_image;  // the running image, or hn-root.img offline
  Assessment assessment = Assessment::kNone;
  bool removed_stale_partial = false;
  std::optional<Download> download;
  // GRUB's boot trial, from grub/grubenv on the EFI-BOOT partition (filled
  // in by the caller, which knows where that is); nullopt when unknown.
  std::optional<grub::Trial> trial;
  std::string trial_note;  // why the trial is unknown, when it matters
  // Files and symlinks in imgroot/host, applied at every boot; 0: the
  // image's defaults.
  int host_identity_files = 0;
  std::optional<RunningOverlay> overlay;  // nullopt offline: not applicable
  // Why the node runs what it runs, in sentences (state/explain.h; filled in
  // by the caller, which reads the event log): empty when nothing needs saying.
  std::vector<std::string> explanation;
};

// The image a trial is about: the staged one while there is one, else the
// current one. nullopt when there is no trial.
std::optional<std::string> trial_image(const HostStatus& status);

Result<HostStatus> read_status(const Hostpart& hostpart, const SystemPaths& paths);

// The JSON form (docs/status-json.md) and the text form.
std::string status_to_json(const HostStatus& status);
std::string status_to_text(const HostStatus& status);

// The host partition is the running system's: / is an image on it, or it is
// the directory the running system has it at (/hostpart). False offline.
bool serves_running_system(const Hostpart& hostpart, const SystemPaths& paths);
bool serves_running_system(const Hostpart& hostpart, const SystemPaths& paths, const Booted& booted);

// Which image is running, from the command line, the mount table and sysfs.
Booted find_booted(const Hostpart& hostpart, const SystemPaths& paths);

}  // namespace imgroot::state

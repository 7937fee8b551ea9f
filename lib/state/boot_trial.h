// GRUB's boot trial kept in step with the host partition: what stage,
// revert, mark-good and mark-bad write to grub/grubenv on the EFI-BOOT
// partition (grub/trial.h) and to the host partition, and in which order,
// so that a crash between the two writes is safe (docs/grub.md, "The boot
// trial" and "Crashes and resets").
//
// 'esp' is where the EFI-BOOT partition is mounted (the folder holding
// grub/), as the caller resolved it; nullopt when there is none: then
// grubenv is not touched and there is no trial to report. It is opened
// only when grubenv is read or written: a verdict while an image is staged
// does not need it. A grubenv that does not exist yet is created (GRUB's
// save_env cannot create it, and needs it to count). Callers hold the host
// partition's lock (state/host_lock.h): no stage publishes an image between
// a check for a staged image and the grubenv write.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "grub/trial.h"
#include "state/hostpart.h"
#include "state/revert.h"
#include "state/state_file.h"

namespace imgroot::state {

// The trial grubenv holds; nullopt without an EFI-BOOT partition.
Result<std::optional<grub::Trial>> read_boot_trial(const std::optional<std::string>& esp);

// imgroot stage, once stage::stage_image has published hn-root-new.img:
// the staged image is on trial for 'tries' boots (1..grub::kMaxTries; 0:
// no trial, and none left over from an image before it). The image comes
// first: a crash in between leaves it staged without a trial (it boots,
// uncounted), never a trial GRUB would count against the current image.
// Returns the trial afterwards.
Result<std::optional<grub::Trial>> start_boot_trial(const std::optional<std::string>& esp,
                                                    int tries);

struct Verdict {
  std::string image;  // the image the verdict is recorded for (mark_image)
  // An image is staged: the trial in grubenv is the staged image's, and the
  // verdict on the running image leaves it alone.
  bool staged_trial_left = false;
  // The trial afterwards; nullopt when grubenv was not touched (an image is
  // staged, or there is no EFI-BOOT partition).
  std::optional<grub::Trial> trial;
};

// imgroot mark-good | mark-bad: record 'verdict' for the running image in
// imgroot/state.json (state/assessment.h). With no image staged the image
// on trial is the running one: good ends the trial, bad uses up its tries
// so the next boot goes back. grubenv is written first: a crash in between
// leaves an unassessed image without a trial, never a good image GRUB
// would revert. An error writing grubenv records nothing.
Result<Verdict> record_verdict(const Hostpart& hostpart, const SystemPaths& paths,
                               const std::optional<std::string>& esp, Assessment verdict);

struct Reverted {
  // The revert is pending either way; this is whether the trial could be
  // ended after it (an error says so and why).
  Status trial_ended;
  // The trial afterwards; nullopt without an EFI-BOOT partition or when
  // ending it failed.
  std::optional<grub::Trial> trial;
};

// imgroot revert: request the revert (state/revert.h), then end the trial:
// the image on trial is the one being reverted away from. The flag comes
// first, so a refused revert leaves grubenv alone; a crash before the trial
// ends still reverts (GRUB does a pending revert first), and the trial left
// over counts the boots of the image reverted to, which keeps booting once
// they are used up: the revert left no older image to go back to.
Result<Reverted> revert_ending_trial(int hostpart_dir, const RevertRequest& request,
                                     const std::optional<std::string>& esp);

}  // namespace imgroot::state

// The kernel that runs must be the one of the image that boots: GRUB loaded
// it from the file it names in imgroot.image=, chosen by the same rules the
// init follows. When the two disagree (GRUB read a directory whose latest
// renames were still only in the journal, or someone picked another menu
// entry), the kernel may lack the image's modules.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "boot/cmdline.h"

namespace imgroot::init {

// What the cross-check does about the running kernel; the decision is made
// from plain values (decide_*), the I/O follows it.
enum class KernelStep {
  kBootOn,        // nothing to do: no imgroot.image=, or a match and no marker
  kForgetMarker,  // a match after the reboot for it: say so (why), remove the marker
  kRebootOnce,    // a mismatch, the first time: leave the marker, checkpoint, reboot
  kBootAnyway,    // a mismatch again after that reboot: say so loudly, remove the marker
};

struct KernelDecision {
  KernelStep step = KernelStep::kBootOn;
  std::string why;  // the mismatch, or the match after the reboot; empty for kBootOn
};

// 'grub_image' is imgroot.image= (the file GRUB loaded the kernel of; none
// when the kernel came from no image), 'chosen' the file the rules picked
// (empty: none), 'marker_present' whether a reboot for a mismatch was made
// already (only asked when there is a grub_image).
KernelDecision decide_kernel_check(const std::optional<std::string>& grub_image,
                                   const std::string& chosen, bool marker_present);

// A mismatch ('why'): reboot once, or, with the marker already there, boot anyway.
KernelDecision decide_reboot_once(const std::string& why, bool marker_present);

// Called with the mismatch just before the init reboots for it (the boot's
// record in the event log: the boot happened even though nothing booted).
using BeforeReboot = std::function<void(const std::string& why)>;

// After the rotation ('chosen' is the file the rules picked). On a mismatch,
// the first time: leave the marker, checkpoint the host partition (so GRUB
// sees what the init sees) and reboot; GRUB then loads the right kernel.
// If the marker is already there the reboot did not help: say so loudly,
// remove the marker and return, so the boot goes on. A match removes a
// leftover marker. Returns whenever the boot should go on.
void cross_check_kernel(int hostpart, const BootConfig& config, const std::string& chosen,
                        const BeforeReboot& before_reboot);

// The running kernel is not the booting image's own ('why' says how that
// came about): reboot once, with the marker against loops, so that GRUB
// loads the right one; the second time, say so and return. Also returns
// when the reboot cannot be recorded or made: the boot goes on.
void reboot_once_for_kernel(int hostpart, const std::string& why,
                            const BeforeReboot& before_reboot);

}  // namespace imgroot::init

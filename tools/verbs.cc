#include "verbs.h"

#include <array>

namespace imgroot::cli {

std::span<const Verb> verbs() {
  static const std::array table{
      Verb{"status", "what booted, what is staged, old/broken, flags, boot assessment", run_status},
      Verb{"stage", "check an image and copy it in as hn-root-new.img (atomically, verified)",
           run_stage},
      Verb{"publish", "write an image as a release any static HTTP server can serve to nodes",
           run_publish},
      Verb{"key", "make a key pair for signing releases (generate NAME)", run_key},
      Verb{"sign", "sign a release's manifest (a detached MANIFEST.sig)", run_sign},
      Verb{"revert", "ask the next boot to go back to hn-root-old.img (--cancel: don't)",
           run_revert},
      Verb{"mark-good", "record that the running image is good (boot assessment)", run_mark_good},
      Verb{"mark-bad", "record that the running image is bad (boot assessment)", run_mark_bad},
      Verb{"assess", "run the boot assessment: checks, verdict, mark, heal (systemd units)",
           run_assess},
      Verb{"log", "the event log: boots, images given up, stages, reverts, verdicts", run_log},
      Verb{"grub", "write grub.cfg: boot the chosen image's own kernel, count trial boots",
           run_grub},
      Verb{"initramfs", "build the standalone initramfs (imgroot-init + kernel modules)",
           run_initramfs},
      Verb{"provision", "partition a blank disk, install GRUB and the image: a bootable node",
           run_provision},
      Verb{"host", "the per-host identity (imgroot/host/) copied into the root at every boot",
           run_host},
      Verb{"try", "run an image in private namespaces on a throwaway overlay", run_try},
      Verb{"diff", "a reviewable file-level report of what differs between two images",
           run_diff},
  };
  return table;
}

}  // namespace imgroot::cli

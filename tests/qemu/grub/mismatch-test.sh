#!/bin/bash
# imgroot-init's cross-check of the kernel against the image, booted with
# -kernel/-initrd (a boot.* test): the command line says GRUB loaded the
# kernel of one file (imgroot.image=) while the host partition makes the
# init choose another, as when GRUB read a directory whose last renames
# were still only in the journal.
#
#   tests/qemu/grub/mismatch-test.sh
#
# 1. staged B, imgroot.image=hn-root.img: the init rotates, leaves the
#    marker imgroot/kernel-mismatch-reboot and reboots without booting.
# 2. the same command line: now the rules choose hn-root.img too; B boots
#    and the marker is gone.
# 3. imgroot.image=hn-root-old.img: a mismatch again; the init reboots.
# 4. the same: the marker says it rebooted already; it boots anyway, with
#    an error line, and removes the marker. No reboot loop.
# Every boot is in the event log, the two reboots with why (`rebooted`).
set -euo pipefail
# shellcheck source=tests/qemu/scenario-lib.sh
source "$(dirname "$0")/../scenario-lib.sh"

TEST_NAME=boot.image_mismatch_reboots_once
# A console log for each boot: failures name the one they looked at.
LOG_PER_BOOT=1
BOOT_LIMIT=${IMGROOT_BOOT_TIMEOUT:-120}
MARKER=imgroot/kernel-mismatch-reboot

need_vm_commands
load_kernel_env
[[ -s $(shared_initramfs) ]] || die "no test initramfs $(shared_initramfs) (run tests/qemu/make-initramfs.sh)"
[[ -s $(shared_image A) ]] || die "no test images (run tests/qemu/make-images.sh)"

start_work

# boot N APPEND: the Nth boot of the disk with -kernel/-initrd.
boot() {
  log=$work/boot-$1.log
  run_vm "$log" "$BOOT_LIMIT" "" "$2" "$disk"
  say "boot $1: VM $VM_RESULT after ${VM_SECONDS}s"
  grep -E 'imgroot-init: |IMGROOT-TEST' "$log" | sed 's/^/  | /' >&2 || true
  [[ $VM_RESULT == "exited 0" ]] || fail "boot $1: expected the VM to end by itself, got $VM_RESULT"
  expect_no_log 'Kernel panic' "boot $1: the kernel did not panic"
}

# marker_present: whether the host partition holds the marker.
marker_present() {
  local fs=$work/hostpart-after.img
  extract_hostpart "$disk" "$fs"
  debugfs -R "stat /$MARKER" "$fs" 2>/dev/null | grep -q 'Type: regular'
}

# init_events: the init's events in the host partition's event log as
# marker_present last extracted it, one line each: what it mounted, or
# "rebooted: WHY".
init_events() {
  debugfs -R "cat /imgroot/events.jsonl" "$work/hostpart-after.img" 2>/dev/null |
    jq -r 'select(.event == "init") | if .rebooted then "rebooted: \(.rebooted)" else "mounted \(.image)" end'
}

put A hn-root.img
put B hn-root-new.img
make_disk "$disk" hostpart "$hostpart"

boot 1 "imgroot.image=hn-root.img"
expect_log 'imgroot-init: .*GRUB loaded the kernel of hn-root.img but the rules choose hn-root-new.img: rebooting once' \
  "boot 1: the init names the mismatch and reboots"
expect_no_log 'IMGROOT-TEST booted=' "boot 1: no image booted on the wrong kernel"
marker_present || fail "boot 1: no $MARKER on the host partition"
say "ok: boot 1 left $MARKER"
events=$(init_events)
[[ $events == "rebooted: GRUB loaded the kernel of hn-root.img but the rules choose hn-root-new.img" ]] ||
  fail "boot 1: the event log's init events are '$events', not the reboot with its reason"
say "ok: boot 1 is in the event log with why it rebooted"

boot 2 "imgroot.image=hn-root.img"
expect_log 'IMGROOT-TEST booted=B pid=1$' "boot 2: the rotated image B boots"
expect_no_log 'rebooting once' "boot 2: no reboot: GRUB and the init agree now"
if marker_present; then fail "boot 2: $MARKER was not removed"; fi
say "ok: boot 2 removed $MARKER"

boot 3 "imgroot.image=hn-root-old.img"
expect_log 'rebooting once' "boot 3: a new mismatch reboots"
expect_no_log 'IMGROOT-TEST booted=' "boot 3: no image booted"

boot 4 "imgroot.image=hn-root-old.img"
expect_log 'imgroot-init: .*again after rebooting for it: booting anyway' \
  "boot 4: the same mismatch again boots anyway, loudly"
expect_log 'IMGROOT-TEST booted=B pid=1$' "boot 4: image B boots"
if marker_present; then fail "boot 4: $MARKER was not removed"; fi
say "ok: boot 4 removed $MARKER"
events=$(init_events)
expected="rebooted: GRUB loaded the kernel of hn-root.img but the rules choose hn-root-new.img
mounted hn-root.img
rebooted: GRUB loaded the kernel of hn-root-old.img but the rules choose hn-root.img
mounted hn-root.img"
[[ $events == "$expected" ]] || fail "the event log's init events after four boots:
$events
expected:
$expected"
say "ok: the four boots are in the event log, the two reboots with why"
say "PASS $TEST_NAME"
rm -rf "$hostpart" "$work"/*.parts "$work"/hostpart-after.img*

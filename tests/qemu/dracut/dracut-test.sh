#!/bin/bash
# One boot scenario of a dracut-built initramfs with the imgroot module,
# booted with -kernel/-initrd in QEMU:
#
#   tests/qemu/dracut/dracut-test.sh FLAVOUR SCENARIO   (--list: the scenarios)
#
# FLAVOUR is hooks (dracut's shell init) or systemd (systemd in the
# initramfs); the initramfs is $IMGROOT_TEST_SHARED/dracut-FLAVOUR.img
# (build-initramfs.sh), the images are the harness's with an os-release
# (make-images.sh here). Works in ./dracut.[systemd_]SCENARIO/ and asserts on
# the serial console and the host partition left behind, as the boot.*
# tests do for the standalone initramfs: same disks, same expectations.
set -euo pipefail
# shellcheck source=tests/qemu/scenario-lib.sh
source "$(dirname "$0")/../scenario-lib.sh"

BOOT_LIMIT=${IMGROOT_BOOT_TIMEOUT:-120}
# imgroot-init giving up, dracut giving up (die, emergency shell), or
# systemd's unit failing: stop at once, the assertions say what went wrong.
GAVE_UP='imgroot-init: .*nothing to boot|dracut: FATAL|Failed to start .*imgroot|emergency mode'
# A boot that should succeed fails fast: dracut's emergency path powers
# off instead of waiting in a shell. (Without systemd the initramfs has no
# poweroff command: dracut's init then exits and the kernel panics, which
# the assertions report.)
FAIL_FAST='rd.shell=0 rd.emergency=poweroff'

# ------------------------------------------------------------ scenarios
# Besides these, the rows of tests/scenarios/rotation.tsv naming SUITE (an
# image without /sbin/init there is imgroot-init's fallback, not dracut's).
SUITE=dracut
check_plain_more() { expect_log 'IMGROOT-TEST root: /dev/loop' "/ is the loop-mounted image"; }

# root=imgroot:SPEC names the host partition (here by another label).
scenario_root_spec() {
  put A hn-root.img
  boot_disk other-host "root=imgroot:LABEL=other-host imgroot.timeout=10"
  expect_booted A
  expect_host hn-root.img=A
}

# No host partition: imgroot-init says why, and dracut offers its
# emergency shell (its default) instead of booting anything.
scenario_no_hostpart() {
  put A hn-root.img
  FAIL_FAST='' GRACE=15 boot_disk otherpart "imgroot.timeout=3"
  expect_still_running
  expect_log 'imgroot-init: .*nothing to boot' "imgroot-init says there is nothing to boot"
  expect_log 'imgroot-init: .*host partition LABEL=hostpart.*not found' \
    "imgroot-init says the host partition LABEL=hostpart was not found"
  if [[ $flavour == systemd ]]; then
    expect_log 'FAILED.*Failed to start .*imgroot' "systemd reports that imgroot-sysroot.service failed"
  else
    expect_log 'dracut: FATAL: imgroot: nothing to boot' "the mount hook stops dracut"
  fi
  expect_log 'Dropping to debug shell|Entering emergency mode' "dracut offers its emergency shell"
  expect_no_log 'IMGROOT-TEST booted=' "no image booted"
  expect_no_log 'dracut: Mounted root filesystem' "dracut did not go on to switch root"
}

SCENARIOS=(root_spec no_hostpart)

# ------------------------------------------------------------ steps

# boot_disk LABEL APPEND: make the disk with the host partition labelled
# LABEL and boot it with APPEND added to the command line (a root= in
# APPEND comes last, so it wins over root=imgroot).
boot_disk() {
  local label=$1 append=$2
  make_disk "$disk" "$label" "$hostpart"
  VM_INITRD=$initrd run_vm "$log" "$BOOT_LIMIT" "$PANIC|$GAVE_UP" "root=imgroot $FAIL_FAST $append" "$disk"
  check_boot 'imgroot-init: |IMGROOT-TEST|dracut: FATAL|imgroot'
}

# expect_booted IMAGE: neither imgroot-init nor dracut gave up, and image
# IMAGE booted (expect_image_booted).
expect_booted() {
  expect_no_log "$GAVE_UP" "neither imgroot-init nor dracut gave up"
  expect_image_booted "$1"
}

expect_still_running() {
  [[ $VM_RESULT == stopped ]] ||
    fail "expected the VM to wait in dracut's emergency shell; it ended with: $VM_RESULT"
  say "ok: the VM stayed up in dracut's emergency shell (killed by the test)"
}

# ------------------------------------------------------------ main

list_scenarios "$@"
[[ $# -eq 2 && ($1 == hooks || $1 == systemd) ]] ||
  die "usage: $0 hooks|systemd SCENARIO (the table's for $SUITE, or one of: ${SCENARIOS[*]})"
flavour=$1 scenario=$2
check_scenario "$scenario"
if [[ $flavour == systemd ]]; then TEST_NAME=dracut.systemd_$scenario; else TEST_NAME=dracut.$scenario; fi

need_vm_commands
load_kernel_env
initrd=$IMGROOT_TEST_SHARED/dracut-$flavour.img
images=$IMGROOT_TEST_SHARED/dracut-images
[[ -s $initrd ]] || die "no dracut initramfs $initrd (run tests/qemu/dracut/build-initramfs.sh $flavour)"
[[ -s $images/A.img ]] || die "no test images in $images (run tests/qemu/dracut/make-images.sh)"

run_scenario "$scenario"

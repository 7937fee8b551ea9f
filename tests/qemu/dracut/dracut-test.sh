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
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/../lib.sh"

BOOT_LIMIT=${IMGROOT_BOOT_TIMEOUT:-120}
PANIC='Kernel panic'
# imgroot-init giving up, dracut giving up (die, emergency shell), or
# systemd's unit failing: stop at once, the assertions say what went wrong.
GAVE_UP='imgroot-init: .*nothing to boot|dracut: FATAL|Failed to start .*imgroot|emergency mode'
# A boot that should succeed fails fast: dracut's emergency path powers
# off instead of waiting in a shell. (Without systemd the initramfs has no
# poweroff command: dracut's init then exits and the kernel panics, which
# the assertions report.)
FAIL_FAST='rd.shell=0 rd.emergency=poweroff'

# ------------------------------------------------------------ scenarios

scenario_plain() {
  put A hn-root.img
  mkdir -p "$hostpart/data" && echo kept >"$hostpart/data/kept"
  boot_disk hostpart ""
  expect_booted A
  expect_log 'IMGROOT-TEST hostpart: .*hn-root\.img' "the host partition is visible at /hostpart"
  expect_log 'IMGROOT-TEST hostpart: .*data' "data/ is visible at /hostpart/data"
  expect_log 'IMGROOT-TEST root: /dev/loop' "/ is the loop-mounted image"
  expect_host hn-root.img=A
}

scenario_staged() {
  put A hn-root.img
  put B hn-root-new.img
  boot_disk hostpart ""
  expect_booted B
  expect_host hn-root.img=B hn-root-old.img=A
}

scenario_revert_flag() {
  put B hn-root.img
  put A hn-root-old.img
  touch "$hostpart/system-revert"
  boot_disk hostpart ""
  expect_booted A
  expect_host hn-root.img=A hn-root-broken.img=B
}

# An image without /sbin/init: imgroot-init's fallback, not dracut's.
scenario_missing_init_falls_back() {
  put X hn-root.img
  put A hn-root-old.img
  boot_disk hostpart ""
  expect_booted A
  expect_host hn-root.img=A hn-root-broken.img=X
}

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

SCENARIOS=(plain staged revert_flag missing_init_falls_back root_spec no_hostpart)

# ------------------------------------------------------------ steps

put() {
  cp --sparse=always "$images/$1.img" "$hostpart/$2"
}

# boot_disk LABEL APPEND: make the disk with the host partition labelled
# LABEL and boot it with APPEND added to the command line (a root= in
# APPEND comes last, so it wins over root=imgroot).
boot_disk() {
  local label=$1 append=$2
  make_disk "$disk" "$label" "$hostpart"
  VM_INITRD=$initrd run_vm "$log" "$BOOT_LIMIT" "$PANIC|$GAVE_UP" "root=imgroot $FAIL_FAST $append" "$disk"
  say "VM: $VM_RESULT after ${VM_SECONDS}s"
  grep -E 'imgroot-init: |IMGROOT-TEST|dracut: FATAL|imgroot' "$log" | sed 's/^/  | /' || true
  expect_no_log "$PANIC" "the kernel did not panic"
  [[ $VM_RESULT != timeout ]] || fail "the VM was still running after ${BOOT_LIMIT}s"
}

expect_booted() {
  expect_no_log "$GAVE_UP" "neither imgroot-init nor dracut gave up"
  [[ $VM_RESULT == "exited 0" ]] ||
    fail "expected image $1 to boot and power off; the VM ended with: $VM_RESULT"
  expect_log "IMGROOT-TEST booted=$1 pid=1\$" "image $1 booted, its init running as PID 1"
  local others
  others=$(grep -o 'IMGROOT-TEST booted=[^ ]*' "$log" | grep -vx "IMGROOT-TEST booted=$1" || true)
  [[ -z $others ]] || fail "another image booted too: $others"
}

# expect_host NAME=IMAGE...: the host partition holds exactly these image
# files and flags afterwards, each the named test image.
expect_host() {
  local fs=$work/hostpart-after.img want=() got pair file image actual
  extract_hostpart "$disk" "$fs"
  debugfs -R 'ls -l /' "$fs" 2>/dev/null | sed 's/^/  | /' >&2
  for pair in "$@"; do want+=("${pair%%=*}"); done
  got=$(hostpart_names "$fs" | grep -E '^(\.?hn-root|system-revert)' || true)
  [[ $got == "$(printf '%s\n' "${want[@]}" | sort)" ]] ||
    fail "host partition holds [$(echo "$got" | tr '\n' ' ')], expected [${want[*]}]"
  for pair in "$@"; do
    file=${pair%%=*} image=${pair#*=}
    actual=$(image_name "$fs" "$file")
    [[ $actual == "$image" ]] || fail "$file is image $actual, expected $image"
    say "ok: $file is image $image"
  done
}

expect_still_running() {
  [[ $VM_RESULT == stopped ]] ||
    fail "expected the VM to wait in dracut's emergency shell; it ended with: $VM_RESULT"
  say "ok: the VM stayed up in dracut's emergency shell (killed by the test)"
}

expect_log() {
  grep -Eq -- "$1" "$log" || fail "$2: no line matching /$1/ in the console log"
  say "ok: $2"
}

expect_no_log() {
  if grep -Eq -- "$1" "$log"; then
    grep -E -- "$1" "$log" | head -n 5 >&2
    fail "$2: found /$1/ in the console log"
  fi
  say "ok: $2"
}

fail() {
  say "FAIL [$test_name]: $*"
  exit 1
}

# ------------------------------------------------------------ main

if [[ ${1:-} == --list ]]; then
  printf '%s\n' "${SCENARIOS[@]}"
  exit 0
fi
[[ $# -eq 2 && ($1 == hooks || $1 == systemd) ]] ||
  die "usage: $0 hooks|systemd SCENARIO (one of: ${SCENARIOS[*]})"
flavour=$1 scenario=$2
declare -F "scenario_$scenario" >/dev/null ||
  die "unknown scenario '$scenario' (one of: ${SCENARIOS[*]})"
if [[ $flavour == systemd ]]; then test_name=dracut.systemd_$scenario; else test_name=dracut.$scenario; fi

need_commands qemu-system-x86_64 timeout mkfs.ext4 mkfs.vfat sgdisk partx dd debugfs e2fsck
load_kernel_env
initrd=$IMGROOT_TEST_SHARED/dracut-$flavour.img
images=$IMGROOT_TEST_SHARED/dracut-images
[[ -s $initrd ]] || die "no dracut initramfs $initrd (run tests/qemu/dracut/build-initramfs.sh $flavour)"
[[ -s $images/A.img ]] || die "no test images in $images (run tests/qemu/dracut/make-images.sh)"

work=$PWD/$test_name
hostpart=$work/hostpart
disk=$work/disk.img
log=$work/console.log
rm -rf "$work"
mkdir -p "$hostpart"

on_exit() {
  local rc=$?
  if ((rc != 0)) && [[ -s $log ]]; then
    say "---- console log ($log) ----"
    cat "$log" >&2
    say "---- end of console log ----"
  fi
}
trap on_exit EXIT

"scenario_$scenario"
say "PASS $test_name"
rm -rf "$hostpart" "$work"/*.parts

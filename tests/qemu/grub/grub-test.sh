#!/bin/bash
# One GRUB boot scenario: OVMF firmware, GRUB built by grub-mkimage, the
# grub.cfg `imgroot grub` writes, and images that carry their own kernel:
#
#   tests/qemu/grub/grub-test.sh SCENARIO       (grub-test.sh --list)
#
# Works in ./grub.SCENARIO/ (CTest runs it in the build tree): builds the
# host partition and EFI-BOOT with the real CLI (imgroot grub, imgroot
# stage --tries), boots the disk one or more times and asserts, after each
# boot, which image booted, whose kernel ran (each test image's initramfs
# loads a marker module; make-grub-fixtures.sh), the kernel command line,
# the host partition and grubenv. Console logs: grub.SCENARIO/boot-N.log.
set -euo pipefail
# shellcheck source=tests/qemu/grub/grub-lib.sh
source "$(dirname "$0")/grub-lib.sh"

BOOT_LIMIT=${IMGROOT_BOOT_TIMEOUT:-150}
CMDLINE="console=ttyS0 printk.devkmsg=on"

# ------------------------------------------------------------ scenarios

scenario_current() {
  put A hn-root.img
  put B hn-root-old.img
  make_grub_disk
  boot_grub 1
  expect_booted A A
  expect_cmdline 'imgroot.image=hn-root.img panic=10 console=ttyS0'
  expect_host hn-root.img=A hn-root-old.img=B
}

# The bug this fixes: a staged image's first boot ran the old image's kernel.
scenario_staged_own_kernel() {
  put A hn-root.img
  stage B 3
  make_grub_disk
  expect_env imgroot_trial counting imgroot_tries 3
  boot_grub 1
  expect_booted B B
  expect_cmdline 'imgroot.image=hn-root-new.img '
  expect_host hn-root.img=B hn-root-old.img=A
  expect_env imgroot_trial counting imgroot_tries 2
  boot_grub 2
  expect_booted B B
  expect_cmdline 'imgroot.image=hn-root.img '
  expect_env imgroot_trial counting imgroot_tries 1
}

# ... and a revert booted the kernel of the image it reverted away from.
scenario_revert_flag() {
  put B hn-root.img
  put A hn-root-old.img
  "$IMGROOT_TOOL" revert --hostpart "$hostpart" --esp "$esp" >/dev/null ||
    fail "imgroot revert failed"
  [[ -e $hostpart/system-revert ]] || fail "imgroot revert left no system-revert"
  make_grub_disk
  boot_grub 1
  expect_booted A A
  expect_cmdline 'imgroot.image=hn-root-old.img '
  expect_host hn-root.img=A hn-root-broken.img=B
}

# A staged image whose init powers off without mark-good: N boots, then
# GRUB boots the old image with imgroot.revert=1 and the init reverts.
scenario_tries_exhausted_reverts() {
  put A hn-root.img
  stage B 3
  make_grub_disk
  local n
  for n in 1 2 3; do
    boot_grub "$n"
    expect_booted B B
    expect_env imgroot_trial counting imgroot_tries $((3 - n))
  done
  boot_grub 4
  expect_booted A A
  expect_cmdline 'imgroot.image=hn-root-old.img imgroot.revert=1 '
  expect_env imgroot_trial reverting imgroot_tries 0
  expect_host hn-root.img=A hn-root-broken.img=B
  boot_grub 5
  expect_booted A A
  expect_cmdline 'imgroot.image=hn-root.img panic'
  expect_env imgroot_trial '' imgroot_tries ''
}

# mark-good, run by the real CLI inside the guest, ends the trial: with one
# try, the second boot would revert if the trial were still on.
scenario_mark_good_ends_trial() {
  put A hn-root.img
  stage B 1
  touch "$hostpart/imgroot-test-mark-good"
  make_grub_disk
  boot_grub 1
  expect_booted B B
  expect_log 'IMGROOT-TEST mark-good: exit 0' "imgroot mark-good succeeded in the guest"
  expect_env imgroot_trial '' imgroot_tries ''
  boot_grub 2
  expect_booted B B
  expect_cmdline 'imgroot.image=hn-root.img panic'
  boot_grub 3
  expect_booted B B
  expect_host hn-root.img=B hn-root-old.img=A
  expect_state_good hn-root.img
}

# A staged image whose kernel panics before the init can rotate (its
# initramfs is garbage): after its tries GRUB boots the current image with
# imgroot.unstage=1 and the init keeps the staged one as broken.
scenario_staged_kernel_panics_given_up() {
  put A hn-root.img
  stage P 2
  make_grub_disk "panic=1"
  local n
  for n in 1 2; do
    boot_grub "$n"
    expect_log 'Kernel panic' "boot $n: the staged image's kernel panicked"
    expect_no_log 'IMGROOT-TEST booted=' "boot $n: no image booted"
    expect_env imgroot_trial counting imgroot_tries $((2 - n))
  done
  boot_grub 3
  expect_booted A A
  expect_cmdline 'imgroot.image=hn-root.img imgroot.unstage=1 '
  expect_env imgroot_trial discarding imgroot_tries 0
  expect_host hn-root.img=A hn-root-broken.img=P
  boot_grub 4
  expect_booted A A
  expect_env imgroot_trial '' imgroot_tries ''
}

# The /etc/grub.d snippet emits the same script, and GRUB's own checker
# accepts it (no boot).
scenario_snippet_script_check() {
  local out=$work/snippet.cfg
  IMGROOT="$IMGROOT_TOOL" "$REPO_ROOT/grub/09_imgroot" >"$out" || fail "the grub.d snippet failed"
  grub-script-check "$out" || fail "grub-script-check rejects the snippet's output"
  grep -q -- '--id imgroot ' "$out" || fail "the snippet emits no imgroot menu entry"
  if grep -q '^set timeout' "$out"; then fail "the snippet sets the timeout (grub-mkconfig's job)"; fi
  say "ok: the snippet's output ($(wc -l <"$out") lines) passes grub-script-check"
  "$IMGROOT_TOOL" grub --stdout --timeout 0 >"$work/grub.cfg"
  grub-script-check "$work/grub.cfg" || fail "grub-script-check rejects imgroot grub's grub.cfg"
  say "ok: imgroot grub's grub.cfg passes grub-script-check"
}

# ---- images GRUB cannot load, and entries that are no image: the same
# boot moves on to the next image by the rules, and the init agrees.

# A staged copy that is random bytes: GRUB cannot load its kernel. It used
# to stop in GRUB's menu ("Failed to boot both default and fallback
# entries"): GRUB 2.06 ignored the fallback entry's id.
scenario_garbage_staged_boots_current() {
  put A hn-root.img
  put B hn-root-old.img
  head -c 32M /dev/urandom >"$hostpart/hn-root-new.img"
  make_grub_disk
  boot_grub 1
  expect_log 'imgroot: cannot load the kernel of hn-root-new.img' "GRUB says it gave the staged image up"
  expect_booted A A
  expect_cmdline 'imgroot.image=hn-root.img imgroot.unstage=1 imgroot.broken=hn-root-new.img '
  expect_host hn-root.img=A hn-root-old.img=B hn-root-broken.img=?
}

# A truncated staged copy whose kernel GRUB can still load: the init cannot
# mount it, keeps the current image, and reboots once so that GRUB loads
# the current image's own kernel.
scenario_truncated_staged_reboots_once() {
  put A hn-root.img
  put B hn-root-old.img
  head -c 24M "$(grub_image C)" >"$hostpart/hn-root-new.img"
  make_grub_disk
  boot_grub 1
  expect_log 'imgroot-init: .*rebooting once' "the init reboots once for the kernel of the image that boots"
  expect_no_log 'IMGROOT-TEST booted=' "nothing booted on the truncated image's kernel"
  boot_grub 2
  expect_booted A A
  expect_host hn-root.img=A hn-root-old.img=B hn-root-broken.img=C
}

# A directory under the staged name: GRUB sees no file there, the init moves
# it to imgroot/set-aside/ ("rename ... Not a directory" stopped it before).
scenario_directory_staged_boots_current() {
  put A hn-root.img
  put B hn-root-old.img
  mkdir -p "$hostpart/hn-root-new.img/etc"
  make_grub_disk
  boot_grub 1
  expect_booted A A
  expect_cmdline 'imgroot.image=hn-root.img panic'
  expect_host hn-root.img=A hn-root-old.img=B
}

scenario_directory_current_boots_old() {
  mkdir -p "$hostpart/hn-root.img/etc"
  put B hn-root-old.img
  make_grub_disk
  boot_grub 1
  expect_booted B B
  expect_host hn-root.img=B
}

# A revert to an old image GRUB cannot load: the current image boots and
# the revert is dropped, instead of a node waiting in GRUB's menu.
scenario_unloadable_revert_target() {
  put A hn-root.img
  head -c 32M /dev/urandom >"$hostpart/hn-root-old.img"
  touch "$hostpart/system-revert"
  make_grub_disk
  boot_grub 1
  expect_booted A A
  expect_cmdline 'imgroot.image=hn-root.img +imgroot.broken=hn-root-old.img '
  expect_host hn-root.img=A hn-root-broken.img=?
}

SCENARIOS=(current staged_own_kernel revert_flag tries_exhausted_reverts mark_good_ends_trial
  staged_kernel_panics_given_up snippet_script_check garbage_staged_boots_current
  truncated_staged_reboots_once directory_staged_boots_current directory_current_boots_old
  unloadable_revert_target)

# ------------------------------------------------------------ steps

# stage IMAGE TRIES: `imgroot stage`, offline, onto the host partition and
# EFI-BOOT folders (the image is checked by type only: --no-inspect).
stage() {
  "$IMGROOT_TOOL" stage --no-inspect --hostpart "$hostpart" --esp "$esp" --tries "$2" \
    "$(grub_image "$1")" >"$work/stage.log" 2>&1 ||
    { cat "$work/stage.log" >&2; fail "imgroot stage $1 failed"; }
}

# make_grub_disk [EXTRA_ARGS]: grub.cfg by `imgroot grub`, then the disk.
make_grub_disk() {
  "$IMGROOT_TOOL" grub --esp "$esp" --timeout 0 --cmdline "$CMDLINE${1:+ $1}" >/dev/null ||
    fail "imgroot grub failed"
  make_disk "$disk" hostpart "$hostpart"
  esp_put "$disk" "$esp"
  ovmf_vars "$vars"
}

# boot_grub N: the Nth boot of the disk.
boot_grub() {
  log=$work/boot-$1.log
  run_grub_vm "$log" "$BOOT_LIMIT" "" "$vars" "$disk"
  say "boot $1: VM $VM_RESULT after ${VM_SECONDS}s"
  grep -E 'imgroot: |imgroot-init: |IMGROOT-TEST|Kernel panic' "$log" | sed 's/^/  | /' >&2 || true
  [[ $VM_RESULT != timeout ]] || fail "boot $1: the VM was still running after ${BOOT_LIMIT}s"
}

# expect_booted IMAGE KERNEL: image IMAGE booted as PID 1, on the kernel
# (and initramfs) from inside IMAGE KERNEL.
expect_booted() {
  expect_log "IMGROOT-TEST booted=$1 pid=1 kernel-of=$2\$" "image $1 booted on the kernel of image $2"
  expect_no_log 'Kernel panic' "the kernel did not panic"
}

expect_cmdline() {
  expect_log "IMGROOT-TEST cmdline: .*$1" "the kernel command line has '$1'"
}

# expect_env NAME VALUE...: grubenv on EFI-BOOT holds these values (empty:
# not set, or set to nothing).
expect_env() {
  local got
  while (($#)); do
    got=$(grubenv_get "$disk" "$1")
    [[ $got == "$2" ]] || fail "grubenv: $1='$got', expected '$2'"
    say "ok: grubenv $1='$2'"
    shift 2
  done
}

# expect_state_good FILE: imgroot/state.json records FILE's image as good.
expect_state_good() {
  local fs=$work/hostpart-after.img state
  extract_hostpart "$disk" "$fs"
  state=$(debugfs -R 'cat /imgroot/state.json' "$fs" 2>/dev/null)
  grep -q '"assessment": *"good"' <<<"$state" ||
    fail "imgroot/state.json records no good image: $state"
  say "ok: imgroot/state.json records $1 as good"
}

# ------------------------------------------------------------ main

pick_scenario grub "$@"

need_commands grub-script-check
[[ -x $IMGROOT_TOOL ]] || die "the imgroot CLI $IMGROOT_TOOL is not built"
if [[ $scenario != snippet_script_check ]]; then
  need_vm_commands && need_commands mmd mcopy mtype
  [[ -r $OVMF_CODE && -r $OVMF_VARS ]] || die "no OVMF firmware in /usr/share/OVMF (package ovmf)"
  [[ -s $(grub_efi) && -s $(grub_image A) ]] ||
    die "no GRUB test fixtures in $IMGROOT_GRUB_SHARED (run tests/qemu/grub/make-grub-fixtures.sh)"
fi

images=$IMGROOT_GRUB_SHARED/images
start_work
esp=$work/esp
vars=$work/vars.fd
mkdir -p "$esp/grub"

"scenario_$scenario"
say "PASS $TEST_NAME"
rm -rf "$hostpart" "$work"/*.parts "$work"/hostpart-after.img*

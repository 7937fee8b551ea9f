#!/bin/bash
# One boot scenario of the standalone initramfs, booted with -kernel/-initrd
# in QEMU:
#
#   tests/qemu/boot-test.sh SCENARIO        (tests/qemu/boot-test.sh --list)
#
# Builds the scenario's disk in ./boot.SCENARIO/ (CTest runs it in the build
# tree), boots it, keeps the serial console in boot.SCENARIO/console.log and
# asserts on it and on the host partition left behind. The kernel, the
# initramfs and the test images come from the CTest fixtures (kernel.sh,
# make-initramfs.sh, make-images.sh) in $IMGROOT_TEST_SHARED.
set -euo pipefail
# shellcheck source=tests/qemu/scenario-lib.sh
source "$(dirname "$0")/scenario-lib.sh"

BOOT_LIMIT=${IMGROOT_BOOT_TIMEOUT:-120}
# An imgroot-init line saying why nothing can be booted.
NOTHING='imgroot-init: .*nothing to boot'

# ------------------------------------------------------------ scenarios
# The test images: A, B, C (each says its name when it boots), X (no
# /sbin/init) and corrupt (no filesystem). Each scenario_NAME fills
# $work/hostpart with the host partition's files, boots, and asserts; the
# rows of tests/scenarios/rotation.tsv naming SUITE are scenarios too.
SUITE=boot
check_plain_more() { expect_log 'IMGROOT-TEST hostname file: image-A$' "without a host identity the image's defaults stay"; }

scenario_no_hostpart() {
  put A hn-root.img
  boot_disk otherpart "imgroot.timeout=3" "$NOTHING"
  expect_still_running
  expect_log "$NOTHING" "imgroot-init says there is nothing to boot"
  expect_log 'imgroot-init: .*host partition LABEL=hostpart.*not found' \
    "imgroot-init says the host partition LABEL=hostpart was not found"
  expect_no_log 'IMGROOT-TEST booted=' "no image booted"
  expect_waited_less_than 15 "$NOTHING" "imgroot.timeout=3 is honoured"
}

scenario_genkernel_cmdline() {
  put A hn-root.img
  boot_disk hostpart "real_root=/hn-root.img raw_loop_root_host_partition=LABEL=hostpart"
  expect_booted A
  expect_host hn-root.img=A
}

# The genkernel spelling of the host partition is obeyed, not just accepted:
# the partition has a label other than the default.
scenario_genkernel_other_label() {
  put A hn-root.img
  boot_disk gk-host "real_root=/hn-root.img raw_loop_root_host_partition=LABEL=gk-host imgroot.timeout=10"
  expect_booted A
  expect_host hn-root.img=A
}

scenario_duplicate_label() {
  put A hn-root.img
  make_disk "$work/second.img" hostpart "$hostpart"
  boot_disk hostpart "imgroot.timeout=3" "$NOTHING" "$work/second.img"
  expect_still_running
  expect_no_log 'IMGROOT-TEST booted=' "no image booted"
  expect_log "$NOTHING" "imgroot-init says there is nothing to boot"
  expect_log 'imgroot-init: .*/dev/vda2' "the error names the first device (/dev/vda2)"
  expect_log 'imgroot-init: .*/dev/vdb2' "the error names the second device (/dev/vdb2)"
}

# The operator's round trip, with the CLI working offline on the disk's host
# partition between boots: boot A; imgroot stage B; boot B; imgroot revert;
# boot A again. The README's demo is this scenario.
scenario_cli_stage_revert() {
  put A hn-root.img
  mkdir -p "$hostpart/data"
  boot_disk hostpart ""
  expect_booted A

  say "== imgroot stage B.img (offline, on the disk's host partition)"
  offline_cli stage "$(shared_image B)"
  offline_cli status
  boot_again ""
  expect_booted B
  expect_host hn-root.img=B hn-root-old.img=A

  say "== imgroot revert (offline)"
  offline_cli revert
  offline_cli status
  boot_again ""
  expect_booted A
  expect_host hn-root.img=A hn-root-broken.img=B
}

# The way out as systemd takes it: it pivots into /run/initramfs and runs
# the copy of imgroot-init left there as /shutdown (docs/shutdown.md). After
# the poweroff, the host partition and the image are clean, with no journal
# to replay, and what the image wrote to /data0 is on the host partition.
scenario_clean_shutdown() {
  put A hn-root.img
  boot_disk hostpart "imgroot-test.write imgroot-test.shutdown"
  expect_booted A
  expect_log 'imgroot-init: shutdown: everything unmounted' "the shutdown program unmounted everything"
  expect_clean_shutdown hn-root.img
  expect_host hn-root.img=A
  expect_data_file written-by-A
}

# imgroot.overlay=tmpfs: the image stays as it was, bit for bit, and what was
# written to / is gone at the next boot; /data0 still reaches the host partition.
scenario_overlay_tmpfs() {
  put A hn-root.img
  boot_disk hostpart "imgroot.overlay=tmpfs imgroot-test.write imgroot-test.shutdown"
  expect_booted A
  expect_log 'IMGROOT-TEST wrote /written-by-test' "the image wrote to /"
  boot_again "imgroot.overlay=tmpfs imgroot-test.shutdown"
  expect_booted A
  expect_log 'IMGROOT-TEST found: nothing' "the next boot does not see what the last one wrote to /"
  expect_clean_shutdown hn-root.img
  expect_image_unchanged hn-root.img A
  expect_data_file written-by-A
}

# imgroot.overlay=persistent: changes to / survive a reboot in the image's
# layer on the host partition, the image file stays unchanged, and a newly
# staged image starts with a clean layer of its own.
scenario_overlay_persistent() {
  put A hn-root.img
  boot_disk hostpart "imgroot.overlay=persistent imgroot-test.write imgroot-test.shutdown"
  expect_booted A
  expect_log 'IMGROOT-TEST found: nothing' "a first boot finds an empty layer"
  boot_again "imgroot.overlay=persistent imgroot-test.shutdown"
  expect_booted A
  expect_log 'IMGROOT-TEST found: A' "the second boot finds what the first wrote to /"
  offline_cli stage "$(shared_image B)"
  boot_again "imgroot.overlay=persistent imgroot-test.shutdown"
  expect_booted B
  expect_log 'IMGROOT-TEST found: nothing' "the newly staged image starts with a clean layer"
  expect_clean_shutdown hn-root.img hn-root-old.img
  expect_image_unchanged hn-root-old.img A
  expect_image_unchanged hn-root.img B
}

# The host's identity (imgroot/host/ on the host partition) is copied over
# the image's files at every boot: into the read-write image, then, after an
# image change, into a tmpfs overlay, leaving that image unchanged.
scenario_host_identity() {
  put A hn-root.img
  mkdir -p "$hostpart/imgroot/host/etc"
  echo node-17 >"$hostpart/imgroot/host/etc/hostname"
  boot_disk hostpart ""
  expect_booted A
  expect_log 'IMGROOT-TEST hostname file: node-17$' "the host's /etc/hostname replaced the image's"
  expect_log 'imgroot-init: host identity: 1 files applied' "imgroot-init says it applied the identity"
  offline_cli stage "$(shared_image B)"
  boot_again "imgroot.overlay=tmpfs"
  expect_booted B
  expect_log 'IMGROOT-TEST hostname file: node-17$' "the identity survived the image change"
  expect_image_unchanged hn-root.img B
}

# ---- what an operator, an old tool or bit rot leaves under an image name:
# the boot never stops while a bootable image exists (docs/crash-safety.md,
# "Odd entries").

scenario_odd_new_directory() {
  put A hn-root.img
  mkdir -p "$hostpart/hn-root-new.img/etc"
  boot_setting_aside "" hn-root-new.img.1
}

scenario_odd_current_directory() {
  mkdir -p "$hostpart/hn-root.img/etc"
  put A hn-root-old.img
  boot_setting_aside "" hn-root.img.1
}

# A FIFO under the current name with a read-only root: opening it for
# reading would block PID 1 for ever.
scenario_odd_current_fifo() {
  mkfifo "$hostpart/hn-root.img"
  put A hn-root-old.img
  boot_setting_aside "ro" hn-root.img.1
}

scenario_odd_new_symlink() {
  put A hn-root.img
  mkdir -p "$hostpart/data"
  put B data/b.img
  ln -s /data/b.img "$hostpart/hn-root-new.img"
  boot_setting_aside "" hn-root-new.img.1
}

# "Re-staging" with ln: the staged name is a second link of the current
# image. Upgrading would rename it onto itself at every boot and replace the
# old image with the current one.
scenario_staged_hardlink_of_current() {
  put A hn-root.img
  put B hn-root-old.img
  ln "$hostpart/hn-root.img" "$hostpart/hn-root-new.img"
  boot_disk hostpart ""
  expect_booted A
  expect_host hn-root.img=A hn-root-old.img=B
}

# A truncated copy staged by hand: libblkid still sees ext4, the kernel
# refuses its size. It is mounted on trial before the upgrade, so the old
# image is not let go for it.
scenario_truncated_new() {
  put A hn-root.img
  put B hn-root-old.img
  head -c 3M "$(shared_image C)" >"$hostpart/hn-root-new.img"
  boot_disk hostpart ""
  expect_booted A
  expect_log 'imgroot-init: .*cannot boot hn-root-new.img' "imgroot-init says why the staged image cannot boot"
  expect_host hn-root.img=A hn-root-old.img=B hn-root-broken.img=C
}

# ---- every filesystem an image may hold boots with the default initramfs
# (`imgroot initramfs` without --modules), under an overlay where the
# filesystem is read-only.

scenario_default_initramfs_ext4() { boot_default_initramfs ext4 ""; }
scenario_default_initramfs_btrfs() { boot_default_initramfs btrfs ""; }
scenario_default_initramfs_xfs() { boot_default_initramfs xfs ""; }
scenario_default_initramfs_squashfs() { boot_default_initramfs squashfs "imgroot.overlay=tmpfs"; }
scenario_default_initramfs_erofs() { boot_default_initramfs erofs "imgroot.overlay=tmpfs"; }
# The boot disk behind another controller: its driver is loaded by the
# controller's modalias, and the disk's (sd_mod for a SCSI disk) after it.
scenario_default_initramfs_nvme() {
  VM_DISK_BUS=nvme boot_default_initramfs ext4 ""
  expect_log 'imgroot-init: loaded .* nvme \(pci:v[0-9A-F]{8}d' "nvme was loaded for the NVMe controller's modalias"
  expect_no_log 'imgroot-init: loaded .*virtio_blk' "no virtio disk: virtio_blk stayed out"
}
scenario_default_initramfs_ahci() {
  VM_DISK_BUS=ahci boot_default_initramfs ext4 ""
  expect_log 'imgroot-init: loaded .* ahci \(pci:v[0-9A-F]{8}d' "ahci was loaded for the AHCI controller's modalias"
  expect_log 'imgroot-init: loaded .* sd_mod \(scsi:t-0x00' "sd_mod was loaded for the disk the controller found"
}

SCENARIOS=(no_hostpart genkernel_cmdline genkernel_other_label duplicate_label
  cli_stage_revert clean_shutdown overlay_tmpfs overlay_persistent host_identity
  odd_new_directory odd_current_directory odd_current_fifo odd_new_symlink
  staged_hardlink_of_current truncated_new
  default_initramfs_ext4 default_initramfs_btrfs default_initramfs_xfs
  default_initramfs_squashfs default_initramfs_erofs default_initramfs_nvme
  default_initramfs_ahci)

# ------------------------------------------------------------ steps

# boot_disk LABEL APPEND [STOP_PATTERN [EXTRA_DISK...]]: make the disk with
# the host partition labelled LABEL and boot it (boot_again).
boot_disk() {
  make_disk "$disk" "$1" "$hostpart"
  boot_again "${@:2}"
}

# boot_again APPEND [STOP_PATTERN [EXTRA_DISK...]]: boot the disk as the
# last boot or the CLI left it, with APPEND added to the command line, and
# check the things every boot must satisfy.
boot_again() {
  local append=$1 stop=${2:-}
  shift $(($# < 2 ? $# : 2))
  # Stop early on a panic or an init that gives up, whatever was expected:
  # the assertions then say what went wrong.
  local pattern="$PANIC|$NOTHING"
  [[ -n $stop ]] && pattern="$pattern|$stop"
  run_vm "$log" "$BOOT_LIMIT" "$pattern" "$append" "$disk" "$@"
  check_boot 'imgroot-init: |IMGROOT-TEST'
}

# offline_cli VERB ARGS...: run `imgroot VERB --hostpart MNT ARGS...` on the
# disk's host partition, attached through a loop device and mounted (which
# also replays the journal the guest left behind), as an operator preparing
# a disk would.
offline_cli() {
  local tool=${IMGROOT_TOOL:-$REPO_ROOT/build/tools/imgroot} mnt=$work/mnt dev start sectors rc=0
  [[ -x $tool ]] || fail "the imgroot CLI $tool is not built"
  [[ -e /dev/loop-control ]] || fail "offline CLI steps need loop devices (/dev/loop-control)"
  # By offset rather than --partscan: partition nodes need udev, which a
  # container or CI machine may not run.
  read -r start sectors < <(partx -g -n 2 -o START,SECTORS "$disk") || fail "no partition 2 on $disk"
  dev=$(losetup --find --show --offset $((start * 512)) --sizelimit $((sectors * 512)) "$disk") ||
    fail "losetup of $disk failed"
  mkdir -p "$mnt"
  if mount "$dev" "$mnt"; then
    "$tool" "$1" --hostpart "$mnt" "${@:2}" 2>&1 | sed 's/^/  imgroot> /' >&2 || rc=$?
    umount "$mnt" || rc=$?
  else
    rc=1
  fi
  losetup -d "$dev"
  ((rc == 0)) || fail "imgroot $* failed (exit $rc)"
}

# boot_setting_aside APPEND NAME: boot with APPEND; image A boots as the
# only image and rotation kept NAME in imgroot/set-aside/.
boot_setting_aside() {
  boot_disk hostpart "$1"
  expect_booted A
  expect_host hn-root.img=A
  expect_set_aside "$2"
}

# expect_set_aside NAME: rotation kept NAME in imgroot/set-aside/.
expect_set_aside() {
  local fs=$work/hostpart-after.img
  extract_hostpart "$disk" "$fs"
  debugfs -R "stat /imgroot/set-aside/$1" "$fs" 2>/dev/null | grep -q 'Type:' ||
    fail "no imgroot/set-aside/$1 on the host partition"
  say "ok: imgroot/set-aside/$1 keeps what stood under the image name"
}

# boot_default_initramfs FS ARGS: test image A's tree as an FS image,
# booted with the initramfs `imgroot initramfs` builds by default.
boot_default_initramfs() {
  local fs=$1 tree=$work/tree img=$hostpart/hn-root.img initrd=$work/default-initramfs.img
  local tool=${IMGROOT_TOOL:-$REPO_ROOT/build/tools/imgroot}
  local init=${IMGROOT_INIT:-$REPO_ROOT/build/init/imgroot-init}
  load_kernel_env
  "$tool" initramfs --output "$initrd" --kernel-release "$KVER" --modules-root "$MODULES_ROOT" \
    --busybox "$(command -v busybox)" --init "$init" >"$work/initramfs.log" 2>&1 ||
    { cat "$work/initramfs.log" >&2; fail "imgroot initramfs with the default modules failed"; }
  mkdir -p "$tree"
  debugfs -R "rdump / $tree" "$(shared_image A)" >/dev/null 2>&1 || fail "cannot unpack test image A"
  rm -rf "$tree/lost+found"
  case $fs in
    ext4) cp --sparse=always "$(shared_image A)" "$img" ;;
    btrfs) mkfs.btrfs -q --rootdir "$tree" -b 128M "$img" >/dev/null ;;
    squashfs) mksquashfs "$tree" "$img" -quiet -noappend -all-root >/dev/null ;;
    erofs) mkfs.erofs --quiet --all-root "$img" "$tree" >/dev/null ;;
    xfs) make_xfs_image "$tree" "$img" ;;
    *) die "no recipe for a $fs image" ;;
  esac
  VM_INITRD=$initrd boot_disk hostpart "$2"
  expect_booted A
  expect_log "imgroot-init: mounted hn-root.img \\($fs\\)" "the image was mounted as $fs"
  # Modules by need: the filesystem's when it was mounted, no other's.
  expect_log "imgroot-init: loaded .* $fs \\(fs-$fs\\)" "$fs was loaded to mount the image"
  local other
  for other in btrfs xfs squashfs erofs; do
    [[ $other == "$fs" ]] || expect_no_log "imgroot-init: loaded .* $other \\(" "$other was not loaded"
  done
}

# make_xfs_image TREE IMG: xfsprogs has no mkfs -d: fill it through a loop
# mount in a private mount namespace.
make_xfs_image() {
  truncate -s 320M "$2"
  mkfs.xfs -q "$2"
  # shellcheck disable=SC2016 # $1, $2 and $mnt are the inner shell's
  unshare -m bash -c 'set -e; mnt=$(mktemp -d); mount -o loop "$1" "$mnt"; cp -a "$2"/. "$mnt"/; umount "$mnt"; rmdir "$mnt"' \
    _ "$2" "$1" || fail "cannot fill the xfs image"
}

# expect_clean_shutdown FILE...: the host partition as the guest left it,
# before any repair, was cleanly unmounted with no journal to replay, and
# e2fsck -fn finds nothing wrong; the same for each image FILE on it.
expect_clean_shutdown() {
  local fs=$work/hostpart-as-left.img file
  copy_hostpart "$disk" "$fs"
  expect_clean_fs "$fs" "the host partition"
  for file in "$@"; do
    debugfs -R "dump /$file $work/$file.as-left" "$fs" >/dev/null 2>&1
    [[ -s $work/$file.as-left ]] || fail "no $file on the host partition"
    expect_clean_fs "$work/$file.as-left" "$file"
  done
}

# expect_clean_fs FS WHAT: an ext4 filesystem image that needs nothing.
expect_clean_fs() {
  local fs=$1 what=$2 header state
  header=$(dumpe2fs -h "$fs" 2>/dev/null) || fail "$what: dumpe2fs cannot read it"
  if grep -E '^Filesystem features:' <<<"$header" | grep -qw needs_recovery; then
    fail "$what: the journal was left to replay (needs_recovery)"
  fi
  state=$(sed -n 's/^Filesystem state: *//p' <<<"$header")
  [[ $state == clean ]] || fail "$what: filesystem state is '$state', not clean"
  e2fsck -fn "$fs" >"$fs.fsck.log" 2>&1 || { cat "$fs.fsck.log" >&2; fail "$what: e2fsck -fn found problems"; }
  say "ok: $what is clean (state clean, no journal to replay, e2fsck -fn passes)"
}

# expect_image_unchanged FILE IMAGE: FILE on the host partition is still
# test image IMAGE, bit for bit.
expect_image_unchanged() {
  local fs=$work/hostpart-after.img copy=$work/$1.after
  extract_hostpart "$disk" "$fs"
  debugfs -R "dump /$1 $copy" "$fs" >/dev/null 2>&1
  cmp -s "$copy" "$(shared_image "$2")" || fail "$1 is no longer test image $2 bit for bit"
  say "ok: $1 is test image $2, bit for bit"
}

# expect_data_file NAME: the image wrote NAME through /data0 and it is in the
# host partition's data/.
expect_data_file() {
  local fs=$work/hostpart-after.img
  extract_hostpart "$disk" "$fs"
  debugfs -R "cat /data/$1" "$fs" 2>/dev/null | grep -q . ||
    fail "no data/$1 on the host partition: /data0 did not lead there"
  say "ok: data/$1 written through /data0 is on the host partition"
}

expect_still_running() {
  [[ $VM_RESULT == stopped ]] ||
    fail "expected the VM to stay up after imgroot-init gave up; it ended with: $VM_RESULT"
  say "ok: the VM stayed up after imgroot-init gave up (killed by the test)"
}

# expect_waited_less_than SECONDS PATTERN WHAT: the line matching PATTERN
# came less than SECONDS after the kernel started /init (printk times; the
# check is skipped when the lines carry none).
expect_waited_less_than() {
  local start end
  start=$(printk_time "$log" 'Run /init as init process')
  end=$(printk_time "$log" "$2")
  if [[ -z $start || -z $end ]]; then
    say "skip: $3 (no printk timestamps to compare)"
    return
  fi
  awk -v s="$start" -v e="$end" -v l="$1" 'BEGIN { exit !(e - s < l) }' ||
    fail "$3: took $start -> $end s"
  say "ok: $3 ($start -> $end s)"
}

# ------------------------------------------------------------ main

pick_scenario boot "$@"

need_vm_commands
load_kernel_env
[[ -s $(shared_initramfs) ]] ||
  die "no test initramfs $(shared_initramfs) (run tests/qemu/make-initramfs.sh)"
[[ -s $(shared_image A) ]] || die "no test images in $IMGROOT_TEST_SHARED/images (run tests/qemu/make-images.sh)"

run_scenario "$scenario"

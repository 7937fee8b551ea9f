#!/bin/bash
# grub.provision_boots: `imgroot provision` turns a blank sparse 1 GiB disk
# image file into a node that boots, with nothing else done to it:
#
#   tests/qemu/grub/provision-test.sh
#
# Provisions the file through a loop device (needs root and loop devices)
# with test image A (it carries its own kernel and initramfs, whose marker
# module says whose kernel runs; make-grub-fixtures.sh), checks the
# partition table with sgdisk and the labels with blkid, then boots the
# file through OVMF and the GRUB provision installed, and checks that A
# booted on its own kernel and that the host partition is as provisioned.
# Works in ./grub.provision_boots/; the console log is boot-1.log there.
set -euo pipefail
# shellcheck source=tests/qemu/grub/grub-lib.sh
source "$(dirname "$0")/grub-lib.sh"

TEST_NAME=grub.provision_boots
BOOT_LIMIT=${IMGROOT_BOOT_TIMEOUT:-150}
ESP_GUID=C12A7328-F81F-11D2-BA4B-00A0C93EC93B

need_commands qemu-system-x86_64 timeout sgdisk blkid partx losetup dd debugfs e2fsck mtype
[[ -x $IMGROOT_TOOL ]] || die "the imgroot CLI $IMGROOT_TOOL is not built"
[[ -r $OVMF_CODE && -r $OVMF_VARS ]] || die "no OVMF firmware in /usr/share/OVMF (package ovmf)"
[[ -s $(grub_image A) ]] ||
  die "no GRUB test images in $IMGROOT_GRUB_SHARED (run tests/qemu/grub/make-grub-fixtures.sh)"
if ((EUID != 0)) || [[ ! -e /dev/loop-control ]]; then
  say "SKIP: provisioning a disk image file needs root and loop devices"
  exit 77
fi

start_work
vars=$work/vars.fd

# partition_field N FIELD: a line of `sgdisk -i N` ("Partition name", ...).
partition_field() {
  sgdisk -i "$1" "$disk" | sed -n "s/^$2: //p"
}

# label_of N: the filesystem label blkid finds on partition N of the file.
label_of() {
  local start size
  read -r start size < <(partx -g -n "$1" -o START,SECTORS "$disk")
  blkid -p -o value -s LABEL -O $((start * 512)) -S $((size * 512)) "$disk"
}

truncate -s 1G "$disk"
"$IMGROOT_TOOL" provision "$disk" --image "$(grub_image A)" --yes --timeout 0 \
  --cmdline "console=ttyS0 printk.devkmsg=on" >"$work/provision.log" 2>&1 ||
  { cat "$work/provision.log" >&2; fail "imgroot provision failed"; }
sed 's/^/  | /' "$work/provision.log" >&2

if losetup -j "$disk" | grep -q .; then fail "the disk file is still attached: $(losetup -j "$disk")"; fi
say "ok: nothing is left attached to the disk file"
[[ $(partition_field 1 'Partition GUID code') == "$ESP_GUID"* ]] ||
  fail "partition 1 is not an EFI system partition: $(partition_field 1 'Partition GUID code')"
[[ $(partition_field 1 'Partition name') == "'EFI-BOOT'" ]] || fail "partition 1 is not named EFI-BOOT"
[[ $(partition_field 2 'Partition name') == "'hostpart'" ]] || fail "partition 2 is not named hostpart"
say "ok: GPT: 1 EFI-BOOT (ESP), 2 hostpart"
[[ $(label_of 1) == EFI-BOOT && $(label_of 2) == hostpart ]] ||
  fail "filesystem labels: '$(label_of 1)' and '$(label_of 2)'"
say "ok: filesystem labels EFI-BOOT and hostpart"

ovmf_vars "$vars"
log=$work/boot-1.log
run_grub_vm "$log" "$BOOT_LIMIT" "" "$vars" "$disk"
say "boot 1: VM $VM_RESULT after ${VM_SECONDS}s"
grep -E 'imgroot: |imgroot-init: |IMGROOT-TEST|Kernel panic' "$log" | sed 's/^/  | /' >&2 || true
[[ $VM_RESULT != timeout ]] || fail "the VM was still running after ${BOOT_LIMIT}s"
expect_log 'IMGROOT-TEST booted=A pid=1 kernel-of=A$' "image A booted on its own kernel"
expect_log 'IMGROOT-TEST cmdline: .*imgroot.image=hn-root.img ' "GRUB loaded hn-root.img"
expect_no_log 'Kernel panic' "the kernel did not panic"

fs=$work/hostpart-after.img
extract_hostpart "$disk" "$fs"
names=$(hostpart_names "$fs" | tr '\n' ' ')
[[ $names == *"data "* && $names == *"hn-root.img "* && $names == *"imgroot "* ]] ||
  fail "the host partition holds [$names]"
[[ $(image_name "$fs" hn-root.img) == A ]] || fail "hn-root.img is not test image A"
say "ok: the host partition holds [$names] and hn-root.img is A"
say "PASS $TEST_NAME"
rm -f "$fs" "$fs".fsck.log

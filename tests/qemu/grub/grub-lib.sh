# shellcheck shell=bash
# Helpers for the GRUB boot tests (grub.*): the shared GRUB artefacts, the
# EFI-BOOT partition written with mtools, and a VM booted through OVMF and
# GRUB instead of -kernel. Builds on tests/qemu/scenario-lib.sh (and so
# lib.sh); defines functions only.

# shellcheck source=tests/qemu/scenario-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scenario-lib.sh"

# What make-grub-fixtures.sh builds: BOOTX64.EFI and the test images whose
# /boot holds a real kernel and an initramfs of their own.
: "${IMGROOT_GRUB_SHARED:=$IMGROOT_TEST_SHARED/grub}"
: "${IMGROOT_TOOL:=$REPO_ROOT/build/tools/imgroot}"
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd
# The tests keep a console log for each boot: failures name the one they
# looked at (scenario-lib.sh).
LOG_PER_BOOT=1

# ovmf_vars FILE: a fresh writable copy of OVMF's variable store.
ovmf_vars() { cp "$OVMF_VARS" "$1"; }

grub_efi() { printf '%s\n' "$IMGROOT_GRUB_SHARED/BOOTX64.EFI"; }
grub_image() { printf '%s\n' "$IMGROOT_GRUB_SHARED/images/$1.img"; }

# The marker module each test image's initramfs loads besides the ones the
# boot needs. It stays loaded after the switch to the image, so the image's
# init can tell whose initramfs, and so whose /boot, the kernel came from.
marker_module() {
  case $1 in
    A) echo ts_bm ;;
    B) echo ts_kmp ;;
    C) echo ts_fsm ;;
    *) die "no marker module for test image '$1'" ;;
  esac
}

# ---------------------------------------------------------------- EFI-BOOT

# The byte offset of partition 1 (EFI-BOOT) of a disk made by make_disk.
esp_offset() {
  local start
  read -r start < <(partx -g -n 1 -o START "$1") || die "no partition 1 on $1"
  echo $((start * 512))
}

# esp_put DISK DIR: copy DIR's files onto the disk's EFI-BOOT partition,
# with GRUB at the removable-media path EFI/BOOT/BOOTX64.EFI. No mount.
esp_put() {
  local disk=$1 dir=$2 img
  img="$disk@@$(esp_offset "$disk")"
  MTOOLS_SKIP_CHECK=1 mmd -i "$img" ::/EFI ::/EFI/BOOT
  MTOOLS_SKIP_CHECK=1 mcopy -i "$img" "$(grub_efi)" ::/EFI/BOOT/BOOTX64.EFI
  MTOOLS_SKIP_CHECK=1 mcopy -s -i "$img" "$dir"/* ::/
}

# esp_cat DISK PATH: a file of the disk's EFI-BOOT partition on stdout.
esp_cat() {
  MTOOLS_SKIP_CHECK=1 mtype -i "$1@@$(esp_offset "$1")" "::$2"
}

# grubenv_get DISK NAME: the value of NAME in EFI-BOOT's grub/grubenv;
# empty when it is not set.
grubenv_get() {
  esp_cat "$1" /grub/grubenv | tr -d '#' | sed -n "s/^$2=//p"
}

# ---------------------------------------------------------------- qemu

# run_grub_vm LOG TIMEOUT STOP_PATTERN VARS DISK: run_qemu (lib.sh) booting
# DISK through OVMF (its variables in the writable copy VARS) and GRUB, the
# serial console in LOG. A reboot ends the VM (-no-reboot).
run_grub_vm() {
  local log=$1 limit=$2 stop=$3 vars=$4 disk=$5
  run_qemu "$log" "$limit" "$stop" -machine q35 \
    -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
    -drive "if=pflash,format=raw,unit=1,file=$vars" \
    -drive "file=$disk,format=raw,if=virtio"
  # OVMF and GRUB add escape sequences.
  sed -i 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$log"
}

#!/bin/bash
# Build what the GRUB boot tests share, into $IMGROOT_GRUB_SHARED
# (default $IMGROOT_TEST_SHARED/grub):
#
#   BOOTX64.EFI       GRUB from grub-efi-amd64-bin, made by grub-mkimage with
#                     the modules built in and the prefix /grub (EFI-BOOT's
#                     grub/grub.cfg and grub/grubenv, docs/design.md section 1)
#   images/A.img B.img C.img
#                     ext4 root images that carry a real /boot/kernel (the
#                     test kernel) and /boot/initramfs (built by `imgroot
#                     initramfs`, each forcing its own marker module), a
#                     static busybox, the imgroot CLI with its libraries, and
#                     an /sbin/init that reports which image booted and whose
#                     kernel runs, runs `imgroot mark-good` when the host
#                     partition holds imgroot-test-mark-good, and powers off
#   images/P.img      the same, but its /boot/initramfs is garbage: its kernel
#                     panics before any init runs
#
# IMGROOT_TOOL and IMGROOT_INIT name the built CLI and init.
set -euo pipefail
# shellcheck source=tests/qemu/grub/grub-lib.sh
source "$(dirname "$0")/grub-lib.sh"

: "${IMGROOT_INIT:=$REPO_ROOT/build/init/imgroot-init}"
out=$IMGROOT_GRUB_SHARED
# What a virtio disk with ext4 and a loop-mounted image need: the init loads
# them by need.
modules="virtio_pci virtio_blk ext4 loop"
# Loaded at every boot: the test image mounts EFI-BOOT itself (for mark-good)
# and has no modprobe to load vfat with; and the image's marker module.
forced="vfat nls_cp437 nls_ascii"
# The modules built into GRUB: the list `imgroot provision` is built with.
grub_modules=$(grep -v '^#' "$REPO_ROOT/grub/efi-modules")

need_commands grub-mkimage mkfs.ext4 busybox ldd strip
load_kernel_env
[[ -x $IMGROOT_TOOL ]] || die "the imgroot CLI $IMGROOT_TOOL is not built"
[[ -x $IMGROOT_INIT ]] || die "imgroot-init $IMGROOT_INIT is not built"
busybox=$(command -v busybox)

mkdir -p "$out/images"

# shellcheck disable=SC2086 # the module list is words
grub-mkimage -O x86_64-efi -p /grub -o "$out/BOOTX64.EFI.tmp" $grub_modules ||
  die "grub-mkimage failed (is grub-efi-amd64-bin installed?)"
mv "$out/BOOTX64.EFI.tmp" "$out/BOOTX64.EFI"

# The test image's init. No sync before poweroff -f: what imgroot wrote must
# already be durable, as after a power cut.
write_init() {
  local name=$1
  test_init_head "$name"
  cat <<INIT
kernel=none
[ -d /sys/module/$(marker_module A) ] && kernel=A
[ -d /sys/module/$(marker_module B) ] && kernel=B
[ -d /sys/module/$(marker_module C) ] && kernel=C
report "IMGROOT-TEST booted=$name pid=\$\$ kernel-of=\$kernel"
report "IMGROOT-TEST cmdline: \$(cat /proc/cmdline)"
if [ -e /hostpart/imgroot-test-mark-good ]; then
  mount -t vfat /dev/vda1 /boot/loader && /usr/sbin/imgroot mark-good
  report "IMGROOT-TEST mark-good: exit \$?"
  umount /boot/loader
fi
poweroff -f
INIT
}

# copy_with_libraries ROOT PROGRAM DEST: PROGRAM at ROOT/DEST, stripped, and
# the shared libraries ldd names at their own paths under ROOT.
copy_with_libraries() {
  local root=$1 program=$2 dest=$3 lib
  mkdir -p "$root/$(dirname "$dest")"
  strip -o "$root/$dest" "$program"
  for lib in $(ldd "$program" | grep -o '/[^ ]*'); do
    mkdir -p "$root/$(dirname "$lib")"
    cp -L "$lib" "$root/$lib"
  done
}

# make_root NAME [panics]: one test image.
make_root() {
  local name=$1 panics=${2:-} dir applet
  dir=$(mktemp -d "$out/.root-$name.XXXXXX")
  mkdir -p "$dir"/{bin,sbin,etc,boot/loader,proc,sys,dev,run,tmp,hostpart}
  cp "$busybox" "$dir/bin/busybox"
  for applet in sh cat echo ls grep tr mount umount mountpoint poweroff sleep; do
    ln -s busybox "$dir/bin/$applet"
  done
  printf '%s\n' "$name" >"$dir/etc/imgroot-test-name"
  cp "$KERNEL_IMAGE" "$dir/boot/kernel"
  if [[ -n $panics ]]; then
    head -c 1M /dev/urandom >"$dir/boot/initramfs"
  else
    "$IMGROOT_TOOL" initramfs --output "$dir/boot/initramfs" --kernel-release "$KVER" \
      --modules-root "$MODULES_ROOT" --modules "$modules" --add-modules "$forced $(marker_module "$name")" \
      --busybox "$busybox" --init "$IMGROOT_INIT" >/dev/null ||
      die "imgroot initramfs for test image $name failed"
  fi
  copy_with_libraries "$dir" "$IMGROOT_TOOL" usr/sbin/imgroot
  write_init "$name" >"$dir/sbin/init"
  chmod 0755 "$dir/sbin/init"
  mkfs_test_image "$dir" "$out/images/$name.img" 64M "$name"
}

make_root A
make_root B
make_root C
make_root P panics
ls -l "$out" "$out/images"

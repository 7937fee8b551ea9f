#!/bin/bash
# Build the root filesystem images the boot tests put on host partitions:
#
#   tests/qemu/make-images.sh [OUTDIR]      (default: $IMGROOT_TEST_SHARED/images)
#
#   A.img B.img C.img  tiny ext4 roots: a static busybox and an /sbin/init
#                      script that reports which image booted, the command
#                      line and the host partition seen at /hostpart, then
#                      powers the VM off
#   X.img              the same without /sbin/init
#   corrupt.img        random bytes: no filesystem at all
#
# Every ext4 image records its name in /etc/imgroot-test-name, so a test can
# tell after a boot which file became which (tests/qemu/lib.sh image_name).
# Built with mkfs.ext4 -d: nothing is mounted on the host.
set -euo pipefail
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/lib.sh"

out=${1:-$IMGROOT_TEST_SHARED/images}
need_commands mkfs.ext4 busybox
busybox=$(command -v busybox)
file "$busybox" 2>/dev/null | grep -q 'statically linked' ||
  die "$busybox is not static: install busybox-static (tests/deps.sh)"

# The init the test images run. Its output is what the tests assert on; it
# also goes to /dev/kmsg so the lines carry a printk timestamp (the boot-time
# benchmark reads it). No sync before poweroff -f: the host partition must
# already be durable, as after a power cut. Two words on the kernel command
# line ask for more: imgroot-test.write writes /written-by-test (every boot
# reports what it found there) and /data0/written-by-NAME;
# imgroot-test.shutdown leaves the way systemd does, through the program
# imgroot-init left in /run/initramfs.
write_init() {
  local name=$1
  test_init_head "$name"
  cat <<EOF
report "IMGROOT-TEST booted=$name pid=\$\$"
report "IMGROOT-TEST cmdline: \$(cat /proc/cmdline)"
report "IMGROOT-TEST hostpart: \$(ls -a /hostpart | tr '\\n' ' ')"
report "IMGROOT-TEST root: \$(grep ' / ' /proc/mounts | tr '\\n' ' ')"
report "IMGROOT-TEST found: \$(cat /written-by-test 2>/dev/null || echo nothing)"
report "IMGROOT-TEST hostname file: \$(cat /etc/hostname 2>/dev/null || echo none)"
args=" \$(cat /proc/cmdline) "
case \$args in *" imgroot-test.write "*)
  echo $name >/written-by-test && report "IMGROOT-TEST wrote /written-by-test"
  echo $name >/data0/written-by-$name && report "IMGROOT-TEST wrote /data0/written-by-$name"
esac
case \$args in *" imgroot-test.shutdown "*)
  # What systemd-shutdown does last (src/shutdown/shutdown.c): pivot into
  # /run/initramfs, the old root at /oldroot, and run /shutdown as PID 1.
  if [ -x /run/initramfs/shutdown ]; then
    mount -o bind /run/initramfs /run/initramfs && mount -o private /run/initramfs
    for d in dev proc sys run; do
      mkdir -p /run/initramfs/\$d && mount -o bind /\$d /run/initramfs/\$d
    done
    mkdir -p /run/initramfs/oldroot
    cd /run/initramfs && pivot_root . oldroot && exec /shutdown poweroff
  fi
  report "IMGROOT-TEST no shutdown program in /run/initramfs"
esac
poweroff -f
EOF
}

# make_root NAME WITH_INIT: one ext4 test image.
make_root() {
  local name=$1 with_init=$2 dir
  dir=$(mktemp -d "$out/.root-$name.XXXXXX")
  mkdir -p "$dir"/{bin,sbin,etc,boot,proc,sys,dev,run,tmp,hostpart}
  cp "$busybox" "$dir/bin/busybox"
  local applet
  for applet in sh cat echo ls grep tr mount mountpoint poweroff sleep mkdir pivot_root; do
    ln -s busybox "$dir/bin/$applet"
  done
  printf '%s\n' "$name" >"$dir/etc/imgroot-test-name"
  printf 'image-%s\n' "$name" >"$dir/etc/hostname"  # the default a host identity replaces
  # Placeholders: these boots load the kernel with -kernel, not from here.
  printf 'placeholder kernel of test image %s\n' "$name" >"$dir/boot/kernel"
  printf 'placeholder initramfs of test image %s\n' "$name" >"$dir/boot/initramfs"
  if [[ $with_init == yes ]]; then
    write_init "$name" >"$dir/sbin/init"
    chmod 0755 "$dir/sbin/init"
  fi
  mkfs_test_image "$dir" "$out/$name.img" 6M "$name"
}

mkdir -p "$out"
make_root A yes
make_root B yes
make_root C yes
make_root X no
head -c 6M /dev/urandom >"$out/corrupt.img.tmp"
mv "$out/corrupt.img.tmp" "$out/corrupt.img"
ls -l "$out"

#!/bin/bash
# Build a dracut initramfs with the imgroot module for the test kernel:
#
#   tests/qemu/dracut/build-initramfs.sh FLAVOUR [OUTPUT]
#
#   FLAVOUR  hooks    dracut's shell init, no systemd (the mount hook)
#            systemd  systemd in the initramfs (the generator and unit)
#            live     no imgroot: dracut's own dmsquash-live, the benchmark's
#                     reference (tests/bench/boot-compare.sh)
#   OUTPUT   default: $IMGROOT_TEST_SHARED/dracut-FLAVOUR.img
#
# Debian's dracut 059 reads its modules from $dracutbasedir/modules.d only
# (default /usr/lib/dracut). To use the module from this source tree without
# installing it on the host, this script builds a private dracutbasedir in
# the build tree: symlinks to everything in /usr/lib/dracut, and to
# dracut-module/90imgroot beside dracut's own modules. The host's
# /etc/dracut.conf{,.d} are left out (--conf /dev/null, an empty --confdir)
# so the result does not depend on the machine's configuration.
#
# The initramfs is built as a site would (--no-hostonly: not tailored to the
# build host) for the unpacked test kernel (--kver, --kmoddir).
# IMGROOT_INIT names the imgroot-init to put in it (default: the build
# tree's).
set -euo pipefail
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/../lib.sh"

flavour=${1:-}
out=${2:-$IMGROOT_TEST_SHARED/dracut-$flavour.img}
init=${IMGROOT_INIT:-$REPO_ROOT/build/init/imgroot-init}

# The dracut modules of each flavour: the smallest set that boots a virtio
# disk, plus what the flavour is about. Their dependencies come along.
case $flavour in
  hooks) modules="base kernel-modules udev-rules rootfs-block imgroot" omit="systemd" ;;
  systemd) modules="systemd systemd-initrd dracut-systemd base kernel-modules udev-rules rootfs-block imgroot" omit="" ;;
  live) modules="base kernel-modules udev-rules rootfs-block dmsquash-live" omit="systemd" ;;
  *) die "usage: $0 hooks|systemd|live [OUTPUT]" ;;
esac

need_commands dracut lsinitrd
load_kernel_env
[[ $flavour == live || -x $init ]] || die "imgroot-init $init is not built (cmake --build build)"

work=$(dirname "$out")/dracut-work-$flavour
base=$work/dracutbasedir
rm -rf "$work"
mkdir -p "$base/modules.d" "$work/confdir" "$work/tmp"

# The private dracutbasedir: dracut's files and modules, and ours.
for f in /usr/lib/dracut/*; do
  [[ $(basename "$f") == modules.d ]] || ln -s "$f" "$base/"
done
for m in /usr/lib/dracut/modules.d/*; do
  ln -s "$m" "$base/modules.d/"
done
ln -s "$REPO_ROOT/dracut-module/90imgroot" "$base/modules.d/90imgroot"

args=(--force --no-hostonly --no-early-microcode --zstd
  --conf /dev/null --confdir "$work/confdir" --tmpdir "$work/tmp"
  --kver "$KVER" --kmoddir "$MODULES_ROOT/lib/modules/$KVER"
  --modules "$modules")
[[ -n $omit ]] && args+=(--omit "$omit")

say "dracut ${args[*]} $out.tmp"
start=$SECONDS
if ! dracutbasedir=$base IMGROOT_INIT=$init dracut "${args[@]}" "$out.tmp" "$KVER" >"$work/dracut.log" 2>&1; then
  cat "$work/dracut.log" >&2
  die "dracut failed"
fi
say "dracut took $((SECONDS - start)) s"

# What went in, for the test log; the parts the flavour needs must be there.
listing=$(lsinitrd "$out.tmp" 2>/dev/null) || die "lsinitrd cannot read $out.tmp"
sed -n '/^dracut modules:/,/^=====/p' <<<"$listing"
expect_file() {
  grep -Eq -- "$1" <<<"$listing" || die "the $flavour initramfs has no file matching /$1/"
}
expect_file 'lib/modules/.*/ext4\.ko$'
expect_file 'lib/modules/.*/loop\.ko$'
case $flavour in
  hooks)
    expect_file ' usr/lib/imgroot/imgroot-init$'
    expect_file ' (usr/)?lib/dracut/hooks/mount/90-mount-imgroot\.sh$'
    if grep -q ' usr/lib/systemd/systemd$' <<<"$listing"; then die "the hooks initramfs has systemd"; fi
    ;;
  systemd)
    expect_file ' usr/lib/imgroot/imgroot-init$'
    expect_file ' usr/lib/systemd/system/imgroot-sysroot\.service$'
    expect_file ' usr/lib/systemd/system-generators/dracut-imgroot-generator$'
    ;;
  live) expect_file ' (usr/)?sbin/dmsquash-live-root$' ;;
esac
mv "$out.tmp" "$out"
rm -rf "$work"
ls -l "$out"

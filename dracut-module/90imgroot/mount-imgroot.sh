#!/bin/sh
# shellcheck shell=sh
# dracut mount hook, without systemd in the initramfs: dracut's init sources
# the mount hooks until $NEWROOT (/sysroot) is mounted. imgroot-init does
# all of it (host partition, rotation, loop mount, fallback to the old
# image, the host partition at /sysroot/hostpart) and says why in the
# kernel log when nothing can be booted. dracut's init switches root.

# shellcheck source=/dev/null # dracut's library, in the initramfs
type ismounted > /dev/null 2>&1 || . /lib/dracut-lib.sh

# shellcheck disable=SC2154 # root: set by dracut's cmdline hooks

case "$root" in
    imgroot | imgroot:*)
        if ! ismounted "$NEWROOT"; then
            # The kernel loads filesystem modules on demand, but a loop
            # device must exist before imgroot-init can configure one.
            modprobe -q loop
            # Once only: a second run would rotate again and wait again.
            /usr/lib/imgroot/imgroot-init --prepare-sysroot \
                || die "imgroot: nothing to boot (the reason: dmesg | grep imgroot-init)"
        fi
        ;;
esac

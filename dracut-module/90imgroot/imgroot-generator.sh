#!/bin/sh
# shellcheck shell=sh
# systemd generator in a dracut initramfs with systemd: on root=imgroot or
# root=imgroot:SPEC, make initrd-root-fs.target require
# imgroot-sysroot.service, which mounts the image at /sysroot before the
# target is reached (and so before initrd-parse-etc.service and the switch).

# shellcheck source=/dev/null # dracut's library, in the initramfs
type getarg > /dev/null 2>&1 || . /lib/dracut-lib.sh

root=$(getarg root=)
case "$root" in
    imgroot | imgroot:*) ;;
    *) exit 0 ;;
esac

GENERATOR_DIR=$1
[ -n "$GENERATOR_DIR" ] || exit 1
mkdir -p "$GENERATOR_DIR/initrd-root-fs.target.requires"
ln -sf ../imgroot-sysroot.service "$GENERATOR_DIR/initrd-root-fs.target.requires/imgroot-sysroot.service"
exit 0

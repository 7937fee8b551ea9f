#!/bin/sh
# shellcheck shell=sh
# dracut cmdline hook (both modes): root=imgroot and root=imgroot:SPEC are
# ours. dracut stops the boot when no module claims root=; claim it here.
# The host partition SPEC itself is read by imgroot-init from /proc/cmdline.

[ -z "$root" ] && root=$(getarg root=)

case "$root" in
    imgroot | imgroot:*)
        # shellcheck disable=SC2034 # read by dracut's init / dracut-cmdline
        rootok=1
        ;;
esac

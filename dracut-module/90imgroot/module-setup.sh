#!/bin/bash
# shellcheck shell=bash
# dracut module "imgroot": boot hn-root.img from the host partition
# (docs/dracut.md). dracut sources this file and calls the functions below.
#
# The work is done by imgroot-init --prepare-sysroot, the same static
# program as the standalone initramfs's PID 1: it finds the host partition,
# rotates, loop-mounts hn-root.img at /sysroot and moves the host partition
# to /sysroot/hostpart. This module only puts it in the initramfs and runs
# it at the right moment: from the mount hook without systemd, from
# imgroot-sysroot.service (pulled in by a generator) with systemd.
#
# dracut provides $moddir, $initdir, $systemdutildir, $systemdsystemunitdir
# and the inst* functions.
# shellcheck disable=SC2154

# Where imgroot-init lives in the initramfs; the hook and the unit name it.
imgroot_init_dest=/usr/lib/imgroot/imgroot-init

# The imgroot-init to install: $IMGROOT_INIT (set in the environment or a
# dracut.conf.d file), else where `cmake --install` puts it.
imgroot_init_source() {
    local f
    for f in "${IMGROOT_INIT:-}" /usr/lib/imgroot/imgroot-init /usr/local/lib/imgroot/imgroot-init; do
        if [[ -n $f && -x $f ]]; then
            printf '%s\n' "$f"
            return 0
        fi
    done
    return 1
}

# called by dracut
check() {
    if ! imgroot_init_source > /dev/null; then
        derror "imgroot: no imgroot-init (install imgroot, or set IMGROOT_INIT)"
        return 1
    fi
    # Only when asked for (add_dracutmodules+=" imgroot "): a host whose own
    # root is not an image has no use for it.
    return 255
}

# called by dracut
depends() {
    # udev loads the disk drivers; kernel-modules brings them in.
    echo base kernel-modules udev-rules
    return 0
}

# called by dracut
installkernel() {
    # The host partition (ext4, btrfs, xfs), the image inside it (those, or
    # squashfs, erofs), the loop device and imgroot.overlay's overlayfs,
    # whatever the build host itself runs on. ext4 needs crc32c, which
    # modules.dep does not say (modules.softdep does). instmods skips what a
    # kernel lacks or has built in.
    hostonly='' instmods loop overlay ext4 btrfs xfs squashfs erofs crc32c_generic crc32c-intel
}

# called by dracut
install() {
    local src
    src=$(imgroot_init_source) || return 1
    inst_binary "$src" "$imgroot_init_dest"
    inst_multiple modprobe

    inst_hook cmdline 90 "$moddir/parse-imgroot.sh"
    if dracut_module_included "systemd-initrd"; then
        inst_simple "$moddir/imgroot-sysroot.service" "$systemdsystemunitdir/imgroot-sysroot.service"
        inst_script "$moddir/imgroot-generator.sh" "$systemdutildir/system-generators/dracut-imgroot-generator"
    else
        inst_hook mount 90 "$moddir/mount-imgroot.sh"
    fi
}

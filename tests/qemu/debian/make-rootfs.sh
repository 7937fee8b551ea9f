#!/bin/bash
# The Debian 12 root the distro.* tests boot, debootstrapped once per machine
# into a cache outside the source tree:
#
#   tests/qemu/debian/make-rootfs.sh [--env-out FILE]
#
# debootstrap --variant=minbase of bookworm with systemd as init, udev, kmod,
# e2fsprogs and the libraries the imgroot package depends on (the list is in
# debian-lib.sh), into $IMGROOT_CACHE/debian/<key> (default cache
# /var/cache/imgroot), the key a hash of suite, mirror, variant, package list
# and recipe version. It is built in a temporary folder beside it and renamed
# into place when complete, so an interrupted run leaves no half root; a root
# already there is reused. Prints, and with --env-out writes,
#   DEBIAN_ROOTFS=/var/cache/imgroot/debian/<key>
# Needs root (debootstrap) and Debian's archive (IMGROOT_DEBIAN_MIRROR).
set -euo pipefail
# shellcheck source=tests/qemu/debian/debian-lib.sh
source "$(dirname "$0")/debian-lib.sh"

env_out=
while (($#)); do
  case $1 in
    --env-out) env_out=$2; shift 2 ;;
    -h | --help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "make-rootfs.sh: unknown argument '$1' (see --help)" ;;
  esac
done

need_commands debootstrap flock findmnt
((EUID == 0)) || die "debootstrap needs root"

root=$(rootfs_cache_dir)
parent=$(dirname "$root")
if ! mkdir -p "$parent" 2>/dev/null || [[ ! -w $parent ]]; then
  die "cannot write the cache $parent (set IMGROOT_CACHE to a writable folder)"
fi

# unmount_under DIR: what debootstrap mounted inside DIR (proc, sys), deepest
# first, so that removing DIR never reaches into the host's /proc or /sys.
unmount_under() {
  local m
  findmnt -rn -o TARGET | awk -v d="$1/" 'index($0, d) == 1' | sort -r |
    while read -r m; do umount -l "$m" || true; done
}

build() {
  local tmp start log include
  tmp=$(mktemp -d "$parent/.build.XXXXXX")
  # An interrupted build leaves nothing behind but, at worst, this folder.
  trap 'unmount_under "$tmp"; rm -rf --one-file-system "$tmp"' EXIT
  log=$tmp/debootstrap.log
  include=$(IFS=,; echo "${DEBIAN_PACKAGES[*]}")
  say "make-rootfs.sh: debootstrap $DEBIAN_SUITE ($DEBIAN_VARIANT, +$include) from $IMGROOT_DEBIAN_MIRROR"
  start=$SECONDS
  if ! debootstrap --variant="$DEBIAN_VARIANT" --include="$include" \
    "$DEBIAN_SUITE" "$tmp/root" "$IMGROOT_DEBIAN_MIRROR" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    [[ -r $tmp/root/debootstrap/debootstrap.log ]] && tail -n 30 "$tmp/root/debootstrap/debootstrap.log" >&2
    die "debootstrap failed (the whole log is lost with the temporary folder; see above)"
  fi
  unmount_under "$tmp"
  # The downloaded packages are not part of the root.
  rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"*_Packages
  [[ -x $tmp/root/lib/systemd/systemd && -L $tmp/root/sbin/init ]] ||
    die "debootstrap made no systemd root (no /lib/systemd/systemd or /sbin/init link)"
  printf 'seconds=%s\nkey=%s\n' "$((SECONDS - start))" "$(rootfs_key)" >"$tmp/root/.imgroot-rootfs"
  say "make-rootfs.sh: debootstrap took $((SECONDS - start))s"
  mv -T "$tmp/root" "$root"
  rm -rf --one-file-system "$tmp"
  trap - EXIT
}

# One builder at a time; a second one waits and then finds the root there.
exec 9>"$parent/.lock"
flock 9
# Holding the lock, any build folder is what a killed builder left.
for stale in "$parent"/.build.*; do
  [[ -d $stale ]] || continue
  say "make-rootfs.sh: removing $stale, left by an interrupted build"
  unmount_under "$stale"
  rm -rf --one-file-system "$stale"
done
if [[ -e $root/.imgroot-rootfs ]]; then
  say "make-rootfs.sh: reusing $root ($(du -sh "$root" | cut -f1))"
else
  build
  say "make-rootfs.sh: built $root ($(du -sh "$root" | cut -f1))"
fi

env_text=$(printf 'DEBIAN_ROOTFS=%q\n' "$root")
printf '%s\n' "$env_text"
if [[ -n $env_out ]]; then
  mkdir -p "$(dirname "$env_out")"
  printf '%s\n' "$env_text" >"$env_out.tmp"
  mv "$env_out.tmp" "$env_out"
fi

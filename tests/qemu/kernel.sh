#!/bin/bash
# Fetch the Debian kernel the boot tests run, into a cache outside the
# source tree, without installing it on the host:
#
#   tests/qemu/kernel.sh [--cache DIR] [--env-out FILE]
#
# The current package is the one linux-image-amd64 depends on; it is
# downloaded with apt-get, unpacked with dpkg -x into DIR/<package>/ and
# given the modules.dep the package lacks (depmod -b). Nothing is done when
# that folder is already complete. Prints, and with --env-out writes, the
# shell assignments the other test scripts read:
#   KVER=6.1.0-56-amd64 KERNEL_IMAGE=.../boot/vmlinuz-... MODULES_ROOT=...
#
# IMGROOT_CACHE sets the cache (default /var/cache/imgroot). For offline
# work, IMGROOT_KERNEL_ROOT names an already unpacked package instead.
set -euo pipefail
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/lib.sh"

cache=$IMGROOT_CACHE
env_out=
while (($#)); do
  case $1 in
    --cache) cache=$2; shift 2 ;;
    --env-out) env_out=$2; shift 2 ;;
    -h | --help) sed -n '2,17s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) die "kernel.sh: unknown argument '$1' (see --help)" ;;
  esac
done

# The kernel release of an unpacked package: its one lib/modules/<release>.
release_of() {
  local dirs=("$1"/lib/modules/*/)
  [[ ${#dirs[@]} -eq 1 && -d ${dirs[0]} ]] || die "expected one kernel release under $1/lib/modules"
  basename "${dirs[0]}"
}

fetch() {
  local pkg=$1 dest=$2 tmp apt_opts=(-q)
  need_commands apt-get dpkg depmod
  if ! mkdir -p "$cache" 2>/dev/null || [[ ! -w $cache ]]; then
    die "cannot write the kernel cache $cache (set IMGROOT_CACHE to a writable folder)"
  fi
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # As root apt drops to the _apt user for downloads, which cannot write a
  # private temporary folder; stay root rather than open it up.
  ((EUID == 0)) && apt_opts+=(-o APT::Sandbox::User=root)
  say "kernel.sh: downloading $pkg"
  (cd "$tmp" && apt-get download "${apt_opts[@]}" "$pkg") >"$tmp/download.log" 2>&1 ||
    { cat "$tmp/download.log" >&2; die "apt-get download $pkg failed (stale lists? run apt-get update)"; }
  dpkg -x "$tmp"/"$pkg"_*.deb "$tmp/root"
  local kver
  kver=$(release_of "$tmp/root")
  depmod -b "$tmp/root" "$kver"
  [[ -r $tmp/root/boot/vmlinuz-$kver ]] || die "$pkg has no boot/vmlinuz-$kver"
  touch "$tmp/root/.complete"
  rm -rf "$dest"
  mv -T "$tmp/root" "$dest"
  rm -rf "$tmp"
  trap - EXIT
}

if [[ -n ${IMGROOT_KERNEL_ROOT:-} ]]; then
  root=$IMGROOT_KERNEL_ROOT
else
  need_commands apt-cache
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
  [[ -n $pkg ]] ||
    die "apt-cache does not know linux-image-amd64: run 'apt-get update' (tests/deps.sh does)"
  root=$cache/$pkg
  if [[ -e $root/.complete ]]; then
    say "kernel.sh: $pkg already in $root"
  else
    fetch "$pkg" "$root"
  fi
fi

kver=$(release_of "$root")
[[ -r $root/boot/vmlinuz-$kver ]] || die "no kernel image $root/boot/vmlinuz-$kver"
[[ -e $root/lib/modules/$kver/modules.dep ]] ||
  die "$root/lib/modules/$kver has no modules.dep (run depmod -b $root $kver)"

env_text=$(printf 'KVER=%q\nKERNEL_IMAGE=%q\nMODULES_ROOT=%q\n' \
  "$kver" "$root/boot/vmlinuz-$kver" "$root")
printf '%s\n' "$env_text"
if [[ -n $env_out ]]; then
  mkdir -p "$(dirname "$env_out")"
  printf '%s\n' "$env_text" >"$env_out.tmp"
  mv "$env_out.tmp" "$env_out"
fi

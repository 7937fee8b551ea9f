#!/usr/bin/env bash
# Benchmark `imgroot stage` of a 2 GiB image against the tools it replaces:
# cp, openssl dgst -sha256, cp + sha256sum, and reflinks on btrfs. Each case
# runs cold (page cache dropped) and warm (the image read once before).
#
# Usage: sudo tests/bench/stage.sh [path/to/imgroot]   (default: build/tools/imgroot)
# Needs root, loop devices, mkfs.ext4, mkfs.btrfs (btrfs-progs) and openssl.
# Set IMGROOT_BENCH_SIZE_MIB to change the image size (default 2048).
set -euo pipefail

imgroot=$(realpath "${1:-build/tools/imgroot}")
size_mib=${IMGROOT_BENCH_SIZE_MIB:-2048}

die() { echo "stage.sh: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root (loop mounts, dropping the page cache)"
[[ -x $imgroot ]] || die "no imgroot binary at $imgroot (build first, or pass its path)"
[[ -e /dev/loop-control ]] || die "no loop devices"
for tool in mkfs.ext4 mkfs.btrfs openssl sha256sum; do
  command -v "$tool" >/dev/null || die "needs $tool (apt-get install e2fsprogs btrfs-progs openssl)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/imgroot-bench.XXXXXX")
cleanup() {
  for m in "$work/ext4" "$work/btrfs"; do
    if mountpoint -q "$m"; then umount "$m"; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

# A valid, fully allocated image: an ext4 filesystem with the files the
# inspection wants and one big file of incompressible data.
make_image() {
  local image=$1 root=$work/root
  mkdir -p "$root/sbin" "$root/boot"
  printf '#!/bin/sh\n' >"$root/sbin/init"
  chmod +x "$root/sbin/init"
  echo kernel >"$root/boot/vmlinuz"
  ln -s vmlinuz "$root/boot/kernel"
  echo initramfs >"$root/boot/initramfs"
  head -c $(((size_mib - size_mib / 8 - 32) * 1024 * 1024)) /dev/zero |
    openssl enc -aes-128-ctr -pass pass:imgroot -nosalt -pbkdf2 >"$root/data"
  mkfs.ext4 -q -F -b 4096 -d "$root" "$image" "${size_mib}M"
  rm -rf "$root"
  # mkfs -d leaves unused blocks as holes; make every block real data.
  fallocate -l "${size_mib}M" "$image"
}

mount_loop() {  # mount_loop FILE SIZE_MIB MKFS DIR
  truncate -s "${2}M" "$1"
  "$3" -q "$1" >/dev/null 2>&1 || "$3" -f "$1" >/dev/null
  mkdir -p "$4"
  mount -o loop "$1" "$4"
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
warm() { cat "$1" >/dev/null; }

# seconds COMMAND...: how long it took.
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  echo "$start $end" | awk '{ printf "%.2f", $2 - $1 }'
}

results=()
remove() { if [[ -n $1 ]]; then rm -f "$1"; fi; }
run_case() {  # run_case NAME SOURCE OUTPUT_TO_REMOVE COMMAND...
  local name=$1 source=$2 clean=$3
  shift 3
  local cold warmed
  remove "$clean"
  drop_caches
  cold=$(seconds "$@")
  remove "$clean"
  sync
  warm "$source"
  warmed=$(seconds "$@")
  remove "$clean"
  results+=("$name|$cold|$warmed")
}

cp_sync() { cp "$1" "$2" && sync -f "$2"; }
cp_sha() { cp "$1" "$2" && sync -f "$2" && sha256sum "$1"; }
reflink_sha() { cp --reflink=always "$1" "$2" && sync -f "$2" && sha256sum "$1"; }

echo "stage.sh: making a ${size_mib} MiB image and loop-mounted ext4 and btrfs host partitions..." >&2
make_image "$work/image.img"
mount_loop "$work/ext4.fs" $((size_mib * 2 + 512)) mkfs.ext4 "$work/ext4"
mount_loop "$work/btrfs.fs" $((size_mib * 2 + 1024)) mkfs.btrfs "$work/btrfs"
cp "$work/image.img" "$work/btrfs/image.img"
sync

src=$work/image.img
run_case "imgroot stage (ext4 host)" "$src" "$work/ext4/hn-root-new.img" \
  "$imgroot" stage --hostpart "$work/ext4" "$src"
run_case "imgroot stage --no-inspect (ext4)" "$src" "$work/ext4/hn-root-new.img" \
  "$imgroot" stage --no-inspect --hostpart "$work/ext4" "$src"
run_case "cp + sync (ext4 host)" "$src" "$work/ext4/copy.img" cp_sync "$src" "$work/ext4/copy.img"
run_case "openssl dgst -sha256" "$src" "" openssl dgst -sha256 "$src"
run_case "sha256sum" "$src" "" sha256sum "$src"
run_case "cp + sync + sha256sum (ext4)" "$src" "$work/ext4/copy.img" \
  cp_sha "$src" "$work/ext4/copy.img"
bsrc=$work/btrfs/image.img
run_case "imgroot stage (btrfs, reflink)" "$bsrc" "$work/btrfs/hn-root-new.img" \
  "$imgroot" stage --hostpart "$work/btrfs" "$bsrc"
run_case "cp --reflink + sha256sum (btrfs)" "$bsrc" "$work/btrfs/copy.img" \
  reflink_sha "$bsrc" "$work/btrfs/copy.img"

printf '\n%s MiB image; seconds (MiB/s)\n\n' "$size_mib"
printf '| %-36s | %-16s | %-16s |\n' "case" "cold" "warm"
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..38})" "$(printf -- '-%.0s' {1..18})" \
  "$(printf -- '-%.0s' {1..18})"
for r in "${results[@]}"; do
  IFS='|' read -r name cold warmed <<<"$r"
  printf '| %-36s | %-16s | %-16s |\n' "$name" \
    "$(awk -v s="$cold" -v m="$size_mib" 'BEGIN { printf "%.2f (%.0f)", s, (s > 0 ? m / s : 0) }')" \
    "$(awk -v s="$warmed" -v m="$size_mib" 'BEGIN { printf "%.2f (%.0f)", s, (s > 0 ? m / s : 0) }')"
done

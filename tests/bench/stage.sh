#!/usr/bin/env bash
# Benchmark `imgroot stage` of a 2 GiB image against the tools it replaces:
# cp + sync, openssl dgst -sha256, cp + sync + sha256sum of the copy, and
# reflinks on btrfs (and xfs when mkfs.xfs is there). Each case runs cold
# (page cache dropped) and warm (the image read once before); the cases take
# turns, RUNS times, so that a change in the machine's load hits them all,
# and the table gives the median of each. docs/benchmarks.md ("Staging") has
# the method and the numbers.
#
# Usage: sudo tests/bench/stage.sh [path/to/imgroot]   (default: build/tools/imgroot)
# Needs root, loop devices, mkfs.ext4, mkfs.btrfs (btrfs-progs) and openssl;
# mkfs.xfs (xfsprogs) is optional.
# IMGROOT_BENCH_SIZE_MIB: the image size (default 2048); IMGROOT_BENCH_RUNS:
# runs of each case (default 5); IMGROOT_BENCH_SAMPLES: a file to keep every
# measurement in ("case|cold or warm|seconds|load" lines); TMPDIR: where the
# image and the loop-mounted host partitions go (needs about 5 times the
# image size, on a real disk).
set -euo pipefail

imgroot=$(realpath "${1:-build/tools/imgroot}")
size_mib=${IMGROOT_BENCH_SIZE_MIB:-2048}
runs=${IMGROOT_BENCH_RUNS:-5}

die() { echo "stage.sh: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root (loop mounts, dropping the page cache)"
[[ -x $imgroot ]] || die "no imgroot binary at $imgroot (build first, or pass its path)"
[[ -e /dev/loop-control ]] || die "no loop devices"
for tool in mkfs.ext4 mkfs.btrfs openssl sha256sum; do
  command -v "$tool" >/dev/null || die "needs $tool (apt-get install e2fsprogs btrfs-progs openssl)"
done
have_xfs=false
if command -v mkfs.xfs >/dev/null; then have_xfs=true; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/imgroot-bench.XXXXXX")
loops=()
cleanup() {
  for m in "$work/ext4" "$work/btrfs" "$work/xfs"; do
    if mountpoint -q "$m"; then umount "$m"; fi
  done
  for dev in "${loops[@]}"; do losetup -d "$dev" 2>/dev/null || true; done
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

# The host partitions are files on TMPDIR's disk, attached with direct I/O:
# like a real partition, nothing caches their blocks a second time. (A
# buffered loop device keeps every block written through it in the backing
# file's page cache too; its writeback then dominates and makes a warm
# source look slower than a cold one.)
mount_loop() {  # mount_loop FILE SIZE_MIB MKFS DIR
  local dev
  truncate -s "${2}M" "$1"
  "$3" -q "$1" >/dev/null 2>&1 || "$3" -f "$1" >/dev/null
  mkdir -p "$4"
  dev=$(losetup --direct-io=on --find --show "$1")
  loops+=("$dev")
  mount "$dev" "$4"
}

drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; }
warm() { cat "$1" >/dev/null; }
load() { cut -d' ' -f1 /proc/loadavg; }

# seconds COMMAND...: how long it took.
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  echo "$start $end" | awk '{ printf "%.2f", $2 - $1 }'
}

# Every measurement is a line "case|cold or warm|seconds|load" in $samples.
samples=$work/samples
cases=()
declare -A source_of output_of command_of
add_case() {  # add_case NAME SOURCE OUTPUT_TO_REMOVE COMMAND...
  local name=$1
  cases+=("$name")
  source_of[$name]=$2
  output_of[$name]=$3
  shift 3
  command_of[$name]=$(printf '%q ' "$@")
}
remove() { if [[ -n $1 ]]; then rm -f "$1"; fi; }
run_case() {  # run_case NAME
  local name=$1 clean=${output_of[$1]} t
  remove "$clean"
  drop_caches
  t=$(eval "seconds ${command_of[$name]}")
  echo "$name|cold|$t|$(load)" >>"$samples"
  remove "$clean"
  sync
  warm "${source_of[$name]}"
  t=$(eval "seconds ${command_of[$name]}")
  echo "$name|warm|$t|$(load)" >>"$samples"
  remove "$clean"
}

cp_sync() { cp "$1" "$2" && sync -f "$2"; }
cp_sync_sha() { cp "$1" "$2" && sync -f "$2" && sha256sum "$2"; }
reflink_sync() { cp --reflink=always "$1" "$2" && sync -f "$2"; }

echo "stage.sh: making a ${size_mib} MiB image and loop-mounted host partitions..." >&2
make_image "$work/image.img"
mount_loop "$work/ext4.fs" $((size_mib * 2 + 512)) mkfs.ext4 "$work/ext4"
mount_loop "$work/btrfs.fs" $((size_mib * 2 + 1024)) mkfs.btrfs "$work/btrfs"
cp "$work/image.img" "$work/btrfs/image.img"
if $have_xfs; then
  mount_loop "$work/xfs.fs" $((size_mib * 2 + 1024)) mkfs.xfs "$work/xfs"
  cp "$work/image.img" "$work/xfs/image.img"
fi
sync

src=$work/image.img
stage() { "$imgroot" stage --tries 0 "$@"; }
add_case "imgroot stage (ext4 host)" "$src" "$work/ext4/hn-root-new.img" \
  stage --hostpart "$work/ext4" "$src"
add_case "imgroot stage --no-inspect (ext4)" "$src" "$work/ext4/hn-root-new.img" \
  stage --no-inspect --hostpart "$work/ext4" "$src"
add_case "cp + sync (ext4)" "$src" "$work/ext4/copy.img" cp_sync "$src" "$work/ext4/copy.img"
add_case "openssl dgst -sha256" "$src" "" openssl dgst -sha256 "$src"
add_case "sha256sum" "$src" "" sha256sum "$src"
add_case "cp + sync + sha256sum of the copy" "$src" "$work/ext4/copy.img" \
  cp_sync_sha "$src" "$work/ext4/copy.img"
for fs in btrfs xfs; do
  [[ $fs == xfs ]] && ! $have_xfs && continue
  fsrc=$work/$fs/image.img
  add_case "imgroot stage ($fs, reflink)" "$fsrc" "$work/$fs/hn-root-new.img" \
    stage --hostpart "$work/$fs" "$fsrc"
  add_case "imgroot stage --hash ($fs, reflink)" "$fsrc" "$work/$fs/hn-root-new.img" \
    stage --hash --hostpart "$work/$fs" "$fsrc"
  add_case "cp --reflink + sync ($fs)" "$fsrc" "$work/$fs/copy.img" \
    reflink_sync "$fsrc" "$work/$fs/copy.img"
done

for run in $(seq "$runs"); do
  echo "stage.sh: run $run of $runs (load $(load))..." >&2
  for name in "${cases[@]}"; do run_case "$name"; done
done
if [[ -n ${IMGROOT_BENCH_SAMPLES:-} ]]; then cp "$samples" "$IMGROOT_BENCH_SAMPLES"; fi

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
times_of() { awk -F'|' -v n="$1" -v m="$2" '$1 == n && $2 == m { print $3 }' "$samples"; }
cell() {  # cell NAME MODE: "median (MiB/s) [min-max]"
  local med
  med=$(times_of "$1" "$2" | median)
  printf '%s (%s) [%s-%s]' "$med" \
    "$(awk -v s="$med" -v m="$size_mib" 'BEGIN { printf "%.0f", (s > 0 ? m / s : 0) }')" \
    "$(times_of "$1" "$2" | sort -n | head -1)" "$(times_of "$1" "$2" | sort -n | tail -1)"
}

printf '\n%s MiB image, %s runs per case; median seconds (MiB/s) [min-max]; load average %s (median of the samples, min %s, max %s); %s\n\n' \
  "$size_mib" "$runs" "$(cut -d'|' -f4 "$samples" | median)" \
  "$(cut -d'|' -f4 "$samples" | sort -n | head -1)" "$(cut -d'|' -f4 "$samples" | sort -n | tail -1)" \
  "$(nproc) CPUs"
printf '| %s | %s | %s |\n|---|---:|---:|\n' "case" "cold" "warm"
for name in "${cases[@]}"; do
  printf '| %s | %s | %s |\n' "$name" "$(cell "$name" cold)" "$(cell "$name" warm)"
done

# The targets, as ratios of medians.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
printf '\n| ratio (medians) | cold | warm |\n|---|---:|---:|\n'
declare -A stage_t slower cpsha
for mode in cold warm; do
  stage_t[$mode]=$(times_of "imgroot stage (ext4 host)" $mode | median)
  cp_t=$(times_of "cp + sync (ext4)" $mode | median)
  ssl_t=$(times_of "openssl dgst -sha256" $mode | median)
  slower[$mode]=$(awk -v a="$cp_t" -v b="$ssl_t" 'BEGIN { print (a > b ? a : b) }')
  cpsha[$mode]=$(times_of "cp + sync + sha256sum of the copy" $mode | median)
done
printf '| stage / slower of (cp + sync, openssl) (target <= 1.10) | %s | %s |\n' \
  "$(ratio "${stage_t[cold]}" "${slower[cold]}")" "$(ratio "${stage_t[warm]}" "${slower[warm]}")"
# The same ratio taken within each run (cases minutes apart, under about
# the same load), then the median of the runs: less moved by load swings.
paired() {  # paired MODE
  awk -F'|' -v m="$1" '
    $2 != m { next }
    $1 == "imgroot stage (ext4 host)" { s[++ns] = $3 }
    $1 == "cp + sync (ext4)" { c[++nc] = $3 }
    $1 == "openssl dgst -sha256" { o[++no] = $3 }
    END { for (i = 1; i <= ns; i++) print s[i] / (c[i] > o[i] ? c[i] : o[i]) }' "$samples" |
    median | awk '{ printf "%.2f", $1 }'
}
printf '| the same, median of the per-run ratios | %s | %s |\n' "$(paired cold)" "$(paired warm)"
printf '| (cp + sync + sha256sum) / stage (target >= 3) | %s | %s |\n' \
  "$(ratio "${cpsha[cold]}" "${stage_t[cold]}")" "$(ratio "${cpsha[warm]}" "${stage_t[warm]}")"

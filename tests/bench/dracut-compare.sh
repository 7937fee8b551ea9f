#!/bin/bash
# Side by side, on one disk and one kernel under QEMU: the standalone imgroot
# initramfs, dracut with the imgroot module (shell init and systemd), and
# dracut's own dmsquash-live booting the same image file:
#
#   tests/bench/dracut-compare.sh [WORKDIR]     (default: build/bench/dracut-compare)
#   RUNS=5 tests/bench/dracut-compare.sh
#   KEEP_INITRAMFS=1 ...   reuse the dracut images WORKDIR already has
#
#   (a)  standalone   imgroot initramfs (imgroot-init + 13 modules, zstd)
#   (b)  dracut-hooks dracut --no-hostonly + imgroot, no systemd
#   (b') dracut-systemd  the same with systemd in the initramfs
#   (c)  dracut-live  dracut --no-hostonly + dmsquash-live, no systemd:
#                     root=live:LABEL=hostpart rd.live.overlay.overlayfs=1,
#                     the image file reached as LiveOS/rootfs.img, a symlink
#                     to hn-root.img on the same host partition
#
# The disk: GPT, an empty ESP and the host partition holding hn-root.img
# (test image A, no rotation). The variants take turns, RUNS rounds; per
# variant the medians of the printk times of "Run /init" (the kernel is
# done and has unpacked the initramfs) and of the image's init announcing
# itself, the minimum of the latter (the least disturbed run on a shared
# machine), the QEMU wall time and the compressed initramfs size. All
# dracut images are zstd.
set -euo pipefail
# shellcheck source=tests/bench/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

bench_start "${1:-$REPO_ROOT/build/bench/dracut-compare}" dracut debugfs
export IMGROOT_INIT=$init
dracut_dir=$REPO_ROOT/tests/qemu/dracut
"$REPO_ROOT/tests/qemu/make-images.sh" "$work/images" >/dev/null
"$dracut_dir/make-images.sh" "$work/dracut-images" >/dev/null

say "building the initramfs images"
"$tool" initramfs --output "$work/standalone.img" --kernel-release "$KVER" \
  --modules-root "$MODULES_ROOT" --modules "virtio_pci virtio_blk ext4 loop" \
  --init "$init" >/dev/null || die "imgroot initramfs failed"
for flavour in hooks systemd live; do
  [[ -n ${KEEP_INITRAMFS:-} && -s $work/dracut-$flavour.img ]] && continue
  "$dracut_dir/build-initramfs.sh" "$flavour" "$work/dracut-$flavour.img" >"$work/build-$flavour.log" 2>&1 ||
    { cat "$work/build-$flavour.log" >&2; die "building the dracut $flavour initramfs failed"; }
done

# ms LOG PATTERN: the printk time of the first line matching PATTERN, in ms.
ms() {
  local t
  t=$(printk_time "$1" "$2")
  [[ -n $t ]] || die "no timestamped line matching /$2/ in $1"
  awk -v t="$t" 'BEGIN { printf "%d", t * 1000 + 0.5 }'
}

# The same disk for every boot, made afresh each time (a boot replays the
# journal and may write to the host partition).
fresh_disk() {
  rm -rf "$work/hostpart" && mkdir -p "$work/hostpart/LiveOS"
  cp --sparse=always "$work/dracut-images/A.img" "$work/hostpart/hn-root.img"
  ln -s ../hn-root.img "$work/hostpart/LiveOS/rootfs.img"
  make_disk "$work/disk.img" hostpart "$work/hostpart"
}

# boot_once NAME INITRD APPEND RUN: one boot; prints "to-init total wall" (ms ms s).
boot_once() {
  local name=$1 initrd=$2 append=$3 run=$4 log start wall t_init t_image
  fresh_disk
  log=$work/console-$name-$run.log
  start=$SECONDS
  VM_INITRD=$initrd run_vm "$log" 180 'Kernel panic|FATAL|emergency' "$append" "$work/disk.img" 2>/dev/null
  wall=$((SECONDS - start))
  if [[ $VM_RESULT != "exited 0" ]] || ! grep -q 'IMGROOT-TEST booted=A' "$log"; then
    tail -n 40 "$log" >&2
    die "$name run $run: the boot failed ($VM_RESULT); log: $log"
  fi
  t_init=$(ms "$log" 'Run /init as init process')
  t_image=$(ms "$log" 'IMGROOT-TEST booted=A')
  say "$name run $run: /init at $t_init ms, image init at $t_image ms, ${wall}s wall"
  echo "$t_init $t_image $wall"
}

# column N ROWS...: the values of column N, sorted numerically.
column_sorted() {
  local n=$1
  shift
  printf '%s\n' "$@" | awk -v c="$n" '{ print $c }' | sort -n
}
median() { awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

names=(standalone dracut-hooks dracut-systemd dracut-live)
declare -A initrds=(
  [standalone]=$work/standalone.img [dracut-hooks]=$work/dracut-hooks.img
  [dracut-systemd]=$work/dracut-systemd.img [dracut-live]=$work/dracut-live.img)
declare -A appends=(
  [standalone]="" [dracut-hooks]="root=imgroot rd.shell=0" [dracut-systemd]="root=imgroot rd.shell=0"
  [dracut-live]="root=live:LABEL=hostpart rd.live.overlay.overlayfs=1 rd.shell=0")
# The variants take turns, run by run, so a change in the machine's load
# (it is shared) falls on all of them rather than on one.
declare -A rows=()
for ((run = 1; run <= runs; run++)); do
  for name in "${names[@]}"; do
    row=$(boot_once "$name" "${initrds[$name]}" "${appends[$name]}" "$run") || exit 1
    rows[$name]+="$row"$'\n'
  done
done

# One line per variant: size, medians of kernel->/init, /init->image init,
# kernel->image init, the minimum of kernel->image init (the least
# disturbed run), the median wall time.
results=()
for name in "${names[@]}"; do
  mapfile -t r < <(printf '%s' "${rows[$name]}")
  inside=()
  for line in "${r[@]}"; do
    read -r a b c <<<"$line"
    inside+=("$((b - a)) $b $c")
  done
  results+=("$name $(stat -c %s "${initrds[$name]}") $(column_sorted 1 "${r[@]}" | median) \
$(column_sorted 1 "${inside[@]}" | median) $(column_sorted 2 "${r[@]}" | median) \
$(column_sorted 2 "${r[@]}" | head -n 1) $(column_sorted 3 "${r[@]}" | median)")
done

printf '\n%s, %d runs each, the variants taking turns; times from printk timestamps (kernel start = 0)\n' \
  "$(qemu_accel_args | cut -d' ' -f2)" "$runs"
{
  echo "variant initramfs-bytes kernel->/init-ms(med) /init->image-init-ms(med) kernel->image-init-ms(med) kernel->image-init-ms(min) wall-s(med)"
  printf '%s\n' "${results[@]}"
} | column -t
base=$(awk '{ print $2, $5, $6 }' <<<"${results[0]}")
printf '\nratios to the standalone initramfs (size; kernel->image init, median and minimum):\n'
for r in "${results[@]:1}"; do
  awk -v b="$base" '{ split(b, s, " ");
    printf "  %-15s %5.1fx larger  %5.1fx slower (median)  %5.1fx slower (min)\n", $1, $2 / s[1], $5 / s[2], $6 / s[3] }' <<<"$r"
done

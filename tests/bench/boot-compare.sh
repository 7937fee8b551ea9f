#!/bin/bash
# Initramfs variants side by side, on one disk and one kernel under QEMU:
#
#   tests/bench/boot-compare.sh [WORKDIR]     (default: build/bench/boot-compare)
#   RUNS=5 tests/bench/boot-compare.sh
#   VARIANTS="default thirteen dracut-live" SHAPES="virtio heavy" ...  (the defaults)
#   KEEP_INITRAMFS=1 ...   reuse the dracut images WORKDIR already has
#
# Variants:
#   default         `imgroot initramfs` as a node gets it: the default module
#                   list (25 names and their closure), loaded by need
#   thirteen        `imgroot initramfs --modules "virtio_pci virtio_blk ext4
#                   loop"`: the 13 modules a virtio disk needs
#   dracut-hooks    dracut --no-hostonly + the imgroot module, no systemd
#   dracut-systemd  the same with systemd in the initramfs
#   dracut-live     the reference: dracut --no-hostonly + dmsquash-live, no
#                   imgroot: root=live:LABEL=hostpart rd.live.overlay.overlayfs=1,
#                   the image file reached as LiveOS/rootfs.img, a symlink to
#                   hn-root.img on the same host partition
# VM shapes:
#   virtio  the boot disk on virtio, nothing else
#   heavy   the same plus an AHCI controller and an NVMe controller, each
#           with a small blank disk: drivers the default initramfs carries
#           and, by their modalias, loads
#
# The disk: GPT, an empty ESP and the host partition holding hn-root.img
# (test image A, no rotation). Shape by shape, the variants take turns, RUNS
# rounds; per variant the medians of the printk times of "Run /init" (the
# kernel is done and has unpacked the initramfs) and of the image's init
# announcing itself, the minimum of the latter, the QEMU wall time, the
# modules imgroot-init loaded and the compressed initramfs size. All dracut
# images are zstd. The machine, kernel, QEMU and load average come first:
# the comparison means something only on an otherwise idle machine.
set -euo pipefail
# shellcheck source=tests/bench/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

bench_start "${1:-$REPO_ROOT/build/bench/boot-compare}" dracut debugfs
export IMGROOT_INIT=$init
read -ra variants <<<"${VARIANTS:-default thirteen dracut-live}"
read -ra shapes <<<"${SHAPES:-virtio heavy}"
dracut_dir=$REPO_ROOT/tests/qemu/dracut
"$REPO_ROOT/tests/qemu/make-images.sh" "$work/images" >/dev/null
"$dracut_dir/make-images.sh" "$work/dracut-images" >/dev/null

say "building the initramfs images"
declare -A initrds=() appends=()
for name in "${variants[@]}"; do
  initrds[$name]=$work/$name.img
  case $name in
    default | thirteen)
      modules=()
      [[ $name == thirteen ]] && modules=(--modules "virtio_pci virtio_blk ext4 loop")
      "$tool" initramfs --output "$work/$name.img" --kernel-release "$KVER" \
        --modules-root "$MODULES_ROOT" "${modules[@]}" --init "$init" >/dev/null ||
        die "imgroot initramfs ($name) failed"
      appends[$name]="" ;;
    dracut-hooks | dracut-systemd | dracut-live)
      flavour=${name#dracut-}
      if [[ -z ${KEEP_INITRAMFS:-} || ! -s $work/$name.img ]]; then
        "$dracut_dir/build-initramfs.sh" "$flavour" "$work/$name.img" >"$work/build-$flavour.log" 2>&1 ||
          { cat "$work/build-$flavour.log" >&2; die "building the dracut $flavour initramfs failed"; }
      fi
      if [[ $flavour == live ]]; then
        appends[$name]="root=live:LABEL=hostpart rd.live.overlay.overlayfs=1 rd.shell=0"
      else
        appends[$name]="root=imgroot rd.shell=0"
      fi ;;
    *) die "VARIANTS: unknown variant $name (default thirteen dracut-hooks dracut-systemd dracut-live)" ;;
  esac
done

# The heavy shape's extra controllers, each with a blank 16 MiB disk.
truncate -s 16M "$work/blank-ahci.img" "$work/blank-nvme.img"
heavy="-device ahci,id=bench_ahci"
heavy+=" -drive file=$work/blank-ahci.img,format=raw,if=none,id=bench_ahci_disk"
heavy+=" -device ide-hd,drive=bench_ahci_disk,bus=bench_ahci.0"
heavy+=" -drive file=$work/blank-nvme.img,format=raw,if=none,id=bench_nvme_disk"
heavy+=" -device nvme,drive=bench_nvme_disk,serial=bench-nvme"
declare -A shape_args=([virtio]="" [heavy]=$heavy)
for shape in "${shapes[@]}"; do
  [[ -v "shape_args[$shape]" ]] || die "SHAPES: unknown shape $shape (virtio heavy)"
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

# boot_once SHAPE NAME RUN: one boot; prints "to-init image-init wall modules"
# (ms ms s count; the count is - for dracut).
boot_once() {
  local shape=$1 name=$2 run=$3 log start wall t_init t_image loaded
  fresh_disk
  log=$work/console-$shape-$name-$run.log
  start=$SECONDS
  VM_EXTRA_ARGS=${shape_args[$shape]} VM_INITRD=${initrds[$name]} \
    run_vm "$log" 240 'Kernel panic|FATAL|emergency' "${appends[$name]}" "$work/disk.img" 2>/dev/null
  wall=$((SECONDS - start))
  if [[ $VM_RESULT != "exited 0" ]] || ! grep -q 'IMGROOT-TEST booted=A' "$log"; then
    tail -n 40 "$log" >&2
    die "$shape $name run $run: the boot failed ($VM_RESULT); log: $log"
  fi
  t_init=$(ms "$log" 'Run /init as init process')
  t_image=$(ms "$log" 'IMGROOT-TEST booted=A')
  loaded=$(sed -n 's/.*imgroot-init: loaded \([0-9]*\) modules.*/\1/p' "$log" | head -n 1)
  say "$shape $name run $run: /init at $t_init ms, image init at $t_image ms, ${wall}s wall, modules ${loaded:--}"
  echo "$t_init $t_image $wall ${loaded:--}"
}

# column N ROWS...: the values of column N, sorted numerically.
column_sorted() {
  local n=$1
  shift
  printf '%s\n' "$@" | awk -v c="$n" '{ print $c }' | sort -n
}
median() { awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf 'machine: %s, %s CPUs, %s MiB; kernel %s; %s; %s\n' \
  "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" "$(nproc)" \
  "$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo)" "$KVER" \
  "$(qemu-system-x86_64 --version | head -n 1)" "$(qemu_accel_args | cut -d' ' -f2)"
printf 'load average before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

# Shape by shape, the variants take turns, run by run, so a change in the
# machine's load falls on all of them rather than on one.
declare -A rows=()
for shape in "${shapes[@]}"; do
  for ((run = 1; run <= runs; run++)); do
    for name in "${variants[@]}"; do
      row=$(boot_once "$shape" "$name" "$run") || exit 1
      rows[$shape/$name]+="$row"$'\n'
    done
  done
done
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

# One line per shape and variant: size, modules loaded (median), medians of
# kernel->/init, /init->image init, kernel->image init, the minimum of
# /init->image init, the median wall time.
results=()
for shape in "${shapes[@]}"; do
  for name in "${variants[@]}"; do
    mapfile -t r < <(printf '%s' "${rows[$shape/$name]}")
    inside=()
    for line in "${r[@]}"; do
      read -r a b _ <<<"$line"
      inside+=("$((b - a))")
    done
    results+=("$shape $name $(stat -c %s "${initrds[$name]}") $(column_sorted 4 "${r[@]}" | median) \
$(column_sorted 1 "${r[@]}" | median) $(column_sorted 1 "${inside[@]}" | median) \
$(column_sorted 2 "${r[@]}" | median) $(column_sorted 1 "${inside[@]}" | head -n 1) \
$(column_sorted 3 "${r[@]}" | median)")
  done
done

printf '\n%d runs each, the variants taking turns; times from printk timestamps (kernel start = 0)\n' "$runs"
{
  echo "shape variant initramfs-bytes modules(med) kernel->/init-ms(med) /init->image-init-ms(med) kernel->image-init-ms(med) /init->image-init-ms(min) wall-s(med)"
  printf '%s\n' "${results[@]}"
} | column -t

# Ratios of /init->image init (medians), per shape, to the first variant.
printf '\n/init->image init (median) against %s, per shape:\n' "${variants[0]}"
for shape in "${shapes[@]}"; do
  base=$(awk -v s="$shape" -v v="${variants[0]}" '$1 == s && $2 == v { print $6 }' <(printf '%s\n' "${results[@]}"))
  printf '%s\n' "${results[@]}" | awk -v s="$shape" -v b="$base" -v v="${variants[0]}" '
    $1 == s && $2 != v { printf "  %-7s %-15s %6.2fx the time (%+.0f %%)\n", s, $2, $6 / b, ($6 / b - 1) * 100 }'
done

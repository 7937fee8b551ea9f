#!/bin/bash
# Boot-time benchmark of the standalone initramfs: boots the boot.plain
# disk (hn-root.img only) RUNS times in QEMU and reads the printk timestamps
# of imgroot-init's own lines:
#
#   tests/bench/boot-time.sh [WORKDIR]      (default: build/bench/boot-time)
#   RUNS=5 tests/bench/boot-time.sh
#
#   modules   'imgroot-init: starting' -> 'imgroot-init: loaded N modules'
#   dev-wait  'loaded N modules' -> 'host partition ... found in N ms'
#   own       kernel runs /init -> 'switching root to', less the two above:
#             what imgroot-init itself costs (mounts, rotation, loop mount,
#             switch root)
#   exec      'switching root to' -> the image's init says it runs
# and the sizes of the initramfs and of imgroot-init. The initramfs is built
# as a node would get it: no busybox. Under TCG the times are those of an
# emulated CPU; compare runs with each other, not with hardware.
set -euo pipefail
# shellcheck source=tests/bench/bench-lib.sh
source "$(dirname "$0")/bench-lib.sh"

bench_start "${1:-$REPO_ROOT/build/bench/boot-time}"
"$REPO_ROOT/tests/qemu/make-images.sh" "$work/images" >/dev/null

initrd=$work/initramfs.img
"$tool" initramfs --output "$initrd" --kernel-release "$KVER" --modules-root "$MODULES_ROOT" \
  --modules "virtio_pci virtio_blk ext4 loop" --init "$init" >/dev/null ||
  die "imgroot initramfs failed"

# ms LOG PATTERN: the printk time of the first line matching PATTERN, in ms.
ms() {
  local t
  t=$(printk_time "$1" "$2")
  [[ -n $t ]] || die "no timestamped line matching /$2/ in $1"
  awk -v t="$t" 'BEGIN { printf "%d", t * 1000 + 0.5 }'
}

results=()
for ((run = 1; run <= runs; run++)); do
  rm -rf "$work/hostpart" && mkdir -p "$work/hostpart"
  cp --sparse=always "$work/images/A.img" "$work/hostpart/hn-root.img"
  make_disk "$work/disk.img" hostpart "$work/hostpart"
  log=$work/console-$run.log
  start=$SECONDS
  VM_INITRD=$initrd run_vm "$log" 120 'Kernel panic' "printk.time=1" "$work/disk.img" 2>/dev/null
  wall=$((SECONDS - start))
  if [[ $VM_RESULT != "exited 0" ]] || ! grep -q 'IMGROOT-TEST booted=A' "$log"; then
    cat "$log" >&2
    die "run $run: the plain boot failed ($VM_RESULT)"
  fi
  t_init=$(ms "$log" 'Run /init as init process')
  t_start=$(ms "$log" 'imgroot-init: starting')
  t_mod=$(ms "$log" 'imgroot-init: loaded [0-9]+ modules')
  t_found=$(ms "$log" 'imgroot-init: host partition .*found in')
  t_switch=$(ms "$log" 'imgroot-init: switching root to')
  t_image=$(ms "$log" 'IMGROOT-TEST booted=A')
  modules=$((t_mod - t_start))
  wait=$((t_found - t_mod))
  own=$((t_switch - t_init - modules - wait))
  results+=("$run $t_init $modules $wait $own $((t_image - t_switch)) $wall")
done

printf '\nboot.plain under %s, %d runs (times in ms, from printk timestamps)\n' \
  "$(qemu_accel_args | cut -d' ' -f2)" "$runs"
{
  echo "run to-/init modules dev-wait own exec wall-s"
  printf '%s\n' "${results[@]}"
  printf '%s\n' "${results[@]}" | awk '{ for (i = 2; i <= NF; i++) s[i] += $i; n++ }
    END { printf "mean"; for (i = 2; i <= 7; i++) printf " %d", s[i] / n + 0.5; print "" }'
} | column -t
strip -o "$work/imgroot-init.stripped" "$init"
printf '\n'
{
  echo "artefact bytes"
  echo "initramfs(no-busybox,zstd) $(stat -c %s "$initrd")"
  echo "imgroot-init(as-built) $(stat -c %s "$init")"
  echo "imgroot-init(stripped) $(stat -c %s "$work/imgroot-init.stripped")"
} | column -t

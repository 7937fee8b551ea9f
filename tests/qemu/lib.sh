# shellcheck shell=bash
# Shared helpers for the QEMU boot tests: messages, prerequisites, where the
# shared artefacts live, test disks and their inspection after a boot, and
# running a VM. Sourced by the scripts beside it; defines functions only.

QEMU_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$QEMU_DIR/../.." && pwd)

# The shared artefacts (kernel.env, initramfs, test images) built once by
# the CTest fixtures. CTest passes the directory; by hand, the default build.
: "${IMGROOT_TEST_SHARED:=$REPO_ROOT/build/tests/qemu/shared}"
: "${IMGROOT_CACHE:=/var/cache/imgroot}"

# Results of run_qemu, read by its callers (exported only to say so).
export VM_RESULT='' VM_SECONDS=''

say() { printf '%s\n' "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

# Prerequisites are checked up front so a machine that cannot run the tests
# says exactly what it lacks instead of failing somewhere in the middle.
# Arguments: command names; a sbin name is looked up in /usr/sbin and /sbin
# too, since PATH may not have them for a non-root user.
need_commands() {
  local missing=() c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || [[ -x /usr/sbin/$c || -x /sbin/$c ]] || missing+=("$c")
  done
  if ((${#missing[@]})); then
    say "FAIL: missing commands: ${missing[*]}"
    say "      install the test dependencies with: sudo tests/deps.sh"
    exit 1
  fi
}
PATH=$PATH:/usr/sbin:/sbin

# ---------------------------------------------------------------- artefacts

# Loads KVER, KERNEL_IMAGE and MODULES_ROOT written by kernel.sh.
load_kernel_env() {
  local env=$IMGROOT_TEST_SHARED/kernel.env
  [[ -r $env ]] || die "no test kernel: $env is missing (run tests/qemu/kernel.sh --env-out $env, or ctest -R boot. to run the fixtures)"
  # shellcheck source=/dev/null
  source "$env"
  [[ -r $KERNEL_IMAGE ]] || die "test kernel $KERNEL_IMAGE is missing (rerun tests/qemu/kernel.sh)"
}

shared_initramfs() { printf '%s\n' "$IMGROOT_TEST_SHARED/initramfs.img"; }
shared_image() { printf '%s\n' "$IMGROOT_TEST_SHARED/images/$1.img"; }

# ---------------------------------------------------------------- disks

# make_disk DISK LABEL DIR: a GPT disk as docs/design.md section 1 describes it:
# partition 1 a FAT ESP labelled EFI-BOOT (empty: these boots use -kernel),
# partition 2 ext4 with filesystem label LABEL holding the contents of DIR.
# Nothing is mounted on the host; partitions are written in with dd.
make_disk() {
  local disk=$1 label=$2 dir=$3
  local work=$disk.parts esp_mib=8 hp_mib used_kib out
  rm -rf "$work" && mkdir -p "$work"

  mkfs.vfat -C -n EFI-BOOT "$work/esp.img" $((esp_mib * 1024)) >"$work/mkfs.vfat.log" 2>&1 ||
    { cat "$work/mkfs.vfat.log" >&2; die "mkfs.vfat of the ESP failed"; }

  # Room for the files plus ext4's metadata and a journal; whole MiB.
  used_kib=$(du -sk --apparent-size "$dir" | cut -f1)
  hp_mib=$((used_kib / 1024 + 24))
  mkfs.ext4 -q -F -b 4096 -L "$label" -E root_owner=0:0 -d "$dir" "$work/hostpart.img" "${hp_mib}M" \
    >"$work/mkfs.ext4.log" 2>&1 ||
    { cat "$work/mkfs.ext4.log" >&2; die "mkfs.ext4 of the host partition failed"; }

  # 1 MiB for the protective MBR and primary GPT, 1 MiB at the end for the
  # backup GPT.
  rm -f "$disk"
  truncate -s $((1 + esp_mib + hp_mib + 1))M "$disk"
  local s1=2048 e1=$((2048 + esp_mib * 2048 - 1))
  local s2=$((e1 + 1)) e2=$((e1 + hp_mib * 2048))
  # sgdisk has no quiet option (-q is not one: it makes it write nothing);
  # keep its output for the failure message.
  if ! out=$(sgdisk -o \
    -n "1:$s1:$e1" -t 1:ef00 -c 1:EFI-BOOT \
    -n "2:$s2:$e2" -t 2:8300 -c "2:$label" "$disk" 2>&1); then
    say "$out"
    die "sgdisk could not partition $disk"
  fi
  dd if="$work/esp.img" of="$disk" bs=1M seek=1 conv=notrunc,sparse status=none
  dd if="$work/hostpart.img" of="$disk" bs=1M seek=$((1 + esp_mib)) conv=notrunc,sparse status=none
  rm -rf "$work"
}

# copy_hostpart DISK OUT: partition 2 of DISK, as the guest left it, to OUT.
copy_hostpart() {
  local start sectors
  read -r start sectors < <(partx -g -n 2 -o START,SECTORS "$1") || die "no partition 2 on $1"
  dd if="$1" of="$2" bs=512 skip="$start" count="$sectors" conv=sparse status=none
}

# extract_hostpart DISK OUT: copy partition 2 out of DISK and repair the
# copy. A guest that powered off with the host partition mounted leaves its
# journal to replay, and debugfs reads only the home locations. Fails when
# e2fsck finds damage it cannot repair (exit status 4 or more).
extract_hostpart() {
  local disk=$1 out=$2 rc=0
  copy_hostpart "$disk" "$out"
  e2fsck -fy "$out" >"$out.fsck.log" 2>&1 || rc=$?
  if ((rc >= 4)); then
    cat "$out.fsck.log" >&2
    die "e2fsck of the host partition after the boot failed (exit $rc)"
  fi
}

# hostpart_names FS: the names in the root directory of an ext4 image, one a
# line, sorted, without . and ..
hostpart_names() {
  debugfs -R 'ls -p /' "$1" 2>/dev/null |
    awk -F/ 'NF >= 6 && $6 != "." && $6 != ".." { print $6 }' | sort
}

# image_name FS FILE: which test image the file FILE on the ext4 image FS is:
# the name recorded in its /etc/imgroot-test-name, or for an image without a
# filesystem, the test image with the same checksum; "?" when neither.
image_name() {
  local fs=$1 file=$2 tmp sum name img
  tmp=$(mktemp "${TMPDIR:-/tmp}/imgroot-image.XXXXXX")
  debugfs -R "dump /$file $tmp" "$fs" >/dev/null 2>&1
  if [[ ! -s $tmp ]]; then
    rm -f "$tmp"
    echo "?"
    return
  fi
  name=$(debugfs -R 'cat /etc/imgroot-test-name' "$tmp" 2>/dev/null || true)
  if [[ -z $name ]]; then
    sum=$(sha256sum <"$tmp" | cut -d' ' -f1)
    for img in "$IMGROOT_TEST_SHARED"/images/*.img; do
      if [[ $(sha256sum <"$img" | cut -d' ' -f1) == "$sum" ]]; then
        name=$(basename "$img" .img)
        break
      fi
    done
  fi
  rm -f "$tmp"
  echo "${name:-?}"
}

# ---------------------------------------------------------------- qemu

# QEMU's acceleration: KVM only on a real kvm_intel/kvm_amd host. The nested
# paravirtual KVM some machines expose hangs the Debian kernel (see
# shared/qemu-notes.md), so /dev/kvm alone is not enough.
qemu_accel_args() {
  if [[ -d /sys/module/kvm_intel || -d /sys/module/kvm_amd ]] && [[ -w /dev/kvm ]]; then
    echo "-accel kvm -cpu host"
  else
    echo "-accel tcg -cpu max"
  fi
}

# run_qemu LOG TIMEOUT STOP_PATTERN QEMU_ARG...: run a VM (VM_MEMORY MiB,
# default 512, and VM_CPUS CPUs, default 1; no display, a reboot ends it; no
# network unless VM_NIC is the value of a -nic option, e.g. a user-mode
# network with restrict=on) that boots and sees its disks as the QEMU_ARGs say, the serial console written to LOG (its CRs
# removed). Returns when the VM exits by itself, or GRACE seconds after
# STOP_PATTERN (a grep -E pattern; empty for none) appears in LOG, or after
# TIMEOUT seconds. Sets VM_RESULT to "exited <status>", "stopped" (the
# pattern appeared and the VM was still running GRACE seconds later: then it
# was killed) or "timeout", and VM_SECONDS.
run_qemu() {
  local log=$1 limit=$2 stop=$3
  shift 3
  local args=() pid start status seen
  # shellcheck disable=SC2207 # the words are fixed option names
  args+=($(qemu_accel_args))
  args+=(-m "${VM_MEMORY:-512}" -smp "${VM_CPUS:-1}" -nographic -no-reboot -nic "${VM_NIC:-none}" "$@")
  say "qemu-system-x86_64 ${args[*]}"
  : >"$log"
  timeout -k 5 "$((limit + 10))" qemu-system-x86_64 "${args[@]}" </dev/null >"$log" 2>&1 &
  pid=$!
  start=$SECONDS
  seen=
  VM_RESULT=timeout
  while ((SECONDS - start < limit)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      status=0
      wait "$pid" || status=$?
      VM_RESULT="exited $status"
      break
    fi
    if [[ -n $stop && -z $seen ]] && grep -Eq -- "$stop" "$log"; then
      seen=$SECONDS
    fi
    if [[ -n $seen ]] && ((SECONDS - seen >= ${GRACE:-3})); then
      VM_RESULT=stopped
      break
    fi
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  VM_SECONDS=$((SECONDS - start))
  # The serial console ends its lines with CR LF.
  sed -i 's/\r$//' "$log"
  return 0
}

# run_vm LOG TIMEOUT STOP_PATTERN APPEND DISK...: run_qemu booting the test
# kernel and initramfs ($VM_INITRD, by default the shared one) with
# -kernel/-initrd and APPEND added to the command line, the disks attached
# as virtio drives, or as $VM_DISK_BUS says: nvme (one NVMe controller a
# disk) or ahci (the disks on one AHCI controller). VM_EXTRA_ARGS: more
# QEMU arguments (words on one line), e.g. devices a benchmark adds.
run_vm() {
  local log=$1 limit=$2 stop=$3 append=$4
  shift 4
  local args=() extra=() d n=0 bus=${VM_DISK_BUS:-virtio}
  read -ra extra <<<"${VM_EXTRA_ARGS:-}"
  args+=(-kernel "$KERNEL_IMAGE" -initrd "${VM_INITRD:-$(shared_initramfs)}"
    -append "console=ttyS0 panic=-1 printk.devkmsg=on $append" "${extra[@]}")
  [[ $bus == ahci ]] && args+=(-device "ahci,id=ahci0")
  for d in "$@"; do
    case $bus in
      virtio) args+=(-drive "file=$d,format=raw,if=virtio") ;;
      nvme) args+=(-drive "file=$d,format=raw,if=none,id=disk$n" -device "nvme,drive=disk$n,serial=imgroot$n") ;;
      ahci) args+=(-drive "file=$d,format=raw,if=none,id=disk$n" -device "ide-hd,drive=disk$n,bus=ahci0.$n") ;;
      *) die "VM_DISK_BUS=$bus: not virtio, nvme or ahci" ;;
    esac
    n=$((n + 1))
  done
  run_qemu "$log" "$limit" "$stop" "${args[@]}"
}

# printk_time LOG PATTERN: the printk timestamp (seconds) of the first
# console line matching the grep -E PATTERN that carries one; empty if none.
printk_time() {
  grep -E -- "$2" "$1" | sed -n 's/^\[ *\([0-9]*\.[0-9]*\)\].*/\1/p' | head -n 1
}

# test_init_head NAME: the first lines of test image NAME's /sbin/init
# (make-images.sh, grub/make-grub-fixtures.sh): output to the console, /proc
# mounted, and report, which prints a line to the console and to /dev/kmsg
# (there it carries a printk timestamp).
test_init_head() {
  cat <<HEAD
#!/bin/sh
# imgroot boot-test image $1
[ -c /dev/console ] && exec >/dev/console 2>&1
mountpoint -q /proc || mount -t proc proc /proc
report() {
  echo "\$*"
  [ -w /dev/kmsg ] && echo "\$*" >/dev/kmsg
}
HEAD
}

# mkfs_test_image DIR IMG SIZE NAME: IMG, the tree DIR as an ext4 image of
# SIZE labelled test-NAME, with no journal (test images are small and booted
# once per test), written under a temporary name; DIR and its log go.
mkfs_test_image() {
  local dir=$1 img=$2
  rm -f "$img"
  mkfs.ext4 -q -F -b 4096 -O ^has_journal -L "test-$4" -E root_owner=0:0 \
    -d "$dir" "$img.tmp" "$3" >"$dir.log" 2>&1 ||
    { cat "$dir.log" >&2; die "mkfs.ext4 of test image $4 failed"; }
  mv "$img.tmp" "$img"
  rm -rf "$dir" "$dir.log"
}

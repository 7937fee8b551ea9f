# shellcheck shell=bash
# The steps and assertions the QEMU scenario scripts share (boot-test.sh,
# dracut/dracut-test.sh, grub/grub-test.sh and the other grub/*-test.sh):
# choosing the scenario, its work directory, putting test images on the
# host partition, the report of a boot, and checks of what booted, of the
# host partition and of the console log. Builds on lib.sh; defines
# functions and two constants (PANIC, images) only.
#
# They use the script's globals: TEST_NAME (failures name it), SCENARIOS,
# BOOT_LIMIT, images, and the ones start_work sets: work, hostpart, disk and
# log (the console log of the last boot).

# shellcheck source=tests/qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PANIC='Kernel panic'
# Where put finds the test images: the shared ones (make-images.sh) unless
# the script names others.
images=$IMGROOT_TEST_SHARED/images

# ---------------------------------------------------------------- scenario

# list_scenarios ARG...: with --list as the first argument, print the
# scenarios (SCENARIOS), one a line, and exit: CMake makes a test of each.
list_scenarios() {
  if [[ ${1:-} == --list ]]; then
    printf '%s\n' "${SCENARIOS[@]}"
    exit 0
  fi
}

# check_scenario NAME: die unless the script has scenario_NAME.
check_scenario() {
  declare -F "scenario_$1" >/dev/null ||
    die "unknown scenario '$1' (one of: ${SCENARIOS[*]})"
}

# start_work: a fresh work directory ./$TEST_NAME/ ($work) with an empty
# $hostpart in it and the path of the disk ($disk); the console log $log is
# /dev/null until the script names one. On a failure the console log is
# printed.
start_work() {
  work=$PWD/$TEST_NAME
  hostpart=$work/hostpart
  disk=$work/disk.img
  log=/dev/null
  rm -rf "$work"
  mkdir -p "$hostpart"
  trap print_log_on_failure EXIT
}

# On any failure, the whole console log: it is what explains the failure.
print_log_on_failure() {
  local rc=$?
  if ((rc != 0)) && [[ -s ${log:-} ]]; then
    say "---- console log ($log) ----"
    cat "$log" >&2
    say "---- end of console log ----"
  fi
}

# ---------------------------------------------------------------- steps

# put IMAGE NAME: test image IMAGE (from $images) as file NAME on the host
# partition.
put() {
  cp --sparse=always "$images/$1.img" "$hostpart/$2"
}

# check_boot LINES: after a boot, say how the VM ended and show the console
# lines matching LINES (grep -E); the kernel must not have panicked and
# the VM must have ended before BOOT_LIMIT.
check_boot() {
  say "VM: $VM_RESULT after ${VM_SECONDS}s"
  grep -E -- "$1" "$log" | sed 's/^/  | /' || true
  expect_no_log "$PANIC" "the kernel did not panic"
  [[ $VM_RESULT != timeout ]] || fail "the VM was still running after ${BOOT_LIMIT}s"
}

# ---------------------------------------------------------------- assertions

# expect_image_booted IMAGE: the VM powered off by itself after image
# IMAGE's init ran as PID 1, and no other image booted.
expect_image_booted() {
  [[ $VM_RESULT == "exited 0" ]] ||
    fail "expected image $1 to boot and power off; the VM ended with: $VM_RESULT"
  expect_log "IMGROOT-TEST booted=$1 pid=1\$" "image $1 booted, its init running as PID 1"
  local others
  others=$(grep -o 'IMGROOT-TEST booted=[^ ]*' "$log" | grep -vx "IMGROOT-TEST booted=$1" || true)
  [[ -z $others ]] || fail "another image booted too: $others"
}

# expect_booted IMAGE: what a scenario expects of a boot that succeeds:
# expect_image_booted. A script whose boots can fail in more ways, or say
# more, defines its own after sourcing this.
expect_booted() {
  expect_image_booted "$1"
}

# expect_host NAME=IMAGE...: after the boot, the host partition holds
# exactly these image files and flags, and each is the named test image.
expect_host() {
  local fs=$work/hostpart-after.img want=() got pair file image actual
  extract_hostpart "$disk" "$fs"
  say "host partition after the boot:"
  debugfs -R 'ls -l /' "$fs" 2>/dev/null | sed 's/^/  | /' >&2
  for pair in "$@"; do want+=("${pair%%=*}"); done
  got=$(hostpart_names "$fs" | grep -E '^(\.?hn-root|system-revert)' || true)
  [[ $got == "$(printf '%s\n' "${want[@]}" | sort)" ]] ||
    fail "host partition holds [$(echo "$got" | tr '\n' ' ')], expected [${want[*]}]"
  for pair in "$@"; do
    file=${pair%%=*} image=${pair#*=}
    actual=$(image_name "$fs" "$file")
    [[ $actual == "$image" ]] || fail "$file is image $actual, expected $image"
    say "ok: $file is image $image"
  done
}

# log_name: the console log as failure messages name it: its path where the
# script keeps a log for each boot (LOG_PER_BOOT set), else "the console log".
log_name() {
  if [[ -n ${LOG_PER_BOOT:-} ]]; then
    printf '%s\n' "$log"
  else
    echo "the console log"
  fi
}

expect_log() {
  grep -Eq -- "$1" "$log" || fail "$2: no line matching /$1/ in $(log_name)"
  say "ok: $2"
}

expect_no_log() {
  if grep -Eq -- "$1" "$log"; then
    grep -E -- "$1" "$log" | head -n 5 >&2
    fail "$2: found /$1/ in $(log_name)"
  fi
  say "ok: $2"
}

fail() {
  say "FAIL [${TEST_NAME:-?}]: $*"
  exit 1
}

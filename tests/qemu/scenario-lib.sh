# shellcheck shell=bash
# The steps and assertions the QEMU scenario scripts share (boot-test.sh,
# dracut/dracut-test.sh, grub/grub-test.sh and the other grub/*-test.sh):
# choosing the scenario, its work directory, putting test images on the
# host partition, the report of a boot, checks of what booted, of the
# host partition and of the console log, and the rotation scenarios of
# tests/scenarios/rotation.tsv. Builds on lib.sh; defines functions and
# three constants (PANIC, ROTATION_TABLE, images) only.
#
# They use the script's globals: TEST_NAME (failures name it), SCENARIOS
# (the script's own scenarios), SUITE (its column in the table), BOOT_LIMIT,
# images, and the ones start_work sets: work, hostpart, disk and log (the
# console log of the last boot).

# shellcheck source=tests/qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PANIC='Kernel panic'
ROTATION_TABLE=$(dirname "${BASH_SOURCE[0]}")/../scenarios/rotation.tsv
# Where put finds the test images: the shared ones (make-images.sh) unless
# the script names others.
images=$IMGROOT_TEST_SHARED/images

# ---------------------------------------------------------------- scenario

# list_scenarios ARG...: with --list as the first argument, print the
# script's own scenarios (SCENARIOS), one a line, and exit; CMake adds the
# table's rows of the suite (qemu_scenarios) and makes a test of each.
list_scenarios() {
  if [[ ${1:-} == --list ]]; then
    printf '%s\n' "${SCENARIOS[@]}"
    exit 0
  fi
}

# pick_scenario FAMILY ARG...: the one argument, a scenario of the script or
# of the table (--list: list them), as $scenario; TEST_NAME is FAMILY.NAME.
pick_scenario() {
  local family=$1
  shift
  list_scenarios "$@"
  [[ $# -eq 1 ]] || die "usage: $0 SCENARIO (the table's for ${SUITE:-none}, or one of: ${SCENARIOS[*]})"
  scenario=$1
  check_scenario "$scenario"
  TEST_NAME=$family.$scenario
}

# read_rotation NAME: the table's row NAME for SUITE into row_before,
# row_cmdline, row_boots and row_after; fails when there is none.
read_rotation() {
  local name suites
  [[ -n ${SUITE:-} ]] || return 1
  while IFS=$'\t' read -r name suites row_before row_cmdline row_boots row_after _; do
    [[ $name == "$1" && ,$suites, == *,"$SUITE",* ]] || continue
    [[ $row_cmdline != - ]] || row_cmdline=
    return 0
  done < <(grep -v '^#' "$ROTATION_TABLE")
  return 1
}

# check_scenario NAME: die unless the script has scenario_NAME or the
# table a row NAME for SUITE.
check_scenario() {
  declare -F "scenario_$1" >/dev/null || read_rotation "$1" ||
    die "unknown scenario '$1' (the script's: ${SCENARIOS[*]}; or a row of $ROTATION_TABLE for ${SUITE:-none})"
}

# run_rotation NAME: the table's scenario NAME: the files on the host
# partition, a boot with its command line, the image that boots and the
# files after. Functions prepare_NAME and check_NAME, where defined, run
# before the boot and after the image booted.
run_rotation() {
  local entry
  read_rotation "$1"
  for entry in $row_before; do
    if [[ $entry == *=* ]]; then put "${entry#*=}" "${entry%%=*}"; else touch "$hostpart/$entry"; fi
  done
  if declare -F "prepare_$1" >/dev/null; then "prepare_$1"; fi
  boot_disk hostpart "$row_cmdline"
  expect_booted "$row_boots"
  if declare -F "check_$1" >/dev/null; then "check_$1"; fi
  # shellcheck disable=SC2086 # the names are words
  expect_host $row_after
}

# The plain scenario: a data/ directory on the host partition, and the
# image sees both at /hostpart; a script adds its own checks in
# check_plain_more.
prepare_plain() {
  mkdir -p "$hostpart/data" && echo kept >"$hostpart/data/kept"
}
check_plain() {
  expect_log 'IMGROOT-TEST hostpart: .*hn-root\.img' "the host partition is visible at /hostpart"
  expect_log 'IMGROOT-TEST hostpart: .*data' "data/ is visible at /hostpart/data"
  check_plain_more
}

# run_scenario NAME: the scenario in a fresh work directory with its
# console log, the script's own or the table's; then PASS and the sparse
# disks' contents go.
run_scenario() {
  start_work
  log=$work/console.log
  if declare -F "scenario_$1" >/dev/null; then "scenario_$1"; else run_rotation "$1"; fi
  say "PASS $TEST_NAME"
  # The disks are large only on paper (sparse); the images in them are not.
  rm -rf "$hostpart" "$work"/*.parts
}

# need_vm_commands: what booting a scenario's disk needs on the machine.
need_vm_commands() {
  need_commands qemu-system-x86_64 timeout mkfs.ext4 mkfs.vfat sgdisk partx dd debugfs e2fsck
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

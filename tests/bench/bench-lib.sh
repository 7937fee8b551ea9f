# shellcheck shell=bash
# What the boot benchmarks share (boot-time.sh, boot-compare.sh): their
# start. Builds on tests/qemu/lib.sh.

# shellcheck source=tests/qemu/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../qemu/lib.sh"

# bench_start WORK [COMMAND...]: check that the commands of a boot (and
# COMMAND...) and the built CLI and init are there, make the work directory
# WORK ($work, also $IMGROOT_TEST_SHARED) and fetch and load the test kernel
# into it (KVER, MODULES_ROOT). Sets runs (RUNS, 3 by default), tool and init.
bench_start() {
  work=$1
  # shellcheck disable=SC2034 # read by the benchmark that sources this
  runs=${RUNS:-3}
  tool=${IMGROOT_TOOL:-$REPO_ROOT/build/tools/imgroot}
  init=${IMGROOT_INIT:-$REPO_ROOT/build/init/imgroot-init}
  need_commands qemu-system-x86_64 timeout mkfs.ext4 mkfs.vfat sgdisk dd busybox "${@:2}"
  [[ -x $tool && -x $init ]] || die "build first: cmake --build build ($tool, $init)"
  mkdir -p "$work"
  export IMGROOT_TEST_SHARED=$work
  "$REPO_ROOT/tests/qemu/kernel.sh" --env-out "$work/kernel.env" >/dev/null
  load_kernel_env
}

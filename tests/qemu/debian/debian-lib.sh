# shellcheck shell=bash
# Helpers for the real-distribution tests (distro.*): what the debootstrapped
# Debian 12 root is made of and where it is cached, where the test images
# live, how the in-guest test driver reports, and the assertions of the
# distro.* and fleet.* scripts. Builds on grub-lib.sh (and through it
# lib.sh); defines functions and settings only.

# shellcheck source=tests/qemu/grub/grub-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../grub/grub-lib.sh"

# ---------------------------------------------------------------- the root

# What debootstrap builds. Everything here is part of the cache key, so a
# change to any of it builds a new root; ROOTFS_RECIPE is bumped when
# make-rootfs.sh changes what it does with the same inputs.
ROOTFS_RECIPE=1
DEBIAN_SUITE=bookworm
: "${IMGROOT_DEBIAN_MIRROR:=http://deb.debian.org/debian}"
# minbase (essential packages and apt) is the smallest variant; systemd as
# init comes from the list.
DEBIAN_VARIANT=minbase
DEBIAN_PACKAGES=(
  # systemd as PID 1, udev for /dev, modprobe for the kernel's requests
  systemd-sysv udev kmod
  # fsck of the root image and mkfs for anyone working inside
  e2fsprogs
  # what the imgroot package depends on (tests/package/build-deb.sh), so
  # that installing it in the image needs nothing from the network
  libboost-program-options1.74.0 libblkid1 libmount1 libparted2 libssl3 libcurl4
  # what Ansible needs on a managed node (fleet.*): sshd and python3
  openssh-server python3
)

# The cached root for the settings above: $IMGROOT_CACHE/debian/<key>, the key
# the first 16 hex digits of the SHA-256 of suite, mirror, variant, sorted
# package list and recipe version.
rootfs_key() {
  {
    printf 'suite=%s\nmirror=%s\nvariant=%s\nrecipe=%s\n' \
      "$DEBIAN_SUITE" "$IMGROOT_DEBIAN_MIRROR" "$DEBIAN_VARIANT" "$ROOTFS_RECIPE"
    printf '%s\n' "${DEBIAN_PACKAGES[@]}" | sort -u
  } | sha256sum | cut -c1-16
}
rootfs_cache_dir() { printf '%s\n' "$IMGROOT_CACHE/debian/$(rootfs_key)"; }

# ---------------------------------------------------------------- images

# What make-images.sh builds: A.img and B.img, and what the tests compare
# with (the SHA-256 of each image, its size, the kernel release).
: "${IMGROOT_DEBIAN_SHARED:=$IMGROOT_TEST_SHARED/debian}"
debian_image() { printf '%s\n' "$IMGROOT_DEBIAN_SHARED/$1.img"; }

# ---------------------------------------------------------------- the driver

# The in-guest driver (make-images.sh installs it as imgroot-test-driver)
# prints its results on the serial console as lines
#   IMGROOT-TEST: <key> <value>
# and long values (JSON) base64-encoded in pieces:
#   IMGROOT-TEST: <key>+ <piece>      ... then  IMGROOT-TEST: <key>. <length>
# What it does after reporting is read from the host partition:
# data/imgroot-test/action-<image name> holds one word (see the driver).
DRIVER_PREFIX='IMGROOT-TEST: '

# report_value LOG KEY: the value of the last "IMGROOT-TEST: KEY VALUE" line.
report_value() {
  report_values "$@" | tail -n 1
}

# report_values LOG KEY: the values of every such line, in order.
report_values() {
  awk -v p="$DRIVER_PREFIX$2 " 'i = index($0, p) { print substr($0, i + length(p)) }' "$1"
}

# report_blob LOG KEY: a value the driver sent in base64 pieces, decoded;
# fails when the pieces do not add up to the announced length (a kernel
# message cut into a line, a console that dropped characters).
report_blob() {
  local log=$1 key=$2 text length
  length=$(report_value "$log" "$key.")
  [[ -n $length ]] || return 1
  text=$(report_values "$log" "$key+" | tr -d '\n' | base64 -d 2>/dev/null) || return 1
  [[ ${#text} -eq $length ]] || return 1
  printf '%s\n' "$text"
}

# ---------------------------------------------------------------- assertions
# A scenario checks everything it can, collecting what failed, and ends
# with finish: the test fails when anything did, naming every failure.

failures=()
pass() { say "ok: $1"; }
flunk() {
  say "FAIL [$TEST_NAME]: $1"
  failures+=("$1")
}
# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
  if [[ $2 == "$3" ]]; then pass "$1 ($2)"; else flunk "$1: got '$2', expected '$3'"; fi
}
# expect_json WHAT JSON FILTER EXPECTED: jq -r FILTER of JSON equals
# EXPECTED (jq's own complaint, when it has one, is what is compared).
expect_json() {
  expect_eq "$1 [$3]" "$(jq -r "$3" <<<"$2" 2>&1)" "$4"
}
# finish: exit 1 naming the failures, or 0.
finish() {
  if ((${#failures[@]})); then
    say "$TEST_NAME: ${#failures[@]} assertion(s) failed:"
    printf '  - %s\n' "${failures[@]}" >&2
    exit 1
  fi
  say "PASS $TEST_NAME"
  exit 0
}

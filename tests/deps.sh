#!/bin/bash
# Install every Debian package the build and the test suite need:
#
#   sudo tests/deps.sh
#
# Idempotent and quiet: refreshes the package lists (the boot tests' kernel
# fetch needs current ones), installs what is missing, and prints apt's
# output only when something fails.
set -euo pipefail

packages=(
  # build
  cmake ninja-build make g++ pkg-config
  # the fuzz harnesses and the unit tests under ASan+UBSan (tests/fuzz/):
  # clang 14, Debian's default, cannot compile libstdc++ 12's <expected>
  clang-19 libclang-rt-19-dev
  libblkid-dev libmount-dev libzstd-dev libssl-dev libparted-dev
  libboost-program-options-dev nlohmann-json3-dev catch2
  # HTTP transfers (lib/net/), and the real server the fetch.* tests start
  libcurl4-openssl-dev nginx-light
  # initramfs builder and images
  kmod zstd cpio busybox-static
  e2fsprogs btrfs-progs xfsprogs squashfs-tools erofs-utils
  # disks and QEMU boots (boot.* and grub.*)
  qemu-system-x86 ovmf grub-efi-amd64-bin mtools dosfstools gdisk fdisk util-linux
  # dracut.* and the dracut benchmark: dracut itself and dmsquash-live. Not
  # the "dracut" package: it only adds the kernel hooks, and it would
  # replace initramfs-tools on the machine.
  dracut-core dracut-live
  # fetching the test kernel with apt-get download
  apt ca-certificates
  # debian.*: the Debian root they boot, and reading imgroot status --json;
  # distro.stage_url's guestfwd runs socat to reach the test's nginx
  debootstrap jq socat
  # fleet.*: ssh and ssh-keygen, to reach the QEMU nodes
  openssh-client
  # lint
  shellcheck
  # the Ansible collection (tools/ansible/, ansible.* and fleet.* tests)
  ansible-core ansible-lint
  # the man page (tools/help/generate.sh); package.* (cpack runs
  # dpkg-shlibdeps, the test reads the page with man)
  help2man dpkg-dev man-db
  # tests/bench/diff.sh compares imgroot diff with rsync -rcn
  rsync bc
  # tests/bench/delta.sh: the delta tools imgroot publish/stage is compared
  # with (nginx, above, serves them all)
  zsync casync
)

if ((EUID != 0)); then
  echo "tests/deps.sh: run as root (apt-get install)" >&2
  exit 1
fi

log=$(mktemp "${TMPDIR:-/tmp}/imgroot-deps.XXXXXX")
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive

run() {
  if ! "$@" >>"$log" 2>&1; then
    cat "$log" >&2
    echo "tests/deps.sh: failed: $*" >&2
    exit 1
  fi
}

# A package's service is started when it is installed: Debian's nginx
# would listen on port 80 of every interface. The tests start their own
# nginx on 127.0.0.1; the packaged one must never run. While apt runs,
# policy-rc.d refuses every start (unless the machine has its own policy);
# afterwards the nginx unit is disabled and stopped.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# tests/deps.sh: no service starts while packages install\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$log" "$policy"' EXIT
fi

run apt-get update -q
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "tests/deps.sh: installing ${missing[*]}"
  run apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [[ -d /run/systemd/system ]] && systemctl cat nginx.service >/dev/null 2>&1; then
  run systemctl disable --now nginx.service
fi

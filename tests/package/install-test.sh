#!/bin/bash
# package.install: `apt-get install ./imgroot_*.deb`, an upgrade, dpkg -r and
# dpkg -P, with the maintainer scripts, in a throwaway copy of this machine
# (docs/packaging.md): a chroot into an overlay whose lower layer is the root
# filesystem and whose upper layer is a tmpfs, in a private mount namespace.
# Nothing of the machine is written, its dpkg database included. apt resolves
# Depends from the packages installed here, with no network.
#
#   tests/package/install-test.sh DEB
#
# dpkg-query's -f '${Field}' formats are dpkg's, not the shell's:
# shellcheck disable=SC2016
set -euo pipefail

skip() {
  echo "SKIP: $*"
  exit 77
}

if [[ ${1-} != --inside ]]; then
  ((EUID == 0)) || skip "needs root (mount namespace, overlayfs, chroot)"
  command -v unshare >/dev/null || skip "needs unshare (util-linux)"
  deb=$(realpath "$1")
  top=$(mktemp -d "${TMPDIR:-/tmp}/imgroot-package.XXXXXX")
  # The mounts live in the namespace and end with it; only the empty
  # directory is left here.
  trap 'rmdir "$top"' EXIT
  unshare --mount --propagation private --fork "$0" --inside "$deb" "$top"
  exit
fi
deb=$2 top=$3

mount -t tmpfs imgroot-package-test "$top"
mkdir "$top/upper" "$top/work" "$top/root"
root=$top/root
mount -t overlay overlay -o "lowerdir=/,upperdir=$top/upper,workdir=$top/work" "$root" ||
  skip "cannot mount an overlay over / (overlayfs)"
# /dev for the scripts' /dev/null; /run stays the root filesystem's
# directory, without /run/systemd/system: systemd is not running there.
mount --bind /dev "$root/dev"
mount -t proc proc "$root/proc"
cp "$deb" "$root/tmp/"
pkg=/tmp/${deb##*/}
unit=imgroot-mark-good.service

in_root() {
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}
run() {  # run COMMAND...: in the root, its output shown only on failure
  local out
  if ! out=$(in_root "$@" 2>&1); then
    printf '%s\n' "$out" >&2
    echo "FAIL: $* failed in the chroot" >&2
    exit 1
  fi
}
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
exists() { [[ -e $root$1 || -L $root$1 ]]; }
enabled() { exists "/etc/systemd/system/multi-user.target.wants/$unit" && exists "/etc/systemd/system/boot-complete.target.requires/$unit"; }

run apt-get install -y -q --no-install-recommends "$pkg"
[[ $(in_root dpkg-query -W -f='${Status}' imgroot) == "install ok installed" ]] || fail "imgroot is not installed"
in_root imgroot --version | grep -q '^imgroot ' || fail "the installed imgroot does not run"
in_root dpkg-query -W -f='${Conffiles}' imgroot | grep -q '/etc/grub.d/09_imgroot' ||
  fail "09_imgroot is not registered as a conffile"
for path in /usr/lib/imgroot/imgroot-init /usr/lib/dracut/modules.d/90imgroot/module-setup.sh \
  /usr/share/man/man8/imgroot.8.gz /etc/imgroot/check.d; do
  exists "$path" || fail "$path is not installed"
done
enabled || fail "the postinst did not enable $unit"
[[ $(readlink "$root/etc/systemd/system/multi-user.target.wants/$unit") == */systemd/system/$unit ]] ||
  fail "the enabled link points elsewhere"

# An upgrade keeps the administrator's choice: disabled (the links removed,
# as systemctl disable does) stays disabled.
links=$(cd "$root/etc/systemd/system" && echo ./*.target.*/"$unit")
(cd "$root/etc/systemd/system" && rm ./*.target.*/"$unit")
run dpkg -i "$pkg"
enabled && fail "an upgrade enabled the unit the administrator disabled"
for link in $links; do
  ln -s "/usr/lib/systemd/system/$unit" "$root/etc/systemd/system/$link"
done

# A removal keeps the conffile and masks the unit; a purge removes both.
run dpkg -r imgroot
exists /usr/sbin/imgroot && fail "dpkg -r left /usr/sbin/imgroot"
exists /etc/grub.d/09_imgroot || fail "dpkg -r removed the conffile 09_imgroot"
[[ $(readlink "$root/etc/systemd/system/$unit") == /dev/null ]] || fail "dpkg -r did not mask $unit"
run dpkg -P imgroot
for path in /etc/grub.d/09_imgroot /etc/imgroot "/etc/systemd/system/$unit" \
  "/etc/systemd/system/multi-user.target.wants/$unit" "/etc/systemd/system/boot-complete.target.requires/$unit"; do
  exists "$path" && fail "dpkg -P left $path"
done
[[ -z $(in_root dpkg-query -W -f='${Status}' imgroot 2>/dev/null) ]] || fail "dpkg -P left imgroot in the database"

if ((failures)); then
  echo "package.install: $failures failures" >&2
  exit 1
fi
echo "package.install: installed with apt-get, upgraded, removed and purged in a chroot"

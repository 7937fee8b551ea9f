#!/bin/bash
# Record what the real imgroot CLI prints, for the fake imgroot of the
# ansible.* tests (tests/ansible/fake-bin/imgroot): a node (a host
# partition directory) goes from release hn-root-1 to hn-root-2 (marked
# good), then to hn-root-3 (a required check fails, and the node goes back).
#
#   tests/ansible/record-fixtures.sh build/tools/imgroot tests/ansible/fixtures
#
# The temporary directory's path is written as /srv/imgroot-test.
set -euo pipefail

imgroot=$(realpath "$1")
out=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# An image whose /etc/release says $1.
image() {
  local root=$tmp/root-$1
  mkdir -p "$root"/{sbin,boot,etc}
  printf '#!/bin/sh\n' >"$root/sbin/init"
  chmod +x "$root/sbin/init"
  echo "kernel $1" >"$root/boot/vmlinuz"
  ln -s /boot/vmlinuz "$root/boot/kernel"
  echo "initramfs $1" >"$root/boot/initramfs"
  echo "$1" >"$root/etc/release"
  mkfs.ext4 -q -F -b 4096 -d "$root" "$tmp/$1.img" 8M >/dev/null
}

hp=$tmp/hostpart
keys=$tmp/keys
mkdir -p "$hp" "$keys"
for v in 1 2 3; do
  image "$v"
  "$imgroot" publish --level 1 --to "$tmp/site" "$tmp/$v.img" >/dev/null
done
url() { echo "file://$tmp/site/releases/hn-root-$1/manifest.json"; }
stage() { "$imgroot" stage --no-inspect --tries 0 --keys "$keys" --hostpart "$hp" "$@"; }
# The init's rotations.
boot() { mv "$hp/hn-root.img" "$hp/hn-root-old.img"; mv "$hp/hn-root-new.img" "$hp/hn-root.img"; }
go_back() {
  mv "$hp/hn-root.img" "$hp/hn-root-broken.img"
  mv "$hp/hn-root-old.img" "$hp/hn-root.img"
  rm "$hp/system-revert"
}
# imgroot assess with one required check that exits $1 (ARG...: more options).
assess() {
  local root=$tmp/assess
  rm -rf "$root"
  mkdir -p "$root/etc/imgroot/check.d/required"
  printf 'failed_units=no\ndefault_target=no\ntcp_check=no\nwatchdog=0\nreboot_delay=0\n' \
    >"$root/etc/imgroot/assess.conf"
  printf '#!/bin/sh\nexit %s\n' "$1" >"$root/etc/imgroot/check.d/required/50-app"
  chmod +x "$root/etc/imgroot/check.d/required/50-app"
  "$imgroot" assess --root "$root" --hostpart "$hp" --reboot-command true "${@:2}" >/dev/null 2>&1 || true
}
record() {
  local name=$1
  shift
  "$@" 2>/dev/null | sed "s|$tmp|/srv/imgroot-test|g" >"$out/$name"
}

stage "$(url 1)" >/dev/null 2>&1
mv "$hp/hn-root-new.img" "$hp/hn-root.img"
assess 0
record stage-staged.jsonl stage --json "$(url 2)"
record stage-unchanged-staged.jsonl stage --json "$(url 2)"
record status-staged.json "$imgroot" status --json --hostpart "$hp"
boot
record status-unassessed.json "$imgroot" status --json --hostpart "$hp"
assess 0
record status-good.json "$imgroot" status --json --hostpart "$hp"
record log-good.jsonl "$imgroot" log --json --hostpart "$hp"
record stage-unchanged-current.jsonl stage --json "$(url 2)"
record stage-dry-run.jsonl stage --dry-run --json "$(url 3)"
record stage-dry-run-current.jsonl stage --dry-run --json "$(url 2)"
stage --json "$(url 1)" 2>&1 >/dev/null | sed "s|$tmp|/srv/imgroot-test|g" >"$out/stage-downgrade.err" || true
stage "$(url 3)" >/dev/null 2>&1
boot
assess 1
record status-bad.json "$imgroot" status --json --hostpart "$hp"
"$imgroot" revert --hostpart "$hp" >/dev/null
go_back
assess 0
record status-rolled-back.json "$imgroot" status --json --hostpart "$hp"
record log-rolled-back.jsonl "$imgroot" log --json --hostpart "$hp"
# On trial this time (the trial lives in the EFI-BOOT partition's grubenv):
# the release fails its verdict, and the node is about to reboot into the
# image before it.
esp=$tmp/esp
mkdir -p "$esp/grub"
"$imgroot" stage --no-inspect --force --tries 2 --esp "$esp" --keys "$keys" --hostpart "$hp" \
  "$(url 3)" >/dev/null 2>&1
boot
assess 1 --esp "$esp"
record status-bad-trial.json "$imgroot" status --json --hostpart "$hp" --esp "$esp"
record log-bad-trial.jsonl "$imgroot" log --json --hostpart "$hp"

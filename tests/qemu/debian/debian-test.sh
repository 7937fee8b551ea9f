#!/bin/bash
# distro.*: a debootstrapped Debian 12 with systemd, provisioned with
# `imgroot provision` and booted through OVMF and GRUB (issue 7):
#
#   tests/qemu/debian/debian-test.sh SCENARIO     (--list prints them)
#
#   upgrade         boot image A: systemd reaches its default target,
#                   `imgroot status --json` says A booted from hn-root.img,
#                   imgroot-mark-good.service succeeded; the driver stages
#                   B.img from data/ and runs `systemctl reboot`; GRUB loads
#                   B's kernel, B boots with A as the old image, then
#                   `systemctl poweroff`. Leaves its disk and logs for:
#   clean_shutdown  after that poweroff, the host partition and the image
#                   in it are clean (dumpe2fs state, no needs_recovery,
#                   e2fsck -fn), read from the disk as it is
#   host_identity   the per-host files put in imgroot/host/ before the first
#                   boot (/etc/hostname, /etc/machine-id) are what both A
#                   and B see
#   overlay_tmpfs   a fresh disk whose command line has imgroot.overlay=tmpfs:
#                   the driver writes to /, powers off, and hn-root.img is
#                   bit for bit what it was before the boot
#   stage_url       images A then B published (`imgroot publish --channel
#                   stable`, signed with the key both images trust) into a site that tests/fetch/nginx.sh serves on
#                   the host's 127.0.0.1; QEMU's user-mode network
#                   (restrict=on) forwards only 10.0.2.100:80 in the guest to
#                   it (guestfwd to socat). A brings up a static address and
#                   runs `imgroot stage --json http://10.0.2.100/channels/stable`:
#                   release hn-root-2 is staged, B's SHA-256, most bytes
#                   found in A (bytes_reused > 10 x bytes_fetched), nginx sent
#                   what the node counted; after `systemctl reboot` B boots
#                   with A as the old image and the release recorded,
#                   signed by that key
#
# The boot assessment (docs/assessment.md, issue 16), through the checks and
# the hang make-images.sh puts in both images, switched on by files in
# data/imgroot-test/:
#   heal_required   A (a wanted check fails, a required one passes on its
#                   second try) stages B and reboots; B's required check
#                   fails, its verdict is red and it reboots by itself
#                   (driver action 'stay'); A again: imgroot status, the
#                   banner and imgroot log --json say B was marked bad and
#                   why, imgroot-init's events that it upgraded to B and,
#                   asked by GRUB, reverted to A; staging B again is
#                   refused (--force named).
#                   Leaves its logs for:
#   wanted_and_retry  A's first boot there: the wanted failure is reported,
#                   the required check passed on try 2, A is marked good
#   hung_boot       B never reaches multi-user.target; the deadline (90 s,
#                   set for this boot) makes it red and it reboots by itself;
#                   the watchdog was armed for the trial and disarmed by the
#                   verdict; A again says why
#
# The images are make-images.sh's; the in-guest half is imgroot-test-driver.
# Needs root and loop devices (provision). Works in ./distro.<scenario>/;
# each boot's console log is boot-<image>.log there, its tail printed on a
# failure. Every assertion is checked and reported, then the test fails if
# any did.
set -euo pipefail
# shellcheck source=tests/qemu/debian/debian-lib.sh
source "$(dirname "$0")/debian-lib.sh"

scenarios=(upgrade clean_shutdown host_identity overlay_tmpfs stage_url heal_required wanted_and_retry hung_boot)
if [[ ${1:-} == --list ]]; then
  printf '%s\n' "${scenarios[@]}"
  exit 0
fi
scenario=${1:?usage: debian-test.sh SCENARIO (--list)}
TEST_NAME=distro.$scenario
# systemd under TCG: about a minute a boot on an idle machine.
BOOT_LIMIT=${IMGROOT_BOOT_TIMEOUT:-600}
# What the host puts in imgroot/host/ (design: per-host identity).
HOST_HOSTNAME=node-7-test
HOST_MACHINE_ID=1d4e7a0c9b8f4e2aa3c5d6e7f8091a2b
CMDLINE="console=ttyS0 printk.devkmsg=on"
# systemd, and the tmpfs of imgroot.overlay=tmpfs.
VM_MEMORY=${VM_MEMORY:-1024}

need_commands qemu-system-x86_64 timeout partx debugfs dumpe2fs e2fsck jq base64 sha256sum
[[ -x $IMGROOT_TOOL ]] || die "the imgroot CLI $IMGROOT_TOOL is not built"
[[ -r $OVMF_CODE && -r $OVMF_VARS ]] || die "no OVMF firmware in /usr/share/OVMF (package ovmf)"
[[ -r $IMGROOT_DEBIAN_SHARED/images.env ]] ||
  die "no Debian test images in $IMGROOT_DEBIAN_SHARED (run tests/qemu/debian/make-images.sh)"
# shellcheck source=/dev/null
source "$IMGROOT_DEBIAN_SHARED/images.env"
if ((EUID != 0)) || [[ ! -e /dev/loop-control ]]; then
  say "SKIP: provisioning a disk image file needs root and loop devices"
  exit 77
fi

upgrade_work=$PWD/distro.upgrade
log=/dev/null
# distro.stage_url's server: the fetch.* tests' nginx on 127.0.0.1, which
# the guest reaches as GUEST_HOST port 80 (the driver's RELEASE_URL) through a
# guestfwd; its state directory once started, for on_exit to stop it.
NGINX_SH=$REPO_ROOT/tests/fetch/nginx.sh
GUEST_HOST=10.0.2.100
nginx_state=

# ---------------------------------------------------------------- assertions
# pass, flunk, expect_eq, expect_json, finish: debian-lib.sh.

on_exit() {
  local rc=$?
  if ((rc != 0)) && [[ -s $log ]]; then
    say "---- the last 60 lines of $log ----"
    tail -n 60 "$log" >&2
    say "---- end of console log ----"
  fi
  [[ -z $nginx_state ]] || "$NGINX_SH" stop "$nginx_state" || true
}
trap on_exit EXIT

# ---------------------------------------------------------------- the disk

# hostpart_fs DISK: partition 2 of DISK as e2fsprogs opens it in place.
hostpart_fs() {
  local start
  read -r start < <(partx -g -n 2 -o START "$1") || die "no partition 2 on $1"
  printf '%s?offset=%s\n' "$1" $((start * 512))
}

# hostpart_write DISK DEBUGFS_COMMAND...: change the host partition of DISK
# with debugfs (mkdir, write LOCAL PATH, ...), nothing mounted; fails on any
# error debugfs reports.
hostpart_write() {
  local disk=$1 out
  shift
  out=$(printf '%s\n' "$@" | debugfs -w -f - "$(hostpart_fs "$disk")" 2>&1)
  if grep -Eiq '^[^:]*: .*(error|not found|exists|could not|bad)' <<<"$out"; then
    say "$out"
    die "debugfs could not write to the host partition of $disk"
  fi
}

# provision DISK [ARGS...]: a blank 3 GiB sparse file provisioned with image
# A and the console on ttyS0 (ARGS add to the command line).
provision() {
  local disk=$1
  shift
  rm -f "$disk"
  truncate -s 3G "$disk"
  "$IMGROOT_TOOL" provision "$disk" --image "$(debian_image A)" --yes --timeout 0 \
    --cmdline "$CMDLINE${*:+ $*}" >"$disk.provision.log" 2>&1 ||
    { cat "$disk.provision.log" >&2; die "imgroot provision failed"; }
  say "provisioned $disk: $(tail -n 1 "$disk.provision.log")"
}

# test_data DISK WORK NAME=TEXT...: data/imgroot-test/NAME on the host
# partition of DISK holds TEXT (the folder made by set_actions).
test_data() {
  local disk=$1 work=$2 pair cmds=()
  shift 2
  for pair in "$@"; do
    printf '%s\n' "${pair#*=}" >"$work/data-${pair%%=*}"
    cmds+=("write $work/data-${pair%%=*} data/imgroot-test/${pair%%=*}")
  done
  hostpart_write "$disk" "${cmds[@]}"
}

# set_actions DISK WORK IMAGE=ACTION...: what the driver does in each image.
set_actions() {
  local disk=$1 work=$2 pair files=()
  shift 2
  for pair in "$@"; do files+=("action-$pair"); done
  hostpart_write "$disk" "mkdir data/imgroot-test"
  test_data "$disk" "$work" "${files[@]}"
}

# image_sha256 FS FILE: the SHA-256 of FILE on the ext4 filesystem FS.
image_sha256() {
  debugfs -R "dump /$2 /dev/stdout" "$1" 2>/dev/null | sha256sum | cut -d' ' -f1
}

# ---------------------------------------------------------------- boots

# boot NAME DISK: boot DISK through OVMF and GRUB until the VM exits (the
# driver reboots or powers off; -no-reboot ends the VM either way); the
# console in $work/boot-NAME.log, which becomes $log.
boot() {
  local name=$1 disk=$2
  log=$work/boot-$name.log
  ovmf_vars "$work/vars.fd"
  run_grub_vm "$log" "$BOOT_LIMIT" "" "$work/vars.fd" "$disk"
  say "boot $name: VM $VM_RESULT after ${VM_SECONDS}s"
  printf 'boot-%s=%s\n' "$name" "$VM_SECONDS" >>"$work/timings"
  grep -E "$DRIVER_PREFIX|imgroot-init: |Kernel panic|reboot: " "$log" | grep -Ev "${DRIVER_PREFIX}[a-z-]*[+] " |
    sed 's/^/  | /' >&2 || true
  [[ $VM_RESULT == exited* ]] || fail "boot $name: the VM was still running after ${BOOT_LIMIT}s"
}

# expect_boot IMAGE END: the common assertions on the console log of a boot
# of IMAGE that ended with END ("Restarting system" or "Power down").
expect_boot() {
  local image=$1 end=$2
  [[ $(report_value "$log" image) == "$image" ]] ||
    fail "image $image: the test driver did not report (no '${DRIVER_PREFIX}image $image' in $log)"
  pass "the driver ran in image $image"
  expect_eq "image $image: systemctl is-system-running --wait" "$(report_value "$log" system-running)" running
  [[ $(report_value "$log" system-running) == running ]] ||
    say "  failed units: $(report_value "$log" failed-units)"
  expect_eq "image $image: the default target is active" \
    "$(report_value "$log" default-target | cut -d' ' -f2)" active
  expect_eq "image $image: imgroot-mark-good.service (ActiveState Result)" \
    "$(report_value "$log" mark-good)" "active success"
  if grep -q "reboot: $end" "$log"; then pass "image $image: the kernel ended with '$end'"; else
    flunk "image $image: no 'reboot: $end' from the kernel in $log"
  fi
}

# status_json KEY: the JSON the driver sent as KEY (`imgroot status --json`,
# the last line of `imgroot stage --json`).
status_json() {
  local json
  json=$(report_blob "$log" "$1") || fail "no readable '$1' from the driver in $log"
  jq -e . >/dev/null <<<"$json" || fail "'$1' is not JSON: $json"
  printf '%s\n' "$json"
}

# expect_staged_b JSON: A's `imgroot status --json` after staging B: B is
# on trial for the next boot. Stops the test when anything so far failed.
expect_staged_b() {
  expect_json "A: status after staging" "$1" .staged true
  expect_json "A: status after staging: hn-root-new.img is image B" "$1" '.images[1].sha256' "$B_SHA256"
  expect_json "A: status after staging" "$1" .next_boot.action upgrade
  expect_json "A: status after staging" "$1" .trial.phase counting
  ((${#failures[@]} == 0)) || finish
}

# upgraded_boot DISK: boot B after A staged it and rebooted, and assert B
# runs with A as the old image, GRUB having loaded the staged file's kernel
# and mark-good having ended the trial; B's status JSON is left in $json.
upgraded_boot() {
  boot B "$1"
  expect_boot B "Power down"
  json=$(status_json status-json)
  expect_json "B: status" "$json" .booted.image hn-root.img
  expect_json "B: status: GRUB loaded the staged file's kernel" "$json" .booted.kernel_image hn-root-new.img
  expect_json "B: status: hn-root.img is image B" "$json" '.images[0].sha256' "$B_SHA256"
  expect_json "B: status: hn-root-old.img is image A" "$json" '.images[2].sha256' "$A_SHA256"
  expect_json "B: status" "$json" .staged false
  expect_json "B: status" "$json" .assessment.state good
  expect_json "B: status: mark-good ended the trial" "$json" .trial.phase none
}

# ---------------------------------------------------------------- scenarios

scenario_upgrade() {
  local disk=$work/disk.img json
  provision "$disk"
  printf '%s\n' "$HOST_HOSTNAME" >"$work/hostname"
  printf '%s\n' "$HOST_MACHINE_ID" >"$work/machine-id"
  hostpart_write "$disk" "write $(debian_image B) data/B.img" \
    "mkdir imgroot/host" "mkdir imgroot/host/etc" \
    "write $work/hostname imgroot/host/etc/hostname" \
    "write $work/machine-id imgroot/host/etc/machine-id"
  set_actions "$disk" "$work" A=upgrade B=poweroff

  boot A "$disk"
  expect_boot A "Restarting system"
  json=$(status_json status-json)
  expect_json "A: status" "$json" .booted.from_this_hostpart true
  expect_json "A: status" "$json" .booted.image hn-root.img
  expect_json "A: status" "$json" .booted.kernel_image hn-root.img
  expect_json "A: status: hn-root.img is image A" "$json" '.images[0].sha256' "$A_SHA256"
  expect_json "A: status" "$json" .assessment.state good
  expect_eq "A: imgroot stage --insecure /hostpart/data/B.img" "$(report_value "$log" stage | cut -d' ' -f2)" 0
  json=$(status_json status-json-staged)
  # A trusts a signing key, so its file was staged only with --insecure.
  expect_json "A: status after staging: an image file on a node with keys" "$json" '.images[1].signed_by' insecure
  expect_staged_b "$json"
  upgraded_boot "$disk"
  finish
}

# publish_site SITE: images A then B published into SITE on channel stable
# (B is release hn-root-2), signed with the key the images trust.
publish_site() {
  local site=$1 image
  mkdir -p "$site"
  for image in A B; do
    # zstd level 3: the test's two boots, not the compression, are what it is about.
    "$IMGROOT_TOOL" publish "$(debian_image "$image")" --to "$site" --channel stable --level 3 \
      --key "$IMGROOT_DEBIAN_SHARED/release.key" \
      >>"$work/publish.log" 2>&1 || { cat "$work/publish.log" >&2; die "imgroot publish of image $image failed"; }
  done
  say "published: $(tr '\n' ' ' <"$work/publish.log")"
}

# nginx_sent: the body bytes nginx sent with data (200, 206), from its access
# log; not error pages.
nginx_sent() {
  grep -E '^20[06] ' "$nginx_state/access.log" | sed -n 's/.* sent=\([0-9]*\) .*/\1/p' |
    awk '{ s += $1 } END { print s + 0 }'
}

scenario_stage_url() {
  local disk=$work/disk.img port json fetched reused release=hn-root-2
  "$NGINX_SH" check || exit $?
  need_commands socat
  publish_site "$work/site"
  nginx_state=$work/nginx
  port=$("$NGINX_SH" start "$nginx_state" "$work/site")
  expect_json "the site's channel stable" "$(cat "$work/site/channels/stable")" .manifest \
    "../releases/$release/manifest.json"
  provision "$disk"
  set_actions "$disk" "$work" A=stage-url B=poweroff

  # The guest's only way out: GUEST_HOST:80, each connection a socat to nginx.
  VM_NIC="user,model=virtio-net-pci,restrict=on,guestfwd=tcp:$GUEST_HOST:80-cmd:socat - TCP:127.0.0.1:$port" \
    boot A "$disk"
  expect_boot A "Restarting system"
  json=$(status_json status-json)
  expect_json "A: status: hn-root.img is image A" "$json" '.images[0].sha256' "$A_SHA256"
  expect_eq "A: systemd-networkd-wait-online" "$(report_value "$log" network | cut -d' ' -f1)" 0
  if [[ $(report_value "$log" network) == *" configured;"* ]]; then
    pass "A: networkd configured the NIC ($(report_value "$log" network | cut -d' ' -f2-))"
  else
    flunk "A: networkd did not configure the NIC: $(report_value "$log" network)"
  fi
  expect_eq "A: imgroot stage --json http://$GUEST_HOST/channels/stable" \
    "$(report_value "$log" stage-url | cut -d' ' -f2 | tr -d ,)" 0
  say "A: stage-url: $(report_value "$log" stage-url)"
  report_values "$log" stage-url-error | sed 's/^/  stage: /' >&2
  json=$(status_json stage-url-json)
  expect_json "A: stage" "$json" .event staged
  expect_json "A: stage" "$json" .release "$release"
  expect_json "A: stage: the release is image B" "$json" .sha256 "$B_SHA256"
  fetched=$(jq -r .bytes_fetched <<<"$json")
  reused=$(jq -r .bytes_reused <<<"$json")
  say "A: fetched $fetched bytes, found $reused on the node; nginx sent $(nginx_sent) in $(wc -l <"$nginx_state/access.log") requests"
  if ((fetched > 0 && reused > 10 * fetched)); then pass "A: most of B was found in A ($reused bytes reused, $fetched fetched)"; else
    flunk "A: $reused bytes reused and $fetched fetched: not more than 10 times as many found on the node"
  fi
  if (($(nginx_sent) > 0 && $(nginx_sent) <= fetched)); then pass "A: the node fetched through the forward what nginx sent"; else
    flunk "A: nginx sent $(nginx_sent) bytes, the node counted $fetched"
  fi
  json=$(status_json status-json-staged)
  expect_json "A: status after staging: the staged image's release" "$json" '.images[1].release.name' "$release"
  expect_json "A: status after staging: signed by the key image A trusts" "$json" '.images[1].signed_by' "$RELEASE_KEY_ID"
  expect_staged_b "$json"
  upgraded_boot "$disk"
  expect_json "B: status: hn-root.img came from the release" "$json" '.images[0].release.name' "$release"
  expect_json "B: status: hn-root.img's release record" "$json" '.images[0].release.bytes_fetched' "$fetched"
  expect_json "B: status: hn-root.img's signer" "$json" '.images[0].signed_by' "$RELEASE_KEY_ID"
  finish
}

# The disk distro.upgrade left (its fixture runs it first).
upgrade_disk() {
  [[ -s $upgrade_work/boot-B.log && -s $upgrade_work/disk.img ]] ||
    die "distro.upgrade left no disk and logs in $upgrade_work (run it first)"
  printf '%s\n' "$upgrade_work/disk.img"
}

# expect_clean WHAT FS: dumpe2fs says clean without needs_recovery, and
# e2fsck -fn finds nothing.
expect_clean() {
  local what=$1 fs=$2 header rc=0
  header=$(dumpe2fs -h "$fs" 2>/dev/null) || { flunk "$what: dumpe2fs cannot read it"; return; }
  expect_eq "$what: filesystem state" "$(sed -n 's/^Filesystem state: *//p' <<<"$header")" clean
  if grep -q '^Filesystem features:.*needs_recovery' <<<"$header"; then
    flunk "$what: its journal needs recovery (needs_recovery is set: it was not unmounted)"
  else
    pass "$what: no journal recovery needed"
  fi
  e2fsck -fn "$fs" >"$work/e2fsck.log" 2>&1 || rc=$?
  if ((rc == 0)); then pass "$what: e2fsck -fn is clean"; else
    sed 's/^/  | /' "$work/e2fsck.log" | tail -n 15 >&2
    flunk "$what: e2fsck -fn exit status $rc"
  fi
}

scenario_clean_shutdown() {
  local disk fs copy=$work/hostpart.img
  disk=$(upgrade_disk)
  log=$upgrade_work/boot-B.log
  fs=$(hostpart_fs "$disk")
  expect_clean "the host partition after systemctl poweroff" "$fs"
  # Read the image through a repaired copy whatever the partition's state, so
  # the image's own verdict is reported either way.
  extract_hostpart "$disk" "$copy"
  debugfs -R "dump /hn-root.img $work/hn-root.img" "$copy" >/dev/null 2>&1
  [[ -s $work/hn-root.img ]] || fail "no hn-root.img on the host partition"
  expect_eq "hn-root.img is image B" "$(debugfs -R 'cat /etc/imgroot-test-name' "$work/hn-root.img" 2>/dev/null)" B
  expect_clean "hn-root.img (image B) after systemctl poweroff" "$work/hn-root.img"
  rm -f "$copy" "$copy.fsck.log" "$work/hn-root.img"
  finish
}

scenario_host_identity() {
  local image
  upgrade_disk >/dev/null
  for image in A B; do
    log=$upgrade_work/boot-$image.log
    expect_eq "image $image: /etc/hostname is the host's" "$(report_value "$log" etc-hostname)" "$HOST_HOSTNAME"
    expect_eq "image $image: the hostname is the host's" "$(report_value "$log" hostname)" "$HOST_HOSTNAME"
    expect_eq "image $image: /etc/machine-id is the host's" "$(report_value "$log" machine-id)" "$HOST_MACHINE_ID"
    ((${#failures[@]} == 0)) || grep 'imgroot-init: ' "$log" | sed "s/^/  $image | /" >&2 || true
  done
  # What the init said is above; the end of the shutdown is of no use here.
  log=/dev/null
  finish
}

scenario_overlay_tmpfs() {
  local disk=$work/disk.img fs before after
  provision "$disk" imgroot.overlay=tmpfs
  set_actions "$disk" "$work" A=write-root
  fs=$(hostpart_fs "$disk")
  before=$(image_sha256 "$fs" hn-root.img)
  expect_eq "hn-root.img before the boot is image A" "$before" "$A_SHA256"

  boot A "$disk"
  expect_boot A "Power down"
  expect_eq "A: / is an overlay" "$(report_value "$log" root | cut -d' ' -f2)" overlay
  expect_eq "A: the driver wrote to /" "$(report_value "$log" write-root)" "written by the test driver"
  # The host partition itself may not be clean yet (distro.clean_shutdown):
  # read the image through a repaired copy.
  extract_hostpart "$disk" "$work/hostpart.img"
  after=$(image_sha256 "$work/hostpart.img" hn-root.img)
  expect_eq "hn-root.img after the boot is bit for bit what it was (SHA-256)" "$after" "$before"
  rm -f "$work/hostpart.img" "$work/hostpart.img.fsck.log"
  finish
}

# ---------------------------------------------------------------- assessment

# The boot assessment (docs/assessment.md) on the real systemd: the test
# images' checks run data/imgroot-test/<kind>-<image> from the host partition
# and a hang-<image> file hangs the boot (make-images.sh,
# install_assess_fixtures); their assess.conf retries once, 2 s later, and
# reboots 5 s after a red verdict.
heal_work=$PWD/distro.heal_required

# A required check that fails on the first try of each boot and passes on
# the second (its count in /run, gone at the next boot).
# shellcheck disable=SC2016 # a script for the guest, expanded there
CHECK_PASSES_SECOND_TRY='n=$(($(cat /run/imgroot-test-tries 2>/dev/null || echo 0) + 1))
echo "$n" >/run/imgroot-test-tries
echo "try $n"
[ "$n" -ge 2 ]'

# events KEY: the event log the driver sent as KEY, as one JSON array.
events() {
  local text
  text=$(report_blob "$log" "$1") || fail "no readable '$1' from the driver in $log"
  jq -se . <<<"$text" || fail "'$1' is not JSON lines: $text"
}

# expect_contains WHAT TEXT PART
expect_contains() {
  if [[ $2 == *"$3"* ]]; then pass "$1 (has '$3')"; else flunk "$1: no '$3' in: $2"; fi
}

# expect_self_reboot IMAGE: the boot of IMAGE ended in a reboot the driver
# did not ask for (its action was 'stay').
expect_self_reboot() {
  local image=$1
  if grep -q "reboot: Restarting system" "$log"; then pass "image $image: the kernel ended with 'Restarting system'"; else
    flunk "image $image: no 'reboot: Restarting system' in $log"
  fi
  if grep -Eq "${DRIVER_PREFIX}(rebooting|powering-off)" "$log"; then
    flunk "image $image: the test driver rebooted or powered off"
  else
    pass "image $image: the test driver asked for no reboot"
  fi
}

# expect_given_up_b WHAT FAILED: after the rollback, A (driver action
# 'restage' or 'poweroff') runs again, B is hn-root-broken.img, and status
# and the event log say B was given up after a red verdict whose failed
# check starts with FAILED.
expect_given_up_b() {
  local failed=$1 json text events
  expect_boot A "Power down"
  json=$(status_json status-json)
  expect_json "A again: status" "$json" .booted.image hn-root.img
  expect_json "A again: status: hn-root.img is image A" "$json" '.images[0].sha256' "$A_SHA256"
  expect_json "A again: status: hn-root-broken.img is image B" "$json" '.images[3].sha256' "$B_SHA256"
  expect_json "A again: status: nothing staged" "$json" .staged false
  text=$(jq -r '.explanation | join("\n")' <<<"$json")
  expect_contains "A again: status --json explanation" "$text" \
    "hn-root-broken.img (sha256 ${B_SHA256:0:12}..., from /hostpart/data/B.img) was marked bad by its boot assessment; back on hn-root.img since "
  expect_contains "A again: status --json explanation" "$text" "its last failed check: $failed"
  text=$(report_blob "$log" status-text) || fail "no readable 'status-text' in $log"
  expect_contains "A again: imgroot status" "$text" "why:"
  expect_contains "A again: imgroot status" "$text" "its last failed check: $failed"
  text=$(report_blob "$log" motd) || fail "no readable 'motd' in $log"
  expect_contains "A again: the login banner" "$text" "hn-root-broken.img (sha256 ${B_SHA256:0:12}..."
  expect_contains "A again: the login banner" "$text" "its last failed check: $failed"
  events=$(events log-json)
  expect_json "A again: log: B's boot on trial" "$events" \
    "[.[] | select(.event == \"boot\" and .sha256 == \"$B_SHA256\") | .trial] | first" counting
  expect_json "A again: log: B's verdict" "$events" \
    "[.[] | select(.event == \"verdict\" and .sha256 == \"$B_SHA256\")] | length" 1
  expect_json "A again: log: B's verdict" "$events" \
    "[.[] | select(.event == \"verdict\" and .sha256 == \"$B_SHA256\")][0].result" red
  expect_json "A again: log: B's verdict: its failed check" "$events" \
    "[.[] | select(.event == \"verdict\" and .sha256 == \"$B_SHA256\")][0].failed[0] | startswith(\"$failed\")" true
  expect_json "A again: log: B's verdict: what it did" "$events" \
    "[.[] | select(.event == \"verdict\" and .sha256 == \"$B_SHA256\")][0].action" \
    "the image on trial is bad: rebooting into hn-root-old.img"
  expect_json "A again: log: B given up" "$events" \
    "[.[] | select(.event == \"given-up\" and .sha256 == \"$B_SHA256\")] | length" 1
}

# boot_a_then_b DISK A_AGAIN NAME=TEXT...: a provisioned DISK with the test
# data NAME=TEXT; A stages B and reboots (boot A1), B is to reboot by itself
# (boot B: expect_self_reboot); when A boots again (boot A2, left to the
# caller) its driver does A_AGAIN.
boot_a_then_b() {
  local disk=$1 again=$2
  shift 2
  provision "$disk"
  hostpart_write "$disk" "write $(debian_image B) data/B.img"
  set_actions "$disk" "$work" "A=upgrade $again" B=stay
  test_data "$disk" "$work" "$@"

  boot A1 "$disk"
  expect_boot A "Restarting system"
  expect_eq "A: imgroot stage /hostpart/data/B.img" "$(report_value "$log" stage | cut -d' ' -f2)" 0
  ((${#failures[@]} == 0)) || finish

  boot B "$disk"
  expect_self_reboot B
}

# heal_required: A (a wanted check fails, a required one passes on its
# second try: distro.wanted_and_retry) stages B and reboots; B's required
# check fails, it reboots by itself; A explains, and refuses B again.
scenario_heal_required() {
  local disk=$work/disk.img json text events id init
  boot_a_then_b "$disk" restage "wanted-A=echo 'the wanted test check fails'; exit 3" \
    "required-A=$CHECK_PASSES_SECOND_TRY" "required-B=echo 'the required test check fails'; exit 1"
  ((${#failures[@]} == 0)) || finish

  boot A2 "$disk"
  expect_given_up_b "required/50-imgroot-test (exit 1, 2 tries)"
  # imgroot-init's own record of each boot, written before it switched root
  # and before the running system's boot event of the same boot id.
  events=$(events log-json)
  expect_json "A again: log: one init event for each of the three boots" "$events" \
    '[.[] | select(.event == "init")] | length' 3
  id=$(jq -r "[.[] | select(.event == \"boot\" and .sha256 == \"$B_SHA256\")][0].boot_id" <<<"$events")
  init="[.[] | select(.event == \"init\" and .boot_id == \"$id\")][0]"
  expect_json "A again: log: the init upgraded to B" "$events" "$init.rotation" upgrade
  expect_json "A again: log: the init upgraded to B" "$events" "$init.chosen" hn-root-new.img
  expect_json "A again: log: GRUB loaded B's kernel" "$events" "$init.loaded" hn-root-new.img
  expect_json "A again: log: the init upgraded to B" "$events" "$init.steps[-1]" \
    "rotation: hn-root-new.img -> hn-root.img"
  expect_json "A again: log: the init mounted B" "$events" "$init.image + \" \" + $init.fs" "hn-root.img ext4"
  expect_json "A again: log: B's init event came before its boot event" "$events" \
    "[.[] | select(.boot_id == \"$id\") | .event] | index(\"init\") < index(\"boot\")" true
  # The boot back to A: GRUB asked for the revert, the init did it.
  init='([.[] | select(.event == "init")] | last)'
  expect_json "A again: log: the init's last event is this boot's" "$events" \
    "$init.boot_id == ([.[] | select(.event == \"boot\")] | last).boot_id" true
  expect_json "A again: log: this boot is image A" "$events" \
    '([.[] | select(.event == "boot")] | last).sha256' "$A_SHA256"
  expect_json "A again: log: GRUB asked the init to revert" "$events" "$init.asked | join(\" \")" revert
  expect_json "A again: log: GRUB loaded A's kernel from the old image" "$events" "$init.loaded" hn-root-old.img
  expect_json "A again: log: the init reverted to A" "$events" "$init.rotation" revert
  expect_json "A again: log: the init reverted to A" "$events" "$init.chosen" hn-root-old.img
  expect_json "A again: log: the init reverted to A" "$events" "$init.steps | join(\"; \")" \
    "rotation: link hn-root.img as .hn-root-link.tmp; rotation: .hn-root-link.tmp -> hn-root-broken.img; rotation: hn-root-old.img -> hn-root.img"
  expect_json "A again: log: the init mounted A, with no fall-back or warning" "$events" \
    "[$init.image, $init.fell_back, $init.warnings, $init.error] | tostring" '["hn-root.img",null,null,null]'
  expect_eq "A again: imgroot stage of B again fails" "$(report_value "$log" restage | cut -d' ' -f2)" 1
  text=$(report_blob "$log" restage-output) || fail "no readable 'restage-output' in $log"
  expect_contains "A again: imgroot stage of B again" "$text" "was staged before from /hostpart/data/B.img"
  expect_contains "A again: imgroot stage of B again" "$text" "marked bad by its boot assessment"
  expect_contains "A again: imgroot stage of B again" "$text" "pass --force to stage it anyway"
  json=$(status_json status-json-restaged)
  expect_json "A again: status after the refused stage" "$json" .staged false
  finish
}

# wanted_and_retry: what distro.heal_required's first boot of A said of its
# checks: a wanted failure reported, a required check passing on its second
# try, and the image marked good.
scenario_wanted_and_retry() {
  local json events text
  log=$heal_work/boot-A1.log
  [[ -s $log ]] || die "distro.heal_required left no $log (run it first)"
  expect_eq "A: imgroot-mark-good.service (ActiveState Result)" "$(report_value "$log" mark-good)" "active success"
  json=$(status_json status-json)
  expect_json "A: status" "$json" .assessment.state good
  events=$(events log-json)
  expect_json "A: log: one verdict" "$events" '[.[] | select(.event == "verdict")] | length' 1
  expect_json "A: log: the verdict" "$events" '[.[] | select(.event == "verdict")][0].result' green
  expect_json "A: log: the verdict is about image A" "$events" \
    '[.[] | select(.event == "verdict")][0].sha256' "$A_SHA256"
  expect_json "A: log: no required check failed" "$events" \
    '[.[] | select(.event == "verdict")][0].failed | length' 0
  expect_json "A: log: the wanted check failed" "$events" \
    '[.[] | select(.event == "verdict")][0].wanted_failed | join(";")' "wanted/50-imgroot-test (exit 3)"
  text=$(report_blob "$log" assess-journal) || fail "no readable 'assess-journal' in $log"
  expect_contains "A: imgroot assess in the journal" "$text" "check required/50-imgroot-test passed on try 2"
  expect_contains "A: imgroot assess in the journal" "$text" "wanted check failed: wanted/50-imgroot-test (exit 3)"
  expect_contains "A: imgroot assess in the journal" "$text" "green: hn-root.img is good"
  log=/dev/null
  finish
}

# hung_boot: B never reaches multi-user.target; the deadline (90 s after the
# kernel started, from B's hang-B file) makes it red, it reboots by itself,
# and A says why.
scenario_hung_boot() {
  local disk=$work/disk.img deadline=90
  boot_a_then_b "$disk" poweroff "hang-B=$deadline"
  if grep -q "Reached target.*Multi-User System" "$log"; then
    flunk "B: multi-user.target was reached (the hang did not hold)"
  else
    pass "B: multi-user.target was never reached"
  fi
  if ((VM_SECONDS >= deadline)); then pass "B: ran ${VM_SECONDS}s, past the ${deadline}s deadline"; else
    flunk "B: ended after ${VM_SECONDS}s, before the ${deadline}s deadline"
  fi
  # What the hanging unit saw: the watchdog of the trial, then none after
  # the deadline's verdict (QEMU has no watchdog device here: systemd holds
  # the setting, nothing resets the machine).
  expect_eq "B: the runtime watchdog while on trial" "$(report_values "$log" runtime-watchdog | head -n 1)" 1min
  expect_eq "B: the runtime watchdog after the verdict" "$(report_value "$log" runtime-watchdog)" 0
  ((${#failures[@]} == 0)) || finish

  boot A2 "$disk"
  expect_given_up_b "deadline (no verdict by the deadline)"
  finish
}

work=$PWD/$TEST_NAME
case $scenario in
  upgrade | overlay_tmpfs | stage_url)
    rm -rf "$work"
    mkdir -p "$work"
    ;;
  clean_shutdown | host_identity) mkdir -p "$work" ;;
  heal_required | hung_boot)
    rm -rf "$work"
    mkdir -p "$work"
    ;;
  wanted_and_retry) mkdir -p "$work" ;;
  *) die "unknown scenario '$scenario' (--list)" ;;
esac
"scenario_$scenario"

#!/bin/bash
# The health-check runner of imgroot-mark-good.service (grub/imgroot-check-boot),
# with a stand-in for the imgroot binary that records the verdict:
#
#   tests/qemu/grub/check-boot-test.sh
#
# all checks pass -> mark-good; one fails or hangs -> a log line naming it,
# mark-bad and a non-zero exit; non-executable files and editor leftovers
# are not checks; no check.d at all -> mark-good.
set -euo pipefail
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/../lib.sh"

runner=$REPO_ROOT/grub/imgroot-check-boot
work=$(mktemp -d "${TMPDIR:-/tmp}/imgroot-check-boot.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat >"$work/imgroot" <<STANDIN
#!/bin/bash
echo "\$*" >>"$work/verdicts"
STANDIN
chmod +x "$work/imgroot"

# check NAME EXIT_STATUS: an executable check that exits with that status.
check() {
  printf '#!/bin/sh\necho "%s ran" >>"%s/ran"\nexit %s\n' "$1" "$work" "$2" >"$work/check.d/$1"
  chmod +x "$work/check.d/$1"
}

# run_case NAME: run the runner; sets rc, out (its output), verdict, ran.
run_case() {
  rm -f "$work/verdicts" "$work/ran"
  rc=0
  out=$(IMGROOT="$work/imgroot" IMGROOT_CHECK_DIR="$work/check.d" IMGROOT_CHECK_TIMEOUT=2 \
    "$runner" 2>&1) || rc=$?
  verdict=$(cat "$work/verdicts" 2>/dev/null || true)
  ran=$(tr '\n' ' ' 2>/dev/null <"$work/ran" || true)
  say "case $1: exit $rc, verdict '$verdict', ran: $ran"
}

expect() {
  [[ $1 == "$2" ]] || die "$3: got '$1', expected '$2' (output: $out)"
}

mkdir -p "$work/check.d"
check 10-disk 0
check 20-net 0
printf 'not a check\n' >"$work/check.d/README"
cp "$work/check.d/10-disk" "$work/check.d/10-disk~"
run_case "all pass"
expect "$rc" 0 "all checks pass: exit 0"
expect "$verdict" mark-good "all checks pass: mark-good"
expect "$ran" "10-disk ran 20-net ran " "the checks run in name order, leftovers skipped"

check 15-app 3
run_case "one fails"
expect "$rc" 1 "a failed check: exit 1"
expect "$verdict" mark-bad "a failed check: mark-bad"
grep -q '<3>imgroot: health check 15-app failed (exit status 3)' <<<"$out" ||
  die "the failed check is not named in an error line: $out"
expect "$ran" "10-disk ran 15-app ran 20-net ran " "the other checks still run"

rm "$work/check.d/15-app"
printf '#!/bin/sh\nsleep 30\n' >"$work/check.d/30-hang"
chmod +x "$work/check.d/30-hang"
run_case "one hangs"
expect "$rc" 1 "a hanging check: exit 1"
expect "$verdict" mark-bad "a hanging check: mark-bad"
grep -q 'health check 30-hang did not finish within 2s' <<<"$out" ||
  die "the hanging check is not named: $out"

rm -rf "$work/check.d"
run_case "no check.d"
expect "$rc" 0 "no checks: exit 0"
expect "$verdict" mark-good "no checks: mark-good"

say "PASS grub.check_runner"

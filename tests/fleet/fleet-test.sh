#!/bin/bash
# fleet.*: the imgroot.fleet collection's rollout play (issue 17) against the
# three QEMU nodes fleet-nodes.sh up left running, over SSH:
#
#   tests/fleet/fleet-test.sh SCENARIO     (--list prints them)
#
#   check_mode         all nodes on A; `--check` with release B (hn-root-2),
#                      the three in one wave, exits 0 and reports all three
#                      would change; afterwards no node has hn-root-new.img,
#                      a download or a stage event, and none rebooted (same
#                      boot id)
#   rollout            A -> B in two waves ([1, 2]): exits 0; every node runs
#                      B from hn-root.img, marked good, release hn-root-2, with
#                      A as hn-root-old.img, after a reboot; the canary's
#                      green verdict on B comes before the other two staged
#                      (their event logs); the report says B, good, changed.
#                      Run again: exits 0, the report and the recap say
#                      nothing changed, and nobody rebooted
#   bad_release_halts  release C (hn-root-3: B with a required check that
#                      fails) on the nodes on B: the play fails; the canary
#                      staged C, rebooted, gave a red verdict naming the
#                      check and went back to B by itself (C given up, B
#                      current and good); the other two never staged
#                      anything (no hn-root-new.img, no new stage event) and
#                      never rebooted
#
# They run in that order (ctest DEPENDS) on the same nodes. The state of each
# node is read over SSH (`imgroot status --json`, `imgroot log --json`,
# /proc/sys/kernel/random/boot_id), not only from Ansible's output. Works in
# ./fleet.<scenario>/: the play's output (play*.log) and report (report*.json).
set -euo pipefail
# shellcheck source=tests/fleet/fleet-lib.sh
source "$(dirname "$0")/fleet-lib.sh"

scenarios=(check_mode rollout bad_release_halts)
if [[ ${1:-} == --list ]]; then
  printf '%s\n' "${scenarios[@]}"
  exit 0
fi
scenario=${1:?usage: fleet-test.sh SCENARIO (--list)}
TEST_NAME=fleet.$scenario
# A wave: staging, a reboot and a verdict under TCG, three VMs on two cores.
VERDICT_TIMEOUT=${IMGROOT_FLEET_VERDICT_TIMEOUT:-900}
PLAY_RC=

# ---------------------------------------------------------------- the play

# play NAME URL ARG...: the collection's rollout play over the fleet's
# inventory to release URL, reporting into $work/NAME.json; its output in
# $work/NAME.log (printed as it comes), its exit status in PLAY_RC.
play() {
  local name=$1 url=$2 start=$SECONDS
  shift 2
  say "ansible-playbook imgroot.fleet.rollout -e imgroot_release_url=$url $*"
  : >"$work/$name.log"
  # The output as it comes, each line with the time it came (where a wave
  # spends its time); the file keeps it as Ansible wrote it.
  { local rc=0
    run_ansible ansible-playbook imgroot.fleet.rollout -e "imgroot_release_url=$url" \
      -e "imgroot_report=$work/$name.json" -e "imgroot_verdict_timeout=$VERDICT_TIMEOUT" "$@" 2>&1 ||
      rc=$?
    echo "$rc" >"$work/$name.rc"
  } | while IFS= read -r line; do
    printf '%s\n' "$line" >>"$work/$name.log"
    printf '  | %(%T)T %s\n' -1 "$line" >&2
  done
  PLAY_RC=$(cat "$work/$name.rc")
  say "$name: exit status $PLAY_RC after $((SECONDS - start))s"
  printf '%s=%s\n' "$name" "$((SECONDS - start))" >>"$work/timings"
}

# recap LOG NODE FIELD: FIELD (ok, changed, failed...) of NODE's line in the
# play's recap; empty when the recap does not name it.
recap() {
  sed -n '/^PLAY RECAP/,$p' "$1" | awk -v h="$2" -v f="$3=" \
    '$1 == h { for (i = 2; i <= NF; i++) if (index($i, f) == 1) print substr($i, length(f) + 1) }'
}

# report_field NAME NODE FILTER: jq FILTER of NODE's entry in report NAME
# (the role's report: {"release", "check_mode", "hosts": {NODE: {...}},
# "not_done": [...]}).
report_field() {
  jq -r --arg h "$2" ".hosts[\$h] | $3" "$work/$1.json" 2>&1
}

# ---------------------------------------------------------------- nodes

# image_field JSON IMAGE FIELD: FIELD of IMAGE (hn-root.img...) in a status.
image_field() {
  jq -r --arg n "$2" ".images[] | select(.name == \$n) | .$3" <<<"$1"
}

# which_image SHA256: A, B, C or the SHA-256 itself.
which_image() {
  case $1 in
    "$A_SHA256") echo A ;;
    "$B_SHA256") echo B ;;
    "$C_SHA256") echo C ;;
    *) echo "${1:-none}" ;;
  esac
}

# expect_on NODE IMAGE: NODE runs IMAGE from hn-root.img, marked good, not on
# trial, nothing staged (no hn-root-new.img on the host partition either).
expect_on() {
  local node=$1 image=$2 json
  json=$(status_of "$node") || { flunk "$node: imgroot status --json failed: $json"; return; }
  expect_json "$node: status" "$json" .booted.image hn-root.img
  expect_eq "$node: hn-root.img is image" "$(which_image "$(image_field "$json" hn-root.img sha256)")" "$image"
  expect_json "$node: status" "$json" .assessment.state good
  expect_json "$node: status" "$json" .staged false
  expect_json "$node: status" "$json" .trial.phase none
  expect_json "$node: status: no download" "$json" .download null
  if on "$node" test -e /hostpart/hn-root-new.img; then flunk "$node: /hostpart/hn-root-new.img exists"; else
    pass "$node: no /hostpart/hn-root-new.img"
  fi
}

# events NODE TYPE: NODE's events of TYPE (`imgroot log --json`), one JSON
# object a line, oldest first.
events() {
  on "$1" imgroot log --json | jq -c --arg t "$2" 'select(.event == $t)'
}

declare -A boot_ids
remember_boot_ids() {
  local node
  for node in "${NODES[@]}"; do boot_ids[$node]=$(boot_id_of "$node"); done
}
# expect_rebooted NODE yes|no: whether NODE's boot id changed since
# remember_boot_ids.
expect_rebooted() {
  local now
  now=$(boot_id_of "$1")
  if [[ $now == "${boot_ids[$1]}" ]]; then
    expect_eq "$1: rebooted (boot id ${boot_ids[$1]} -> $now)" no "$2"
  else
    expect_eq "$1: rebooted (boot id ${boot_ids[$1]} -> $now)" yes "$2"
  fi
}

# need_all_on IMAGE: the scenario's starting point, or stop (the scenario
# before it failed: say so rather than fail in a confusing way).
need_all_on() {
  local node json
  for node in "${NODES[@]}"; do
    json=$(status_of "$node") || die "$node does not answer imgroot status --json over SSH"
    [[ $(which_image "$(image_field "$json" hn-root.img sha256)") == "$1" && $(jq -r .staged <<<"$json") == false ]] ||
      die "$node does not run image $1 with nothing staged (the scenario before this one failed?): $(jq -c '[.images[] | {name, sha256, release}]' <<<"$json")"
  done
  pass "all nodes run image $1"
}

# ---------------------------------------------------------------- scenarios

scenario_check_mode() {
  local node changed
  need_all_on A
  remember_boot_ids
  # One wave: nothing reboots in check mode, so waves only take turns.
  play play-check "$(release_url 2)" --check -e '{"imgroot_waves": [3]}'
  expect_eq "ansible-playbook --check: exit status" "$PLAY_RC" 0
  for node in "${NODES[@]}"; do
    expect_eq "$node: the report says it would change" "$(report_field play-check "$node" .changed)" true
    expect_eq "$node: the report's verdict in check mode" "$(report_field play-check "$node" .verdict)" would-stage
    changed=$(recap "$work/play-check.log" "$node" changed)
    if ((${changed:-0} > 0)); then pass "$node: the recap counts changes"; else
      flunk "$node: the recap says changed='$changed'"
    fi
    expect_on "$node" A
    expect_eq "$node: stage events" "$(events "$node" stage | wc -l)" 0
    expect_rebooted "$node" no
  done
  finish
}

scenario_rollout() {
  local node json canary_green stage_time
  need_all_on A
  remember_boot_ids
  play play-rollout "$(release_url 2)" -e '{"imgroot_waves": [1, 2]}'
  expect_eq "ansible-playbook, waves [1, 2]: exit status" "$PLAY_RC" 0
  for node in "${NODES[@]}"; do
    expect_on "$node" B
    json=$(status_of "$node")
    expect_eq "$node: hn-root-old.img is image" "$(which_image "$(image_field "$json" hn-root-old.img sha256)")" A
    expect_eq "$node: hn-root.img's release" "$(image_field "$json" hn-root.img release.name)" hn-root-2
    expect_rebooted "$node" yes
    expect_eq "$node: the report's release" "$(report_field play-rollout "$node" .release)" hn-root-2
    expect_eq "$node: the report's verdict" "$(report_field play-rollout "$node" .verdict)" good
    expect_eq "$node: the report says it changed" "$(report_field play-rollout "$node" .changed)" true
    expect_eq "$node: the report says it rebooted" "$(report_field play-rollout "$node" .rebooted)" true
  done
  # The waves: the canary (the inventory's first) gave its green verdict on
  # B before either of the others staged anything.
  canary_green=$(events "${NODES[0]}" verdict | jq -r 'select(.result == "green") | .time' | tail -n 1)
  for node in "${NODES[@]:1}"; do
    stage_time=$(events "$node" stage | jq -r .time | tail -n 1)
    if [[ -n $canary_green && $stage_time > $canary_green ]]; then
      pass "$node staged at $stage_time, after the canary's green verdict at $canary_green"
    else
      flunk "$node staged at '$stage_time', not after the canary's green verdict at '$canary_green'"
    fi
  done

  say "again: the nodes run the release already"
  remember_boot_ids
  play play-again "$(release_url 2)" -e '{"imgroot_waves": [1, 2]}'
  expect_eq "ansible-playbook again: exit status" "$PLAY_RC" 0
  for node in "${NODES[@]}"; do
    expect_eq "$node: the recap's changed, again" "$(recap "$work/play-again.log" "$node" changed)" 0
    expect_eq "$node: the report says it did not change" "$(report_field play-again "$node" .changed)" false
    expect_eq "$node: the report says it did not reboot" "$(report_field play-again "$node" .rebooted)" false
    expect_eq "$node: the report's verdict, again" "$(report_field play-again "$node" .verdict)" good
    expect_eq "$node: the report's release, again" "$(report_field play-again "$node" .release)" hn-root-2
    expect_on "$node" B
    expect_eq "$node: stage events" "$(events "$node" stage | wc -l)" 1
    expect_rebooted "$node" no
  done
  finish
}

scenario_bad_release_halts() {
  local node json canary=${NODES[0]} verdict failed
  need_all_on B
  remember_boot_ids
  # The default waves: a canary of one, then 10 %, then the rest.
  play play-bad "$(release_url 3)"
  if ((PLAY_RC != 0)); then pass "ansible-playbook with release C fails (exit status $PLAY_RC)"; else
    flunk "ansible-playbook with release C exited 0"
  fi
  failed=$(recap "$work/play-bad.log" "$canary" failed)
  if ((${failed:-0} > 0)); then pass "$canary: the recap counts a failure"; else
    flunk "$canary: the recap says failed='$failed'"
  fi

  expect_eq "the report: the canary's verdict" "$(report_field play-bad "$canary" .verdict)" rolled-back
  expect_json "the report: the nodes not done" "$(cat "$work/play-bad.json" 2>&1)" '.not_done | join(" ")' \
    "${NODES[*]:1}"
  # The canary: C staged, booted, red, given up; back on B by itself.
  expect_on "$canary" B
  expect_rebooted "$canary" yes
  json=$(status_of "$canary")
  expect_eq "$canary: hn-root-broken.img is image" \
    "$(which_image "$(image_field "$json" hn-root-broken.img sha256)")" C
  expect_eq "$canary: stage events (B, then C)" "$(events "$canary" stage | wc -l)" 2
  verdict=$(events "$canary" verdict | jq -c 'select(.result == "red")' | tail -n 1)
  expect_json "$canary: the red verdict" "${verdict:-null}" 'any(.failed[]?; startswith("required/50-fleet-fails"))' true
  expect_json "$canary: the red verdict's image" "${verdict:-null}" .sha256 "$C_SHA256"

  # The others: never staged, never rebooted.
  for node in "${NODES[@]:1}"; do
    expect_on "$node" B
    expect_eq "$node: stage events (B only)" "$(events "$node" stage | wc -l)" 1
    expect_rebooted "$node" no
  done
  finish
}

fleet_prerequisites
[[ -s $STATE/inventory && -s $STATE/images.env ]] ||
  die "no fleet in $STATE: fleet.nodes_up (tests/fleet/fleet-nodes.sh up) did not run or failed"
# shellcheck source=/dev/null
source "$STATE/images.env"
declare -F "scenario_$scenario" >/dev/null || die "unknown scenario '$scenario' (--list)"
work=$PWD/$TEST_NAME
rm -rf "$work"
mkdir -p "$work"
"scenario_$scenario"

#!/bin/bash
# The ansible.* tests of the imgroot.fleet collection (tools/ansible/),
# without QEMU (the fleet.* tests run it against real nodes):
#
#   run-tests.sh version CMAKE_PROJECT_VERSION   galaxy.yml follows the project's version
#   run-tests.sh sanity                          ansible-test sanity, the tests that run offline
#   run-tests.sh lint                            ansible-lint over the collection
#   run-tests.sh modules                         the modules against a fake imgroot
#   run-tests.sh rollout                         the rollout playbook against fake nodes
#   run-tests.sh fixtures IMGROOT                the fake's answers have the real CLI's shape
#
# Without ansible-core (tests/deps.sh installs it) they exit 77: skipped.
# Each builds the collection with ansible-galaxy and installs the tarball
# into a temporary collections path first: what is tested is what ships.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
src=$top/tools/ansible/imgroot/fleet
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ANSIBLE_COLLECTIONS_PATH=$tmp/collections ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
export ANSIBLE_LOCAL_TEMP=$tmp/ansible-local ANSIBLE_REMOTE_TEMP=$tmp/ansible-remote
export ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
installed=$ANSIBLE_COLLECTIONS_PATH/ansible_collections/imgroot/fleet

if ! command -v ansible-playbook >/dev/null; then
  echo "skipped: no ansible-playbook (apt-get install ansible-core)"
  exit 77
fi

build_and_install() {
  (cd "$tmp" && ansible-galaxy collection build "$src" >/dev/null)
  ansible-galaxy collection install -p "$ANSIBLE_COLLECTIONS_PATH" "$tmp"/imgroot-fleet-*.tar.gz >/dev/null
  [[ -f $installed/plugins/modules/imgroot_stage.py ]]
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# The sanity tests that need no network. The others are skipped: ansible-test
# installs their requirements (pylint, pycodestyle, yamllint, voluptuous...)
# into a virtualenv with pip fetched from the internet, which the tests may
# not reach: ansible-doc, import, pep8, pylint, runtime-metadata,
# validate-modules, yamllint. ansible-doc and the YAML are checked below by
# ansible-doc itself and by ansible-lint (the lint test).
offline_sanity=(action-plugin-docs compile empty-init future-import-boilerplate line-endings
  metaclass-boilerplate no-assert no-basestring no-dict-iteritems no-get-exception
  no-illegal-filenames no-main-display no-smart-quotes no-unicode-literals replace-urlopen
  shebang shellcheck symlinks use-argspec-type-path use-compat-six)

test_sanity() {
  build_and_install
  local python tests=()
  python=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  for t in "${offline_sanity[@]}"; do tests+=(--test "$t"); done
  (cd "$installed" && ansible-test sanity --local --python "$python" "${tests[@]}")
  # Every module's documentation parses, with its examples and returns.
  for module in imgroot_stage imgroot_status imgroot_revert; do
    ansible-doc --json "imgroot.fleet.$module" | python3 -c '
import json, sys
doc = json.load(sys.stdin)["imgroot.fleet.'"$module"'"]
assert doc["doc"]["options"], "no options"
assert doc["examples"].strip(), "no examples"
assert doc["return"], "no return values"
' || fail "ansible-doc imgroot.fleet.$module"
  done
  ansible-doc -t role imgroot.fleet.rollout >/dev/null || fail "ansible-doc -t role imgroot.fleet.rollout"
}

test_lint() {
  build_and_install
  (cd "$installed" && ansible-lint --offline -p -c "$here/ansible-lint.yml")
  ansible-playbook --syntax-check imgroot.fleet.rollout -i localhost, >/dev/null
}

test_version() {
  local project=$1 galaxy
  galaxy=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "$src/galaxy.yml")
  [[ $galaxy == "$project" ]] ||
    fail "tools/ansible/imgroot/fleet/galaxy.yml says version $galaxy, CMakeLists.txt's project() $project: make them equal"
  build_and_install
  [[ -f $tmp/imgroot-fleet-$project.tar.gz ]] || fail "the tarball is not imgroot-fleet-$project.tar.gz"
}

# A fake node: a directory of canned answers for fake-bin/imgroot.
node() {
  local dir=$tmp/nodes/$1
  mkdir -p "$dir"
  cp "$here/fixtures/$2" "$dir/status.out"
  cp "$here/fixtures/$3" "$dir/log.out"
  : >"$dir/calls"
}

test_modules() {
  build_and_install
  local f=$here/fixtures n=$tmp/nodes
  node good status-good.json log-good.jsonl
  node staged status-staged.json log-good.jsonl
  node bad status-bad.json log-rolled-back.jsonl
  node rolled-back status-rolled-back.json log-rolled-back.jsonl
  # Bad on trial: going back (the verdict says reboot), still concluding (no
  # verdict logged yet), staying up (the verdict says no reboot).
  node bad-trial status-bad-trial.json log-bad-trial.jsonl
  node bad-trial-concluding status-bad-trial.json log-bad-trial.jsonl
  sed -i '$d' "$n/bad-trial-concluding/log.out"
  node bad-trial-staying status-bad-trial.json log-bad-trial.jsonl
  jq -c 'if .event == "verdict" and .result == "red" then .reboot = false else . end' \
    "$f/log-bad-trial.jsonl" >"$n/bad-trial-staying/log.out"
  node stage-new status-good.json log-good.jsonl
  cp "$f/stage-staged.jsonl" "$n/stage-new/stage.out"
  node stage-staged status-staged.json log-good.jsonl
  cp "$f/stage-unchanged-staged.jsonl" "$n/stage-staged/stage.out"
  node stage-current status-good.json log-good.jsonl
  cp "$f/stage-unchanged-current.jsonl" "$n/stage-current/stage.out"
  node stage-check status-good.json log-good.jsonl
  cp "$f/stage-dry-run.jsonl" "$n/stage-check/stage-dry-run.out"
  node stage-refused status-good.json log-good.jsonl
  cp "$f/stage-downgrade.err" "$n/stage-refused/stage.err"
  echo 1 >"$n/stage-refused/stage.rc"
  # Image files: the staged image's SHA-256 is the file's.
  node image-staged status-staged.json log-good.jsonl
  echo "an image" >"$n/image-staged/image.img"
  local sha
  sha=$(sha256sum "$n/image-staged/image.img" | cut -d' ' -f1)
  jq --arg sha "$sha" '(.images[] | select(.role == "staged") | .sha256) = $sha' \
    "$f/status-staged.json" >"$n/image-staged/status.out"
  node image-new status-good.json log-good.jsonl
  echo "another image" >"$n/image-new/image.img"
  PATH=$here/fake-bin:$PATH ansible-playbook -i localhost, "$here/modules.yml" -e "work=$n"
}

# The rollout playbook over three fake nodes, node1 the canary wave.
rollout() {
  local inventory=$tmp/inventory
  {
    echo "[fleet]"
    for i in 1 2 3; do
      echo "node$i ansible_connection=local imgroot_hostpart=$tmp/nodes/node$i"
    done
  } >"$inventory"
  PATH=$here/fake-bin:$PATH ansible-playbook -i "$inventory" imgroot.fleet.rollout \
    -e imgroot_release_url=file:///srv/imgroot-test/site/releases/hn-root-2/manifest.json \
    -e '{"imgroot_waves": [1, "100%"]}' -e imgroot_poll_interval=1 "$@"
}

# A Python assertion about the JSON report $1.
report_says() {
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert '"$2"', r' "$1" ||
    fail "the report $1 does not say: $2"
}

test_rollout() {
  build_and_install
  local f=$here/fixtures n=$tmp/nodes i
  # Every node runs the release already: no stage, no reboot, all good; the
  # report lands in the current directory, named after the release.
  for i in 1 2 3; do
    node "node$i" status-good.json log-good.jsonl
    cp "$f/stage-unchanged-current.jsonl" "$n/node$i/stage.out"
  done
  mkdir "$tmp/cwd"
  (cd "$tmp/cwd" && rollout) || fail "a rollout of a release every node runs failed"
  local report=$tmp/cwd/imgroot-rollout-hn-root-2.json
  report_says "$report" 'r["release"] == "hn-root-2" and not r["check_mode"] and r["not_done"] == []'
  report_says "$report" 'sorted(r["hosts"]) == ["node1", "node2", "node3"]'
  report_says "$report" 'all(h["verdict"] == "good" and not h["changed"] and not h["rebooted"] and not h["failed"] for h in r["hosts"].values())'

  # Check mode: node1 would stage, the others run it; nothing but dry runs.
  rm -rf "$n"
  for i in 1 2 3; do
    node "node$i" status-good.json log-good.jsonl
    cp "$f/stage-dry-run-current.jsonl" "$n/node$i/stage-dry-run.out"
  done
  cp "$f/stage-dry-run.jsonl" "$n/node1/stage-dry-run.out"
  rollout --check -e "imgroot_report=$tmp/check.json" || fail "the rollout in check mode failed"
  report_says "$tmp/check.json" 'r["check_mode"] and r["hosts"]["node1"]["verdict"] == "would-stage" and r["hosts"]["node1"]["changed"]'
  report_says "$tmp/check.json" 'all(r["hosts"][h]["verdict"] == "unchanged" and not r["hosts"][h]["changed"] for h in ("node2", "node3"))'
  if grep -h '^stage' "$n"/node*/calls | grep -v -- --dry-run; then
    fail "check mode staged"
  fi

  # The canary's stage is refused: the rollout halts after it, and the
  # other nodes are never staged.
  rm -rf "$n"
  for i in 1 2 3; do
    node "node$i" status-good.json log-good.jsonl
    cp "$f/stage-unchanged-current.jsonl" "$n/node$i/stage.out"
  done
  : >"$n/node1/stage.out"
  cp "$f/stage-downgrade.err" "$n/node1/stage.err"
  echo 1 >"$n/node1/stage.rc"
  if rollout -e "imgroot_report=$tmp/halt.json"; then fail "the rollout went on past a failed canary"; fi
  report_says "$tmp/halt.json" 'r["hosts"]["node1"]["failed"] and r["hosts"]["node1"]["verdict"] == "error"'
  report_says "$tmp/halt.json" 'r["hosts"]["node1"]["why"] == open("'"$f"'/stage-downgrade.err").read().strip().splitlines()[-1]'
  report_says "$tmp/halt.json" 'r["not_done"] == ["node2", "node3"]'
  [[ ! -s $n/node2/calls && ! -s $n/node3/calls ]] || fail "nodes after the failed canary were touched"
}

# The fixtures recorded again from the CLI just built: every JSON object has
# the keys (and value types) of the committed one, so the fake imgroot answers
# as the real one does.
test_fixtures() {
  "$here/record-fixtures.sh" "$1" "$tmp/fixtures"
  python3 - "$here/fixtures" "$tmp/fixtures" <<'PY'
import json, os, sys

def shape(v):
    if isinstance(v, dict):
        return {k: shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return [shape(v[0])] if v else []
    return type(v).__name__

def objects(path):
    text = open(path).read()
    if path.endswith('.json'):
        return [json.loads(text)]
    if path.endswith('.jsonl'):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [text.split(':')[0:2]]

committed, fresh = sys.argv[1], sys.argv[2]
names = sorted(os.listdir(committed))
assert names == sorted(os.listdir(fresh)), (names, sorted(os.listdir(fresh)))
for name in names:
    old = [shape(o) for o in objects(os.path.join(committed, name))]
    new = [shape(o) for o in objects(os.path.join(fresh, name))]
    if old != new:
        sys.exit('%s: the CLI now prints another shape (run tests/ansible/record-fixtures.sh):\n%s\n%s' % (name, old, new))
PY
}

case ${1:-} in
  version) test_version "${2:?the project version}" ;;
  sanity) test_sanity ;;
  lint) test_lint ;;
  modules) test_modules ;;
  rollout) test_rollout ;;
  fixtures) test_fixtures "${2:?the imgroot binary}" ;;
  *)
    echo "usage: $0 version VERSION | sanity | lint | modules | rollout | fixtures IMGROOT" >&2
    exit 2
    ;;
esac

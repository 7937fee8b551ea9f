# shellcheck shell=bash
# Helpers for the fleet.* tests (tests/fleet/): three QEMU nodes booted from
# provisioned disks of the distro.* Debian image, kept running across the
# scenarios, each reached over SSH on a port of 127.0.0.1 that QEMU's
# user-mode network forwards to its port 22. Where their state lives and how
# to reach them. Builds on debian-lib.sh (and through it grub-lib.sh and
# lib.sh), whose assertions the scripts use; defines functions and settings
# only.

# shellcheck source=tests/qemu/debian/debian-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../qemu/debian/debian-lib.sh"

# The state the setup fixture (fleet-nodes.sh up) leaves for the scenarios:
#   id_ed25519{,.pub} known_hosts   the test's SSH key, the nodes' host keys
#   images/{A,B,C}.img images.env   the fleet images and their SHA-256
#   site/ nginx/                    the published releases and their server
#   node-N/                         disk.img, vars.fd, console.log, qemu.pid, ssh_port
#   inventory ansible.cfg           Ansible's view of the nodes
#   collections/                    the installed imgroot.fleet collection
: "${IMGROOT_FLEET_STATE:=$REPO_ROOT/build/tests/fleet/state}"
STATE=$IMGROOT_FLEET_STATE
# The settings below are read by the scripts that source this.
# shellcheck disable=SC2034
NODES=(fleet-1 fleet-2 fleet-3)
# Where the guests reach the host's nginx (a guestfwd to socat), and the
# address they give themselves (QEMU's usual one; no DHCP).
GUEST_HOST=10.0.2.100
# shellcheck disable=SC2034
GUEST_ADDRESS=10.0.2.15/24
NGINX_SH=$REPO_ROOT/tests/fetch/nginx.sh
# shellcheck disable=SC2034
COLLECTION_SRC=$REPO_ROOT/tools/ansible/imgroot/fleet

# release_url VERSION: the manifest of release hn-root-VERSION as the nodes
# fetch it (A is hn-root-1, B hn-root-2, C hn-root-3).
release_url() { printf 'http://%s/releases/hn-root-%s/manifest.json\n' "$GUEST_HOST" "$1"; }

# fleet_prerequisites: exit 77 (ctest's skip) saying what this machine
# lacks to run the nodes.
fleet_prerequisites() {
  local c
  if ((EUID != 0)) || [[ ! -e /dev/loop-control ]]; then
    say "SKIP: provisioning the nodes' disks needs root and loop devices"
    exit 77
  fi
  for c in qemu-system-x86_64 ansible ansible-playbook ansible-galaxy ssh ssh-keygen socat; do
    if ! command -v "$c" >/dev/null 2>&1; then
      say "SKIP: no $c (tests/deps.sh installs qemu-system-x86, ansible-core, openssh-client, socat)"
      exit 77
    fi
  done
  [[ -r $OVMF_CODE && -r $OVMF_VARS ]] || { say "SKIP: no OVMF firmware in /usr/share/OVMF (package ovmf)"; exit 77; }
  "$NGINX_SH" check || exit $?
}

# ---------------------------------------------------------------- SSH

# node_port NODE: the port of 127.0.0.1 forwarded to NODE's sshd.
node_port() { cat "$STATE/$1/ssh_port"; }

# ssh_options: what every SSH connection to a node uses: the test's key,
# its own known_hosts, no agent, no prompts; one connection a node shared
# by the calls of the next 30 s (a handshake costs a TCG guest about a
# second), given up when the node stops answering (a reboot). The socket
# is in /tmp: a path in the build tree can be too long for one.
ssh_options() {
  printf '%s\n' -i "$STATE/id_ed25519" -o IdentitiesOnly=yes -o IdentityAgent=none \
    -o UserKnownHostsFile="$STATE/known_hosts" -o StrictHostKeyChecking=no \
    -o BatchMode=yes -o ConnectTimeout=10 -o LogLevel=ERROR \
    -o ControlMaster=auto -o ControlPath="/tmp/imgroot-fleet-%C" -o ControlPersist=30s \
    -o ServerAliveInterval=5 -o ServerAliveCountMax=3
}

# on NODE COMMAND...: run COMMAND as root on NODE; its exit status.
on() {
  local node=$1 opts
  shift
  mapfile -t opts < <(ssh_options)
  ssh "${opts[@]}" -p "$(node_port "$node")" root@127.0.0.1 "$@" </dev/null
}

# status_of NODE: `imgroot status --json` on NODE.
status_of() { on "$1" imgroot status --json; }
boot_id_of() { on "$1" cat /proc/sys/kernel/random/boot_id; }

# ---------------------------------------------------------------- Ansible

# ansible_env: the environment every ansible command of the tests runs in.
ansible_env() {
  printf '%s\n' "ANSIBLE_CONFIG=$STATE/ansible.cfg" "ANSIBLE_COLLECTIONS_PATH=$STATE/collections" \
    "ANSIBLE_LOCAL_TEMP=$STATE/ansible-tmp" "ANSIBLE_NOCOLOR=1" "ANSIBLE_FORCE_COLOR=0"
}

# run_ansible COMMAND ARG...: COMMAND (ansible, ansible-playbook) with the
# tests' inventory and configuration.
run_ansible() {
  local envs
  mapfile -t envs < <(ansible_env)
  env "${envs[@]}" "$1" -i "$STATE/inventory" "${@:2}"
}

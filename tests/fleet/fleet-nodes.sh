#!/bin/bash
# The fleet.* tests' three nodes (issue 17), kept running across the scenarios:
#
#   tests/fleet/fleet-nodes.sh up     (fixture fleet.nodes_up)
#   tests/fleet/fleet-nodes.sh down   (fixture fleet.nodes_down)
#
# up, in $IMGROOT_FLEET_STATE (tests/fleet/fleet-lib.sh lists what it holds):
#   - an SSH key made with ssh-keygen (no passphrase);
#   - the fleet images, copies of the distro.* images (make-images.sh) changed
#     with debugfs: root's authorized_keys holds the key, the distro driver
#     (which powers off) is not started, systemd-networkd gives the NIC
#     10.0.2.15/24, assess.conf keeps the built-in TCP check (sshd, port 22)
#     and waits 5 s before a red verdict's reboot. A from distro A, B from
#     distro B, C is B with a required check that always fails;
#   - A, B and C published in that order (releases hn-root-1, -2, -3),
#     signed with the key the nodes' images trust (make-images.sh), into
#     site/, served by tests/fetch/nginx.sh on 127.0.0.1;
#   - three disks provisioned with A (`imgroot provision`), each booted
#     through OVMF and GRUB in a QEMU of its own, in parallel, in the background,
#     with a user-mode network (restrict=on) that forwards 127.0.0.1:PORT to
#     the guest's port 22 and the guest's 10.0.2.100:80 to nginx (a socat a
#     connection): no traffic leaves 127.0.0.1;
#   - waits until each node answers over SSH and its boot is finished, then
#     checks `ansible all -m ping`, that every guest reaches nginx, and builds
#     and installs the imgroot.fleet collection (ansible-galaxy) when the
#     tree has it.
# down powers the nodes off (`systemctl poweroff`, then kills what is left)
# and stops nginx. The disks and console logs stay for a look.
set -euo pipefail
# shellcheck source=tests/fleet/fleet-lib.sh
source "$(dirname "$0")/fleet-lib.sh"

TEST_NAME=fleet.nodes_${1:-}
# systemd under TCG, three VMs on two cores: a boot alone takes about a minute.
BOOT_LIMIT=${IMGROOT_BOOT_TIMEOUT:-900}
VM_MEMORY=${VM_MEMORY:-1024}
CMDLINE="console=ttyS0 printk.devkmsg=on"

# ---------------------------------------------------------------- images

# image_debugfs IMG COMMAND...: run debugfs -w COMMANDs on the ext4 image
# IMG; fails on any error debugfs reports.
image_debugfs() {
  local img=$1 out
  shift
  out=$(printf '%s\n' "$@" | debugfs -w -f - "$img" 2>&1)
  if grep -Eiq '^[^:]*: .*(error|not found|exists|could not|bad)' <<<"$out"; then
    say "$out"
    die "debugfs could not change $img"
  fi
}

# image_mkdirs IMG DIR...: the directories DIR in IMG, those there already
# left alone (debugfs has no mkdir -p).
image_mkdirs() {
  local img=$1 dir
  shift
  for dir in "$@"; do
    debugfs -R "stat $dir" "$img" 2>&1 | grep -q 'Type: directory' || image_debugfs "$img" "mkdir $dir"
  done
}

# fleet_image NAME SOURCE: images/NAME.img, a copy of the distro image SOURCE
# made into a fleet node (see the header).
fleet_image() {
  local name=$1 img=$STATE/images/$1.img files=$STATE/images/files wants=/etc/systemd/system
  mkdir -p "$files"
  cp --sparse=always "$(debian_image "$2")" "$img.tmp"
  printf '[Match]\nType=ether\n\n[Network]\nAddress=%s\n' "$GUEST_ADDRESS" >"$files/50-fleet.network"
  printf '# fleet.* node: sshd runs, so the TCP check stays on\ntcp_check=yes\nreboot_delay=5\n' \
    >"$files/assess.conf"
  cp "$STATE/id_ed25519.pub" "$files/authorized_keys"
  chmod 0600 "$files/authorized_keys"
  image_mkdirs "$img.tmp" /root/.ssh /etc/systemd/network "$wants/sockets.target.wants"
  image_debugfs "$img.tmp" \
    "write $files/authorized_keys /root/.ssh/authorized_keys" \
    "set_inode_field /root/.ssh mode 040700" \
    "rm $wants/multi-user.target.wants/imgroot-test-driver.service" \
    "write $files/50-fleet.network /etc/systemd/network/50-fleet.network" \
    "symlink $wants/multi-user.target.wants/systemd-networkd.service /lib/systemd/system/systemd-networkd.service" \
    "symlink $wants/sockets.target.wants/systemd-networkd.socket /lib/systemd/system/systemd-networkd.socket" \
    "rm /etc/imgroot/assess.conf" \
    "write $files/assess.conf /etc/imgroot/assess.conf"
  mv "$img.tmp" "$img"
}

# bad_image: images/C.img, B with a required check that always fails.
bad_image() {
  local img=$STATE/images/C.img check=$STATE/images/files/50-fleet-fails
  cp --sparse=always "$STATE/images/B.img" "$img.tmp"
  printf '#!/bin/sh\necho "release C fails this check on purpose (fleet.bad_release_halts)"\nexit 1\n' >"$check"
  chmod 0755 "$check"
  image_mkdirs "$img.tmp" /etc/imgroot/check.d /etc/imgroot/check.d/required
  image_debugfs "$img.tmp" "write $check /etc/imgroot/check.d/required/50-fleet-fails" \
    "rm /etc/imgroot-test-name" "write $STATE/images/files/name-C /etc/imgroot-test-name"
  mv "$img.tmp" "$img"
}

make_images() {
  local name
  mkdir -p "$STATE/images/files"
  printf 'C\n' >"$STATE/images/files/name-C"
  fleet_image A A
  fleet_image B B
  bad_image
  for name in A B C; do
    printf '%s_SHA256=%s\n' "$name" "$(sha256sum <"$STATE/images/$name.img" | cut -d' ' -f1)"
  done >"$STATE/images.env"
  mkdir -p "$STATE/site"
  for name in A B C; do
    # zstd level 3: the nodes, not the compression, are what is tested.
    # Signed with the key the distro images, and so the nodes, trust.
    "$IMGROOT_TOOL" publish "$STATE/images/$name.img" --to "$STATE/site" --level 3 \
      --key "$IMGROOT_DEBIAN_SHARED/release.key" >>"$STATE/publish.log" 2>&1 || { cat "$STATE/publish.log" >&2; die "imgroot publish of image $name failed"; }
  done
  say "images: $(tr '\n' ' ' <"$STATE/images.env"); published: $(find "$STATE/site/releases" -mindepth 1 -maxdepth 1 -name '[!.]*' -printf '%f ')"
}

# ---------------------------------------------------------------- nodes

# free_port: a TCP port nothing listens on in 10000-31999.
free_port() {
  local port
  for _ in $(seq 100); do
    port=$((10000 + RANDOM % 22000))
    [[ -n $(ss -Htln "sport = :$port") ]] || { echo "$port"; return; }
  done
  die "no free port found"
}

# provision NODE: NODE's disk, a blank 4 GiB sparse file provisioned with A.
provision() {
  local dir=$STATE/$1
  mkdir -p "$dir"
  rm -f "$dir/disk.img"
  truncate -s 4G "$dir/disk.img"
  "$IMGROOT_TOOL" provision "$dir/disk.img" --image "$STATE/images/A.img" --yes --timeout 0 \
    --cmdline "$CMDLINE" >"$dir/provision.log" 2>&1 ||
    { cat "$dir/provision.log" >&2; die "imgroot provision of $1 failed"; }
  ovmf_vars "$dir/vars.fd"
}

# start_node NODE: NODE's QEMU on a free port, in a session of its own that
# outlives this script (all its output in files, so ctest does not wait for
# it). A reboot is a new QEMU on the same disk, firmware variables and port,
# as the distro.* boots do: QEMU runs with -no-reboot, and the loop around it
# starts it again unless the guest powered off. (A guest reset inside one
# QEMU, OVMF under TCG, once hung in the firmware with nothing on the serial
# console; a fresh QEMU never has.) qemu.pid is the loop's session.
start_node() {
  local dir=$STATE/$1 port accel nginx_port
  nginx_port=$(cat "$STATE/nginx/port")
  read -ra accel <<<"$(qemu_accel_args)"
  for _ in 1 2 3; do
    port=$(free_port)
    rm -f "$dir/qemu.pid" "$dir/qemu.exit"
    : >"$dir/console.log"
    # shellcheck disable=SC2016 # expanded by the loop's own shell
    setsid bash -c '
      dir=$1; shift
      while :; do
        boot_start=$(stat -c %s "$dir/console.log")
        "$@" </dev/null >"$dir/qemu.log" 2>&1
        rc=$?
        echo "$rc" >"$dir/qemu.exit"
        ((rc == 0)) && tail -c "+$((boot_start + 1))" "$dir/console.log" | grep -aq "reboot: Restarting system" || break
      done' fleet-node "$dir" \
      qemu-system-x86_64 "${accel[@]}" -m "$VM_MEMORY" -smp 1 -machine q35 -no-reboot \
      -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
      -drive "if=pflash,format=raw,unit=1,file=$dir/vars.fd" \
      -drive "file=$dir/disk.img,format=raw,if=virtio" \
      -nic "user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:$port-:22,guestfwd=tcp:$GUEST_HOST:80-cmd:socat - TCP:127.0.0.1:$nginx_port" \
      -chardev "file,id=console,path=$dir/console.log,append=on" -serial chardev:console \
      -display none -monitor none </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/qemu.pid"
    sleep 2
    if ! grep -q 'Could not set up host forwarding' "$dir/qemu.log" 2>/dev/null; then
      if ! qemu_running "$1"; then cat "$dir/qemu.log" >&2; die "QEMU of $1 did not start"; fi
      echo "$port" >"$dir/ssh_port"
      say "$1: QEMU session $(cat "$dir/qemu.pid"), SSH on 127.0.0.1:$port"
      return
    fi
    wait "$(cat "$dir/qemu.pid")" 2>/dev/null || true
  done
  die "QEMU of $1: every port tried was taken"
}

# qemu_running NODE: true while NODE's QEMU (its loop) runs.
qemu_running() {
  local pid
  pid=$(cat "$STATE/$1/qemu.pid" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null
}

# wait_node NODE: until NODE answers over SSH and its boot is finished
# (no job left: imgroot-mark-good.service has given its verdict).
wait_node() {
  local node=$1 start=$SECONDS state
  until on "$node" true 2>/dev/null; do
    qemu_running "$node" || { tail -n 40 "$STATE/$node/console.log" >&2; die "$node: QEMU exited"; }
    ((SECONDS - start < BOOT_LIMIT)) ||
      { tail -n 40 "$STATE/$node/console.log" >&2; die "$node: no SSH after ${BOOT_LIMIT}s"; }
    sleep 3
  done
  state=$(on "$node" timeout 300 systemctl is-system-running --wait 2>&1 || true)
  say "$node: SSH after $((SECONDS - start))s, system $state"
}

# stop_node NODE: power NODE off, and kill its QEMU when it is still there
# 90 s later.
stop_node() {
  local node=$1
  qemu_running "$node" || return 0
  on "$node" systemctl poweroff >/dev/null 2>&1 || true
  for _ in $(seq 90); do
    qemu_running "$node" || { say "$node: powered off"; return 0; }
    sleep 1
  done
  say "$node: still running 90 s after systemctl poweroff; killed"
  kill -- "-$(cat "$STATE/$node/qemu.pid")" 2>/dev/null || true
}

# ---------------------------------------------------------------- Ansible

write_ansible_config() {
  local node
  {
    printf '[fleet]\n'
    for node in "${NODES[@]}"; do
      printf '%s ansible_host=127.0.0.1 ansible_port=%s\n' "$node" "$(node_port "$node")"
    done
    printf '\n[fleet:vars]\nansible_user=root\nansible_ssh_private_key_file=%s\n' "$STATE/id_ed25519"
    printf 'ansible_python_interpreter=/usr/bin/python3\n'
  } >"$STATE/inventory"
  cat >"$STATE/ansible.cfg" <<EOF
# Written by tests/fleet/fleet-nodes.sh: the fleet.* tests' nodes.
[defaults]
host_key_checking = False
forks = 10
timeout = 30
retry_files_enabled = False
[ssh_connection]
pipelining = True
control_path_dir = $STATE/ssh-cp
ssh_args = -o ControlMaster=auto -o ControlPersist=30s -o UserKnownHostsFile=$STATE/known_hosts -o StrictHostKeyChecking=no -o IdentitiesOnly=yes -o IdentityAgent=none
EOF
}

# install_collection: build the collection from the tree and install the
# tarball into collections/, as an operator would.
install_collection() {
  if [[ ! -f $COLLECTION_SRC/galaxy.yml ]]; then
    say "no collection in $COLLECTION_SRC yet: the scenarios will fail until it is there"
    return
  fi
  rm -rf "$STATE/collection-build" "$STATE/collections"
  mkdir -p "$STATE/collection-build"
  ansible-galaxy collection build "$COLLECTION_SRC" --output-path "$STATE/collection-build" \
    >"$STATE/collection.log" 2>&1 || { cat "$STATE/collection.log" >&2; die "ansible-galaxy collection build failed"; }
  ansible-galaxy collection install -p "$STATE/collections" "$STATE"/collection-build/*.tar.gz \
    >>"$STATE/collection.log" 2>&1 || { cat "$STATE/collection.log" >&2; die "ansible-galaxy collection install failed"; }
  say "collection: $(basename "$STATE"/collection-build/*.tar.gz) installed in $STATE/collections"
}

# ---------------------------------------------------------------- up, down

down() {
  local node pids=()
  [[ -d $STATE ]] || return 0
  for node in "${NODES[@]}"; do
    stop_node "$node" &
    pids+=($!)
  done
  wait "${pids[@]}" || true
  if [[ -d $STATE/ssh-cp ]]; then
    find "$STATE/ssh-cp" -type s -exec ssh -o ControlPath={} -O exit x \; >/dev/null 2>&1 || true
  fi
  "$NGINX_SH" stop "$STATE/nginx" || true
}

up() {
  local node start=$SECONDS rc=0 out
  fleet_prerequisites
  need_commands debugfs jq sha256sum ss
  [[ -x $IMGROOT_TOOL ]] || die "the imgroot CLI $IMGROOT_TOOL is not built"
  [[ -r $IMGROOT_DEBIAN_SHARED/images.env ]] ||
    die "no Debian test images in $IMGROOT_DEBIAN_SHARED (run tests/qemu/debian/make-images.sh)"
  # What an earlier run left running goes first.
  down
  rm -rf "$STATE"
  mkdir -p "$STATE/ansible-tmp" "$STATE/ssh-cp"
  ssh-keygen -q -t ed25519 -N '' -C fleet-test -f "$STATE/id_ed25519"
  : >"$STATE/known_hosts"
  make_images
  # shellcheck source=/dev/null
  source "$STATE/images.env"
  say "nginx on 127.0.0.1:$("$NGINX_SH" start "$STATE/nginx" "$STATE/site" 2>>"$STATE/nginx-start.log")"
  for node in "${NODES[@]}"; do provision "$node"; done
  say "images made, published and three disks provisioned in $((SECONDS - start))s"
  for node in "${NODES[@]}"; do start_node "$node"; done
  for node in "${NODES[@]}"; do wait_node "$node"; done
  say "three nodes up in $((SECONDS - start))s"
  write_ansible_config

  TEST_NAME=fleet.nodes_up
  out=$(run_ansible ansible all -m ansible.builtin.ping 2>&1) || rc=$?
  printf '%s\n' "$out" | sed 's/^/  | /' >&2
  expect_eq "ansible all -m ping: exit status" "$rc" 0
  expect_eq "ansible all -m ping: nodes that answered pong" "$(grep -c '"ping": "pong"' <<<"$out")" 3
  for node in "${NODES[@]}"; do
    expect_json "$node: status: hn-root.img is image A" "$(status_of "$node")" .images[0].sha256 "$A_SHA256"
    expect_json "$node: status" "$(status_of "$node")" .assessment.state good
    # The guest reaches nginx through the guestfwd, and only that way.
    expect_eq "$node: GET $(release_url 2) through the forward" \
      "$(on "$node" python3 -c "'import json, urllib.request; print(json.load(urllib.request.urlopen(\"$(release_url 2)\", timeout=30))[\"version\"])'" 2>&1)" 2
  done
  install_collection
  say "fleet.nodes_up: $((SECONDS - start))s"
  finish
}

case ${1:-} in
  up) up ;;
  down) down ;;
  *) die "usage: fleet-nodes.sh up | down" ;;
esac

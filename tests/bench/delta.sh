#!/bin/bash
# What an update of a root image costs over the network: image A, the
# suite's debootstrapped Debian 12 root as ext4, updated to image B, A plus
# a few packages installed with apt and one changed config file, made two
# ways:
#
#   B-inplace   a copy of A, loop-mounted, changed with apt in a chroot and
#               unmounted (what a node's own image looks like after an
#               admin's change)
#   B-scratch   mkfs.ext4 -d of B-inplace's tree, the size of A (what an
#               image build pipeline makes)
#
#   sudo tests/bench/delta.sh [WORKDIR]    (default /var/tmp/imgroot-bench-delta)
#
# For A -> B it measures the bytes over the wire (nginx's $bytes_sent, every
# response: headers, index files and data) and the wall time of zsync
# (zsync -i A), casync (casync extract --seed=A), rsync --no-whole-file (its
# literal data and all its protocol bytes; a local transfer, no HTTP), and
# curl of B compressed whole with zstd -19, which is also the first install
# without a seed. Every fetched image is checked against B's SHA-256. The
# tools take turns, RUNS times (default 3); the bytes are the same in every
# run, the tables give the median seconds. imgroot_publish and imgroot_rows
# add imgroot publish/stage when the CLI has them.
#
# Everything is served by a private nginx on 127.0.0.1 (a free port, its own
# config in WORKDIR/nginx, stopped at the end). A, both B's and what each
# tool publishes are cached in WORKDIR, so a rerun only measures; remove
# WORKDIR to build them again (making B needs Debian's archive).
# IMGROOT_DELTA_PACKAGES: what B installs (default below); IMGROOT_TOOL: the
# imgroot binary (default build/tools/imgroot). Prints Markdown tables for
# docs/benchmarks.md ("Delta updates"); WORKDIR/results.tsv keeps the raw
# numbers.
set -euo pipefail
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/../qemu/lib.sh"

work=$(realpath -m "${1:-/var/tmp/imgroot-bench-delta}")
tool=${IMGROOT_TOOL:-$REPO_ROOT/build/tools/imgroot}
runs=${RUNS:-3}
# 38 packages, 21.8 MB installed (apt's count) on the minbase root, with
# --no-install-recommends.
packages=${IMGROOT_DELTA_PACKAGES:-less curl jq vim-tiny openssh-server}
images=$work/images
www=$work/www
out=$work/out
ng=$work/nginx
variants=(B-inplace B-scratch)

((EUID == 0)) || die "delta.sh: run as root (loop mount, chroot, mkfs.ext4 -d of a root tree)"
need_commands mkfs.ext4 e2fsck dumpe2fs debugfs chroot findmnt zsync zsyncmake casync rsync zstd curl nginx python3

# ---------------------------------------------------------------- images

# unmount_under DIR: every mount inside DIR, deepest first.
unmount_under() {
  local m
  findmnt -rn -o TARGET | awk -v d="$1/" 'index($0, d) == 1' | sort -r |
    while read -r m; do umount "$m" || umount -l "$m" || true; done
}

bytes_allocated() { du -B1 "$1" | cut -f1; }
bytes_apparent() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

# size_mib DIR: an ext4 size for DIR's files with about 30 % free (48 MiB
# for the journal and the inode tables).
size_mib() {
  local kib
  kib=$(du -sk "$1" | cut -f1)
  echo $((kib * 10 / 7 / 1024 + 48))
}

# mkfs_image DIR IMAGE MIB: DIR as an ext4 image, as the suite makes its
# images (tests/qemu/debian/make-images.sh), written to IMAGE.tmp first.
mkfs_image() {
  local dir=$1 image=$2
  mkfs.ext4 -q -F -b 4096 -L imgroot-delta -E root_owner=0:0 -d "$dir" "$image.tmp" "$3M" \
    >"$image.log" 2>&1 || { cat "$image.log" >&2; die "mkfs.ext4 -d $dir failed"; }
  rm -f "$image.log"
  mv "$image.tmp" "$image"
}

# free_percent IMAGE: the free blocks of an ext4 image, in percent.
free_percent() {
  dumpe2fs -h "$1" 2>/dev/null |
    awk -F: '/^Block count/ { n = $2 } /^Free blocks/ { f = $2 } END { printf "%.0f", 100 * f / n }'
}

make_a() {
  local tree=$work/tree-a
  "$REPO_ROOT/tests/qemu/debian/make-rootfs.sh" --env-out "$work/rootfs.env" >/dev/null
  # shellcheck source=/dev/null
  source "$work/rootfs.env"
  say "delta.sh: image A from $DEBIAN_ROOTFS"
  rm -rf --one-file-system "$tree"
  mkdir -p "$tree" "$images"
  cp -a "$DEBIAN_ROOTFS/." "$tree/"
  rm -f "$tree/.imgroot-rootfs"
  mkfs_image "$tree" "$images/A.img" "$(size_mib "$tree")"
  rm -rf --one-file-system "$tree"
}

# change_b ROOT: B's change, in the mounted copy of A. apt runs in a chroot
# with /proc, /sys and /dev bound from the host and its package lists and
# downloads in tmpfs mounts over /var/lib/apt/lists and /var/cache/apt, so
# only what the packages install (and dpkg's and apt's records of it)
# lands in the image. A policy-rc.d keeps the packages' services from
# starting while they are installed.
change_b() {
  local root=$1 d
  for d in proc sys dev dev/pts; do mount --bind "/$d" "$root/$d"; done
  mount -t tmpfs tmpfs "$root/var/lib/apt/lists"
  mount -t tmpfs tmpfs "$root/var/cache/apt"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  # shellcheck disable=SC2086 # the package list is words
  if ! chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 \
    sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends $packages" \
    >"$images/B-apt.log" 2>&1; then
    tail -n 30 "$images/B-apt.log" >&2
    die "apt-get install $packages in the copy of A failed ($images/B-apt.log)"
  fi
  rm -f "$root/usr/sbin/policy-rc.d"
  # The changed config file: journald keeps its journal in memory.
  sed -i 's/^#Storage=auto$/Storage=volatile/' "$root/etc/systemd/journald.conf"
  grep -q '^Storage=volatile$' "$root/etc/systemd/journald.conf" ||
    die "found no '#Storage=auto' line to change in /etc/systemd/journald.conf"
  unmount_under "$root"
}

make_b() {
  local mnt=$work/mnt tree=$work/tree-b
  say "delta.sh: image B in place: a copy of A with apt-get install $packages"
  rm -rf --one-file-system "$tree"
  cp --sparse=always "$images/A.img" "$images/B-inplace.img.tmp"
  mkdir -p "$mnt"
  mount -o loop "$images/B-inplace.img.tmp" "$mnt"
  change_b "$mnt"
  # B's tree for B-scratch, without the lost+found mkfs.ext4 makes itself.
  mkdir -p "$tree"
  cp -a "$mnt/." "$tree/"
  rmdir "$tree/lost+found"
  # A plain unmount: the kernel checkpoints the journal and marks the
  # filesystem clean; e2fsck -n only checks that it did.
  umount "$mnt"
  e2fsck -fn "$images/B-inplace.img.tmp" >"$images/B-fsck.log" 2>&1 ||
    { cat "$images/B-fsck.log" >&2; die "B in place is not clean after the unmount"; }
  mv "$images/B-inplace.img.tmp" "$images/B-inplace.img"
  say "delta.sh: image B from scratch: mkfs.ext4 -d of B's tree, A's size"
  mkfs_image "$tree" "$images/B-scratch.img" $(($(bytes_apparent "$images/A.img") / 1048576))
  rm -rf --one-file-system "$tree"
}

# ---------------------------------------------------------------- releases

# publish NAME: what each tool serves for image NAME, in $www (timed: the
# publisher's side, not part of the tables).
publish() {
  local name=$1 t0
  mkdir -p "$www"
  ln -f "$images/$name.img" "$www/$name.img"
  t0=$(now)
  zsyncmake -u "$name.img" -o "$www/$name.zsync.tmp" "$www/$name.img" >/dev/null
  mv "$www/$name.zsync.tmp" "$www/$name.zsync"
  say "delta.sh: zsyncmake $name: $(since "$t0") s"
  t0=$(now)
  casync make --store="$www/castr" "$www/.$name.tmp.caibx" "$images/$name.img" >/dev/null
  mv "$www/.$name.tmp.caibx" "$www/$name.caibx"
  say "delta.sh: casync make $name: $(since "$t0") s"
  t0=$(now)
  zstd -q -19 -f "$images/$name.img" -o "$www/$name.img.zst.tmp"
  mv "$www/$name.img.zst.tmp" "$www/$name.img.zst"
  say "delta.sh: zstd -19 $name: $(since "$t0") s"
  touch "$www/$name.published"
}

# ---------------------------------------------------------------- nginx

# A private nginx serving $www on a free port of 127.0.0.1; its access log
# has the bytes each response sent, headers included.
nginx_start() {
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  url=http://127.0.0.1:$port
  rm -rf "$ng"
  mkdir -p "$ng"
  cat >"$ng/nginx.conf" <<EOF
# tests/bench/delta.sh's private server; workers run as root so that they
# read $www whatever its owner.
user root;
worker_processes 1;
pid $ng/nginx.pid;
error_log $ng/error.log;
events { worker_connections 256; }
http {
  log_format bytes '\$request_method \$uri \$status \$bytes_sent \$request_length';
  access_log $ng/access.log bytes;
  client_body_temp_path $ng/body;
  proxy_temp_path $ng/proxy;
  fastcgi_temp_path $ng/fastcgi;
  uwsgi_temp_path $ng/uwsgi;
  scgi_temp_path $ng/scgi;
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    root $www;
  }
}
EOF
  nginx -p "$ng/" -c "$ng/nginx.conf" -e "$ng/error.log" ||
    { cat "$ng/error.log" >&2; die "nginx did not start"; }
  curl -sS -o /dev/null "$url/" || die "nginx on $url does not answer"
}

nginx_stop() {
  local pid
  [[ -r $ng/nginx.pid ]] || return 0
  pid=$(cat "$ng/nginx.pid")
  kill -QUIT "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

log_reset() { : >"$ng/access.log"; }
# log_bytes: what the responses since log_reset sent. nginx writes a
# request's line when it has handed the last byte to the kernel, which can
# be a moment after the client has it.
log_bytes() {
  sleep 0.5
  awk '{ b += $4 } END { printf "%d", b }' "$ng/access.log"
}
# log_requests: how many requests, and the bytes they sent up (request
# line, headers), which the tables leave out.
log_requests() { awk '{ u += $5 } END { printf "%d requests (%d bytes up)", NR, u }' "$ng/access.log"; }

# ---------------------------------------------------------------- measuring

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# register TOOL: a row of the tables, in order of first appearance.
declare -A bytes_of seconds_of registered
tools=()
register() {
  [[ -n ${registered["$1"]:-} ]] || { tools+=("$1"); registered["$1"]=1; }
}

# record TOOL VARIANT BYTES SECONDS [NOTE]: one measurement. The bytes
# must be the same in every run (same images, same tools); the seconds
# are collected for their median.
record() {
  register "$1"
  if [[ -n ${bytes_of["$1|$2"]:-} && ${bytes_of["$1|$2"]} != "$3" ]]; then
    say "delta.sh: WARNING: $1, $2 moved ${bytes_of["$1|$2"]} bytes in an earlier run, $3 now"
  fi
  bytes_of["$1|$2"]=$3
  seconds_of["$1|$2"]+="$4 "
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$work/results.tsv"
  say "delta.sh: $1, $2: $3 bytes, $4 s${5:+ ($5)}"
}

# check NAME FILE: FILE is image NAME, bit for bit.
check() {
  [[ $(sha256sum <"$2" | cut -d' ' -f1) == "${sha_of[$1]}" ]] ||
    die "$2 is not $1 (SHA-256 differs)"
}

fresh_out() {
  rm -rf --one-file-system "$out"
  mkdir -p "$out"
}

run_zsync() {
  local name=$1 t0 bytes
  fresh_out
  log_reset
  t0=$(now)
  (cd "$out" && zsync -q -i "$images/A.img" -o "$out/$name.img" "$url/$name.zsync") >"$out/zsync.log" 2>&1 ||
    { cat "$out/zsync.log" >&2; die "zsync of $name failed"; }
  local s
  s=$(since "$t0")
  bytes=$(log_bytes)
  check "$name" "$out/$name.img"
  record "zsync -i A" "$name" "$bytes" "$s" "$(log_requests), block $(awk -F': ' '/^Blocksize/ { print $2 }' "$www/$name.zsync"), .zsync $(bytes_apparent "$www/$name.zsync") bytes"
}

run_casync() {
  local name=$1 t0 bytes s
  fresh_out
  log_reset
  t0=$(now)
  casync extract --store="$url/castr" --seed="$images/A.img" "$url/$name.caibx" "$out/$name.img" \
    >"$out/casync.log" 2>&1 || { cat "$out/casync.log" >&2; die "casync extract of $name failed"; }
  s=$(since "$t0")
  bytes=$(log_bytes)
  check "$name" "$out/$name.img"
  record "casync extract --seed=A" "$name" "$bytes" "$s" "$(log_requests), .caibx $(bytes_apparent "$www/$name.caibx") bytes"
}

# rsync between two local files: no HTTP, so its own counts: the literal
# data (B's bytes it found nowhere in A) and every byte of its protocol in
# both directions (block checksums, matches and the literal data).
run_rsync() {
  local name=$1 t0 s literal total
  fresh_out
  cp --sparse=always "$images/A.img" "$out/$name.img"
  t0=$(now)
  rsync --stats --no-whole-file -I "$images/$name.img" "$out/" >"$out/rsync.log"
  s=$(since "$t0")
  check "$name" "$out/$name.img"
  literal=$(awk -F': ' '/^Literal data/ { gsub(/[^0-9]/, "", $2); print $2 }' "$out/rsync.log")
  total=$(awk -F': ' '/^Total bytes (sent|received)/ { gsub(/[^0-9]/, "", $2); t += $2 } END { print t }' "$out/rsync.log")
  record "rsync --no-whole-file: literal data" "$name" "$literal" "$s"
  record "rsync --no-whole-file: all protocol bytes" "$name" "$total" "$s"
}

# curl of B compressed whole, decompressed as it arrives: the update that
# uses nothing of A, and the first install.
run_zstd() {
  local name=$1 t0 s bytes
  fresh_out
  log_reset
  t0=$(now)
  curl -sSf "$url/$name.img.zst" | zstd -q -d -o "$out/$name.img"
  s=$(since "$t0")
  bytes=$(log_bytes)
  check "$name" "$out/$name.img"
  record "curl of B.img.zst (zstd -19, whole)" "$name" "$bytes" "$s" \
    "file $(bytes_apparent "$www/$name.img.zst") bytes"
}

# ================================================================ imgroot
# The imgroot rows. TO FILL IN with issue 14: release_url (the manifest of
# version 2 in the directory publish writes) and imgroot_meta_bytes (which
# files are the index and the manifest). imgroot_publish runs once, before
# the runs: imgroot publish A (version 1) then B (version 2) into one release
# directory per B, as a publisher updating a channel would. imgroot_rows
# runs in every run: imgroot stage of B's release onto a host-partition
# directory that holds A as hn-root.img (the update; the node seeds from it)
# and onto an empty one (the first install). Both are skipped, with a note
# under the tables, while `imgroot publish --help` fails.
imgroot_ready=false
imgroot_note=

release_url() { printf '%s\n' "$url/imgroot-$1/"; } # TO FILL IN: the manifest of version 2
# imgroot_meta_bytes DIR: the index and manifest of the last release in DIR.
imgroot_meta_bytes() { du -sb "$1" | cut -f1; } # TO FILL IN: today the whole directory

imgroot_publish() {
  local name rel
  if ! "$tool" publish --help >/dev/null 2>&1; then
    imgroot_note="imgroot rows: to be measured ($tool publish --help failed: not built, or no publish verb yet)"
    say "delta.sh: $imgroot_note"
    return 0
  fi
  for name in "${variants[@]}"; do
    rel=$www/imgroot-$name
    rm -rf "$rel"
    "$tool" publish "$images/A.img" --to "$rel" --name delta --version 1 >/dev/null
    "$tool" publish "$images/$name.img" --to "$rel" --name delta --version 2 >/dev/null
    imgroot_note+="imgroot $name: index + manifest $(imgroot_meta_bytes "$rel") bytes. "
  done
  imgroot_ready=true
}

imgroot_rows() {
  local name hp t0 s bytes seed
  local update="imgroot stage (seed: A as hn-root.img)" first="imgroot stage (no seed)"
  register "$update"
  register "$first"
  $imgroot_ready || return 0
  for name in "${variants[@]}"; do
    for seed in A none; do
      hp=$out/hostpart
      fresh_out
      mkdir -p "$hp"
      [[ $seed == none ]] || cp --sparse=always "$images/A.img" "$hp/hn-root.img"
      log_reset
      t0=$(now)
      "$tool" stage --tries 0 --hostpart "$hp" "$(release_url "$name")" >"$out/stage.log" 2>&1 ||
        { cat "$out/stage.log" >&2; die "imgroot stage $(release_url "$name") failed"; }
      s=$(since "$t0")
      bytes=$(log_bytes)
      check "$name" "$hp/hn-root-new.img"
      if [[ $seed == A ]]; then
        record "$update" "$name" "$bytes" "$s" "$(log_requests)"
      else
        record "$first" "$name" "$bytes" "$s" "$(log_requests)"
      fi
    done
  done
}
# ================================================================

# block_census NAME: B's 4 KiB blocks against A's, for choosing a chunking
# (not a tool's row): how many differ from A's block at the same offset (and
# how many of those are the ext4 journal's), and how many non-zero blocks
# of B are found nowhere among A's 4 KiB-aligned blocks (counted once);
# those are written to FILE for their size compressed as one stream.
block_census() {
  local name=$1 journal
  journal=$(debugfs -R 'stat <8>' "$images/$name.img" 2>/dev/null | grep -o '([0-9]*-[0-9]*):[0-9]*-[0-9]*' | head -1)
  python3 - "$images/A.img" "$images/$name.img" "$journal" "$out/$name.new-blocks" <<'PY'
import hashlib, re, sys
a_path, b_path, journal, new_path = sys.argv[1:]
j0, j1 = map(int, re.search(r":(\d+)-(\d+)", journal).groups())
zero = bytes(4096)
def blocks(path):
    with open(path, "rb") as f:
        while block := f.read(4096):
            yield block
seen = {hashlib.sha256(x).digest() for x in blocks(a_path)}
differ = in_journal = new = 0
with open(new_path, "wb") as out:
    for n, (x, y) in enumerate(zip(blocks(a_path), blocks(b_path))):
        if x != y:
            differ += 1
            in_journal += j0 <= n <= j1
        h = hashlib.sha256(y).digest()
        if y != zero and h not in seen:
            seen.add(h)
            new += 1
            out.write(y)
print(differ, in_journal, new)
PY
}

# ---------------------------------------------------------------- tables

# median NUMBER...: the middle one (the mean of the two middle ones).
median() {
  printf '%s\n' "$@" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# row TOOL: the tool's bytes (MiB), percent of B's allocated size and
# median seconds, for each B.
row() {
  local v cells=() b times
  for v in "${variants[@]}"; do
    b=${bytes_of["$1|$v"]:-}
    read -ra times <<<"${seconds_of["$1|$v"]:-}"
    if [[ -z $b ]]; then
      cells+=("to be measured" "" "")
    else
      cells+=("$(mib "$b")" "$(awk -v b="$b" -v a="${alloc_of[$v]}" 'BEGIN { printf "%.1f", 100 * b / a }')"
        "$(median "${times[@]}")")
    fi
  done
  printf '| %s |' "$1"
  printf ' %s |' "${cells[@]}"
  printf '\n'
}

table_head() {
  printf '| %s | in place: MiB | %% of B | s (median) | from scratch: MiB | %% of B | s (median) |\n' "$1"
  printf '|---|---:|---:|---:|---:|---:|---:|\n'
}

# ---------------------------------------------------------------- main

cleanup() {
  nginx_stop
  unmount_under "$work"
}
trap cleanup EXIT
mkdir -p "$work"
start=$SECONDS

if [[ ! -e $images/A.img ]]; then
  rm -rf --one-file-system "$images" "$www"
  make_a
fi
if [[ ! -e $images/B-inplace.img || ! -e $images/B-scratch.img ]]; then
  rm -rf --one-file-system "$www" "$images"/B-*
  make_b
fi
declare -A sha_of alloc_of
for v in A "${variants[@]}"; do
  [[ -e $www/$v.published || $v == A ]] || publish "$v"
  sha_of[$v]=$(sha256sum <"$images/$v.img" | cut -d' ' -f1)
  alloc_of[$v]=$(bytes_allocated "$images/$v.img")
done
: >"$work/results.tsv"
nginx_start
say "delta.sh: serving $www on $url"

# The tools take turns, RUNS times, so that a change in the machine's load
# hits them all.
imgroot_publish
for run in $(seq "$runs"); do
  say "delta.sh: run $run of $runs (load $(cut -d' ' -f1 /proc/loadavg))"
  for v in "${variants[@]}"; do
    run_zsync "$v"
    run_casync "$v"
    run_rsync "$v"
    run_zstd "$v"
  done
  imgroot_rows
done
nginx_stop
fresh_out

printf '\nImages (ext4, 4 KiB blocks): apparent size, allocated (du), free blocks\n\n'
for v in A "${variants[@]}"; do
  printf -- '- %s: %s MiB, %s MiB allocated, %s %% free\n' "$v" \
    "$(mib "$(bytes_apparent "$images/$v.img")")" "$(mib "${alloc_of[$v]}")" "$(free_percent "$images/$v.img")"
done
printf -- '- B installs: %s (%s)\n' "$packages" \
  "$(grep -o '[0-9.,]* [kM]B of additional disk space' "$images/B-apt.log" || echo 'size not in the apt log')"
for v in "${variants[@]}"; do
  printf -- '- the index each tool fetches first for %s: .zsync %s bytes, .caibx %s bytes\n' "$v" \
    "$(bytes_apparent "$www/$v.zsync")" "$(bytes_apparent "$www/$v.caibx")"
done
for v in "${variants[@]}"; do
  read -r differ in_journal new < <(block_census "$v")
  printf -- '- %s against A, in 4 KiB blocks: %s differ at the same offset (%s MiB; %s of them the journal'"'"'s), %s non-zero blocks found nowhere in A (%s MiB; zstd -19 as one stream: %s MiB)\n' \
    "$v" "$differ" "$(mib $((differ * 4096)))" "$in_journal" "$new" "$(mib $((new * 4096)))" \
    "$(mib "$(zstd -q -19 -c "$out/$v.new-blocks" | wc -c)")"
  rm -f "$out/$v.new-blocks"
done
printf '\nA -> B: bytes over the wire (what nginx sent, headers included), in MiB and in percent of B'"'"'s allocated size\n\n'
table_head "update A -> B"
for t in "${tools[@]}"; do
  if [[ $t != *"no seed"* ]]; then row "$t"; fi
done
printf '\nFirst install (no seed)\n\n'
table_head "first install"
for t in "${tools[@]}"; do
  if [[ $t == curl* || $t == *"no seed"* ]]; then row "$t"; fi
done
if [[ -n $imgroot_note ]]; then printf '\n%s\n' "$imgroot_note"; fi
say "delta.sh: done in $((SECONDS - start)) s; raw numbers in $work/results.tsv"

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
#   sudo tests/bench/delta.sh [--staging] [WORKDIR]
#                                (default WORKDIR /var/tmp/imgroot-bench-delta)
#
# For A -> B it measures the bytes over the wire (nginx's $bytes_sent, every
# response: headers, index files and data) and the wall time of zsync
# (zsync -i A), casync (casync extract --seed=A), rsync --no-whole-file (its
# literal data and all its protocol bytes; a local transfer, no HTTP), and
# curl of B compressed whole with zstd -19, which is also the first install
# without a seed. Every fetched image is checked against B's SHA-256. The
# tools take turns, RUNS times (default 3); the bytes are the same in every
# run, the tables give the median seconds. imgroot_publish and imgroot_rows
# add imgroot publish/stage, for several frame sizes and zstd levels.
# With --staging it measures only how fast imgroot stage URL is on loopback
# (staging_rows).
#
# Everything is served by a private nginx on 127.0.0.1 (a free port, its own
# config in WORKDIR/nginx, stopped at the end). A, both B's and what each
# tool publishes are cached in WORKDIR, so a rerun only measures; remove
# WORKDIR to build them again (making B needs Debian's archive).
# IMGROOT_DELTA_PACKAGES: what B installs (default below); IMGROOT_TOOL: the
# imgroot binary (default build/tools/imgroot). Prints Markdown tables for
# docs/benchmarks.md ("Delta updates"); WORKDIR/results.tsv (with --staging,
# results-staging.tsv) keeps the raw numbers.
set -euo pipefail
# shellcheck source=tests/qemu/lib.sh
source "$(dirname "$0")/../qemu/lib.sh"

staging=false
if [[ ${1:-} == --staging ]]; then
  staging=true
  shift
fi
work=$(realpath -m "${1:-/var/tmp/imgroot-bench-delta}")
results=$work/results.tsv
$staging && results=$work/results-staging.tsv
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
# since T0 [DECIMALS]: seconds from T0 to now (1 decimal unless told).
since() { awk -v a="$1" -v b="$(now)" -v d="${2:-1}" 'BEGIN { printf "%.*f", d, b - a }'; }

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
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "${5:-}" >>"$results"
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
# imgroot publish and imgroot stage URL, for each setting of IMGROOT_CONFIGS
# (words FRAME_BYTES:LEVEL, publish's --frame-size and --level; default
# below, the CLI's default first). imgroot_publish runs once, before the
# runs, into $www/imgroot/FRAME_BYTES-LEVEL/:
#
#   A-only/            A as version 1 (published once, then copied with hard
#                      links: packs and releases never change)
#   B-inplace/ ...     A-only/ plus B as version 2, channel 'stable' -> B:
#                      a publisher's directory after the update
#   B-inplace-alone/   B alone as version 1: a directory without history
#
# and caches them with the publish times (.published, keyed by the
# imgroot binary's SHA-256: a rebuilt CLI publishes again). imgroot_rows
# runs in every run: imgroot stage of channels/stable onto a host-partition
# directory holding A as hn-root.img (the update), and onto an empty one
# from the publisher's directory and from B's alone (first installs). Both
# are skipped, with a note under the tables, while `imgroot publish --help`
# fails.
read -ra configs <<<"${IMGROOT_CONFIGS:-1048576:19 262144:19 4194304:19 1048576:9}"
imgroot_ready=false
imgroot_note=
declare -A publish_s

# config_label F:L: "1 MiB frames, -19".
config_label() {
  awk -v f="${1%%:*}" -v l="${1##*:}" \
    'BEGIN { if (f >= 1048576) printf "%g MiB", f / 1048576; else printf "%g KiB", f / 1024; printf " frames, -%s", l }'
}
config_dir() { printf '%s\n' "$www/imgroot/${1%%:*}-${1##*:}"; }

# imgroot_meta_bytes DIR: the channel, manifest and index of DIR's last release.
imgroot_meta_bytes() {
  local rel
  rel=$(find "$1/releases" -mindepth 1 -maxdepth 1 -name 'delta-*' | sort -V | tail -1)
  cat "$1/channels/stable" "$rel/manifest.json" "$rel/index.zst" | wc -c
}
pack_bytes() { find "$1/packs" -name '*.pack' -printf '%s\n' | awk '{ b += $1 } END { printf "%d", b }'; }

# publish_into DIR IMAGE VERSION CONFIG: imgroot publish, timed into publish_s.
publish_into() {
  local t0
  t0=$(now)
  "$tool" publish "$2" --to "$1" --name delta --version "$3" --channel stable \
    --frame-size "${4%%:*}" --level "${4##*:}" >"$1.log" 2>&1 ||
    { cat "$1.log" >&2; die "imgroot publish $2 --to $1 failed"; }
  rm -f "$1.log"
  printf '%s %s\n' "${1##*/}" "$(since "$t0")" >>"${1%/*}/.published.tmp"
}

imgroot_publish() {
  local c d name key what s
  if ! "$tool" publish --help >/dev/null 2>&1; then
    imgroot_note="imgroot rows: to be measured ($tool publish --help failed: not built, or no publish verb yet)"
    say "delta.sh: $imgroot_note"
    return 0
  fi
  key=$(sha256sum <"$tool" | cut -d' ' -f1)
  for c in "${configs[@]}"; do
    d=$(config_dir "$c")
    if [[ $(head -n 1 "$d/.published" 2>/dev/null) != "$key" ]]; then
      say "delta.sh: imgroot publish, $(config_label "$c"), into $d"
      rm -rf --one-file-system "$d"
      mkdir -p "$d"
      printf '%s\n' "$key" >"$d/.published.tmp"
      publish_into "$d/A-only" "$images/A.img" 1 "$c"
      for name in "${variants[@]}"; do
        cp -al "$d/A-only" "$d/$name"
        publish_into "$d/$name" "$images/$name.img" 2 "$c"
        publish_into "$d/$name-alone" "$images/$name.img" 1 "$c"
      done
      mv "$d/.published.tmp" "$d/.published"
    fi
    while read -r what s; do publish_s["$c|$what"]=$s; done < <(tail -n +2 "$d/.published")
  done
  imgroot_ready=true
}

# stage_url URL HOSTPART: imgroot stage --json of URL onto HOSTPART, its
# lines time-stamped as they come. Sets stage_s (wall seconds),
# stage_fetched (bytes_fetched of its last line) and fetch_s (from its
# first "fetching" progress line, sent on the first bytes of the packs, to
# its first "verifying" one; 0 when it fetched no pack).
stage_url() {
  local t0
  log_reset
  t0=$(now)
  "$tool" stage --hostpart "$2" --no-inspect --tries 0 --json "$1" 2>"$out/stage.err" |
    while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$out/stage.jsonl" ||
    { cat "$out/stage.err" "$out/stage.jsonl" >&2; die "imgroot stage $1 failed"; }
  stage_s=$(since "$t0" 2)
  stage_fetched=$(tail -n 1 "$out/stage.jsonl" | grep -o '"bytes_fetched":[0-9]*' | cut -d: -f2)
  [[ -n $stage_fetched ]] || { cat "$out/stage.jsonl" >&2; die "imgroot stage $1: no bytes_fetched in its last line"; }
  fetch_s=$(awk '/"phase":"fetching"/ && !f { f = $1 } /"phase":"verifying"/ && !v { v = $1 }
    END { printf "%.2f", f ? v - f : 0 }' "$out/stage.jsonl")
}

# imgroot_stage ROW NAME URL [SEED]: one imgroot row: stage B (NAME) from
# URL onto a fresh host-partition directory holding SEED as hn-root.img.
imgroot_stage() {
  local row=$1 name=$2 hp=$out/hostpart bytes
  fresh_out
  mkdir -p "$hp"
  if [[ -n ${4:-} ]]; then
    cp --sparse=always "$images/$4.img" "$hp/hn-root.img"
    sync -f "$hp/hn-root.img"
  fi
  stage_url "$3" "$hp"
  bytes=$(log_bytes)
  check "$name" "$hp/hn-root-new.img"
  record "$row" "$name" "$bytes" "$stage_s" "stage's bytes_fetched $stage_fetched; $(log_requests)"
}

imgroot_rows() {
  local c name d label
  for c in "${configs[@]}"; do
    label=$(config_label "$c")
    register "imgroot stage, seed A ($label)"
    register "imgroot stage, no seed, from A+B's directory ($label)"
    register "imgroot stage, no seed, from B's alone ($label)"
  done
  $imgroot_ready || return 0
  for c in "${configs[@]}"; do
    label=$(config_label "$c")
    d=$(config_dir "$c")
    for name in "${variants[@]}"; do
      imgroot_stage "imgroot stage, seed A ($label)" "$name" "$url/${d#"$www/"}/$name/channels/stable" A
      imgroot_stage "imgroot stage, no seed, from A+B's directory ($label)" "$name" "$url/${d#"$www/"}/$name/channels/stable"
      imgroot_stage "imgroot stage, no seed, from B's alone ($label)" "$name" "$url/${d#"$www/"}/$name-alone/channels/stable"
    done
  done
}

# imgroot_publish_table: what publishing cost, and the index + manifest
# against 1 % of B's allocated size.
imgroot_publish_table() {
  local c d name r
  $imgroot_ready || return 0
  printf '\nimgroot publish (seconds at load %s; pack: the compressed blocks this publish wrote; meta: channel + manifest + index a node fetches first)\n\n' \
    "$(cut -d' ' -f1 /proc/loadavg)"
  printf '| setting | release | publish s | pack MiB | meta bytes | meta %% of B allocated |\n'
  printf '|---|---|---:|---:|---:|---:|\n'
  for c in "${configs[@]}"; do
    d=$(config_dir "$c")
    printf '| %s | A (version 1) | %s | %s | %s | |\n' "$(config_label "$c")" "${publish_s["$c|A-only"]}" \
      "$(mib "$(pack_bytes "$d/A-only")")" "$(imgroot_meta_bytes "$d/A-only")"
    for name in "${variants[@]}"; do
      for r in "$name" "$name-alone"; do
        local pack meta
        if [[ $r == *-alone ]]; then
          pack=$(pack_bytes "$d/$r")
        else
          pack=$(($(pack_bytes "$d/$r") - $(pack_bytes "$d/A-only")))
        fi
        meta=$(imgroot_meta_bytes "$d/$r")
        printf '| %s | %s | %s | %s | %s | %s |\n' "$(config_label "$c")" \
          "$name$([[ $r == *-alone ]] && echo ' alone' || echo ' after A')" "${publish_s["$c|$r"]}" \
          "$(mib "$pack")" "$meta" "$(awk -v m="$meta" -v a="${alloc_of[$name]}" 'BEGIN { printf "%.2f", 100 * m / a }')"
      done
    done
  done
}
# ================================================================

# ---------------------------------------------------------------- staging
# delta.sh --staging: how fast imgroot stage URL is on loopback (issue 14's
# last target), with the first setting of IMGROOT_CONFIGS, for each B:
#
#   curl -o /dev/null of the pack files of B's release alone, one connection
#   imgroot stage of that release onto an empty host partition: its
#     fetching phase (the packs' bytes, from the first bytes to the last
#     block written) and the whole command
#   curl of B.img.zst, zstd -d to a file, for scale: a download that also
#     decompresses and writes
#   imgroot stage of the same URL with B itself as hn-root.img (every block
#     from the seed; the channel, manifest and index fetched)
#   imgroot stage --no-inspect of the local file B.img onto the same host
#     partition (B as hn-root.img), as before issue 14
#
# The same turns and medians as the tables above; seconds to the ms.
staging_rows() {
  local c=${configs[0]} d name rel hp=$out/hostpart meta t0 s p args
  d=$(config_dir "$c")
  for name in "${variants[@]}"; do
    rel=${d#"$www/"}/$name-alone
    meta=$(imgroot_meta_bytes "$d/$name-alone")
    fresh_out
    args=()
    for p in "$d/$name-alone"/packs/*.pack; do args+=(-o /dev/null "$url/$rel/packs/${p##*/}"); done
    log_reset
    t0=$(now)
    curl -sSf "${args[@]}"
    s=$(since "$t0" 3)
    record "curl -o /dev/null of the release's packs" "$name" "$(log_bytes)" "$s"

    mkdir -p "$hp"
    stage_url "$url/$rel/channels/stable" "$hp"
    check "$name" "$hp/hn-root-new.img"
    record "imgroot stage URL, no seed: fetching phase" "$name" $((stage_fetched - meta)) "$fetch_s"
    record "imgroot stage URL, no seed: whole" "$name" "$stage_fetched" "$stage_s"

    fresh_out
    log_reset
    t0=$(now)
    curl -sSf "$url/$name.img.zst" | zstd -q -d -o "$out/$name.img"
    sync -f "$out/$name.img"
    s=$(since "$t0" 3)
    record "curl of B.img.zst, zstd -d to a file, synced" "$name" "$(log_bytes)" "$s"

    fresh_out
    mkdir -p "$hp"
    cp --sparse=always "$images/$name.img" "$hp/hn-root.img"
    sync -f "$hp/hn-root.img"
    stage_url "$url/$rel/channels/stable" "$hp"
    check "$name" "$hp/hn-root-new.img"
    record "imgroot stage URL, seed B as hn-root.img" "$name" "$stage_fetched" "$stage_s"

    fresh_out
    mkdir -p "$hp"
    cp --sparse=always "$images/$name.img" "$hp/hn-root.img"
    sync -f "$hp/hn-root.img"
    t0=$(now)
    "$tool" stage --hostpart "$hp" --no-inspect --tries 0 "$images/$name.img" >"$out/stage.log" 2>&1 ||
      { cat "$out/stage.log" >&2; die "imgroot stage $images/$name.img failed"; }
    s=$(since "$t0" 3)
    check "$name" "$hp/hn-root-new.img"
    record "imgroot stage B.img (local file), B as hn-root.img" "$name" 0 "$s"
  done
}

# staging_table: the staging rows, MiB/s of the medians, and the targets'
# ratios.
staging_table() {
  local t v b m cells
  printf '\nStaging on loopback (%s; MiB: bytes received, fetched part: the packs only)\n\n' "$(config_label "${configs[0]}")"
  printf '| case | in place: MiB | s (median) | MiB/s | from scratch: MiB | s (median) | MiB/s |\n'
  printf '|---|---:|---:|---:|---:|---:|---:|\n'
  for t in "${tools[@]}"; do
    cells=()
    for v in "${variants[@]}"; do
      b=${bytes_of["$t|$v"]}
      read -ra times <<<"${seconds_of["$t|$v"]}"
      m=$(median "${times[@]}")
      median_of["$t|$v"]=$m
      cells+=("$(mib "$b")" "$m" "$(awk -v b="$b" -v s="$m" 'BEGIN { if (b && s > 0) printf "%.0f", b / 1048576 / s }')")
    done
    printf '| %s |' "$t"
    printf ' %s |' "${cells[@]}"
    printf '\n'
  done
  printf '\n'
  for v in "${variants[@]}"; do
    printf -- '- %s: fetching phase / curl of the packs, in MiB/s: %s; imgroot stage URL with B as seed / imgroot stage B.img, in seconds: %s\n' "$v" \
      "$(awk -v a="${median_of["imgroot stage URL, no seed: fetching phase|$v"]}" -v b="${median_of["curl -o /dev/null of the release's packs|$v"]}" \
        -v x="${bytes_of["imgroot stage URL, no seed: fetching phase|$v"]}" -v y="${bytes_of["curl -o /dev/null of the release's packs|$v"]}" \
        'BEGIN { printf "%.2f", (x / a) / (y / b) }')" \
      "$(awk -v a="${median_of["imgroot stage URL, seed B as hn-root.img|$v"]}" -v b="${median_of["imgroot stage B.img (local file), B as hn-root.img|$v"]}" \
        'BEGIN { printf "%.2f", a / b }')"
  done
}

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
: >"$results"
nginx_start
say "delta.sh: serving $www on $url"

if $staging; then
  configs=("${configs[0]}")
  imgroot_publish
  $imgroot_ready || die "delta.sh --staging: $imgroot_note"
  declare -A median_of
  for run in $(seq "$runs"); do
    say "delta.sh: staging, run $run of $runs (load $(cut -d' ' -f1 /proc/loadavg))"
    staging_rows
  done
  nginx_stop
  fresh_out
  staging_table
  say "delta.sh: done in $((SECONDS - start)) s; raw numbers in $results"
  exit 0
fi

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
imgroot_publish_table
if [[ -n $imgroot_note ]]; then printf '\n%s\n' "$imgroot_note"; fi
say "delta.sh: done in $((SECONDS - start)) s; raw numbers in $results"

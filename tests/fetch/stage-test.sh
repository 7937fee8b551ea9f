#!/bin/bash
# fetch.* scenarios: `imgroot publish` into a directory served by a real
# nginx on 127.0.0.1 (nginx.sh), and `imgroot stage URL` onto a host
# partition (a directory, or a small tmpfs for the full-disk case):
#
#   tests/fetch/stage-test.sh SCENARIO     (--list: the scenarios)
#
# Every scenario checks that no boot name ever points at a partial image.
# Needs root (nginx, tmpfs) and mkfs.ext4; exits 77 when it cannot run.
# IMGROOT_TOOL: the CLI (default build/tools/imgroot).
set -euo pipefail

SCENARIOS=(first_stage update_reuses server_restart corrupt_chunk missing_release hostpart_full
  kill_and_resume download_only signed downgrade reflink_seed)
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tool=${IMGROOT_TOOL:-$repo/build/tools/imgroot}
nginx_sh=$here/nginx.sh

if [[ ${1:-} == --list ]]; then
  printf '%s\n' "${SCENARIOS[@]}"
  exit 0
fi
scenario=${1:?usage: stage-test.sh SCENARIO (--list)}
[[ " ${SCENARIOS[*]} " == *" $scenario "* ]] || { echo "unknown scenario $scenario" >&2; exit 2; }
TEST_NAME=fetch.$scenario

say() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }
"$nginx_sh" check
command -v mkfs.ext4 >/dev/null || { echo "skipped: no mkfs.ext4" >&2; exit 77; }
[[ -x $tool ]] || die "no imgroot at $tool (cmake --build build)"

work=$(mktemp -d "${TMPDIR:-/tmp}/imgroot-$TEST_NAME.XXXXXX")
site=$work/site
hostpart=$work/hostpart
mkdir -p "$site" "$hostpart"
chmod 755 "$work"
cleanup() {
  "$nginx_sh" stop "$work/nginx" || true
  if mountpoint -q "$hostpart"; then umount "$hostpart" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# noise FILE MIB SEED: incompressible, reproducible bytes.
noise() {
  # openssl stops by SIGPIPE once head has its bytes.
  { openssl enc -aes-128-ctr -nosalt -pass "pass:$3" -in /dev/zero 2>/dev/null || true; } |
    head -c "$(($2 << 20))" >"$1"
}

# make_image IMAGE SIZE_MIB BIG_MIB [EXTRA_MIB]: an ext4 image with an init,
# a big file of noise and, with EXTRA_MIB, one more file and a changed one.
make_image() {
  local image=$1 size=$2 big=$3 extra=${4:-0} root
  root=$work/root-${1##*/}
  mkdir -p "$root/sbin" "$root/boot" "$root/usr/lib" "$root/etc"
  printf '#!/bin/sh\n' >"$root/sbin/init"
  chmod 755 "$root/sbin/init"
  echo kernel >"$root/boot/vmlinuz"
  ln -sf /boot/vmlinuz "$root/boot/kernel"
  echo initramfs >"$root/boot/initramfs"
  noise "$root/usr/lib/big" "$big" big
  echo "version one" >"$root/etc/config"
  if ((extra)); then
    noise "$root/usr/lib/new" "$extra" new
    echo "version two" >"$root/etc/config"
  fi
  mkfs.ext4 -q -F -b 4096 -d "$root" "$image" "${size}M"
}

publish() { "$tool" publish "$1" --to "$site" --channel stable --level 3 "${@:2}" >/dev/null; }
serve() { port=$("$nginx_sh" start "$work/nginx" "$site" "${1:-}"); url=http://127.0.0.1:$port/channels/stable; }
# stage ARG...: imgroot stage onto the host partition; its JSON lines in $work/stage.json.
stage() {
  "$tool" stage --hostpart "$hostpart" --no-inspect --tries 0 --json "$@" >"$work/stage.json"
}
# stage_in_background URL: the same, as a background job whose $! is imgroot itself.
stage_in_background() {
  "$tool" stage --hostpart "$hostpart" --no-inspect --tries 0 --json "$1" >"$work/stage.json" &
  pid=$!
}
# wait_for_received BYTES: until the download has received BYTES, by its
# progress lines.
wait_for_received() {
  local got
  for _ in $(seq 300); do
    got=$(sed -n 's/.*"received":\([0-9]*\).*/\1/p' "$work/stage.json" | tail -n 1)
    if ((${got:-0} > $1)); then
      say "$got bytes received"
      return 0
    fi
    sleep 0.1
  done
  die "the download never received $1 bytes"
}
json_field() { grep '"event":"staged"' "$work/stage.json" | sed -n "s/.*\"$1\":\\([0-9]*\\).*/\\1/p"; }
# Bytes nginx sent (bodies), from its access log; with ok, only those of
# answers with data (200, 206), not error pages (the 404 of a missing signature).
sent() {
  local statuses='^[0-9]'
  [[ ${1:-} == ok ]] && statuses='^20[06] '
  grep -E "$statuses" "$work/nginx/access.log" | sed -n 's/.* sent=\([0-9]*\) .*/\1/p' |
    awk '{ s += $1 } END { print s + 0 }'
}
pack_bytes() { du -cb "$site"/packs/*.pack | tail -n 1 | cut -f1; }
allocated() { echo $(($(stat -c %b "$1") * 512)); }

nothing_staged() {
  [[ ! -e $hostpart/hn-root-new.img ]] || die "hn-root-new.img exists after a failed stage"
  [[ ! -e $hostpart/.hn-root-new.img.partial ]] || die "a partial copy is left under the partial name"
}
staged_is() {
  cmp -s "$hostpart/hn-root-new.img" "$1" || die "hn-root-new.img is not $(basename "$1")"
}

# refused_with TEXT ARG...: stage ARG... fails with one line holding TEXT,
# and nothing is staged.
refused_with() {
  if stage "${@:2}" 2>"$work/err"; then die "staged, though it should be refused: $*"; fi
  grep -qF -- "$1" "$work/err" || die "the refusal does not say '$1': $(cat "$work/err")"
  nothing_staged
}

case $scenario in
  signed)
    # The node trusts key a; releases signed by a, by b, unsigned, altered.
    (cd "$work" && "$tool" key generate a >/dev/null && "$tool" key generate b >/dev/null)
    mkdir "$work/keys"
    cp "$work/a.pub" "$work/keys/"
    make_image "$work/A.img" 32 8
    publish "$work/A.img" --key "$work/a.key"
    serve
    release=http://127.0.0.1:$port/releases/hn-root-1/manifest.json
    cp "$site/releases/hn-root-1/manifest.json" "$work/manifest.good"
    # Altered after signing: refused by the signature.
    sed -i 's/"name": "hn-root"/"name": "hn-rooT"/' "$site/releases/hn-root-1/manifest.json"
    refused_with "does not match: the manifest or its signature was altered" --keys "$work/keys" "$release"
    cp "$work/manifest.good" "$site/releases/hn-root-1/manifest.json"
    # Signed by a key the node does not trust.
    "$tool" sign "$site/releases/hn-root-1/manifest.json" --key "$work/b.key" >/dev/null
    refused_with "which this node does not trust" --keys "$work/keys" "$release"
    # Unsigned.
    rm "$site/releases/hn-root-1/manifest.json.sig"
    refused_with "is not signed" --keys "$work/keys" "$release"
    # A chunk altered on the server of a release signed by a.
    "$tool" sign "$site/releases/hn-root-1/manifest.json" --key "$work/a.key" >/dev/null
    pack=$(ls "$site"/packs/*.pack)
    cp "$pack" "$work/pack.good"
    printf 'X' | dd of="$pack" bs=1 seek=3000 conv=notrunc status=none
    refused_with "does not match the release's index" --keys "$work/keys" "$release"
    cp "$work/pack.good" "$pack"
    # The good one, then an image file, refused with keys.
    stage --keys "$work/keys" "$release" || die "the signed release was refused"
    staged_is "$work/A.img"
    id=$(cd "$work" && "$tool" key generate c | sed -n 's/^key id //p')
    [[ -n $id ]] || die "key generate printed no id"
    "$tool" status --hostpart "$hostpart" --json | grep -q "\"signed_by\": \"$(sed -n 's/.*"key_id": "\(.*\)".*/\1/p' \
      "$site/releases/hn-root-1/manifest.json.sig")\"" || die "status does not name the signing key"
    rm "$hostpart/hn-root-new.img"
    if "$tool" stage --hostpart "$hostpart" --no-inspect --tries 0 --keys "$work/keys" "$work/A.img" \
      2>"$work/err"; then die "an image file was staged on a node with keys"; fi
    grep -q "an image file carries no signature" "$work/err" || die "no clear message: $(cat "$work/err")"
    ;;
  reflink_seed)
    # A host partition that can reflink (btrfs): blocks found in hn-root.img
    # are cloned, not copied, so the staged image shares its extents.
    if ! command -v mkfs.btrfs >/dev/null || ! command -v filefrag >/dev/null; then
      echo "skipped: no mkfs.btrfs or filefrag" >&2
      exit 77
    fi
    make_image "$work/A.img" 64 24
    make_image "$work/B.img" 64 24 1
    publish "$work/A.img"
    publish "$work/B.img"
    truncate -s 400M "$work/btrfs.img"
    mkfs.btrfs -q "$work/btrfs.img"
    mount -o loop "$work/btrfs.img" "$hostpart"
    cp --sparse=always "$work/A.img" "$hostpart/hn-root.img"
    sync -f "$hostpart"
    serve
    stage "$url" || die "stage failed"
    staged_is "$work/B.img"
    reused=$(json_field bytes_reused)
    ((reused > 20 << 20)) || die "only $reused bytes found in hn-root.img"
    shared=$(filefrag -v "$hostpart/hn-root-new.img" | grep -c shared || true)
    say "$reused bytes reused; filefrag lists $shared shared extents"
    ((shared > 0)) || die "hn-root-new.img shares no extent with hn-root.img: the blocks were copied"
    ;;
  downgrade)
    make_image "$work/A.img" 32 8
    make_image "$work/B.img" 32 8 1
    publish "$work/A.img"
    publish "$work/B.img"
    serve
    stage "http://127.0.0.1:$port/releases/hn-root-2/manifest.json" || die "staging release 2 failed"
    # As the next boot does: the staged image becomes the current one.
    mv "$hostpart/hn-root-new.img" "$hostpart/hn-root.img"
    refused_with "--allow-downgrade" "http://127.0.0.1:$port/releases/hn-root-1/manifest.json"
    stage --allow-downgrade "http://127.0.0.1:$port/releases/hn-root-1/manifest.json" ||
      die "--allow-downgrade did not stage release 1"
    staged_is "$work/A.img"
    ;;
  first_stage)
    make_image "$work/A.img" 64 16
    publish "$work/A.img"
    serve
    stage "$url" || die "stage failed"
    staged_is "$work/A.img"
    "$tool" status --hostpart "$hostpart" --json | grep -q '"name": "hn-root-1"' ||
      die "status does not name the release"
    # A first install: about the compressed size, nothing found on the node.
    fetched=$(json_field bytes_fetched)
    ((fetched < $(pack_bytes) * 11 / 10 + 65536)) || die "fetched $fetched bytes for $(pack_bytes) of packs"
    [[ ! -e $hostpart/imgroot/fetch ]] || die "the download store is left after staging"
    ;;
  update_reuses)
    make_image "$work/A.img" 64 16
    make_image "$work/B.img" 64 16 2
    publish "$work/A.img"
    publish "$work/B.img"
    cp --sparse=always "$work/A.img" "$hostpart/hn-root.img"
    serve
    stage "$url" || die "stage failed"
    staged_is "$work/B.img"
    fetched=$(json_field bytes_fetched)
    reused=$(json_field bytes_reused)
    say "fetched $fetched bytes, reused $reused; nginx sent $(sent)"
    # B is A plus 2 MiB of new data: the 16 MiB found on the node.
    ((reused > 15 << 20)) || die "only $reused bytes reused from hn-root.img"
    ((fetched < 4 << 20)) || die "fetched $fetched bytes for a 2 MiB change"
    (($(sent ok) <= fetched)) || die "nginx sent $(sent ok) bytes of data, more than the $fetched counted"
    ;;
  server_restart)
    make_image "$work/A.img" 96 48
    publish "$work/A.img"
    # Four connections at 1 MiB/s: about 12 s for the image.
    printf 'limit_rate 1m;\n' >"$work/slow.conf"
    serve "$work/slow.conf"
    stage_in_background "$url"
    # Stop the server once part of the image is written, start it again.
    wait_for_received $((12 << 20))
    "$nginx_sh" stop "$work/nginx"
    nothing_staged
    sleep 3
    "$nginx_sh" start "$work/nginx" >/dev/null
    wait "$pid" || die "stage did not survive the server's restart"
    staged_is "$work/A.img"
    total=$(pack_bytes)
    fetched=$(json_field bytes_fetched)
    say "received $fetched bytes in all (retries included), the packs are $total"
    ((fetched < total * 12 / 10)) || die "the restart cost a new download: $fetched bytes for $total"
    ;;
  corrupt_chunk)
    make_image "$work/A.img" 32 8
    publish "$work/A.img"
    pack=$(ls "$site"/packs/*.pack)
    printf 'X' | dd of="$pack" bs=1 seek=5000 conv=notrunc status=none
    serve
    if stage "$url" 2>"$work/err"; then die "a corrupted chunk was staged"; fi
    grep -q "does not match the release's index" "$work/err" || die "no clear message: $(cat "$work/err")"
    (($(grep -cv '^imgroot: warning:' "$work/err") == 1)) || die "more than one line: $(cat "$work/err")"
    nothing_staged
    ;;
  missing_release)
    make_image "$work/A.img" 32 8
    publish "$work/A.img"
    serve
    bad=http://127.0.0.1:$port/releases/hn-root-9/manifest.json
    if stage "$bad" 2>"$work/err"; then die "a missing release was staged"; fi
    grep -q "hn-root-9/manifest.json" "$work/err" || die "the message does not name the URL: $(cat "$work/err")"
    grep -qi "404\|not found" "$work/err" || die "the message does not say it is missing: $(cat "$work/err")"
    nothing_staged
    ;;
  hostpart_full)
    make_image "$work/A.img" 64 24
    publish "$work/A.img"
    mount -t tmpfs -o size=8m tmpfs "$hostpart"
    serve
    if stage "$url" 2>"$work/err"; then die "staged onto a full host partition"; fi
    grep -q "not enough space on the host partition" "$work/err" || die "no clear message: $(cat "$work/err")"
    nothing_staged
    (($(sent) < 1 << 20)) || die "fetched $(sent) bytes before finding the disk too small"
    ;;
  kill_and_resume)
    make_image "$work/A.img" 96 48
    publish "$work/A.img"
    printf 'limit_rate 1m;\n' >"$work/slow.conf"
    serve "$work/slow.conf"
    stage_in_background "$url"
    wait_for_received $((24 << 20))
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    nothing_staged
    first=$(sent)
    say "killed after nginx sent $first bytes"
    stage "$url" || die "the second stage failed"
    staged_is "$work/A.img"
    second=$(($(sent) - first))
    total=$(pack_bytes)
    say "the second run fetched $second bytes of $total"
    ((second < total - (4 << 20))) || die "the resume fetched $second bytes, about all of $total"
    ;;
  download_only)
    make_image "$work/A.img" 32 8
    publish "$work/A.img"
    serve
    stage --download-only "$url" || die "download failed"
    nothing_staged
    "$tool" status --hostpart "$hostpart" | grep -q "download:   hn-root-1.*downloaded and checked" ||
      die "status does not show the download"
    "$nginx_sh" stop "$work/nginx"
    stage "$url" || die "staging without the network failed"
    staged_is "$work/A.img"
    grep -q '"offline":true' "$work/stage.json" || die "not staged from the store"
    ;;
esac
say "passed"

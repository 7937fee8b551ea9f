#!/bin/bash
# imgroot diff against `diff -r` and `rsync -rcn --itemize-changes` on two
# ext4 images of about 100,000 small files that differ in 1% of them.
#
#   sudo tests/bench/diff.sh [BUILD_DIR] [WORK_DIR]
#
# Three cache states, every tool in each:
#   cold          page cache dropped (the whole machine's), filesystems mounted
#                 fresh: the mount is part of each timed run
#   images cached the image files in the page cache, filesystems mounted
#                 fresh (imgroot diff always mounts its own)
#   trees warm    both trees mounted once and read before: imgroot diff is
#                 given the two mount points, like the others
# FILES=N (default 100000) sets the size, RUNS=N (default 3) the runs of the
# two warm states (the median is printed), COLD=0 skips the cold runs.
# Prints a Markdown table for docs/benchmarks.md.
set -euo pipefail

build=$(realpath "${1:-build}")
work=${2:-/var/tmp/imgroot-bench-diff}
files=${FILES:-100000}
runs=${RUNS:-3}
cold=${COLD:-1}
imgroot=$build/tools/imgroot

if ((EUID != 0)); then
  echo "tests/bench/diff.sh: run as root (loop mounts)" >&2
  exit 1
fi
for tool in rsync diff mkfs.ext4 python3; do
  command -v "$tool" >/dev/null || { echo "tests/bench/diff.sh: needs $tool (tests/deps.sh)" >&2; exit 1; }
done
[[ -x $imgroot ]] || { echo "tests/bench/diff.sh: no $imgroot; build first" >&2; exit 1; }

mkdir -p "$work"
cd "$work"
mnt_a=$work/mnt-a
mnt_b=$work/mnt-b
cleanup() {
  umount "$mnt_a" 2>/dev/null || true
  umount "$mnt_b" 2>/dev/null || true
}
trap cleanup EXIT

# The tree: 100 directories of 10 directories of FILES/1000 files each,
# 64 bytes to 4 KiB of random bytes, generated deterministically. B is A
# with 1% of the files touched: half rewritten at the same size, 30% given
# a new size, 10% removed, and as many added.
generate() {
  python3 - "$files" <<'PY'
import os, random, shutil, sys
files = int(sys.argv[1])
rng = random.Random(8)
pool = rng.randbytes(1 << 20)
per_dir = max(1, files // 1000)
paths = []
for root in ("tree-a",):
    shutil.rmtree(root, ignore_errors=True)
for i in range(100):
    for j in range(10):
        d = f"tree-a/d{i:02d}/s{j}"
        os.makedirs(d)
        for k in range(per_dir):
            size = rng.randint(64, 4096)
            at = rng.randrange(0, len(pool) - size)
            p = f"{d}/f{k:04d}"
            with open(p, "wb") as f:
                f.write(pool[at:at + size])
            paths.append((p, size))
with open("changes", "w") as out:
    picked = rng.sample(paths, len(paths) // 100)
    n = len(picked)
    for idx, (p, size) in enumerate(picked):
        if idx < n * 5 // 10:
            kind = "content"
        elif idx < n * 8 // 10:
            kind = "size"
        elif idx < n * 9 // 10:
            kind = "remove"
        else:
            kind = "add"
        out.write(f"{kind} {p} {size}\n")
PY
}

# Apply "changes" to a copy of tree A's image source, in place: tree-a is
# reused as tree B's source once image A is made.
mutate() {
  python3 - <<'PY'
import os, random
rng = random.Random(9)
for line in open("changes"):
    kind, p, size = line.split()
    size = int(size)
    if kind == "content":
        with open(p, "r+b") as f:
            at = rng.randrange(size)
            f.seek(at)
            byte = f.read(1)[0]
            f.seek(at)
            f.write(bytes([byte ^ 0xff]))  # one byte changed, same size
    elif kind == "size":
        with open(p, "ab") as f:
            f.write(b"grown")
    elif kind == "remove":
        os.unlink(p)
    else:
        with open(p + ".new", "wb") as f:
            f.write(rng.randbytes(size))
PY
}

make_image() {
  rm -f "$2"
  truncate -s 2G "$2"
  mkfs.ext4 -q -F -b 4096 -N $((files * 3 / 2 + 10000)) -d "$1" "$2"
}

if [[ ! -f a.img || ! -f b.img || $(cat files 2>/dev/null) != "$files" ]]; then
  echo "generating $files files..." >&2
  t0=$(date +%s.%N)
  generate
  make_image tree-a a.img
  mutate
  make_image tree-a b.img
  rm -rf tree-a
  echo "$files" >files
  echo "generated in $(echo "$(date +%s.%N) - $t0" | bc) s" >&2
fi

drop_caches() {
  sync
  echo 3 >/proc/sys/vm/drop_caches
}

# Seconds one command takes, its output discarded.
time_of() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || true  # diff and rsync exit non-zero on differences
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

mount_both() {
  mkdir -p "$mnt_a" "$mnt_b"
  mount -o ro,loop,noload a.img "$mnt_a"
  mount -o ro,loop,noload b.img "$mnt_b"
}

# Each tool on fresh mounts (imgroot mounts its own), or on mounted trees.
fresh_imgroot() { "$imgroot" diff a.img b.img; }
fresh_imgroot_mtime() { "$imgroot" diff --trust-mtime a.img b.img; }
fresh_diff() { mount_both && diff -r "$mnt_a" "$mnt_b"; cleanup; }
fresh_rsync() { mount_both && rsync -rcn --itemize-changes "$mnt_a/" "$mnt_b/"; cleanup; }
trees_imgroot() { "$imgroot" diff "$mnt_a" "$mnt_b"; }
trees_imgroot_mtime() { "$imgroot" diff --trust-mtime "$mnt_a" "$mnt_b"; }
trees_diff() { diff -r "$mnt_a" "$mnt_b"; }
trees_rsync() { rsync -rcn --itemize-changes "$mnt_a/" "$mnt_b/"; }

names=("imgroot diff" "imgroot diff --trust-mtime" "diff -r" "rsync -rcn --itemize-changes")
tools=(imgroot imgroot_mtime diff rsync)
declare -A cold_t cached_t trees_t

# Round robin: run k of every tool, then run k+1, so that a burst of load
# from the machine's other users hits all tools alike; medians per tool.
declare -A samples
round_robin() {  # prefix: fresh or trees
  local t i
  for t in "${tools[@]}"; do time_of "$1_$t" >/dev/null; done  # fill the caches
  for t in "${tools[@]}"; do samples[$t]=; done
  for ((i = 0; i < runs; i++)); do
    for t in "${tools[@]}"; do samples[$t]+=" $(time_of "$1_$t")"; done
  done
}

# What each tool finds, as a check that they agree on the differences.
"$imgroot" diff a.img b.img | tail -1 >&2

if ((cold)); then
  for t in "${tools[@]}"; do
    drop_caches
    cold_t[$t]=$(time_of "fresh_$t")
  done
fi
round_robin fresh
# shellcheck disable=SC2086 # the samples are words
for t in "${tools[@]}"; do cached_t[$t]=$(median ${samples[$t]}); done
mount_both
round_robin trees
# shellcheck disable=SC2086
for t in "${tools[@]}"; do trees_t[$t]=$(median ${samples[$t]}); done
cleanup

echo "| tool | cold (s) | images cached (s, median of $runs) | trees warm (s, median of $runs) |"
echo "|---|---:|---:|---:|"
for i in "${!tools[@]}"; do
  t=${tools[$i]}
  printf '| %s | %s | %s | %s |\n' "${names[$i]}" "${cold_t[$t]:--}" "${cached_t[$t]}" "${trees_t[$t]}"
done
echo
echo "load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"

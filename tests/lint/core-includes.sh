#!/bin/bash
# lint.core_includes: the static PID 1 links libc and libblkid only. No file
# built into imgroot_core or imgroot_init, nor any header they include from
# lib/ or init/ (followed to the end), may include the header of a file that
# is built only into imgroot_host, or a host-only library's header.
#
#   core-includes.sh SOURCE_ROOT HOST_LIST CORE_LIST...
#
# Each list is what CMake generates for a target (tests/lint/CMakeLists.txt):
# its source directory on the first line, then its sources, one a line.
set -euo pipefail

if (($# < 3)); then
  echo "usage: $0 SOURCE_ROOT HOST_LIST CORE_LIST..." >&2
  exit 2
fi
root=$(realpath "$1")
host_list=$2
shift 2

# Host-only libraries, as their headers are named in #include <...>.
host_libraries='^(nlohmann/|libmount|openssl/|zstd|boost/|parted/|curl/)'

# sources LIST: the absolute paths of the sources in LIST.
sources() {
  local dir line
  { read -r dir; dir=$(realpath "$dir"); while read -r line; do
      [[ -n $line ]] || continue
      [[ $line == /* ]] || line=$dir/$line
      echo "$line"
    done; } <"$1"
}

declare -A in_core=()
core_files=()
for list in "$@"; do
  while read -r f; do
    in_core[$f]=1
    core_files+=("$f")
  done < <(sources "$list")
done

# The header of each file only imgroot_host builds.
declare -A host_only=()
while read -r f; do
  [[ -z ${in_core[$f]:-} ]] || continue
  header=${f%.*}.h
  [[ -f $header ]] && host_only[$header]=$f
done < <(sources "$host_list")

# resolve FROM NAME: sets 'target' to the file #include "NAME" in FROM
# means, if it is in lib/ or init/ (the include directories of the two
# targets), else to nothing. (No subshells: this runs for every include.)
resolve() {
  local candidate
  target=
  for candidate in "${1%/*}/$2" "$root/lib/$2" "$root/init/$2"; do
    if [[ -f $candidate ]]; then
      target=$candidate
      return
    fi
  done
}

declare -A via=()  # file -> the file that brought it in
queue=()
for f in "${core_files[@]}"; do
  via[$f]=""
  queue+=("$f")
done

# chain FILE: how FILE is reached from a core or init source.
chain() {
  local f=$1 out=${1#"$root"/}
  while [[ -n ${via[$f]} ]]; do
    f=${via[$f]}
    out="${f#"$root"/} -> $out"
  done
  echo "$out"
}

failures=0
while ((${#queue[@]})); do
  file=${queue[0]}
  queue=("${queue[@]:1}")
  mapfile -t lines <"$file"
  for line in "${lines[@]}"; do
    if [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<([^>]+)\> ]]; then
      name=${BASH_REMATCH[1]}
      if [[ $name =~ $host_libraries ]]; then
        echo "FAIL: $(chain "$file") includes <$name>, a host-only library" >&2
        failures=$((failures + 1))
      fi
    elif [[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]]; then
      resolve "$file" "${BASH_REMATCH[1]}"
      [[ -n $target ]] || continue
      case $target in "$root"/lib/* | "$root"/init/*) ;; *) continue ;; esac
      if [[ -n ${host_only[$target]:-} ]]; then
        echo "FAIL: $(chain "$file") includes \"${BASH_REMATCH[1]}\", the header of" \
          "${host_only[$target]#"$root"/}, which only imgroot_host builds" >&2
        failures=$((failures + 1))
        continue  # one line for it, not one for each header it brings along
      fi
      if [[ -z ${via[$target]+set} ]]; then
        via[$target]=$file
        queue+=("$target")
      fi
    fi
  done
done

if ((failures)); then
  echo "core-includes: $failures include(s) the static init cannot have (lib/CMakeLists.txt)" >&2
  exit 1
fi
echo "core-includes: ${#via[@]} files of imgroot_core and imgroot_init, none reaching the host"

#!/bin/bash
# lint.shellcheck: every shell file of the tree, shellcheck -x clean.
#
#   tests/lint/shellcheck.sh            (ctest -L lint)
#
# The shell files are the *.sh and *.bash files and those without such an
# extension whose first line is a sh or bash #! line (.ci/run, grub/09_imgroot,
# the package's maintainer scripts...). In a git checkout the files are the
# ones git tracks; in a tree without .git (a source tarball), every file
# under the top directory but those in build*/ there.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v shellcheck >/dev/null || { echo "FAIL: shellcheck is not installed (tests/deps.sh)" >&2; exit 1; }

# all_files: the tree's files, NUL-separated, relative to the top.
all_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z
  else
    find . \( -name .git -o -path './build*' \) -prune -o -type f -printf '%P\0'
  fi
}

# is_shell FILE: FILE is a shell script by its name or its #! line.
is_shell() {
  case ${1##*/} in
    *.sh | *.bash) return 0 ;;
    *.*) return 1 ;;
  esac
  local first
  IFS= read -r first <"$1" 2>/dev/null || return 1
  [[ $first =~ ^#!.*[/\ ](ba)?sh([[:space:]]|$) ]]
}

files=()
while IFS= read -r -d '' file; do
  [[ -f $file ]] && is_shell "$file" && files+=("$file")
done < <(all_files)
((${#files[@]} > 0)) || { echo "FAIL: no shell files found" >&2; exit 1; }

shellcheck -x "${files[@]}"
echo "shellcheck: ${#files[@]} files clean"

#!/bin/bash
# Build the Debian package from a build tree (docs/packaging.md):
#
#   tests/package/build-deb.sh BUILD_DIR OUT_DIR
#
# BUILD_DIR is configured and built (cmake --build); this runs only cpack.
# Writes OUT_DIR/imgroot_<version>_amd64.deb, replacing an older one of the
# same name, and prints its path: the one line on stdout. cpack's own output
# goes to stderr only when it fails.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 BUILD_DIR OUT_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
if [[ ! -f $build/CPackConfig.cmake || ! -x $build/tools/imgroot ]]; then
  echo "$0: '$1' is not a built imgroot build tree (cmake -S . -B $1 && cmake --build $1)" >&2
  exit 1
fi
mkdir -p "$2"
out=$(cd "$2" && pwd)

# cpack works in OUT_DIR/_CPack_Packages; nothing of it stays.
log=$(mktemp)
trap 'rm -rf "$log" "$out/_CPack_Packages"' EXIT
if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$out" >"$log" 2>&1; then
  cat "$log" >&2
  echo "$0: cpack failed" >&2
  exit 1
fi
# "CPack: - package: /path/imgroot_0.1.0_amd64.deb generated."
sed -n 's/^CPack: - package: \(.*\.deb\) generated\.$/\1/p' "$log"

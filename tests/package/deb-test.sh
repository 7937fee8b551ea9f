#!/bin/bash
# package.deb: build the Debian package with build-deb.sh into OUT_DIR
# (emptied first: it is the test's) and check what it holds, without
# installing it (docs/packaging.md). Unpacks it with dpkg-deb -x into a
# temporary directory, and runs its imgroot from there to know the verbs
# and options.
#
#   tests/package/deb-test.sh BUILD_DIR OUT_DIR VERSION
set -euo pipefail

build=$1 out=$2 version=$3
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

rm -rf "$out"
deb=$("$(dirname "$0")/build-deb.sh" "$build" "$out")
[[ $deb == "$out/imgroot_${version}_amd64.deb" && -f $deb ]] ||
  { echo "FAIL: build-deb.sh made '$deb', not $out/imgroot_${version}_amd64.deb" >&2; exit 1; }

# Every file the package promises.
listing=$(dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\.||')
for path in \
  /usr/sbin/imgroot /usr/lib/imgroot/imgroot-init \
  /etc/grub.d/09_imgroot /etc/imgroot/check.d/required/ /etc/imgroot/check.d/wanted/ \
  /etc/imgroot/green.d/ /etc/imgroot/red.d/ /etc/imgroot/keys/ \
  /usr/lib/dracut/modules.d/90imgroot/module-setup.sh \
  /usr/lib/dracut/modules.d/90imgroot/parse-imgroot.sh \
  /usr/lib/dracut/modules.d/90imgroot/mount-imgroot.sh \
  /usr/lib/dracut/modules.d/90imgroot/imgroot-generator.sh \
  /usr/lib/dracut/modules.d/90imgroot/imgroot-sysroot.service \
  /usr/lib/systemd/system/imgroot-mark-good.service \
  /usr/lib/systemd/system/imgroot-boot.service \
  /usr/lib/systemd/system/imgroot-assess-deadline.service \
  /usr/lib/systemd/system/imgroot-assess-deadline.timer \
  /usr/share/man/man8/imgroot.8.gz /usr/share/bash-completion/completions/imgroot \
  /usr/share/doc/imgroot/README.md /usr/share/doc/imgroot/copyright \
  /usr/share/doc/imgroot/docs/cli.md /usr/share/doc/imgroot/docs/packaging.md; do
  grep -qxF "$path" <<<"$listing" || fail "the package lacks $path"
done
# Nothing outside what a Debian package may own (no /usr/local).
while read -r path; do
  fail "unexpected path $path"
done < <(grep -v -E '^/(etc|usr/(sbin|lib|share))(/|$)|^/$|^/usr/$' <<<"$listing")

# Control fields. Depends are dpkg-shlibdeps' (the CLI's libraries).
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libboost-program-options libblkid1 libmount1 libparted2 libssl3; do
  grep -qE "(^|, )${lib}[^,]* \(" <<<"$depends" || fail "Depends lacks $lib: $depends"
done
[[ $(dpkg-deb -f "$deb" Package) == imgroot ]] || fail "Package is not imgroot"
[[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || fail "Version is not $version"
[[ $(dpkg-deb -f "$deb" Section) == admin ]] || fail "Section is not admin"
[[ $(dpkg-deb -f "$deb" Architecture) == amd64 ]] || fail "Architecture is not amd64"
control=$(mktemp -d)
root=$(mktemp -d)
trap 'rm -rf "$control" "$root"' EXIT
dpkg-deb -e "$deb" "$control"
grep -qxF /etc/grub.d/09_imgroot "$control/conffiles" || fail "09_imgroot is no conffile"
for script in postinst prerm postrm; do
  [[ -x $control/$script ]] || fail "no executable $script"
done

dpkg-deb -x "$deb" "$root"
# imgroot-init goes into initramfs images: static, no interpreter.
if readelf -l "$root/usr/lib/imgroot/imgroot-init" | grep -q INTERP; then
  fail "imgroot-init is dynamically linked"
fi
# The units run the package's program, whatever the build's prefix was.
for unit in mark-good: boot:--boot assess-deadline:--deadline; do
  file=$root/usr/lib/systemd/system/imgroot-${unit%%:*}.service
  want="ExecStart=/usr/sbin/imgroot assess${unit#*:}"
  [[ ${unit#*:} ]] && want="ExecStart=/usr/sbin/imgroot assess ${unit#*:}"
  grep -qxF "$want" "$file" || fail "$file: $(grep ExecStart "$file")"
done

imgroot=$root/usr/sbin/imgroot
"$imgroot" --version | grep -qxF "imgroot $version" || fail "imgroot --version is not $version"
mapfile -t verbs < <("$imgroot" --help | awk '/^Verbs:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
((${#verbs[@]} >= 10)) || fail "imgroot --help lists ${#verbs[@]} verbs"

# The man page renders and has a section for every verb.
page=$(MANWIDTH=100 man -l "$root/usr/share/man/man8/imgroot.8.gz" 2>&1)
[[ -n $page ]] || fail "the man page renders empty"
for verb in "${verbs[@]}"; do
  grep -qE "^ +imgroot $verb\$" <<<"$page" || fail "the man page has no section for $verb"
done
grep -q -- '--cancel-revert' <<<"$page" || fail "the man page lacks stage's options"

# The completion loads in bash and completes what the CLI has. The options
# are read from each verb's --help here with grep, independently of the awk
# in tools/help/generate.sh that made the completion.
complete_words() {  # complete_words WORD... : what TAB offers for the last word
  bash --norc --noprofile -c '
    source "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    _imgroot
    printf "%s\n" "${COMPREPLY[@]}" | sort' bash "$completion" "$@"
}
completion=$root/usr/share/bash-completion/completions/imgroot
bash --norc --noprofile -c 'source "$1" && complete -p imgroot' bash "$completion" >/dev/null ||
  fail "the completion does not load"
got=$(complete_words imgroot st | paste -sd ' ')
[[ $got == "stage status" ]] || fail "imgroot st<TAB> offers '$got', not 'stage status'"
got=$(complete_words imgroot '' | grep -v '^--' | sort)
[[ $got == "$(printf '%s\n' "${verbs[@]}" | sort)" ]] || fail "the verbs completed are $got"
for verb in "${verbs[@]}"; do
  want=$("$imgroot" "$verb" --help | sed -n '/^Options:/,$p' | grep -E '^  -' |
    sed -E 's/^ +//; s/ {2,}.*//; s/ \(=[^)]*\)//' | grep -oE -- '--?[a-z][a-z-]*' | sort -u) ||
    fail "imgroot $verb --help has no Options: section listing its options"
  got=$(complete_words imgroot "$verb" - | sort -u)
  [[ $got == "$want" ]] || fail "imgroot $verb -<TAB> offers $(paste -sd ' ' <<<"$got"), --help says $(paste -sd ' ' <<<"$want")"
done
got=$(complete_words imgroot provision --fs '' | paste -sd ' ')
[[ $got == "btrfs ext4 xfs" ]] || fail "provision --fs <TAB> offers '$got'"
mkdir "$root/dir-a" && touch "$root/dir-file"
got=$(complete_words imgroot status --hostpart "$root/dir-" | paste -sd ' ')
[[ $got == "$root/dir-a" ]] || fail "status --hostpart <TAB> offers '$got', not the directory only"
got=$(complete_words imgroot stage "$root/dir-" | paste -sd ' ')
[[ $got == "$root/dir-a $root/dir-file" ]] || fail "stage IMAGE<TAB> offers '$got', not files"
if command -v shellcheck >/dev/null; then
  shellcheck -s bash "$completion" || fail "the completion is not shellcheck-clean"
fi

if ((failures)); then
  echo "package.deb: $failures failures in $deb" >&2
  exit 1
fi
echo "package.deb: $deb holds what it should"

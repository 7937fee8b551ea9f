#!/bin/bash
# Make the imgroot man page and bash completion from the built CLI's own
# --help, so that neither can list a verb or an option the CLI does not have
# (docs/packaging.md). Run by the build (tools/CMakeLists.txt):
#
#   generate.sh man IMGROOT OUT.8.gz          help2man page, every verb's --help in VERBS
#   generate.sh completion IMGROOT OUT        completion.bash with the verbs' options
#
# HELP2MAN names help2man (default: the one on PATH).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

usage() {
  echo "usage: $0 man|completion IMGROOT OUTPUT" >&2
  exit 2
}

# The verbs, in the order 'imgroot --help' lists them.
verbs() {
  "$imgroot" --help | awk '/^Verbs:/ { on = 1; next } on && /^$/ { exit } on { print $1 }'
}

# 'imgroot VERB --help' as roff: the synopsis, the description, the options.
verb_roff() {
  printf '.SS "imgroot %s"\n' "$1"
  "$imgroot" "$1" --help | awk '
    function esc(s) {
      gsub(/\\/, "\\e", s)
      gsub(/-/, "\\-", s)
      if (s ~ /^[.\047]/) s = "\\&" s
      return s
    }
    { sub(/ +$/, "") }
    # The synopsis: the "Usage:" line and its continuations, as they are.
    NR == 1 { sub(/^Usage: /, ""); print ".nf"; print esc($0); part = "usage"; next }
    part == "usage" && /^ / { sub(/^ +/, "        "); print esc($0); next }
    part == "usage" { print ".fi"; part = "text"; print ".PP"; next }
    /^Options:$/ { part = "options"; print "Options:"; next }  # after a blank line
    part == "text" && /^$/ { print ".PP"; next }
    part == "text" && /^ / { print ".RS"; print ".nf"; print esc($0); print ".fi"; print ".RE"; next }
    part == "text" { print esc($0); next }
    # An option: "  -o [ --output ] FILE   what it does", continued below.
    part == "options" && /^  -/ {
      spec = $0; sub(/^ +/, "", spec); text = spec
      sub(/  .*/, "", spec); sub(/^[^ ]*( [^ ]+)*  +/, "", text)
      if (text == spec) text = ""
      print ".TP"; print "\\fB" esc(spec) "\\fR"; if (text != "") print esc(text)
      next
    }
    part == "options" && /^   / { sub(/^ +/, ""); print esc($0) }
  '
}

make_man() {
  local include=$tmp/include
  {
    echo '[VERBS]'
    local verb
    for verb in $(verbs); do verb_roff "$verb"; done
    cat <<'EOF'
[FILES]
.TP
\fI/etc/imgroot/grub.conf\fR
settings of \fBimgroot grub\fR (timeout, cmdline)
.TP
\fI/etc/imgroot/check.d/\fR
health checks run by imgroot\-mark\-good.service before \fBimgroot mark\-good\fR
.TP
\fI/etc/grub.d/09_imgroot\fR
the imgroot entries in grub\-mkconfig's grub.cfg
.TP
\fI/usr/lib/imgroot/imgroot\-init\fR
PID 1 of the standalone initramfs, and the dracut module's helper
[SEE ALSO]
The documentation in \fI/usr/share/doc/imgroot/\fR: README.md, docs/cli.md
(this command), docs/boot.md, docs/grub.md, docs/dracut.md, docs/packaging.md.
EOF
  } >"$include"
  "${HELP2MAN:-help2man}" --no-info --section 8 \
    --name 'boot manager for servers whose root filesystem is an image file' \
    --include "$include" "$imgroot" | gzip -9n >"$out.tmp"
  mv "$out.tmp" "$out"
}

# One verb's completion data, as lines for the two arrays of the completion:
# "O [VERB]='OPTIONS'" and "V [VERB:OPTION]='KIND'" for each option taking a
# value, where KIND comes from the value's name: DIR a directory; FILE, PATH,
# IMAGE... a file; "a|b" (there or in the synopsis) one of the words; else
# nothing. "V [VERB:]" is the operands' kind (words in capitals in the
# synopsis that are no option's value: IMAGE, DISK).
verb_completion() {
  "$imgroot" "$1" --help | awk -v verb="$1" -v q="'" '
    function kind(name, option) {
      if (name ~ /\|/) { gsub(/\|/, " ", name); return name }
      if (option in choices) return choices[option]
      if (name == "DIR") return "@dir"
      if (name ~ /^(FILE|PATH|IMAGE|DISK|A|B|SRC:DST)$/) return "@file"
      return "@none"
    }
    NR == 1 { part = "usage" }
    part == "usage" && /^$/ { part = "text" }
    part == "usage" {
      for (i = 1; i <= NF; i++) {
        this = $i; next_word = $(i + 1); gsub(/[][]|\.\.\./, "", this); gsub(/[][]/, "", next_word)
        if (this ~ /^--/ && next_word ~ /^[a-z0-9]+(\|[a-z0-9]+)+$/) {
          choices[this] = next_word; gsub(/\|/, " ", choices[this])
        }
        # A value sits in the brackets of its option: "[--init PATH] IMAGE".
        if (this ~ /^[A-Z][A-Z:]*$/ && ($(i - 1) ~ /\]$/ || $(i - 1) !~ /^\[?-/) && $(i - 1) != "Usage:")
          operands = "@file"
      }
      next
    }
    /^Options:$/ { part = "options"; next }
    part == "options" && /^  -/ {
      spec = $0; sub(/^ +/, "", spec); sub(/  .*/, "", spec); sub(/ \(=.*/, "", spec)
      gsub(/[][]/, "", spec); n = split(spec, word, / +/)
      value = word[n] ~ /^-/ ? "" : word[n]
      for (i = 1; i <= n; i++) {
        if (word[i] !~ /^-/) continue
        names = names " " word[i]
        if (value != "") print "V [" verb ":" word[i] "]=" q kind(value, word[i]) q
      }
    }
    END {
      print "O [" verb "]=" q substr(names, 2) q
      if (operands != "") print "V [" verb ":]=" q operands q
    }
  '
}

make_completion() {
  local verb data=$tmp/completion
  for verb in $(verbs); do verb_completion "$verb" >>"$data"; done
  {
    echo '# bash completion for imgroot. Generated from imgroot --help by'
    echo '# tools/help/generate.sh; the logic is tools/help/completion.bash.'
    echo "_imgroot_verbs='$(verbs | paste -sd ' ')'"
    echo '# The options of each verb.'
    echo 'declare -gA _imgroot_options=('
    sed -n 's/^O /  /p' "$data"
    echo ')'
    echo '# What an option with a value takes ([VERB:] the operands): @dir, @file,'
    echo '# @none, or the words to choose from.'
    echo 'declare -gA _imgroot_values=('
    sed -n 's/^V /  /p' "$data"
    echo ')'
    cat "$here/completion.bash"
  } >"$out.tmp"
  mv "$out.tmp" "$out"
}

(($# == 3)) || usage
mode=$1 imgroot=$2 out=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case $mode in
  man) make_man ;;
  completion) make_completion ;;
  *) usage ;;
esac

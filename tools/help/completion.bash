# shellcheck shell=bash
# The logic of imgroot's bash completion. generate.sh puts the data from the
# CLI's --help in front of it: $_imgroot_verbs, _imgroot_options[VERB] and
# _imgroot_values[VERB:OPTION] (VERB: alone for the operands).
# Needs nothing from the bash-completion package.
# shellcheck disable=SC2154

# Complete $2 as what $1 says: @dir, @file, @none, or a list of words.
_imgroot_complete_as() {
  case $1 in
    @none) COMPREPLY=() ;;
    @dir)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -d -- "$2")
      ;;
    @file)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$2")
      ;;
    *) mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2") ;;
  esac
}

_imgroot() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local verb=${COMP_WORDS[1]-} i
  COMPREPLY=()
  if ((COMP_CWORD == 1)); then
    mapfile -t COMPREPLY < <(compgen -W "$_imgroot_verbs --help --version" -- "$cur")
    return 0
  fi
  [[ -n ${_imgroot_options[$verb]-} ]] || return 0
  # After "--" the words are a command's (imgroot try IMAGE -- CMD): files.
  for ((i = 2; i < COMP_CWORD; i++)); do
    if [[ ${COMP_WORDS[i]} == -- ]]; then
      _imgroot_complete_as @file "$cur"
      return 0
    fi
  done
  if [[ -n ${_imgroot_values[$verb:$prev]-} ]]; then
    _imgroot_complete_as "${_imgroot_values[$verb:$prev]}" "$cur"
  elif [[ $cur == -* ]]; then
    _imgroot_complete_as "${_imgroot_options[$verb]}" "$cur"
  else
    _imgroot_complete_as "${_imgroot_values[$verb:]-@none}" "$cur"
  fi
}

complete -F _imgroot imgroot

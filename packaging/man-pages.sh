#!/usr/bin/env bash
# SPDX-License-Identifier: MPL-2.0
# Writes the man pages of bondcast from its own --help, gzipped as Debian wants them:
# bondcast.1.gz (the subcommand list) and one bondcast-SUB.1.gz per subcommand that
# `bondcast --help` lists (help2man reads one --help at a time, so each subcommand gets
# its own page). Each page's SEE ALSO names the others.
#
# Usage: packaging/man-pages.sh BONDCAST OUT_DIR VERSION [HELP2MAN]
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 BONDCAST OUT_DIR VERSION [HELP2MAN]" >&2; exit 2; }
bondcast=$1 out=$2 version=$3 help2man=${4:-help2man}

root_help=$("$bondcast" --help)
# "bondcast: what it does" on the first line.
root_name=$(head -n 1 <<<"$root_help" | sed -n 's/^bondcast: //p')
# The lines under "Subcommands:": "  NAME   Description."
subcommands=$(sed -n '/^Subcommands:/,/^$/{/^  [a-z]/p}' <<<"$root_help")
[ -n "$root_name" ] && [ -n "$subcommands" ] ||
  { echo "man-pages.sh: unexpected '$bondcast --help' output" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

names=(bondcast)
while read -r sub _; do
  names+=("bondcast-$sub")
done <<<"$subcommands"

# help2man's --include file: the SEE ALSO section of page $1.
see_also() {
  local list=() n
  for n in "${names[@]}"; do
    [ "$n" = "$1" ] || list+=("\\fB${n//-/\\-}\\fR(1)")
  done
  printf '[SEE ALSO]\n'
  (IFS=,; printf '%s\n' "${list[*]}" | sed 's/,/, /g')
  printf '\nREADME and examples: /usr/share/doc/bondcast\n'
}

# page NAME DESCRIPTION HELP_OPTION
page() {
  see_also "$1" >"$work/$1.h2m"
  "$help2man" --no-info --section=1 --version-string="bondcast $version" --name="$2" \
    --help-option="$3" --include="$work/$1.h2m" --output="$work/$1.1" "$bondcast"
  # help2man titles every page after the executable; a subcommand's page is its own.
  if [ "$1" != bondcast ]; then
    local upper
    upper=$(tr '[:lower:]' '[:upper:]' <<<"$1")
    sed -i -e "s/^\\.TH BONDCAST /.TH ${upper//-/\\\\-} /" \
      -e "/^\\.SH NAME/{n;s/^bondcast /${1//-/\\\\-} /}" "$work/$1.1"
  fi
  gzip -9n "$work/$1.1"
}

page bondcast "$root_name" --help
while read -r sub description; do
  # The first sentence, lower-cased, as whatis(1) shows it.
  description=$(sed -e 's/\. .*//; s/\.$//' <<<"$description")
  page "bondcast-$sub" "${description,}" "$sub --help"
done <<<"$subcommands"

mkdir -p "$out"
rm -f "$out"/*.1.gz
mv "$work"/*.1.gz "$out"/

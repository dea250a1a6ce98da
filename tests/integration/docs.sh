#!/bin/bash
# The man pages against the program: every setting of imi.conf(5) is in the
# settings table and every table entry is documented in its group; every
# command of `imi --help` has its section in imi(8).
set -u
cd "$IMI_SRC"
fail=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }

table=$("$IMI" --home /nonexistent-home config | grep '^\[')
group=""
declare -A documented=()
while IFS= read -r line; do
	case "$line" in
	'.SH "['*) group=${line#.SH \"[}; group=${group%%]*} ;;
	'.B '*) [ -n "$group" ] && documented["$group/${line#.B }"]=1 ;;
	esac
done < docs/imi.conf.5
n=0
while IFS= read -r line; do
	g=${line#[}; g=${g%%]*}
	k=${line#*] }; k=${k%% *}
	n=$((n + 1))
	if [ -z "${documented[$g/$k]:-}" ]; then
		bad "imi.conf.5 does not document [$g] $k"
	fi
	unset "documented[$g/$k]"
done <<< "$table"
for extra in "${!documented[@]}"; do
	bad "imi.conf.5 documents $extra, which imi does not know"
done
[ "$fail" = 0 ] && ok "imi.conf.5 documents all $n settings, and no others"

cmds=$("$IMI" --help | sed -n 's/^  \([a-z-]*\)  .*/\1/p')
m=0
for c in $cmds; do
	m=$((m + 1))
	grep -qE "^\.SS \"?$c( |\"|$)" docs/imi.8 || bad "imi.8 has no section for '$c'"
	"$IMI" "$c" --help >/dev/null 2>&1 || bad "imi $c --help fails"
done
[ "$fail" = 0 ] && ok "imi.8 has a section for each of the $m commands, and each has --help"
exit $fail

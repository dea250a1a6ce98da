#!/bin/bash
# imi parse trim as a command: files and standard input, both modes, exit
# codes, and no store needed (nothing is created in the home directory).
set -u
IMI_SRC=${IMI_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
IMI=${IMI:-$IMI_SRC/build/imi}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export IMI_HOME=$tmp/home-never-created
failed=0

check() { # name got want
	if [ "$2" == "$3" ]; then
		echo "ok - parse trim: $1"
	else
		echo "not ok - parse trim: $1: got '$2', want '$3'"
		failed=1
	fi
}

printf 'From: Jan <jan@example.org>\nTo: imi@example.eu\nSubject: Re: Request\nMessage-ID: <x@example.org>\nContent-Type: text/plain; charset=utf-8\n\nJa, bestätigt.\n\nMit freundlichen Grüßen\nJan\n\nAm 24.11.2026 um 10:02 schrieb IMI <imi@example.eu>:\n> Frage 1\n' >"$tmp/reply.eml"

check "message, full" "$("$IMI" parse trim "$tmp/reply.eml")" "Ja, bestätigt."
check "message, quotes only" "$("$IMI" parse trim --quotes-only "$tmp/reply.eml")" \
	"$(printf 'Ja, bestätigt.\n\nMit freundlichen Grüßen\nJan')"
check "bare body on standard input" "$(printf 'Yes\n\nSent from my iPhone\n' | "$IMI" parse trim -)" "Yes"
check "html body on standard input" \
	"$(printf '<div>Oui.</div><blockquote type="cite">Question</blockquote>' | "$IMI" parse trim -)" "Oui."
"$IMI" parse trim "$tmp/no-such-file" >/dev/null 2>&1
check "missing file exit code (EX_NOINPUT)" "$?" 66
"$IMI" parse trim >/dev/null 2>&1
check "no file exit code (EX_USAGE)" "$?" 64
"$IMI" parse frobnicate x >/dev/null 2>&1
check "unknown parse command (EX_USAGE)" "$?" 64
"$IMI" parse trim --help | grep -q -- --quotes-only
check "--help names --quotes-only" "$?" 0
check "no home directory created" "$([ -e "$IMI_HOME" ] && echo created || echo absent)" absent
exit $failed

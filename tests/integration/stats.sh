#!/bin/bash
# stats: `imi stats` counts a request sent this quarter under the area of its
# question set, in every format, and shows no personal data; alerts are not
# counted.
set -u
IMI=${IMI:?path of the imi binary}
export IMI_DATADIR=${IMI_DATADIR:-${IMI_SRC:?source top}}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-stats.XXXXXX")
failed=0
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=1; }
expect() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"; else
		not_ok "$1: wanted a line matching /$2/, got:"
		printf '%s\n' "$3" | sed 's/^/#   /' | head -n 30
	fi
}
refute() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then not_ok "$1: unwanted /$2/"; else ok "$1"; fi
}
H=$tmp/home
imi() { "$IMI" --home "$H" "$@"; }
CANARY=Canarystat5q1
imi init >/dev/null || { not_ok "imi init"; exit 1; }
imi authority add --id fr-a --country FR --language fr --name 'fr=A' --area professional-qualifications \
	--postbox imi@a.fr --domain a.fr --alerts >/dev/null &&
imi authority add --id de-b --country DE --language de --name 'de=B' --area professional-qualifications \
	--postbox imi@b.de --domain b.de --alerts --alert-postbox >/dev/null &&
imi user add --email s@a.fr --authority fr-a --role alert_sender,alert_coordinator >/dev/null ||
	{ not_ok "directory"; exit 1; }
imi request new --from-authority fr-a --to-authority de-b --qset pq-general \
	--subject "Dr. $CANARY" --deadline 2099-12-31 >/dev/null || not_ok "request new"
printf 'Q1: yes\nQ2: yes\nQ3: yes\nQ4: yes\nQ5: yes\nQ6: X\nQ8: DE\nQ9: y\nQ10: health\nQ11: z\nQ12: 2026-01-01\n' >"$tmp/form.txt"
imi alert new --from-authority fr-a --qset sd-alert --form "$tmp/form.txt" --user s@a.fr >/dev/null ||
	not_ok "alert new"
q=$(( ($(date -u +%-m) - 1) / 3 + 1 ))
out=$(imi stats --format csv)
line=$(printf '%s\n' "$out" | grep '^requests,"professional-qualifications"')
expect "one request in this quarter under its set's area" "^requests,\"professional-qualifications\",$(for i in 1 2 3 4; do [ $i -eq $q ] && printf '1,' || printf '0,'; done)1$" "$line"
refute "the alert is not counted" '^requests,"services"' "$out"
expect "time table has six bands" '^time,More than 8 weeks,0,' "$out"
refute "no personal data in the figures" "$CANARY" "$out$(imi stats)$(imi stats --format json)$(imi stats --format html)"
expect "text format" '^Within 3 days' "$(imi stats)"
expect "json format" '"area" : "professional-qualifications"' "$(imi stats --format json)"
expect "html format" '<caption>Requests sent per quarter' "$(imi stats --format html)"
expect "another year is empty" '^Total +0 +0' "$(imi stats --year 2001)"
out=$(imi stats --format xml 2>&1)
expect "an unknown format is refused" 'text, csv, json or html' "$out"
exit $failed

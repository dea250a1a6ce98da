#!/bin/bash
# Question sets and message catalogs (templates/): every localized string in
# all 24 EU languages, same placeholders in every catalog, sets well formed.
# Also proves the checker catches each kind of fault, on damaged copies.
set -u
src=${IMI_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
check="$src/tools/check-templates.py"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$(python3 "$check" "$src/templates" 2>&1)
rc=$?
summary=$(printf '%s\n' "$out" | tail -n 1)
if [ "$rc" = 0 ]; then
	echo "ok - templates: $summary"
else
	printf '%s\n' "$out" | sed 's/^/# /'
	echo "not ok - templates: $summary"
	fail=1
fi

# damage NAME EXPECTED SED-SCRIPT FILE: copy templates/, apply the sed script
# to one file, and require the checker to fail naming the expected problem.
damage() {
	local name=$1 expected=$2 script=$3 file=$4 d out rc
	d="$tmp/$name"
	cp -r "$src/templates" "$d"
	sed -i "$script" "$d/$file"
	out=$(python3 "$check" "$d" 2>&1)
	rc=$?
	if [ "$rc" != 0 ] && printf '%s\n' "$out" | grep -qF -- "$expected"; then
		echo "ok - templates checker: $name is reported"
	else
		printf '%s\n' "$out" | sed 's/^/# /'
		echo "not ok - templates checker: $name (exit $rc, wanted a problem containing '$expected')"
		fail=1
	fi
}

damage missing-language "Text lacks languages: mt" '/^Text\[mt\]=Il-professjonist huwa stabbilit/d' sets/pq-general.ini
damage missing-choice-label "Choice-suspended lacks languages: sv" '/^Choice-suspended\[sv\]=/d' sets/pq-general.ini
damage dangling-question "does not exist" 's/^Questions=Q1;/Questions=Q0;Q1;/' sets/sd-general.ini
damage alert-without-checks "needs check-list criteria" 's/^Type=check$/Type=yesno/' sets/sd-alert.ini
damage placeholder-mismatch "alert.rejected placeholders" 's/^\(alert.rejected=.*\)%{reason}/\1%{raison}/' catalogs/fr.ini
damage missing-message "message digest.closed missing" '/^digest.closed=/d' catalogs/lv.ini
damage yes-no-conflict "'nie' is yes" 's/^yes=igen;/yes=igen;nie;/' catalogs/hu.ini
damage instructions-without-codes "must show 'Q1:'" 's/Q1:/Q 1/g' catalogs/ga.ini
damage bad-utf8 "not valid UTF-8" 's/Dansk/D\xe6nsk/; s/dansk/d\xe6nsk/' catalogs/da.ini

exit $fail

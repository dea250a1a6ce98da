#!/bin/bash
# The directory as a new user would try it: init, register, search, export,
# and the clear errors with non-zero exit codes for bad input.
set -u
H=$(mktemp -d)
trap 'rm -rf "$H"' EXIT
fail=0
imi() { "$IMI" --home "$H" "$@"; }
expect() { # expect CODE NAME -- command...
	local want=$1 name=$2 got
	shift 3
	"$@" >"$H/out" 2>"$H/err"
	got=$?
	if [ "$got" = "$want" ]; then echo "ok - $name"
	else echo "not ok - $name: exit got $got want $want: $(cat "$H/err")"; fail=1; fi
}
contains() { # contains NAME FILE TEXT
	if grep -qF -- "$3" "$2"; then echo "ok - $1"
	else echo "not ok - $1: '$3' not in $(head -c 300 "$2")"; fail=1; fi
}

expect 66 "commands before init say to run init" -- imi authority list
contains "hint names imi init" "$H/err" "init"
expect 0 "init" -- imi init
expect 0 "init again changes nothing" -- imi init
[ "$(stat -c %a "$H/keys/master.key")" = 600 ] && echo "ok - master key is 0600" || { echo "not ok - master key mode"; fail=1; }
expect 0 "add a French authority" -- imi authority add --id fr-cnom --country fr --language fr \
	--name "fr=Conseil national de l'ordre des médecins" --name "en=French Medical Council" \
	--area professional-qualifications --postbox imi@cnom.fr
expect 0 "add a German authority" -- imi authority add --id de-aek --country DE --language de \
	--name "de=Bundesärztekammer" --area professional-qualifications,services \
	--postbox imi@baek.de --domain baek.de --alerts
expect 73 "duplicate id refused" -- imi authority add --id fr-cnom --country FR --name en=X \
	--area services --postbox a@cnom.fr
contains "duplicate id named" "$H/err" "already exists"
expect 65 "unknown country refused" -- imi authority add --id xx-a --country XX --name en=X \
	--area services --postbox a@x.eu
contains "unknown country explained" "$H/err" "unknown country code 'XX'"
expect 65 "malformed post-box refused" -- imi authority add --id fr-b --country FR --name en=X \
	--area services --postbox 'not an address'
expect 65 "unknown language refused" -- imi authority add --id fr-c --country FR --language xx \
	--name en=X --area services --postbox a@c.fr
expect 64 "missing id is a usage error" -- imi authority add --country FR
expect 0 "add a user" -- imi user add --email Jean.Dupont@CNOM.fr --authority fr-cnom --role handler,coordinator
expect 73 "same address twice refused" -- imi user add --email jean.dupont@cnom.fr --authority fr-cnom --role handler
expect 65 "malformed address refused" -- imi user add --email 'jean@@cnom' --authority fr-cnom --role handler
expect 65 "unknown role refused" -- imi user add --email x@cnom.fr --authority fr-cnom --role boss
expect 65 "address outside the authority's domains refused" -- imi user add --email x@gmail.com --authority fr-cnom --role handler
expect 66 "unknown authority" -- imi user add --email x@cnom.fr --authority nobody --role handler
expect 0 "user list" -- imi user list
contains "address stored normalized" "$H/out" "jean.dupont@cnom.fr	fr-cnom	handler,coordinator	active"
expect 0 "search without accents finds accented names" -- imi directory search arztekammer
contains "found the Bundesärztekammer" "$H/out" "de-aek"
expect 0 "search by country and area" -- imi directory search --country FR --area professional-qualifications
contains "found the French authority" "$H/out" "fr-cnom"
expect 1 "search with no match" -- imi directory search --country DE médecins
expect 0 "export json" -- imi directory export --format json
python3 -c "import json,sys; d=json.load(open('$H/out')); assert {a['id'] for a in d}=={'fr-cnom','de-aek'}, d" \
	&& echo "ok - json export holds both authorities" || { echo "not ok - json export"; fail=1; }
expect 0 "export csv" -- imi directory export --format csv
python3 -c "import csv; r=list(csv.DictReader(open('$H/out'))); assert r[1]['name']=='Conseil national de l\'ordre des médecins', r" \
	&& echo "ok - csv export parses, quoting intact" || { echo "not ok - csv export"; fail=1; }
expect 0 "export vcard" -- imi directory export --format vcard
[ "$(grep -c '^BEGIN:VCARD' "$H/out")" = 2 ] && echo "ok - two vCards" || { echo "not ok - vcard count"; fail=1; }
contains "vCard carries names per language" "$H/out" "ORG;LANGUAGE=fr:Conseil national de l'ordre des médecins"
expect 64 "export without a format" -- imi directory export
expect 0 "update grants alert access" -- imi authority update fr-cnom --alerts --spf-aligned
expect 0 "show" -- imi authority show fr-cnom
contains "show tells SPF alignment" "$H/out" "DKIM or aligned SPF"
expect 0 "disable" -- imi authority disable de-aek
expect 1 "disabled authority not in the directory" -- imi directory search arztekammer
expect 0 "audit" -- imi audit
contains "audit records the disable" "$H/out" "authority.disable	de-aek"
expect 0 "check" -- imi check
exit $fail

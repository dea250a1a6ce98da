#!/bin/bash
# make demo: plays the imi-mail scenario on the embedded default, in a fresh
# home directory (var/demo), and tells what happened.
set -eu
cd "$(dirname "$0")/.."
IMI=${IMI:-$PWD/build/imi}
HOME_DIR=${DEMO_HOME:-$PWD/var/demo}
export IMI_DATADIR=$PWD
DATA=tools/demo

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ imi %s\n' "$*"; "$IMI" --home "$HOME_DIR" "$@"; }

rm -rf "$HOME_DIR"
say "A fresh home directory: store, keys, inbox and outbox Maildirs"
run init

say "Registering authorities of four countries, and their users"
run authority add --id fr-cnom --country FR --language fr \
	--name "fr=Conseil national de l'ordre des médecins" --name "en=French National Medical Council" \
	--area professional-qualifications --postbox imi@cnom.example.fr --domain cnom.example.fr
run authority add --id de-aekno --country DE --language de \
	--name "de=Ärztekammer Nordrhein" --name "en=North Rhine Medical Association" \
	--area professional-qualifications --postbox imi@aekno.example.de --domain aekno.example.de --alerts
run authority add --id pl-nil --country PL --language pl \
	--name "pl=Naczelna Izba Lekarska" --name "en=Supreme Medical Chamber" \
	--area professional-qualifications,services --postbox imi@nil.example.pl --domain nil.example.pl --alerts --alert-postbox
run authority add --id el-dypa --country GR --language el \
	--name "el=Υπουργείο Υγείας" --name "en=Ministry of Health" \
	--area services --postbox imi@moh.example.gr --domain moh.example.gr --spf-aligned
run user add --email marie.martin@cnom.example.fr --authority fr-cnom --role handler --name "Marie Martin"
run user add --email k.schmidt@aekno.example.de --authority de-aekno --role handler,alert_sender --name "Klaus Schmidt"
run user add --email coordinator@nil.example.pl --authority pl-nil --role coordinator,alert_coordinator

say "Searching the directory as an authority would (any language, no accents needed)"
run directory search arztekammer
run directory search --country GR
run directory export --format vcard | head -n 12

say "Loading the question sets (24 languages each)"
for set in templates/sets/*.ini; do run qset load "$set"; done
run qset list

say "A reply from a quirky client: Outlook, German, top-posted above the quoted request"
cat "$DATA/outlook-reply.eml" | sed -n '1,12p'
echo "   [...]"
run parse trim "$DATA/outlook-reply.eml"
say "What imi reads in it, against the professional-qualifications question set"
run parse answers --qset pq-general "$DATA/outlook-reply.eml"

say "The audit trail"
run audit | tail -n 5
say "Where to look"
cat <<MSG
Home directory:   $HOME_DIR
  db/             the Berkeley DB environment (imi check verifies it)
  keys/           master and reply-token keys (0600)
  outbox/new/     e-mails imi sent, one file each
Try: imi --home $HOME_DIR directory search medical
     man -l docs/imi.8
MSG

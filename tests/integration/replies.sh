#!/bin/bash
# Replies to rendered requests, as real clients write them
# (tests/fixtures/replies, built by tools/make-reply-fixtures): each
# NAME.eml goes through `imi parse answers` and its answers must be those of
# NAME.expected.json.  One TAP line per fixture, naming the field, what came
# out and what was wanted.  Needs no store.
set -u
IMI_SRC=${IMI_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
IMI=${IMI:-$IMI_SRC/build/imi}
dir=$IMI_SRC/tests/fixtures/replies
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export IMI_DATADIR=$IMI_SRC
if [ ! -x "$IMI" ]; then
	echo "not ok - replies: no imi binary at $IMI"
	exit 1
fi
fails=0
n=0

# imi qset render, where every fixture starts.
req=$("$IMI" --home "$home" qset render pq-general --lang cs --case IMI-2026-000001 \
	--to registr@komora.example.cz --reply-to imi+tok@imi.example.eu 2>&1)
if [ $? = 0 ] && echo "$req" | grep -q '^Subject: .*IMI-2026-000001' &&
	echo "$req" | grep -q '^Content-Type: multipart/alternative' &&
	echo "$req" | grep -q '^Reply-To: imi+tok@imi.example.eu'; then
	echo "ok - replies: qset render prints the request"
else
	echo "not ok - replies: qset render: $req"
	fails=$((fails + 1))
fi
"$IMI" --home "$home" qset render pq-general --lang cs --to a@b.example >/dev/null 2>&1
rc=$?
[ $rc = 64 ] && echo "ok - replies: qset render without --case is a usage error" ||
	{ echo "not ok - replies: qset render without --case exit $rc want 64"; fails=$((fails + 1)); }
for exp in "$dir"/*.expected.json; do
	name=$(basename "$exp" .expected.json)
	eml=$dir/$name.eml
	n=$((n + 1))
	read -r qset lang < <(python3 -c 'import json,sys; e=json.load(open(sys.argv[1])); print(e["qset"], e["lang"])' "$exp")
	if ! out=$("$IMI" --home "$home" parse answers --qset "$qset" --lang "$lang" "$eml" 2>&1); then
		echo "not ok - replies $name: imi parse answers failed: $out"
		fails=$((fails + 1))
		continue
	fi
	python3 - "$name" "$exp" "$out" <<'PY' || fails=$((fails + 1))
import json, sys
name, exp_path, out = sys.argv[1], sys.argv[2], sys.argv[3]
want = json.load(open(exp_path, encoding="utf-8"))
got = json.loads(out)

def norm(v):
    return " ".join(v.split()) if isinstance(v, str) else v

bad = []
answers = {a["code"]: a for a in got["answers"]}
for code, value in want["answers"].items():
    a = answers.get(code)
    g = None if a is None else a["value"]
    if norm(g) != norm(value):
        bad.append("%s got %s want %s" % (code, json.dumps(g, ensure_ascii=False),
                                          json.dumps(value, ensure_ascii=False)))
for code in answers:
    if code not in want["answers"]:
        bad.append("%s got %s want no answer" % (
            code, json.dumps(answers[code]["raw"], ensure_ascii=False)))
if sorted(got["missing"]) != sorted(want["missing"]):
    bad.append("missing got %s want %s" % (got["missing"], want["missing"]))
if got.get("attachments") != want["attachments"]:
    bad.append("attachments got %s want %s" % (got.get("attachments"), want["attachments"]))
if bad:
    print("not ok - replies %s: %s" % (name, "; ".join(bad)))
    sys.exit(1)
print("ok - replies %s" % name)
PY
done
if [ "$n" = 0 ]; then
	echo "not ok - replies: no fixtures in $dir"
	exit 1
fi
echo "# replies: $((n - fails))/$n fixtures read right"
exit $((fails > 0))

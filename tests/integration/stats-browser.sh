#!/bin/bash
# stats-browser: a headless Chromium opens the HTML report of `imi stats` and
# renders its charts.
#
# The store gets a known distribution through the real paths: three
# requests of a professional-qualifications set and one of a services set,
# two of them accepted by DKIM-signed replies (`imi deliver`), so within
# three days.  The report must then draw, as inline SVG (no script), a bar
# per area of 360 and 120 pixels (3 : 1), six "accepted" bars of 360 pixels
# (100 % cumulative from the first band on) and six empty "answered" bars.
# Chromium checks it twice: the DOM it built (--dump-dom: both tables, both
# charts, each bar with its width and figure) and the pixels it painted
# (--screenshot, decoded by pngbars.py with the standard library: rows of
# each bar colour, with the bar lengths above, 16 rows per bar).
# Skipped only when no chromium is installed (tools/deps.sh check installs
# it).
set -u
IMI=${IMI:?path of the imi binary}
export IMI_DATADIR=${IMI_DATADIR:-${IMI_SRC:?source top}}

browser=""
for b in chromium chromium-browser google-chrome; do
	command -v "$b" >/dev/null 2>&1 && { browser=$b; break; }
done
if [ -z "$browser" ]; then
	echo "ok # skip stats-browser: no chromium installed (tools/deps.sh check installs it)"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-stats-browser.XXXXXX")
failed=0
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=1; }
expect() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"; else
		not_ok "$1: wanted a line matching /$2/, got:"
		printf '%s\n' "$3" | sed 's/^/#   /' | head -n 20
	fi
}
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		not_ok "$1"
		echo "#   got:    $(printf '%s' "$2" | tr '\n' ' ')"
		echo "#   wanted: $(printf '%s' "$3" | tr '\n' ' ')"
	fi
}
command -v openssl >/dev/null || { not_ok "openssl is not installed"; exit 1; }
command -v python3 >/dev/null || { not_ok "python3 is not installed"; exit 1; }

H=$tmp/home
imi() { "$IMI" --home "$H" "$@"; }
sent() { imi send >/dev/null && python3 "$IMI_SRC/tests/integration/maildir.py" list "$H/outbox"; }
header() { python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m[sys.argv[2]] or "")' "$1" "$2"; }

imi init >/dev/null || { not_ok "imi init"; exit 1; }
cd "$tmp" || exit 1
openssl genrsa -traditional -out dkim.pem 2048 2>/dev/null
pub=$(openssl rsa -in dkim.pem -pubout -outform DER 2>/dev/null | base64 -w0)
echo "s1._domainkey.b.de v=DKIM1; k=rsa; p=$pub" >keys.txt
export IMI_DKIM_KEYFILE=$tmp/keys.txt
imi authority add --id fr-a --country FR --language fr --name 'fr=A' \
	--area professional-qualifications --area services --postbox imi@a.fr --domain a.fr >/dev/null &&
imi authority add --id de-b --country DE --language de --name 'de=B' \
	--area professional-qualifications --area services --postbox imi@b.de --domain b.de >/dev/null &&
imi user add --email h@b.de --authority de-b --role handler >/dev/null ||
	{ not_ok "directory"; exit 1; }

# ---- the distribution: 3 + 1 requests, 2 accepted at once ----
for s in pq-general pq-general pq-general sd-general; do
	imi request new --from-authority fr-a --to-authority de-b --qset "$s" \
		--subject "Dossier" --deadline 2099-12-31 >/dev/null || not_ok "request new $s"
done
n=0
for p in $(sent | awk -F'\t' '$2 == "imi@b.de" && $3 ~ /\.request@/ {print $1}' | head -n 2); do
	n=$((n + 1))
	reply=$(header "$p" Reply-To)
	{
		echo "From: h@b.de"
		echo "To: $reply"
		echo "Subject: ACCEPT"
		echo "Message-ID: <acc$n.$RANDOM@b.de>"
		echo "Date: $(date -R)"
		echo "MIME-Version: 1.0"
		echo "Content-Type: text/plain; charset=utf-8"
		echo
		echo "ACCEPT"
	} >"raw$n.eml"
	imi auth sign --selector s1 --domain b.de --key dkim.pem "raw$n.eml" >"msg$n.eml"
	expect "request $n is accepted" '^applied' "$(imi deliver --report --recipient "$reply" <"msg$n.eml")"
done
imi stats --format html >report.html || not_ok "imi stats --format html"
refute_script=$(grep -ci '<script' report.html)
same "the report has no script" "$refute_script" "0"

# ---- the DOM Chromium built ----
flags="--headless=new --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1
--force-color-profile=srgb --window-size=700,1300 --no-first-run --disable-extensions"
start=$(date +%s%N)
# shellcheck disable=SC2086
timeout 60 "$browser" $flags --dump-dom "file://$tmp/report.html" >dom.html 2>browser.log
# shellcheck disable=SC2086
timeout 60 "$browser" $flags --screenshot="$tmp/report.png" "file://$tmp/report.html" >>browser.log 2>&1
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 10000 ] && ok "both browser runs took ${ms} ms (< 10 s)" ||
	not_ok "both browser runs took ${ms} ms (wanted < 10 s)"
if [ ! -s dom.html ] || [ ! -s report.png ]; then
	not_ok "chromium rendered nothing; its log:"
	sed 's/^/#   /' browser.log | tail -n 20
	exit 1
fi
dom=$(python3 - dom.html <<'EOF'
import sys
from html.parser import HTMLParser

class Bars(HTMLParser):
    def __init__(self):
        super().__init__()
        self.out, self.svg = [], None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "caption":
            self.out.append("caption")
        elif tag == "table":
            self.out.append("table")
        elif tag == "svg":
            self.svg = a.get("id")
            self.out.append("svg %s" % self.svg)
        elif tag == "rect" and "bar" in a.get("class", "").split():
            self.out.append("bar %s %s width=%s value=%s" % (self.svg, a["class"].split()[1],
                                                             a.get("width"), a.get("data-value")))
p = Bars()
p.feed(open(sys.argv[1], encoding="utf-8").read())
print("\n".join(p.out))
EOF
)
same "the DOM has both tables and both charts, each bar with its size" "$dom" "table
caption
svg chart-areas
bar chart-areas area width=360 value=3
bar chart-areas area width=120 value=1
table
caption
svg chart-time
bar chart-time accepted width=360 value=100.0%
bar chart-time answered width=0 value=0.0%
bar chart-time accepted width=360 value=100.0%
bar chart-time answered width=0 value=0.0%
bar chart-time accepted width=360 value=100.0%
bar chart-time answered width=0 value=0.0%
bar chart-time accepted width=360 value=100.0%
bar chart-time answered width=0 value=0.0%
bar chart-time accepted width=360 value=100.0%
bar chart-time answered width=0 value=0.0%
bar chart-time accepted width=360 value=100.0%
bar chart-time answered width=0 value=0.0%"
expect "the DOM keeps the area names" '>professional-qualifications<' "$dom$(cat dom.html)"

# ---- the pixels Chromium painted ----
# Rows of each bar colour and their pixel counts, summarized as
# "COUNT x ROWS" per distinct count; rows of fewer than 30 pixels (text,
# the legend's squares) are no bar.
python3 "$IMI_SRC/tests/integration/pngbars.py" report.png 1f5fa8 2e8b57 c0392b >pixels.txt ||
	not_ok "decoding the screenshot"
rows() { awk -v c="$1" '$1 == c && $3 >= 30 {n[$3]++} END {for (k in n) print k " x " n[k]}' pixels.txt | sort -n; }
same "the area chart paints a 120 and a 360 pixel bar, 16 rows each" "$(rows 1f5fa8)" "120 x 16
360 x 16"
same "the time chart paints six 360 pixel accepted bars" "$(rows 2e8b57)" "360 x 96"
same "the time chart paints no answered bar (nothing answered)" "$(rows c0392b)" ""
# The same check can fail: the answered colour is on the screen (in the
# legend), only in rows too short to be a bar.
expect "the legend shows the answered colour" '^c0392b [0-9]+ [0-9]+$' "$(cat pixels.txt)"
exit $failed

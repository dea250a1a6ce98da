#!/bin/bash
# Reply trimming against the peers (docs/performance.md, "Reply trimming
# against the peers"): `imi parse trim`'s work (bench/parse_bench trim:
# parsed_message_read then reply_trim_message, in one process) against
# discourse's email_reply_trimmer (EmailReplyTrimmer.trim) and github's
# email_reply_parser (EmailReplyParser.parse_reply), each in one Ruby
# process (bench/peers/trim_peer.rb), over the same files: the reply corpus
# (/work/shared/corpora/replies).  A round times imi, discourse, github
# (the next round github, discourse, imi), PEERS_SECONDS (default 3) each;
# the ratios imi/discourse and imi/github of messages per second are taken
# within each round, and the median of PEERS_ROUNDS (default 3) rounds is
# reported.  Then the corpus's pathological inputs (github's email_long_quote,
# 767 KB, and pathological, a ReDoS-style input), each timed on its own
# with each of the three.
#
# The peers' code is not part of this project: PEERS_DIR (default
# /tmp/peers) must hold email_reply_trimmer/ and email_reply_parser/ (their
# repositories' trees); without them, or without ruby, the peer rows are
# skipped with a message saying so.  Prints Markdown on stdout.
set -eu
IMI_SRC=${IMI_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
cd "$IMI_SRC"
make --no-print-directory "$BUILD/bench/parse_bench" >/dev/null
bench=$IMI_SRC/$BUILD/bench/parse_bench
secs=${PEERS_SECONDS:-3}
rounds=${PEERS_ROUNDS:-3}
peers=${PEERS_DIR:-/tmp/peers}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-peers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

corpus=$IMI_SRC/../shared/corpora/replies
[ -d "$corpus" ] || corpus=/work/shared/corpora/replies
if [ ! -d "$corpus" ]; then
	echo "skipped: no reply corpus at \$IMI_SRC/../shared/corpora/replies or /work/shared/corpora/replies"
	exit 0
fi
find "$corpus" -type f \( -name 'input.eml' -o -name 'input.txt' -o -name 'input.html' \) |
	sort >"$tmp/corpus.list"
grep -E '/(email_long_quote|pathological)/' "$tmp/corpus.list" >"$tmp/patho.list" || true

have_peers=1
why=""
if ! command -v ruby >/dev/null; then
	have_peers=0
	why="ruby is not installed (apt-get install ruby)"
elif [ ! -f "$peers/email_reply_trimmer/lib/email_reply_trimmer.rb" ] ||
	[ ! -f "$peers/email_reply_parser/lib/email_reply_parser.rb" ]; then
	have_peers=0
	why="the peers' code is not in PEERS_DIR=$peers (see docs/performance.md: email_reply_trimmer/ and email_reply_parser/)"
fi

# rate SIDE: messages per second of one timed run over the corpus.
rate() {
	case $1 in
	imi) "$bench" trim "$secs" "@$tmp/corpus.list" ;;
	*) ruby "$IMI_SRC/bench/peers/trim_peer.rb" "$1" "$peers" "$secs" "$tmp/corpus.list" ;;
	esac | sed -n 's/.* \([0-9][0-9]*\) msgs\/s.*/\1/p'
}
sides="imi"
[ "$have_peers" = 1 ] && sides="imi discourse github"
reverse=$(echo "$sides" | tr ' ' '\n' | tac | tr '\n' ' ')
for ((r = 0; r < rounds; r++)); do
	if [ $((r % 2)) = 0 ]; then order=$sides; else order=$reverse; fi
	for s in $order; do
		echo "$r $s $(rate "$s")" >>"$tmp/rates"
	done
done
get() { awk -v r="$1" -v s="$2" '$1 == r && $2 == s {print $3}' "$tmp/rates"; }
median() { sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "-"}'; }
all() { for ((r = 0; r < rounds; r++)); do get $r "$1"; done; }
ratio() {
	for ((r = 0; r < rounds; r++)); do
		awk -v a="$(get $r imi)" -v b="$(get $r "$1")" 'BEGIN {if (a > 0 && b > 0) printf "%.1f\n", a / b}'
	done | median
}

echo "$(wc -l <"$tmp/corpus.list") messages of the reply corpus ($corpus), ${secs} s a side, $rounds rounds (imi, discourse, github, then the reverse); each side in one process, the messages in memory."
echo
echo "| trimmer | messages/s (median) | each round | imi's ratio (per round, median) | target |"
echo "|---|---:|---|---:|---|"
echo "| imi (\`parse_bench trim\`: parse, then trim) | $(all imi | median) | $(all imi | tr '\n' ' ')| - | |"
if [ "$have_peers" = 1 ]; then
	echo "| discourse email_reply_trimmer (Ruby $(ruby -e 'print RUBY_VERSION')) | $(all discourse | median) | $(all discourse | tr '\n' ' ')| $(ratio discourse)x | ≥ 50x |"
	echo "| github email_reply_parser (Ruby $(ruby -e 'print RUBY_VERSION')) | $(all github | median) | $(all github | tr '\n' ' ')| $(ratio github)x | ≥ 5x |"
else
	echo "| the peers | skipped: $why | | | |"
fi
echo
echo "Pathological inputs, each timed on its own (milliseconds a call; target for imi: none over 10 ms):"
echo
echo "| input | bytes | imi (ms) | discourse (ms) | github (ms) |"
echo "|---|---:|---:|---:|---:|"
while read -r f; do
	imi_ms=$("$bench" each 1 "$f" | awk 'NR == 1 {print $1}')
	d_ms=- g_ms=-
	if [ "$have_peers" = 1 ]; then
		d_ms=$(printf '%s\n' "$f" >"$tmp/one.list"; ruby "$IMI_SRC/bench/peers/trim_peer.rb" discourse "$peers" 1 "$tmp/one.list" --each | awk '{print $1}')
		g_ms=$(ruby "$IMI_SRC/bench/peers/trim_peer.rb" github "$peers" 1 "$tmp/one.list" --each | awk '{print $1}')
	fi
	echo "| $(basename "$(dirname "$f")") | $(wc -c <"$f") | $imi_ms | $d_ms | $g_ms |"
done <"$tmp/patho.list"
"$bench" each 5 "@$tmp/corpus.list" >"$tmp/each"
echo
over=$(awk '$1 != "slowest" && $1 + 0 > 10 {printf "%s%s (%s ms)", n++ ? ", " : "", $3, $1}' "$tmp/each" | sed "s|$corpus/||g")
echo "imi over every message of the corpus, each on its own: $(tail -1 "$tmp/each" | awk '{printf "slowest %s ms (%s)", $2, $4}' | sed "s|$corpus/||"); over 10 ms: ${over:-none}."
if [ -n "${BENCH_SUMMARY:-}" ]; then
	if [ "$have_peers" = 1 ]; then
		echo "(3) trimming ≥ 50x discourse's email_reply_trimmer|$(ratio discourse)x" >>"$BENCH_SUMMARY"
		echo "(3) trimming ≥ 5x github's email_reply_parser|$(ratio github)x" >>"$BENCH_SUMMARY"
	else
		echo "(3) trimming against the peers|skipped: $why" >>"$BENCH_SUMMARY"
	fi
	echo "(3) no pathological input over 10 ms (imi)|$(tail -1 "$tmp/each" | awk '{printf "slowest %s ms", $2}'); over 10 ms: ${over:-none}" >>"$BENCH_SUMMARY"
fi

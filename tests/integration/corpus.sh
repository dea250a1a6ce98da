#!/bin/bash
# The reply-trimming corpus: cases of three public reply parsers, run
# through `imi parse trim`; one TAP line per set (see corpus.py for the
# rules).  Needs no store.
set -u
IMI_SRC=${IMI_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
IMI=${IMI:-$IMI_SRC/build/imi}
corpus=$IMI_SRC/../shared/corpora/replies
[ -d "$corpus" ] || corpus=/work/shared/corpora/replies
if [ ! -d "$corpus" ]; then
	echo "ok - corpus # SKIP no corpus at \$IMI_SRC/../shared/corpora/replies or /work/shared/corpora/replies"
	exit 0
fi
if [ ! -x "$IMI" ]; then
	echo "not ok - corpus: no imi binary at $IMI"
	exit 1
fi
exec python3 "$IMI_SRC/tests/integration/corpus.py" "$corpus" "$IMI" "$IMI_SRC/tests/corpus-disputed.txt"

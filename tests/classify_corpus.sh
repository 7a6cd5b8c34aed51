#!/bin/sh
# classify_corpus - accuracy of "postdrip classify" on the corpus (tests/data/corpus) of
# real bounces, auto-replies and complaints, scored against its labels.
# Fails when a figure falls below its target:
#   kind >= 98% of messages; recipient, status, class >= 95% of rows;
#   reason >= 90% of rows.
# Skipped (77) when the corpus or python3 is not there.

: "${top_srcdir:=..}" "${top_builddir:=..}"
corpus="$top_srcdir/tests/data/corpus"
labels="$corpus/bounces/labels.tsv"
postdrip="$top_builddir/cli/postdrip"

if [ ! -f "$labels" ] || [ ! -f "$corpus/score.py" ]; then
	echo "classify_corpus: no corpus at $corpus; skipped"
	exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
	echo "classify_corpus: python3 not found; skipped"
	exit 77
fi

out=$(mktemp "${TMPDIR:-/tmp}/classify_corpus.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT

# The classifier is given the files by path; it never looks at the names.
(cd "$corpus/bounces" && find . -name '*.eml' | LC_ALL=C sort | sed 's|^\./||' |
	xargs "$postdrip" classify) > "$out"
rc=$?
if [ $rc -ne 0 ]; then
	echo "classify_corpus: postdrip classify exited with $rc"
	exit 1
fi

python3 "$corpus/score.py" "$labels" "$out" --top 10
python3 "$corpus/score.py" "$labels" "$out" --json | python3 -c '
import json, sys
got = json.load(sys.stdin)
want = {"kind": 0.98, "recipient": 0.95, "status": 0.95, "class": 0.95,
        "reason": 0.90}
bad = 0
for k, v in want.items():
    ok = got[k] >= v
    bad += not ok
    print("%-9s %6.2f%%  target %5.1f%%  %s" % (k, 100 * got[k], 100 * v,
          "ok" if ok else "BELOW TARGET"))
sys.exit(1 if bad else 0)
'

#!/bin/sh
# classify_lofo - how well the classifier generalises: leave-one-format-out.
#
# usage: classify_lofo.sh [CORPUS_DIR]
#
# For each format folder of the corpus (tests/data/corpus/bounces/FORMAT),
# its messages are classified with the vocabulary entries tagged with that
# format switched off (conf/bounce-reasons, second column), as if the
# vocabulary had been written without ever seeing that format. The rows of
# all folders are then scored together against the labels, beside the
# plain run (whole vocabulary). Also printed: how many right reasons of the
# plain run rest on an entry tagged for one format, and on an entry that
# decides rows of one format folder only.

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}" "${top_builddir:=$top_srcdir}"
# Absolute paths: the classifier runs from inside the corpus.
top_srcdir=$(cd "$top_srcdir" && pwd) && top_builddir=$(cd "$top_builddir" && pwd) || exit 1
corpus=${1:-"$top_srcdir/tests/data/corpus"}
corpus=$(cd "$corpus" && pwd) || exit 1
bounces="$corpus/bounces"
vocab="$top_srcdir/conf/bounce-reasons"
postdrip="$top_builddir/cli/postdrip"
[ -f "$bounces/labels.tsv" ] || { echo "no corpus at $corpus" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/classify_lofo.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

(cd "$bounces" && find . -name '*.eml' | LC_ALL=C sort | sed 's|^\./||') > "$tmp/files"
(cd "$bounces" && xargs "$postdrip" classify -r -R "$vocab" < "$tmp/files") > "$tmp/plain.tsv" || exit 1

: > "$tmp/lofo.tsv"
for fmt in $(cut -d/ -f1 "$tmp/files" | sort -u); do
	# Entries whose tags name this format are switched off; a comment
	# line keeps the line numbers of the others.
	awk -v f="$fmt" '/^[ \t]*#/ || NF < 3 { print; next }
		{ n = split($2, t, ","); off = 0
		  for (i = 1; i <= n; i++) if (t[i] == f) off = 1
		  if (off) print "# off"; else print }' "$vocab" > "$tmp/vocab"
	grep "^$fmt/" "$tmp/files" > "$tmp/ff"
	(cd "$bounces" && xargs "$postdrip" classify -r -R "$tmp/vocab" < "$tmp/ff") >> "$tmp/lofo.tsv" || exit 1
done

score() {
	python3 "$corpus/score.py" "$bounces/labels.tsv" "$1" --json
}
echo "corpus: $bounces ($(wc -l < "$tmp/files") messages)"
printf '%-10s %8s %10s %8s %8s %8s\n' run kind recipient status class reason
for run in plain lofo; do
	python3 -c '
import json, sys
j = json.loads(sys.argv[2])
print("%-10s %7.2f%% %9.2f%% %7.2f%% %7.2f%% %7.2f%%" % (sys.argv[1], 100 * j["kind"],
      100 * j["recipient"], 100 * j["status"], 100 * j["class"], 100 * j["reason"]))
' "$run" "$(score "$tmp/$run.tsv")"
done

# What the right answers of the plain run rest on.
python3 - "$bounces/labels.tsv" "$tmp/plain.tsv" "$vocab" <<'PY'
import sys, collections
labels, out, vocab = sys.argv[1:4]
want = collections.defaultdict(dict)
for line in open(labels, encoding="utf-8", errors="replace"):
    c = line.rstrip("\n").split("\t")
    if c[0] != "file":
        want[c[0]][c[2].lower()] = c[5]
tags = {}
for n, line in enumerate(open(vocab, encoding="utf-8", errors="replace"), 1):
    f = line.split()
    if len(f) >= 3 and not f[0].startswith("#"):
        tags[n] = f[1]
rows = [l.rstrip("\n").split("\t") for l in open(out, encoding="utf-8", errors="replace")]
used = collections.defaultdict(set)
for r in rows:
    if len(r) > 6 and r[6].startswith("bounce-reasons:"):
        used[r[6]].add(r[0].split("/")[0])
right = by = tagged = lonely = 0
for r in rows:
    if len(r) < 7 or want.get(r[0], {}).get(r[2]) != r[5]:
        continue
    right += 1
    kind = r[6].split(":")[0]
    by += kind == "bounce-reasons"
    if kind == "bounce-reasons":
        tagged += tags.get(int(r[6].split(":")[1]), "generic") != "generic"
        lonely += len(used[r[6]]) == 1
print("right reasons in the plain run: %d; decided by a phrase: %d, of which %d by an"
      " entry tagged for one format and %d by an entry that decides rows of one format"
      " folder only" % (right, by, tagged, lonely))
PY

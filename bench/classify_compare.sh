#!/bin/sh
# classify_compare - postdrip classify, Sisimai and flufl.bounce on the same
# corpus, in one run: messages per second and accuracy side by side.
#
# usage: classify_compare.sh [CORPUS_DIR]
#   CORPUS_DIR defaults to $top_srcdir/tests/data/corpus (score.py there,
#   the messages and labels.tsv in its bounces/ folder).
# Each tool classifies every file once, in one process; the time is the
# wall-clock time of that process, start-up included.

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}" "${top_builddir:=$top_srcdir}"
corpus=${1:-"$top_srcdir/tests/data/corpus"}
bounces="$corpus/bounces"
postdrip="$top_builddir/cli/postdrip"
[ -f "$bounces/labels.tsv" ] || { echo "no corpus at $corpus" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/classify_compare.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
(cd "$bounces" && find . -name '*.eml' | LC_ALL=C sort | sed 's|^\./||') > "$tmp/files"
nfiles=$(wc -l < "$tmp/files")

# now - seconds since the epoch, with nanoseconds
now() { date +%s.%N; }

# run NAME COMMAND... - time one tool writing its 6 columns to $tmp/NAME.tsv
run() {
	name=$1
	shift
	t0=$(now)
	(cd "$bounces" && "$@") > "$tmp/$name.tsv" 2> "$tmp/$name.err"
	rc=$?
	t1=$(now)
	echo "$t0 $t1" > "$tmp/$name.time"
	[ $rc -eq 0 ] || { echo "$name failed (exit $rc):" >&2; tail -3 "$tmp/$name.err" >&2; }
}

run postdrip sh -c "xargs '$postdrip' classify < '$tmp/files'"

if perl -MSisimai -e 1 2>/dev/null; then
	run sisimai perl "$corpus/sisimai-baseline.pl" .
else
	echo "Sisimai not installed (Debian: libsisimai-perl); skipped" >&2
fi

# flufl.bounce is a Debian python3 package; the first python3 that has it.
flufl_py=
for py in /usr/bin/python3 python3; do
	if "$py" -c 'import flufl.bounce' 2>/dev/null; then flufl_py=$py; break; fi
done
if [ -n "$flufl_py" ]; then
	cat > "$tmp/flufl_scan.py" <<'PY'
import sys, email
from email import policy
from flufl.bounce import all_failures
# flufl.bounce says which addresses failed, permanently or temporarily;
# it has no status or reason. One row per address, as score.py reads.
print("file\tkind\trecipient\tstatus\tclass\treason")
for path in open(sys.argv[1]).read().split():
    with open(path, "rb") as fh:
        msg = email.message_from_binary_file(fh)
    try:
        perm, temp = all_failures(msg)
    except Exception:
        perm, temp = set(), set()
    rows = [(a, "hard") for a in sorted(perm)] + \
           [(a, "soft") for a in sorted(temp) if a not in perm]
    if not rows:
        print("%s\tother\t\t\tnone\t" % path)
    for addr, cls in rows:
        if isinstance(addr, bytes):
            addr = addr.decode("utf-8", "replace")
        print("%s\tbounce\t%s\t\t%s\t" % (path, addr.lower(), cls))
PY
	run flufl "$flufl_py" "$tmp/flufl_scan.py" "$tmp/files"
else
	echo "flufl.bounce not installed (Debian: python3-flufl.bounce); skipped" >&2
fi

echo "corpus: $bounces ($nfiles messages)"
printf '%-14s %10s %8s %10s %8s %8s %8s\n' tool "msgs/s" kind recipient status class reason
for name in postdrip sisimai flufl; do
	[ -f "$tmp/$name.time" ] || continue
	json=$(python3 "$corpus/score.py" "$bounces/labels.tsv" "$tmp/$name.tsv" --json)
	read t0 t1 < "$tmp/$name.time"
	python3 -c '
import json, sys
name, n, t0, t1, j = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), json.loads(sys.argv[5])
rate = n / (t1 - t0) if t1 > t0 else 0
print("%-14s %10.0f %7.2f%% %9.2f%% %7.2f%% %7.2f%% %7.2f%%" % (name, rate,
      100 * j["kind"], 100 * j["recipient"], 100 * j["status"],
      100 * j["class"], 100 * j["reason"]))
' "$name" "$nfiles" "$t0" "$t1" "$json"
done
echo "(rates include each tool's start-up; see classify_bench for the in-memory rate)"

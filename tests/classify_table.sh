#!/bin/sh
# classify_table - "postdrip classify" against a table of expected rows:
# tests/classify/cases.tsv names a message (a file of tests/classify/ or of
# the corpus in tests/data) and the row it must give, as
#   file kind recipient status class reason
# Every reason appears with messages of at least two MTA formats. What a
# row cannot say (the order of the rows, the action, remote MTA and
# diagnostic, the fields of the message) is in tests/classify/fields.tsv,
# which classify_test checks against the library.
# Each failing row is printed as "want" and "got".

. "${top_srcdir:-..}/tests/lib/testlib.sh"

PD="$top_builddir/cli/postdrip"
cases="$top_srcdir/tests/classify/cases.tsv"
[ -f "$cases" ] || fail "no $cases"

grep -v '^#' "$cases" | cut -f1 | sort -u > "$T/files"
(cd "$top_srcdir/tests" && xargs "$PD" classify < "$T/files") > "$T/got" ||
	fail "postdrip classify exited $?"

# reasons - the reasons of the table, each with how many formats show it
awk -F '\t' '!/^#/ { n = split($1, p, "/"); f = p[n - 1]; if (f == "classify") {
	split(p[n], q, "-"); f = q[2] } k[$6 "\t" f] = 1 }
	END { for (x in k) { split(x, y, "\t"); c[y[1]]++ } for (r in c) print (r == "" ? "(none)" : r) "\t" c[r] }' \
	"$cases" > "$T/reasons"
bad=0
while IFS="$(printf '\t')" read -r reason n; do
	if [ "$n" -lt 2 ]; then
		echo "reason '$reason' is shown by $n format(s), want 2"
		bad=1
	fi
done < "$T/reasons"

total=0
while IFS= read -r want; do
	case $want in "#"*) continue ;; esac
	total=$((total + 1))
	if ! grep -qxF -- "$want" "$T/got"; then
		file=$(printf '%s\n' "$want" | cut -f1)
		echo "want: $want"
		grep -F -- "$file$(printf '\t')" "$T/got" | sed 's/^/got:  /'
		bad=1
	fi
done < "$cases"
echo "classify_table: $total rows, $(wc -l < "$T/reasons") reasons"
[ $bad -eq 0 ] || fail "rows differ"
pass

#!/bin/sh
# conf-params.sh - print the PARAMETERS section of postdrip.conf(5) from the
# settings table (postdrip config --doc), so that the page lists every
# setting with its real default. tests/man_test.sh fails when the page and
# the table differ; run
#   man/conf-params.sh cli/postdrip > /tmp/p && (edit the page between the
#   PARAMETERS markers)
# or "man/conf-params.sh cli/postdrip --update man/postdrip.conf.5".
postdrip=${1:?usage: conf-params.sh POSTDRIP [--update PAGE]}
gen() {
	# awk, not "read": read folds adjacent tabs, losing empty defaults.
	POSTDRIP_CONFIG=/nonexistent/postdrip.conf "$postdrip" -c /dev/null config --doc |
	awk -F '\t' '{
		def = $2; gsub(/\\/, "\\\\", def)
		doc = $3; if (doc ~ /^\./) doc = "\\&" doc
		printf ".TP\n.B %s\n(default: \\fB%s\\fR)\n%s\n", $1, def, doc
	}'
}
if [ "$2" = "--update" ]; then
	page=$3
	gen > "$page.params.tmp" || exit 1
	awk -v gen="$page.params.tmp" '
		/^\.\\" BEGIN PARAMETERS/ { print; while ((getline l < gen) > 0) print l; skip = 1; next }
		/^\.\\" END PARAMETERS/ { skip = 0 }
		!skip { print }' "$page" > "$page.tmp" && mv "$page.tmp" "$page"
	rm -f "$page.params.tmp"
else
	gen
fi

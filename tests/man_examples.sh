#!/bin/sh
# man_examples - the examples of postdrip-workflow(5) and
# postdrip-template(5) are what "postdrip check" accepts: every .nf/.fi
# block of YAML or of a template is taken out of the page, fragments are
# wrapped in the least workflow or template that holds them, and the lot is
# checked. A mail administrator copies these first.

. "${top_srcdir:-..}/tests/lib/testlib.sh"

PD="$top_builddir/cli/postdrip -c $T/postdrip.conf"
mkdir -p "$T/data" "$T/wf" "$T/tmpl" "$T/blocks"

# extract PAGE PREFIX - one file per display block, roff escapes undone
extract() {
	awk -v dir="$T/blocks" -v pre="$2" '
	/^\.nf/ { on = 1; buf = ""; next }
	/^\.fi/ { if (on) { n++; f = dir "/" pre n; printf "%s", buf > f; close(f) } on = 0; next }
	on && /^\.ft/ { next }
	on { buf = buf $0 "\n" }' "$1"
	sed -i 's/\\-/-/g; s/\\(aq/'"'"'/g; s/\\(em/--/g; s/\\e/\\/g' "$T/blocks/$2"*
}
extract "$top_srcdir/man/postdrip-workflow.5" wf
extract "$top_srcdir/man/postdrip-template.5" tmpl

nwf=0
for f in "$T/blocks"/wf*; do
	b=$(basename "$f")
	first=$(grep -v '^#' "$f" | head -n 1)
	case $first in
	workflow:* | segment:*)
		cp "$f" "$T/wf/$b.yaml" ;;
	trigger:*)
		{ echo "workflow: $b"; cat "$f"; echo "steps: [end]"; } > "$T/wf/$b.yaml" ;;
	audience:* | goal:* | exit:*)
		{ echo "workflow: $b"; echo "trigger: manual"; cat "$f"; echo "steps: [end]"; } > "$T/wf/$b.yaml" ;;
	"- "*)
		{ echo "workflow: $b"; echo "trigger: manual"; echo "steps:"; sed 's/^/  /' "$f"; } > "$T/wf/$b.yaml" ;;
	'$ postdrip check') continue ;;
	*) fail "postdrip-workflow.5: an example this test does not know: $first" ;;
	esac
	nwf=$((nwf + 1))
done
[ "$nwf" -ge 9 ] || fail "only $nwf workflow examples found"

ntmpl=0
for f in "$T/blocks"/tmpl*; do
	b=$(basename "$f")
	if grep -q '^Subject:' "$f"; then
		# "..." stands for text the reader writes.
		grep -v '^ \.\.\.' "$f" > "$T/tmpl/$b.tmpl"
	elif grep -q '^[a-z0-9-]*\.tmpl:[0-9]*: ' "$f"; then
		continue		# DIAGNOSTICS
	else
		{ printf 'Subject: x\n\n'; cat "$f"; } > "$T/tmpl/$b.tmpl"
	fi
	ntmpl=$((ntmpl + 1))
done
[ "$ntmpl" -ge 2 ] || fail "only $ntmpl template examples found"

# Every template the workflow examples name, as a plain one.
sed -n 's/^ *-* *\(send\|template\): *\([A-Za-z0-9._-]*\) *$/\2/p' "$T/wf"/*.yaml |
    sort -u | while read -r name; do
	[ -e "$T/tmpl/$name.tmpl" ] ||
	    printf 'From: a@example.com\nSubject: %s\n\nText.\n' "$name" > "$T/tmpl/$name.tmpl"
done

cat > "$T/postdrip.conf" <<CONF
data_directory = $T/data
token_key_file = $T/keys
workflow_directory = $T/wf
template_directory = $T/tmpl
bounce_domain = bounce.acme.test
tracker_url = https://track.acme.test
CONF
$PD keygen >/dev/null || fail "keygen"
$PD check > "$T/out" 2>&1 || fail "man page examples: $(cat "$T/out")"
[ -s "$T/out" ] && fail "man page examples are not silent: $(cat "$T/out")"

# The test can fail: a broken example is caught.
printf 'workflow: broken\ntrigger: manual\nsteps:\n  - wait: 2 days\n' > "$T/wf/zz.yaml"
$PD check > "$T/out" 2>&1 && fail "a broken example passed"
grep -q "zz.yaml:4: wait: bad duration" "$T/out" || fail "broken example: $(cat "$T/out")"
pass

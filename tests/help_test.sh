#!/bin/sh
# help_test - "--help" and "--version" on every program and every command
# of postdrip, in one shape: exit 0, the text on stdout, "usage: PROGRAM"
# first, an "options:" block where there are options, and one version line
# "PROGRAM (postdrip) VERSION". No configuration file is needed for either.
# A command's help lists each option its code accepts.

. "${top_srcdir:-..}/tests/lib/testlib.sh"

version=$(sed -n 's/^AC_INIT(\[postdrip\], \[\([^]]*\)\].*/\1/p' "$top_srcdir/configure.ac")
[ -n "$version" ] || fail "no version in configure.ac"

# check_help PROGRAM ARGS... - --help shape
check_help() {
	prog=$1; shift
	"$@" > "$T/out" 2> "$T/err" || fail "$prog --help: status $?: $(cat "$T/err")"
	[ -s "$T/err" ] && fail "$prog --help wrote to stderr: $(cat "$T/err")"
	head -1 "$T/out" | grep -q "^usage: $prog" || fail "$prog --help: first line: $(head -1 "$T/out")"
	:
}

# check_version PROGRAM ARGS... - --version shape
check_version() {
	prog=$1; shift
	"$@" > "$T/out" 2> "$T/err" || fail "$prog --version: status $?"
	[ "$(cat "$T/out")" = "$prog (postdrip) $version" ] \
	    || fail "$prog --version: \"$(cat "$T/out")\""
}

# No config anywhere: help and version never read it.
POSTDRIP_CONFIG=$T/missing.conf; export POSTDRIP_CONFIG
for p in milter/postdrip-milter policyd/postdrip-policyd engine/postdrip-engine cli/postdrip; do
	name=${p#*/}
	check_help "$name" "$top_builddir/$p" --help
	grep -q '^options:' "$T/out" || fail "$name --help lists no options"
	grep -q '^  -c FILE' "$T/out" || fail "$name --help: no -c FILE"
	check_version "$name" "$top_builddir/$p" --version
	# After -c FILE too.
	check_version "$name" "$top_builddir/$p" -c "$T/missing.conf" --version
done
# The daemons' own options are listed.
"$top_builddir/policyd/postdrip-policyd" --help | grep -q '^  -n ' || fail "policyd --help: -n"
"$top_builddir/engine/postdrip-engine" --help | grep -q '^  --once ' || fail "engine --help: --once"
# A bad option is still a usage error, on stderr.
"$top_builddir/milter/postdrip-milter" --bogus > "$T/out" 2>&1 && fail "milter --bogus succeeded"
grep -q "usage:" "$T/out" || fail "milter --bogus: $(cat "$T/out")"

# Every command listed by "postdrip --help".
PD="$top_builddir/cli/postdrip"
$PD --help | sed -n '/^commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' > "$T/cmds"
[ "$(wc -l < "$T/cmds")" -ge 15 ] || fail "postdrip --help lists $(wc -l < "$T/cmds") commands"
while read -r cmd; do
	check_help "postdrip \\[-c FILE\\] $cmd" $PD "$cmd" --help
	check_version postdrip $PD "$cmd" --version
done < "$T/cmds"

# Each option a command's code compares argv with appears in its help.
for f in "$top_srcdir"/cli/cli_*.c; do
	cmd=$(basename "$f" .c); cmd=${cmd#cli_}
	grep -q "^$cmd\$" "$T/cmds" || continue
	$PD "$cmd" --help > "$T/help"
	grep -o 'strcmp(a\(rgv\[[a-z0-9+]*\]\)\?, "--*[a-z][a-z-]*")' "$f" \
	    | sed 's/.*"\(.*\)")/\1/' | sort -u | while read -r opt; do
		case $opt in --help|--doc) continue;; esac
		grep -q -- "$opt" "$T/help" || fail "postdrip $cmd --help does not list $opt"
	done || exit 1
done
$PD contact --help | grep -q -- '--event' || fail "contact --help: --event"
exit 0

#!/bin/sh
# contrib_systemd_test - the shipped systemd units start what "make
# install" installs: each ExecStart names a program built here, in the
# directory automake installs it to (sbin_PROGRAMS in /usr/local/sbin,
# bin_PROGRAMS in /usr/local/bin), and each Documentation= page exists.

. "${top_srcdir:-..}/tests/lib/testlib.sh"

n=0
for unit in "$top_srcdir"/contrib/systemd/*.service; do
	u=$(basename "$unit")
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
	[ -n "$exe" ] || fail "$u: no ExecStart"
	prog=$(basename "$exe")
	case $(dirname "$exe") in
	/usr/local/sbin) var=sbin_PROGRAMS ;;
	/usr/local/bin) var=bin_PROGRAMS ;;
	*) fail "$u: ExecStart $exe is not where make install puts programs" ;;
	esac
	grep -qs "^$var *[+]*= *\(.* \)*$prog\( .*\)*\$" "$top_srcdir"/*/Makefile.am ||
	    fail "$u: $prog is not in any $var: make install does not put it in $(dirname "$exe")"
	for page in $(sed -n 's/^Documentation=//p' "$unit"); do
		case $page in
		man:*) f=$(echo "$page" | sed 's/^man:\(.*\)(\([0-9]\))$/\1.\2/')
			[ -r "$top_srcdir/man/$f" ] || fail "$u: no man page $f" ;;
		esac
	done
	grep -q "^User=" "$unit" && { grep -q "^StateDirectory=postdrip" "$unit" ||
	    fail "$u: runs as a user but does not create /var/lib/postdrip for it"; }
	n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "only $n units"
pass

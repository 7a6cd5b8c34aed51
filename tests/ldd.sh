#!/bin/sh
# ldd - each program loads only the libraries of the layers it uses:
# postdrip-policyd links the core library alone (no GMime/GLib, libcurl,
# gpgme or libfyaml), postdrip-milter no flow library (no libcurl or
# libfyaml). The programs of the build tree are run through libtool, which
# points the loader at the uninstalled libraries.
. "${top_srcdir:-..}/tests/lib/testlib.sh"

command -v ldd > /dev/null || skip "no ldd"

# check PROGRAM WANT NOT... - PROGRAM loads WANT and none of NOT
check() {
	prog=$1 want=$2
	shift 2
	"$top_builddir/libtool" --mode=execute ldd "$top_builddir/$prog" > "$T/ldd" 2>&1 ||
		fail "ldd $prog: $(cat "$T/ldd")"
	grep -q "not found" "$T/ldd" && fail "$prog: $(grep "not found" "$T/ldd")"
	grep -q "$want" "$T/ldd" || fail "$prog does not load $want: $(cat "$T/ldd")"
	for lib in "$@"; do
		if grep -q "$lib" "$T/ldd"; then
			fail "$prog loads $(grep -o "$lib[^ ]*" "$T/ldd" | head -1), which it does not use"
		fi
	done
	echo "$prog: $(wc -l < "$T/ldd") objects"
}

check policyd/postdrip-policyd libpostdrip-core \
	libpostdrip-mail libpostdrip-flow libgmime libglib libcurl libgpgme libfyaml libspf2
check milter/postdrip-milter libpostdrip-mail libpostdrip-flow libcurl libfyaml
pass

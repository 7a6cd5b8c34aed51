#!/bin/sh
# install_data_test - "make install DESTDIR=..." puts the example
# configuration (postdrip.conf, workflows, templates), the Postfix and nginx
# snippets and the systemd units under $(pkgdatadir); "postdrip init DIR"
# makes a working set from there that "postdrip check" passes, and a second
# init keeps the administrator's files.
. "${top_srcdir:-..}/tests/lib/testlib.sh"

make -s -C "$top_builddir" install DESTDIR="$T/root" > "$T/install.log" 2>&1 ||
    fail "make install: $(tail -20 "$T/install.log")"
conf=$(find "$T/root" -path '*/postdrip/conf/postdrip.conf' | head -n 1)
[ -n "$conf" ] || fail "no postdrip.conf installed under $T/root"
share=${conf%/conf/postdrip.conf}
for f in conf/postdrip.conf conf/workflows conf/templates conf/templates/partials \
    contrib/postfix/main.cf.snippet contrib/postfix/master.cf.snippet \
    contrib/nginx/postdrip-tracker.conf contrib/systemd/postdrip-engine.service \
    contrib/systemd/postdrip-milter.service contrib/systemd/postdrip-policyd.service; do
	[ -e "$share/$f" ] || fail "not installed: $f"
done
# Every workflow and template of the source tree.
for f in $(cd "$top_srcdir" && find conf -type f); do
	cmp -s "$top_srcdir/$f" "$share/$f" || fail "installed $f differs"
done
# The programs and the man pages beside them.
for p in postdrip postdrip-engine postdrip-milter postdrip-policyd; do
	[ -n "$(find "$T/root" -name "$p" -type f)" ] || fail "program $p not installed"
done
[ -n "$(find "$T/root" -name postdrip.conf.5 -type f)" ] || fail "postdrip.conf(5) not installed"

# init copies the set; check passes on it once a key is made.
PD="$top_builddir/cli/postdrip"
POSTDRIP_DATADIR=$share $PD init "$T/etc" > "$T/init.log" || fail "init: $(cat "$T/init.log")"
grep -q "^created $T/etc/postdrip.conf$" "$T/init.log" || fail "init output: $(cat "$T/init.log")"
for f in $(cd "$share/conf" && find . -type f); do
	cmp -s "$share/conf/$f" "$T/etc/$f" || fail "init did not copy $f"
done
printf 'data_directory = %s\n' "$T/data" >> "$T/etc/postdrip.conf"
$PD -c "$T/etc/postdrip.conf" keygen > /dev/null || fail "keygen"
$PD -c "$T/etc/postdrip.conf" check > "$T/check.log" 2>&1 || fail "check on the init set: $(cat "$T/check.log")"
# A second init keeps what is there.
echo "# mine" >> "$T/etc/workflows/birthday.yaml"
POSTDRIP_DATADIR=$share $PD init "$T/etc" > "$T/init2.log" || fail "second init"
grep -q "^kept $T/etc/workflows/birthday.yaml$" "$T/init2.log" || fail "init2: $(cat "$T/init2.log")"
tail -n 1 "$T/etc/workflows/birthday.yaml" | grep -q '^# mine$' || fail "init overwrote a file"
# No source: a clear error.
POSTDRIP_DATADIR=$T/none $PD init "$T/etc2" > /dev/null 2> "$T/err" && fail "init without a source"
grep -q "$T/none/conf" "$T/err" || fail "init error: $(cat "$T/err")"
pass

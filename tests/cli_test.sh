#!/bin/sh
# cli_test - the postdrip command against a fresh store: keygen, check,
# contacts (add, import with a malformed row, export), suppression, events,
# timeline, stats, config, exit codes.

. "${top_srcdir:-..}/tests/lib/testlib.sh"

PD="$top_builddir/cli/postdrip -c $T/postdrip.conf"
mkdir -p "$T/data"
cat > "$T/postdrip.conf" <<CONF
data_directory = $T/data
# a comment, and a continued value
marketing_senders = *@news.example.com,
    @promo.example.com
CONF

# A fresh install: no key yet. check says what to run.
$PD check > "$T/check0" && fail "check passed without a key file"
grep -q "$T/keys: .*postdrip keygen" "$T/check0" || fail "check without keys: $(cat "$T/check0")"
$PD keygen >/dev/null || fail "keygen"
expect_status 0 $PD check
$PD stats | grep -q '^contacts	0$' || fail "stats on a fresh store"

# Contacts.
expect_status 0 $PD contact add Ann@Example.COM first_name=Ann birthday=1990-05-01 --tag vip
$PD contact show ann@example.com | grep -q '"first_name": "Ann"' || fail "contact show"
expect_status 2 $PD contact add ann@example.com birthday=soon
expect_status 1 $PD contact show nobody@example.com
cat > "$T/in.csv" <<'CSV'
email,first_name,birthday,tags,score
bob@example.com,Bob,1985-12-24,vip;buyer,5
not-an-address,X,,,
carol@example.com,"Carol, Jr.",,,
dave@example.com,Dave,1999-99-99,,
eve@example.com,Eve,,,notanumber
ann@example.com,Annie,,news,
CSV
$PD contact import "$T/in.csv" > "$T/out" 2> "$T/err"; cat "$T/err" >&2
grep -q "2 added, 1 updated, 3 skipped" "$T/out" || fail "import summary: $(cat "$T/out")"
grep -q "in.csv:3: skipped: not an e-mail address" "$T/err" || fail "import line 3: $(cat "$T/err")"
grep -q "in.csv:5: skipped: birthday" "$T/err" || fail "import line 5"
grep -q "in.csv:6: skipped: score" "$T/err" || fail "import line 6"
$PD contact show dave@example.com >/dev/null 2>&1 && fail "a malformed row was written"
$PD contact export > "$T/export.csv" || fail "export"
grep -q '^carol@example.com,.*,"Carol, Jr."' "$T/export.csv" || fail "export quoting: $(cat "$T/export.csv")"
grep -q '^bob@example.com,.*,5,vip;buyer' "$T/export.csv" || fail "export tags/score"
# The export imports again as it is.
$PD contact import "$T/export.csv" | grep -q "0 added, 3 updated, 0 skipped" || fail "re-import of the export"

# Spreadsheet exports: a UTF-8 byte order mark, and ';' between fields
# (with a quoted ';' inside a field and a decimal comma).
printf '\357\273\277email,first_name\r\ngina@example.com,Gina\r\n' > "$T/bom.csv"
$PD contact import "$T/bom.csv" > "$T/out" 2>&1 || fail "BOM import: $(cat "$T/out")"
grep -q "1 added, 0 updated, 0 skipped" "$T/out" || fail "BOM import: $(cat "$T/out")"
$PD contact show gina@example.com | grep -q '"first_name": "Gina"' || fail "BOM import: no first_name"
printf 'E-Mail;First_Name;tags;Discount\nhank@example.com;Hank;"vip;buyer";12,5\nivy@example.com;Ivy\n' > "$T/semi.csv"
$PD contact import "$T/semi.csv" > "$T/out" 2> "$T/err"
grep -q "1 added, 0 updated, 1 skipped" "$T/out" || fail "semicolon import: $(cat "$T/out" "$T/err")"
grep -q "semi.csv:3: skipped: 2 fields, the header has 4" "$T/err" || fail "semicolon import line 3: $(cat "$T/err")"
$PD contact show hank@example.com > "$T/hank" || fail "semicolon import: no hank"
grep -q '"discount": "12,5"' "$T/hank" || fail "semicolon import fields: $(cat "$T/hank")"
grep -q '"buyer"' "$T/hank" || fail "semicolon import tags: $(cat "$T/hank")"

# A repeated column is refused, naming it: which "email" is the contact's?
printf 'email,name,name,email\numa@example.com,U,V,vic@example.com\n' > "$T/dup.csv"
expect_status 1 $PD contact import "$T/dup.csv"
$PD contact import "$T/dup.csv" > "$T/out" 2> "$T/err"
grep -q 'dup.csv:1: column "name" (3) repeats column 2' "$T/err" || fail "duplicate column: $(cat "$T/err")"
grep -q 'dup.csv:1: column "email" (4) repeats the e-mail column "email" (1)' "$T/err" || fail "duplicate email column: $(cat "$T/err")"
$PD contact show uma@example.com >/dev/null 2>&1 && fail "a file with a repeated column was imported"
$PD contact show vic@example.com >/dev/null 2>&1 && fail "a file with a repeated column was imported"
# Invalid UTF-8 (Latin-1 text, an overlong form) and addresses that are not
# addresses: each row skipped with its line, the others imported.
printf 'email,first_name\nwes@example.com,Jos\351\nxia@example.com,Xia\nyan@example.com,\300\257\nuser@example..com,A\nuser@-bad-.com,B\nzoe@example.com,Zo\303\253\n' > "$T/bad.csv"
$PD contact import "$T/bad.csv" > "$T/out" 2> "$T/err"
grep -q "2 added, 0 updated, 4 skipped" "$T/out" || fail "bad rows import: $(cat "$T/out" "$T/err")"
grep -q "bad.csv:2: skipped: first_name: not valid UTF-8" "$T/err" || fail "UTF-8 line 2: $(cat "$T/err")"
grep -q "bad.csv:4: skipped: first_name: not valid UTF-8" "$T/err" || fail "UTF-8 line 4: $(cat "$T/err")"
grep -q 'bad.csv:5: skipped: not an e-mail address: "user@example..com"' "$T/err" || fail "address line 5: $(cat "$T/err")"
grep -q 'bad.csv:6: skipped: not an e-mail address: "user@-bad-.com"' "$T/err" || fail "address line 6: $(cat "$T/err")"
$PD contact show wes@example.com >/dev/null 2>&1 && fail "a row with invalid UTF-8 was written"
$PD contact show zoe@example.com | grep -q "Zo" || fail "a UTF-8 row was not written"
expect_status 2 $PD contact add wes@example.com "first_name=$(printf 'Jos\351')"

# Updating a contact records what changed.
$PD timeline ann@example.com | grep -q "field_changed	field=first_name" || fail "field_changed event"
$PD timeline ann@example.com | grep -q "tag_added	tag=news" || fail "tag_added event"

# Suppression.
expect_status 0 $PD suppress Bob@Example.com --reason complaint
$PD suppressed | grep -q "^bob@example.com	complaint	" || fail "suppressed list"
expect_status 0 $PD unsuppress bob@example.com
expect_status 1 $PD unsuppress bob@example.com
$PD suppressed | grep -q bob && fail "unsuppress"

# Events and the timeline, with a fixed clock.
POSTDRIP_NOW=2026-03-02T10:00:00Z $PD event frank@example.com purchased sku=A1 amount=19.90 || fail "event"
POSTDRIP_NOW=2026-03-01T09:00:00Z $PD event frank@example.com clicked link=pricing || fail "event 2"
$PD timeline frank@example.com > "$T/tl"
[ "$(sed -n 1p "$T/tl")" = "2026-03-01T09:00:00Z	clicked	link=pricing" ] || fail "timeline order: $(cat "$T/tl")"
[ "$(sed -n 2p "$T/tl")" = "2026-03-02T10:00:00Z	purchased	amount=19.90 sku=A1" ] ||
	[ "$(sed -n 2p "$T/tl")" = "2026-03-02T10:00:00Z	purchased	sku=A1 amount=19.90" ] || fail "timeline line 2: $(sed -n 2p "$T/tl")"
expect_status 2 $PD event frank@example.com "Bad Type"
expect_status 2 $PD event frank@example.com ok novalue
POSTDRIP_NOW=garbage $PD event frank@example.com x 2>/dev/null && fail "bad POSTDRIP_NOW accepted"

# stats agrees with the lists: contacts with the export, suppressed with
# "suppressed"; events counted; nothing sent.
$PD suppress zed@example.com --reason manual >/dev/null || fail "suppress zed"
$PD stats > "$T/stats"
$PD contact export > "$T/export2.csv"
[ "$(sed -n 's/^contacts	//p' "$T/stats")" = "$(($(wc -l < "$T/export2.csv") - 1))" ] || fail "stats contacts: $(cat "$T/stats")"
[ "$(sed -n 's/^suppressed	//p' "$T/stats")" = "$($PD suppressed | wc -l)" ] || fail "stats suppressed: $(cat "$T/stats")"
[ "$(sed -n 's/^events	//p' "$T/stats")" -ge 4 ] || fail "stats events: $(cat "$T/stats")"
grep -q '^sent	0$' "$T/stats" || fail "stats sent: $(cat "$T/stats")"

# Config. config -d names every setting once, and its output is itself a
# valid postdrip.conf (every default parses).
$PD config -d | grep -q '^inject_address = 127.0.0.1:10025$' || fail "config -d"
$PD config -d > "$T/defaults.conf"
documented=$(sed -n '/BEGIN PARAMETERS/,/END PARAMETERS/p' "$top_srcdir/man/postdrip.conf.5" | grep -c '^\.B ')
[ "$(wc -l < "$T/defaults.conf")" = "$documented" ] ||
	fail "config -d: $(wc -l < "$T/defaults.conf") settings, postdrip.conf(5) documents $documented"
[ "$(cut -d' ' -f1 "$T/defaults.conf" | sort -u | wc -l)" = "$(wc -l < "$T/defaults.conf")" ] || fail "config -d repeats a setting"
# (config_directory is where the file is; it cannot be set.)
sed -i -e "s|^data_directory = .*|data_directory = $T/data|" -e '/^config_directory = /d' "$T/defaults.conf"
$top_builddir/cli/postdrip -c "$T/defaults.conf" config > "$T/out" 2>&1 || fail "the defaults do not load: $(cat "$T/out")"
$PD config data_directory | grep -q "^data_directory = $T/data$" || fail "config NAME"
# config alone prints what differs from the defaults (postconf -n): a
# setting written with its default value, even through $config_directory,
# is not shown; an unset one neither; config_directory only because -c
# names a file outside /etc/postdrip.
cat > "$T/n.conf" <<CONF
data_directory = $T/data
bounce_domain = bounce.example.com
token_key_file = \$config_directory/keys
template_directory = $T/templates
policyd_listen = inet:127.0.0.1:10041
CONF
$top_builddir/cli/postdrip -c "$T/n.conf" config > "$T/n.out" || fail "config -n: $(cat "$T/n.out")"
printf '%s\n' "config_directory = $T" "data_directory = $T/data" \
	"policyd_listen = inet:127.0.0.1:10041" > "$T/n.want"
diff "$T/n.want" "$T/n.out" >&2 || fail "config prints other settings than those that differ"
echo "bogus_setting = 1" >> "$T/postdrip.conf"
$PD check > "$T/check" && fail "check passed a bad config"
grep -q "postdrip.conf:5: unknown setting \"bogus_setting\"" "$T/check" || fail "check output: $(cat "$T/check")"
expect_status 1 $PD stats
expect_status 2 $PD no-such-command
$PD --help | grep -q "timeline" || fail "--help"

# --help on every command (even with a bad config and after a subcommand)
# prints its usage on stdout and exits 0; extra or unknown arguments are
# usage errors (2).
cmds=$($PD --help | sed -n 's/^  \([a-z]*\) .*/\1/p')
[ "$(echo "$cmds" | wc -l)" -ge 14 ] || fail "--help lists: $cmds"
for c in $cmds; do
	$PD $c --help > "$T/out" 2>&1 || fail "$c --help: exit $?"
	grep -q "^usage: postdrip .*$c" "$T/out" || fail "$c --help: $(cat "$T/out")"
done
$PD contact add --help | grep -q "^usage: postdrip .*contact" || fail "contact add --help"
sed -i '/^bogus_setting/d' "$T/postdrip.conf"
for args in "check x" "keygen x" "stats x" "suppressed x" "config -x" "contact export x" \
    "contact" "contact add" "template" "template a b c" "template --x a" "workflows -x" \
    "suppress" "unsuppress" "event" "timeline" "enrol" "classify"; do
	expect_status 2 $PD $args
	$PD $args 2>&1 >/dev/null | grep -q "^usage: " || fail "$args: no usage line"
done

pass

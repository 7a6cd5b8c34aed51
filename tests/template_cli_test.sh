#!/bin/sh
# template_cli_test - templates through the postdrip command: "postdrip
# check" passes the shipped templates and reports a broken one as
# file:line; "postdrip template" previews a composed message.

. "${top_srcdir:-..}/tests/lib/testlib.sh"

PD="$top_builddir/cli/postdrip -c $T/postdrip.conf"
mkdir -p "$T/data" "$T/templates/partials"
cp "$top_srcdir"/conf/templates/*.tmpl "$T/templates/"
cp "$top_srcdir"/conf/templates/partials/* "$T/templates/partials/"
cat > "$T/postdrip.conf" <<CONF
data_directory = $T/data
template_directory = $T/templates
tracker_url = https://t.example.com
bounce_domain = bounce.example.com
CONF

$PD keygen >/dev/null || fail "keygen"
$PD check > "$T/out" 2>&1 || fail "check of the shipped templates: $(cat "$T/out")"

# A preview of a shipped template with a context file.
cat > "$T/ctx.json" <<'JSON'
{"contact": {"first_name": "Ann", "email": "ann@example.org"},
 "owner": {"name": "Bob Ray", "email": "bob@example.com"},
 "clicked": {"pricing": true}, "tags": {}}
JSON
$PD template followup-clicked "$T/ctx.json" > "$T/msg" || fail "template preview: $(cat "$T/msg")"
grep -q '^Subject: Ann, more on what you were looking at$' "$T/msg" || fail "preview subject: $(head -20 "$T/msg")"
grep -q '^From: Bob Ray <bob@example.com>$' "$T/msg" || fail "preview from"
grep -q '^To: ann@example.org$' "$T/msg" || fail "preview to"
grep -q '^List-Unsubscribe: <https://t.example.com/u/PREVIEW>' "$T/msg" || fail "preview list-unsubscribe"
grep -q 'You looked at our plans' "$T/msg" || fail "preview: the clicked block is missing"
grep -q 'You looked at integrations' "$T/msg" && fail "preview: a block for a link not clicked"
$PD template hot-lead-alert "$T/ctx.json" --transactional > "$T/msg" || fail "transactional preview"
grep -q '^List-Unsubscribe' "$T/msg" && fail "transactional mail with List-Unsubscribe"
expect_status 1 $PD template nosuch
expect_status 2 $PD template

# A broken template: check exits 1 with file:line lines.
printf 'Subject: {{contact.first_name\n\nBody\n{{#a}}\n' > "$T/templates/broken.tmpl"
$PD check > "$T/out" 2>&1 && fail "check passed a broken template"
grep -q "^$T/templates/broken.tmpl:1: unclosed tag" "$T/out" || fail "check output: $(cat "$T/out")"
grep -q "^$T/templates/broken.tmpl:4: unclosed section \"a\"" "$T/out" || fail "check output: $(cat "$T/out")"
$PD template broken > "$T/out" 2>&1 && fail "preview of a broken template"
rm "$T/templates/broken.tmpl"

# An explicit template directory that does not exist is an error.
echo "template_directory = $T/nowhere" >> "$T/postdrip.conf"
$PD check > "$T/out" 2>&1 && fail "check passed a missing template directory"
grep -q "nowhere:1: not a directory of templates" "$T/out" || fail "missing dir: $(cat "$T/out")"
pass

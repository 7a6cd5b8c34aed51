#!/bin/sh
# workflow_check - "postdrip check" on workflows: the shipped examples pass;
# a broken directory fails with exit 1 and file:line lines; warnings alone
# do not fail; a bad default_timezone is reported at its line.

. "${top_srcdir:-..}/tests/lib/testlib.sh"

PD="$top_builddir/cli/postdrip -c $T/postdrip.conf"
mkdir -p "$T/data" "$T/wf" "$T/tmpl"
cat > "$T/postdrip.conf" <<CONF
data_directory = $T/data
workflow_directory = $top_srcdir/conf/workflows
template_directory = $top_srcdir/conf/templates
bounce_domain = bounce.acme.test
tracker_url = https://track.acme.test
CONF
$PD keygen >/dev/null || fail "keygen"
$PD check > "$T/out" 2>&1 || fail "examples: $(cat "$T/out")"
[ -s "$T/out" ] && fail "examples are not silent: $(cat "$T/out")"

# "postdrip workflows": one line per workflow; with a name, its steps.
$PD workflows > "$T/out" || fail "workflows"
[ "$(wc -l < "$T/out")" = "$(cat "$top_srcdir"/conf/workflows/*.yaml | grep -c "^workflow:")" ] || fail "workflows: $(cat "$T/out")"
grep -q "^repermission	inactive 180d	marketing	enabled	4 steps	$top_srcdir/conf/workflows/repermission.yaml:5\$" "$T/out" ||
	fail "workflows line: $(grep repermission "$T/out")"
$PD workflows repermission > "$T/out" || fail "workflows repermission"
grep -q "repermission.yaml:25	2.timeout.1	unsubscribe inactive	end\$" "$T/out" || fail "steps: $(cat "$T/out")"
grep -q "^exit (implicit)	bounced class=hard\$" "$T/out" || fail "exits: $(cat "$T/out")"
expect_status 1 $PD workflows nosuch

# Errors, with their files and lines.
cat > "$T/wf/a.yaml" <<'YAML'
workflow: a
trigger: subscribed
steps:
  - send: hello
  - wait: 2 days
  - goto: nowhere
YAML
cat > "$T/wf/b.yaml" <<'YAML'
workflow: b
trigger:
  event: clicked
send:
  timezone: Mars/Olympus
steps:
  - send: missing
YAML
printf "Subject: hi\n\nHello.\n" > "$T/tmpl/hello.tmpl"
cat > "$T/postdrip.conf" <<CONF
data_directory = $T/data
token_key_file = $T/keys
workflow_directory = $T/wf
template_directory = $T/tmpl
default_timezone = Europe/Atlantis
bounce_domain = bounce.acme.test
tracker_url = https://track.acme.test
CONF
$PD keygen >/dev/null || fail "keygen 2"
$PD check > "$T/out" 2>&1
status=$?
[ $status = 1 ] || fail "broken workflows: exit $status, want 1"
cat > "$T/want" <<WANT
$T/wf/a.yaml:5: wait: bad duration "2 days" (use 90s, 15m, 2h, 3d or 2w)
$T/wf/b.yaml:5: timezone: unknown time zone "Mars/Olympus" (use an IANA name such as Europe/Paris)
$T/postdrip.conf:5: default_timezone: unknown time zone "Europe/Atlantis" (use an IANA name such as Europe/Paris)
WANT
diff "$T/want" "$T/out" >&2 || fail "check output"

# Fixed: the goto and the template are the next errors found, both at once.
sed -i 's/2 days/2d/' "$T/wf/a.yaml"
sed -i 's|Mars/Olympus|America/Chicago|' "$T/wf/b.yaml"
sed -i 's|Europe/Atlantis|Europe/Lisbon|' "$T/postdrip.conf"
$PD check > "$T/out" 2>&1 && fail "goto to a missing label passed"
cat > "$T/want" <<WANT
$T/wf/a.yaml:6: goto: no step is labelled "nowhere"
$T/wf/b.yaml:7: send: no template "missing" (missing.tmpl) in $T/tmpl
WANT
diff "$T/want" "$T/out" >&2 || fail "check output 2"
sed -i 's/goto: nowhere/end/' "$T/wf/a.yaml"
$PD check > "$T/out" 2>&1 && fail "missing template passed"
cat > "$T/want" <<WANT
$T/wf/b.yaml:7: send: no template "missing" (missing.tmpl) in $T/tmpl
WANT
diff "$T/want" "$T/out" >&2 || fail "check output 3"

# A warning alone: exit 0, and the warning is shown.
sed -i 's/send: missing/send: hello/' "$T/wf/b.yaml"
printf '  - end\n  - send: hello\n' >> "$T/wf/b.yaml"
$PD check > "$T/out" 2>&1 || fail "a warning failed the check: $(cat "$T/out")"
grep -qx "$T/wf/b.yaml:9: warning: step 3 is never reached" "$T/out" || fail "warning: $(cat "$T/out")"

# A null byte in a value (the "\0" escape of a quoted scalar) is an error
# at its line, not a value cut short ("wel" for "wel\0come"); so is one in
# a key.
cat > "$T/wf/c.yaml" <<'YAML'
workflow: c
trigger: subscribed
steps:
  - send: hello
    label: "wel\0come"
YAML
$PD check > "$T/out" 2>&1 && fail "a null byte in a value passed"
grep -qx "$T/wf/c.yaml:5: null byte (\\\\0) in text" "$T/out" || fail "null byte: $(cat "$T/out")"
printf 'workflow: c\ntrigger: subscribed\nsteps:\n  - send: hello\n"la\\0bel": x\n' > "$T/wf/c.yaml"
$PD check > "$T/out" 2>&1 && fail "a null byte in a key passed"
grep -qx "$T/wf/c.yaml:5: null byte (\\\\0) in text" "$T/out" || fail "null byte in a key: $(cat "$T/out")"
# An empty file, or one of comments only, is an error: a workflow file
# that says nothing is a truncated copy or a slip, not a choice.
: > "$T/wf/c.yaml"
$PD check > "$T/out" 2>&1 && fail "an empty workflow file passed"
grep -qx "$T/wf/c.yaml:1: no workflow or segment in this file" "$T/out" || fail "empty file: $(cat "$T/out")"
printf '# nothing yet\n\n# not even a document\n' > "$T/wf/c.yaml"
$PD check > "$T/out" 2>&1 && fail "a workflow file of comments passed"
grep -qx "$T/wf/c.yaml:1: no workflow or segment in this file" "$T/out" || fail "comments only: $(cat "$T/out")"
# "event:" with no value, or "event: yes", names no event: an error at its
# line (it once reached the evaluator as a null event type).
printf 'workflow: c\ntrigger: subscribed\nexit:\n  - event:\nsteps:\n  - send: hello\n' > "$T/wf/c.yaml"
$PD check > "$T/out" 2>&1 && fail "an exit rule without an event passed"
grep -qx "$T/wf/c.yaml:4: event: expected an event type, got nothing" "$T/out" || fail "event without a value: $(cat "$T/out")"
printf 'workflow: c\ntrigger: subscribed\nsteps:\n  - if:\n      event: yes\n    then:\n      - end\n' > "$T/wf/c.yaml"
$PD check > "$T/out" 2>&1 && fail "a condition without an event passed"
grep -qx "$T/wf/c.yaml:5: event: expected an event type, got yes" "$T/out" || fail "event: yes: $(cat "$T/out")"
rm -f "$T/wf/c.yaml"
$PD check > /dev/null 2>&1 || fail "check after removing c.yaml"

# The engine names the line of a bad default_timezone too, and carries
# on in UTC.
sed -i 's|Europe/Lisbon|Europe/Atlantis|' "$T/postdrip.conf"
POSTDRIP_NOW=2026-03-02T09:00:00Z "$top_builddir/engine/postdrip-engine" \
	-c "$T/postdrip.conf" --once > "$T/out" 2>&1
grep -q "$T/postdrip.conf:5: default_timezone: unknown time zone \"Europe/Atlantis\": using UTC" "$T/out" ||
	fail "engine: $(cat "$T/out")"

# A missing workflow directory: a warning at its line, not a failure (a
# server may run only the milter and the policy daemon).
sed -i "s|^workflow_directory = .*|workflow_directory = $T/nowhere|" "$T/postdrip.conf"
sed -i 's|Europe/Atlantis|UTC|' "$T/postdrip.conf"
$PD check > "$T/out" 2>&1 || fail "a missing workflow directory failed the check: $(cat "$T/out")"
grep -qx "$T/postdrip.conf:3: warning: workflow_directory $T/nowhere does not exist: postdrip-engine runs no workflows" "$T/out" ||
	fail "missing directory: $(cat "$T/out")"
pass

#!/bin/sh
# flow_paths_e2e - two shipped flows through a private Postfix relaying to
# smtp-sink, with a set clock and real HTTP to the tracker:
#
# welcome-paths.yaml: six new accounts on a Sunday evening get the first
# mail on Monday at 09:00 Paris time (mon-fri 09:00-18:00), not before;
# two days later each takes the path of the link it clicked (import,
# workflows, pricing; a click beats a survey answer; a link scanner's
# click is no click), or of its answer to
# the onboarding survey (field "role", set through the contacts API), or
# gets the nudge; a re-run sends nothing twice.
#
# post-purchase.yaml: a shop purchase (events API) gets its confirmation
# at once, a "shipped" event the carrier and tracking link, both also to
# an unsubscribed buyer (transactional); a week later the product survey
# (marketing: not to the unsubscribed buyer); four days after it, the
# recommendations for the survey's answer, or the best sellers without one.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ -r "$top_srcdir/tests/lib/pfx.sh" ] ||
    { echo "SKIP: the private Postfix harness (tests/lib/pfx.sh) is missing" >&2; exit 77; }
. "$top_srcdir/tests/lib/flow.sh"

flow_setup welcome-paths.yaml post-purchase.yaml

# Sunday 1 March 2026, 20:00 UTC: six accounts are created.
export POSTDRIP_NOW=2026-03-01T20:00:00Z
for n in 1 2 3 4 5 6; do
	$PD contact add "w$n@sink.test" first_name=W$n >/dev/null || pfx_fail "contact add w$n"
	$PD event "w$n@sink.test" account_created plan=trial || pfx_fail "event w$n"
done
flow_engine 2026-03-01T20:00:05Z
sleep 0.5
[ "$(flow_nsink)" = 0 ] || pfx_fail "sent on a Sunday: $(flow_nsink)"
# Monday 2 March, 07:59 UTC is 08:59 in Paris: still closed.
flow_engine 2026-03-02T07:59:00Z
sleep 0.3
[ "$(flow_nsink)" = 0 ] || pfx_fail "sent before 09:00 Paris: $(flow_nsink)"
flow_engine 2026-03-02T08:00:30Z
flow_expect 6
for n in 1 2 3 4 5 6; do
	[ "$(flow_got "w$n@sink.test" "Welcome to Acme, W$n: where do you start?")" = 1 ] ||
	    pfx_fail "w$n did not get the first mail"
	[ "$(flow_sent_at "w$n@sink.test" 1)" = 2026-03-02T08:00:30Z ] ||
	    pfx_fail "w$n: first mail not sent at Monday's opening: $(flow_sent_at "w$n@sink.test" 1)"
done

# Monday 11:00: w1, w2 and w3 click a path in a browser, through the
# tracker; w1 and w5 answer the onboarding survey (the survey form posts
# to the contacts API); a link scanner clicks in w4's mail; w6 does nothing.
flow_daemon_start 2026-03-02T10:00:00Z
flow_click w1@sink.test import https://example.com/start/import
flow_click w2@sink.test workflows https://example.com/start/workflow
flow_click w3@sink.test pricing https://example.com/pricing
# A link scanner follows w4's pricing link: labelled, it takes no path.
FLOW_CLICK_UA='Mozilla/5.0 (compatible; Proofpoint URL Defense scanner)'
flow_click w4@sink.test pricing https://example.com/pricing
FLOW_CLICK_UA=
$PD timeline w4@sink.test | grep "	clicked	" | grep -q "machine=true" ||
    { $PD timeline w4@sink.test >&2; pfx_fail "the scanner's click is not labelled"; }
flow_api /api/contacts '{"email": "w1@sink.test", "fields": {"role": "developer"}}'
flow_api /api/contacts '{"email": "w5@sink.test", "fields": {"role": "marketer"}}'

# Monday noon: a shop order from p1, p2 and p3 (p3 unsubscribed from
# marketing last year); the confirmation goes at once, to all three.
$PD suppress p3@sink.test --reason unsubscribed >/dev/null || pfx_fail "suppress p3"
for n in 1 2 3; do
	$PD contact add "p$n@sink.test" first_name=P$n >/dev/null || pfx_fail "contact add p$n"
	flow_api /api/events "{\"email\": \"p$n@sink.test\", \"type\": \"purchase\", \"data\":
	    {\"source\": \"shop\", \"order\": \"A-100$n\", \"total\": \"59.00\",
	     \"items\": [{\"name\": \"Trail flask\", \"price\": \"29.50\"}]}}"
done
flow_daemon_stop
flow_engine 2026-03-02T12:00:05Z
flow_expect 9
for n in 1 2 3; do
	[ "$(flow_got "p$n@sink.test" "Your order A-100$n is confirmed")" = 1 ] ||
	    pfx_fail "p$n: no confirmation"
done
grep -l "^Subject: Your order A-1001 is confirmed" $(pfx_sink_files) | xargs grep -q "Trail flask, 29.50" ||
    pfx_fail "the confirmation does not list the items"

# Tuesday 3 March, 09:00: the orders ship. Nothing of the welcome yet.
export POSTDRIP_NOW=2026-03-03T09:00:00Z
for n in 1 2 3; do
	$PD event "p$n@sink.test" shipped order=A-100$n carrier=Colissimo \
	    tracking_url=https://track.example.net/A-100$n || pfx_fail "shipped p$n"
done
flow_engine 2026-03-03T09:00:05Z
flow_expect 12
for n in 1 2 3; do
	[ "$(flow_got "p$n@sink.test" "Your order A-100$n is on its way")" = 1 ] ||
	    pfx_fail "p$n: no shipping details"
done
grep -l "^Subject: Your order A-1003 is on its way" $(pfx_sink_files) |
    xargs grep -q "Track it: https://track.example.net/A-1003" || pfx_fail "no tracking link"

# Wednesday 4 March, 08:00:30 UTC (09:00:30 Paris): two days on, the paths.
flow_engine 2026-03-04T08:00:30Z
flow_expect 18
[ "$(flow_got w1@sink.test 'Your contacts, in Acme in five minutes')" = 1 ] || pfx_fail "w1: no import path"
[ "$(flow_got w2@sink.test 'Your first workflow, step by step')" = 1 ] || pfx_fail "w2: no workflows path"
[ "$(flow_got w3@sink.test 'The plan that fits your team')" = 1 ] || pfx_fail "w3: no pricing path"
[ "$(flow_got w4@sink.test 'Still finding your way around?')" = 1 ] || pfx_fail "w4 (scanner click): no nudge"
[ "$(flow_got w4@sink.test 'The plan that fits your team')" = 0 ] || pfx_fail "w4: a scanner's click took a path"
[ "$(flow_got w5@sink.test 'Acme for marketers: three things to try')" = 1 ] || pfx_fail "w5: no survey path"
[ "$(flow_got w6@sink.test 'Still finding your way around?')" = 1 ] || pfx_fail "w6: no nudge"
# One path each: the click beat w1's survey answer.
[ "$(flow_got w1@sink.test 'Acme for developers: three things to try')" = 0 ] || pfx_fail "w1 took two paths"
$PD contact show w1@sink.test | grep -q '"path-import"' || pfx_fail "w1: no tag path-import"
$PD contact show w1@sink.test | grep -q '"path-survey"' && pfx_fail "w1: tagged path-survey"
$PD contact show w5@sink.test | grep -q '"path-survey"' || pfx_fail "w5: no tag path-survey"
$PD timeline w1@sink.test | grep -q "	workflow_branch	workflow=welcome-paths step=3 result=then" ||
    pfx_fail "w1: the branch is not in the timeline"
for n in 1 2 3 4 5 6; do
	$PD timeline "w$n@sink.test" | grep -q "	workflow_completed	workflow=welcome-paths" ||
	    { $PD timeline "w$n@sink.test" >&2; pfx_fail "w$n: the enrolment did not end"; }
done
# The same now again: nothing twice.
flow_engine 2026-03-04T08:00:31Z
flow_expect 18

# Tuesday 10 March, 09:00:05: a week after shipping, the survey, to the
# two buyers who may get marketing.
flow_engine 2026-03-10T09:00:05Z
flow_expect 20
[ "$(flow_got p1@sink.test 'How is it going with your order?')" = 1 ] || pfx_fail "p1: no survey"
[ "$(flow_got p2@sink.test 'How is it going with your order?')" = 1 ] || pfx_fail "p2: no survey"
[ "$(flow_got p3@sink.test 'How is it going with your order?')" = 0 ] || pfx_fail "p3 (unsubscribed) got the survey"
# Wednesday: p1 answers the survey.
flow_daemon_start 2026-03-11T14:00:00Z
flow_api /api/contacts '{"email": "p1@sink.test", "fields": {"product_use": "gift"}}'
flow_daemon_stop
# Saturday 14 March, 09:00:05: the recommendations.
flow_engine 2026-03-14T09:00:05Z
flow_expect 22
[ "$(flow_got p1@sink.test 'More gifts they will love')" = 1 ] || pfx_fail "p1: no gift recommendations"
[ "$(flow_got p2@sink.test 'Our best sellers this month')" = 1 ] || pfx_fail "p2: no best sellers"
[ "$(flow_got p2@sink.test 'More gifts they will love')" = 0 ] || pfx_fail "p2 got gift recommendations"
[ "$(flow_sent_at p1@sink.test 4.then.1)" = 2026-03-14T09:00:05Z ] || pfx_fail "p1: recommendations not on Saturday"
# The store agrees with the sink.
$PD report --json >"$PD_DIR/report.json" || pfx_fail "report"
python3 - "$PD_DIR/report.json" <<'PY' || pfx_fail "report: $(cat "$PD_DIR/report.json")"
import json, sys
r = json.load(open(sys.argv[1]))
wfs = {w["workflow"]: w for w in r["workflows"]}
def sent(w):
    return sum(s.get("sent", 0) for s in wfs[w]["steps"])
assert sent("welcome-paths") == 12, sent("welcome-paths")
assert sent("order-confirmation") == 3 and sent("order-shipped") == 3
assert sent("product-survey") == 4, sent("product-survey")
PY
echo "ok: welcome paths import/workflows/pricing/survey/nudge x2 from Monday 09:00 Paris; order, shipping to 3, survey to 2, gift and best sellers"
exit 0

#!/bin/sh
# flow_nps_browse_e2e - two shipped flows through a private Postfix
# relaying to smtp-sink, with a set clock and real HTTP to the tracker:
#
# browse.yaml: contacts who came to the shop by a tracked link (the click
# sets the page-visit cookie) load product pages, whose beacon (/v)
# records page_visit. A second product view within the week, and no
# purchase: the offer four hours later, the one reminder two days after.
# One view only, views of a page that is not a product, a purchase before
# the offer or before the reminder: nothing (more).
#
# nps.yaml: NPS answers through the events API: 9 and 7 get the thanks
# with a perk, then the review request three days later; 3 (price), 4
# (support, with an alert to the owner) and 6 (another reason) each get
# their own first mail and a week later the follow-up; the score and the
# reason are kept on the contact. An answer on a Saturday waits for
# Monday's 09:00 (mon-fri 09:00-18:00). With frequency_caps = 1/1d, a
# contact in both flows gets one marketing mail a day: the later one
# waits for the cap, then for its window.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ -r "$top_srcdir/tests/lib/pfx.sh" ] ||
    { echo "SKIP: the private Postfix harness (tests/lib/pfx.sh) is missing" >&2; exit 77; }
. "$top_srcdir/tests/lib/flow.sh"

flow_setup nps.yaml browse.yaml
# At most one marketing mail a day to a contact.
echo "frequency_caps = 1/1d" >>"$PD_DIR/postdrip.conf"

export POSTDRIP_NOW=2026-03-02T08:00:00Z
$PD contact add rep@sink.test first_name=Rita >/dev/null || pfx_fail "contact add rep"
for c in b1 b2 b3 b4 b5 n1 n2 n3 n4 n5 n6; do
	$PD contact add "$c@sink.test" first_name=$c owner=rep@sink.test >/dev/null ||
	    pfx_fail "contact add $c"
done
# Each b contact got a newsletter last week (recorded as sent).
for c in b1 b2 b3 b4 b5; do
	eval "msg_$c=\$(\$TT sent \"\$PD_DIR/data\" \$(flow_cid $c@sink.test) $c.news@example.com 1772100000)" ||
	    pfx_fail "track_tool sent $c"
done
BOOTS=https://shop.example.com/products/boots
# beacon ADDR URL - the shop's page loads the beacon, with the cookie
beacon() {
	_u=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$2")
	_r=$(curl -s -o /dev/null -w '%{http_code}' -b "$PD_DIR/jar.$1" -A "$FLOW_UA" "$B/v?p=$_u")
	[ "$_r" = 200 ] || pfx_fail "beacon $1: $_r"
}
# npage_visits ADDR - page_visit events in the timeline
npage_visits() { $PD timeline "$1" | grep -c "	page_visit	.*via=beacon"; }

# Monday 2 March, 09:00: they come to the shop from the newsletter; b1,
# b2, b3 and b5 look at the boots, b4 at the pricing page.
flow_daemon_start 2026-03-02T09:00:00Z
for c in b1 b2 b3 b4 b5; do
	eval "flow_click $c@sink.test shop https://shop.example.com/ \$msg_$c"
done
for c in b1 b2 b3 b5; do beacon $c@sink.test $BOOTS; done
beacon b4@sink.test https://shop.example.com/pricing
for c in b1 b2 b3 b4 b5; do flow_wait_timeline $c@sink.test "	page_visit	.*via=beacon"; done
flow_daemon_stop
flow_engine 2026-03-02T09:00:01Z
for c in b1 b2 b3 b5; do
	flow_wait_timeline $c@sink.test "	workflow_enrolled	workflow=browse-abandoned"
done
$PD timeline b4@sink.test | grep -q "workflow_enrolled" && pfx_fail "b4 enrolled on a page that is no product"

# Monday 14:00: b1, b3 and b5 come back to the boots, b4 to the pricing.
flow_daemon_start 2026-03-02T14:00:00Z
for c in b1 b3 b5; do beacon $c@sink.test $BOOTS; done
beacon b4@sink.test https://shop.example.com/pricing
for c in b1 b3 b4 b5; do
	_i=0
	until [ "$(npage_visits $c@sink.test)" = 2 ]; do
		_i=$((_i + 1)); [ $_i -lt 100 ] || pfx_fail "$c: second visit not recorded"; sleep 0.1
	done
done
flow_daemon_stop
flow_engine 2026-03-02T14:00:01Z
# 16:00: b3 buys the boots.
POSTDRIP_NOW=2026-03-02T16:00:00Z $PD event b3@sink.test purchased order=B-1 || pfx_fail "purchase b3"
# 18:00:05, four hours after the second view: the offer, to b1 and b5.
flow_engine 2026-03-02T18:00:05Z
flow_expect 2
for c in b1 b5; do
	[ "$(flow_got $c@sink.test 'Still thinking it over? 10% off until Sunday')" = 1 ] || pfx_fail "$c: no offer"
done
grep -l "^X-Rcpt-Args: <b1@sink.test>" $(pfx_sink_files) | xargs grep -q "You looked at this twice: $BOOTS" ||
    pfx_fail "the offer does not name the product"
$PD timeline b3@sink.test | grep -q "	workflow_exited	workflow=browse-abandoned reason=purchased" ||
    { $PD timeline b3@sink.test >&2; pfx_fail "b3: the purchase did not end the flow"; }
# Tuesday 3 March, 09:00: b5 buys too.
POSTDRIP_NOW=2026-03-03T09:00:00Z $PD event b5@sink.test purchased order=B-2 || pfx_fail "purchase b5"

# Tuesday 10:00: NPS answers come in through the events API.
flow_daemon_start 2026-03-03T10:00:00Z
flow_api /api/events '{"email": "n1@sink.test", "type": "nps", "data": {"score": 9, "reason": "product"}}'
flow_api /api/events '{"email": "n2@sink.test", "type": "nps", "data": {"score": 3, "reason": "price"}}'
flow_api /api/events '{"email": "n3@sink.test", "type": "nps", "data": {"score": 4, "reason": "support", "comment": "three days for an answer"}}'
flow_api /api/events '{"email": "n4@sink.test", "type": "nps", "data": {"score": 6, "reason": "too complex"}}'
flow_api /api/events '{"email": "n5@sink.test", "type": "nps", "data": {"score": 7}}'
# b1 answers too, but had the offer last evening: the thanks waits for
# the cap (Tuesday 18:00:05), then for the window (Wednesday 09:00).
flow_api /api/events '{"email": "b1@sink.test", "type": "nps", "data": {"score": 8}}'
flow_wait_timeline b1@sink.test "	workflow_enrolled	workflow=nps"
flow_expect 8
flow_daemon_stop
[ "$(flow_got n1@sink.test 'Thank you, n1: a month on us')" = 1 ] || pfx_fail "n1: no thanks"
[ "$(flow_got n5@sink.test 'Thank you, n5: a month on us')" = 1 ] || pfx_fail "n5 (7): no thanks"
[ "$(flow_got n2@sink.test 'About the price, n2')" = 1 ] || pfx_fail "n2: no price mail"
[ "$(flow_got n3@sink.test 'We let you down; let us fix it')" = 1 ] || pfx_fail "n3: no support mail"
[ "$(flow_got rep@sink.test 'NPS 4/10 from n3@sink.test: support')" = 1 ] || pfx_fail "rep: no alert for n3"
[ "$(flow_got n4@sink.test 'What would make it a 10?')" = 1 ] || pfx_fail "n4: no feedback mail"
grep -l "^X-Rcpt-Args: <n4@sink.test>" $(pfx_sink_files) | xargs grep -q "You mentioned: too complex." ||
    pfx_fail "n4: the reason is not in the mail"
grep -l "^X-Rcpt-Args: <n1@sink.test>" $(pfx_sink_files) | xargs grep -q "score of 9 out of 10" ||
    pfx_fail "n1: the score is not in the mail"
$PD contact show n1@sink.test | grep -q '"nps_score": "9"' || pfx_fail "n1: $($PD contact show n1@sink.test)"
$PD contact show n1@sink.test | grep -q '"nps_reason": "product"' || pfx_fail "n1: no nps_reason"
$PD contact show n5@sink.test | grep -q 'nps_reason' && pfx_fail "n5: an empty nps_reason was kept"
$PD contact show n1@sink.test | grep -q '"promoter"' || pfx_fail "n1: not tagged promoter"
$PD timeline n2@sink.test | grep -q "	workflow_branch	workflow=nps step=detractor result=then" ||
    { $PD timeline n2@sink.test >&2; pfx_fail "n2: the reason's branch is not in the timeline"; }

# Wednesday 4 March, 09:00:30: b1's thanks.
flow_engine 2026-03-04T09:00:30Z
flow_expect 9
[ "$(flow_sent_at b1@sink.test 2.then.2)" = 2026-03-04T09:00:30Z ] ||
    pfx_fail "b1: thanks at $(flow_sent_at b1@sink.test 2.then.2), want Wednesday 09:00:30"
# 18:00:10: two days after the offer, b1's reminder is due (b5 bought),
# but the thanks went this morning: it waits a day (Thursday 09:00:31).
flow_engine 2026-03-04T18:00:10Z
flow_expect 9
flow_engine 2026-03-05T09:00:35Z
flow_expect 10
[ "$(flow_got b1@sink.test 'Last day for your 10% off')" = 1 ] || pfx_fail "b1: no reminder"
[ "$(flow_sent_at b1@sink.test 5)" = 2026-03-05T09:00:35Z ] ||
    pfx_fail "b1: reminder at $(flow_sent_at b1@sink.test 5), want Thursday 09:00:35"
# Friday 6 March, 10:00:30: the review requests.
flow_engine 2026-03-06T10:00:30Z
flow_expect 12
for c in n1 n5; do
	[ "$(flow_got $c@sink.test 'Would you say it in a review?')" = 1 ] || pfx_fail "$c: no review request"
done
# Saturday 7 March, 12:00: n6 answers 10; the thanks waits for Monday,
# as does b1's review request (due Saturday 09:00:30).
POSTDRIP_NOW=2026-03-07T12:00:00Z $PD event n6@sink.test nps score=10 || pfx_fail "nps n6"
flow_engine 2026-03-07T12:00:05Z
flow_expect 12
flow_engine 2026-03-09T09:00:30Z
flow_expect 14
[ "$(flow_sent_at n6@sink.test 2.then.2)" = 2026-03-09T09:00:30Z ] ||
    pfx_fail "n6: thanks at $(flow_sent_at n6@sink.test 2.then.2), want Monday 09:00:30"
[ "$(flow_sent_at b1@sink.test 2.then.4)" = 2026-03-09T09:00:30Z ] ||
    pfx_fail "b1: review request at $(flow_sent_at b1@sink.test 2.then.4), want Monday 09:00:30"
# Tuesday 10 March, 10:00:30: the detractors' follow-up; b2's week is over
# without a second view, and nothing more goes to the b contacts.
flow_engine 2026-03-10T10:00:30Z
flow_expect 17
for c in n2 n3 n4; do
	[ "$(flow_got $c@sink.test 'What changed at Acme this month')" = 1 ] || pfx_fail "$c: no follow-up"
done
for c in b2 b3 b4; do
	[ "$(flow_got $c@sink.test 'Still thinking it over? 10% off until Sunday')" = 0 ] || pfx_fail "$c got the offer"
done
[ "$(flow_got b5@sink.test 'Last day for your 10% off')" = 0 ] || pfx_fail "b5 bought and got the reminder"
$PD timeline b2@sink.test | grep -q "	workflow_completed	workflow=browse-abandoned" ||
    { $PD timeline b2@sink.test >&2; pfx_fail "b2: the flow did not end after the week"; }
echo "ok: browse offer to 2 of 5 viewers, reminder to 1; NPS thanks/review to 3, price/support/feedback to 3, Saturday's waited for Monday"
exit 0

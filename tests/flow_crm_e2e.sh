#!/bin/sh
# flow_crm_e2e - the shipped CRM workflows (conf/workflows/crm.yaml)
# through a private Postfix relaying to smtp-sink, with a set clock; the
# enrichment service is a python3 http.server on 127.0.0.1 started here
# (and stopped by its pid):
#
# a new lead gets the webhook; the service's JSON answer is kept on the
# contact (company_size, industry) and decides the path: 250 people, the
# enterprise mail and an alert to the owner; 12, the self-serve mail; a
# lead the service does not know, or whose answer is not JSON, the
# general one (its fields untouched).
# A lost lead gets the slow nurture (14 days on, on a Tuesday to
# Thursday, then monthly); a lost lead who becomes a customer leaves the
# nurture and gets the onboarding series, as does a new customer.

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
[ -r "$top_srcdir/tests/lib/pfx.sh" ] ||
    { echo "SKIP: the private Postfix harness (tests/lib/pfx.sh) is missing" >&2; exit 77; }
. "$top_srcdir/tests/lib/flow.sh"

flow_setup
# The enrichment service: it answers by the lead's address and writes
# down each request (its body and delivery id).
eport=$(pfx_free_port)
cat >"$PD_DIR/enrich.py" <<'PY'
import http.server, json, sys
port, log = int(sys.argv[1]), sys.argv[2]
KNOWN = {
    "l1@sink.test": {"company": {"name": "Initech", "size": 250, "industry": "retail"}},
    "l2@sink.test": {"company": {"name": "Tiny Ltd", "size": 12}},
}
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        req = json.loads(body)
        with open(log, "a") as f:
            f.write("%s %s %s %s\n" % (self.path, self.headers.get("X-Postdrip-Delivery"),
                                       self.headers.get("Authorization"), json.dumps(req, sort_keys=True)))
        answer = json.dumps(KNOWN.get(req.get("email"), {"company": None})).encode()
        ctype = "application/json"
        if req.get("email") == "l7@sink.test":
            answer, ctype = b"accepted", "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
pfx_spawn enrich python3 "$PD_DIR/enrich.py" "$eport" "$PD_DIR/enrich.log"
pfx_wait_listen "$eport" 10 || pfx_fail "the enrichment service is not listening"
sed "s|https://enrich.example.com/v1/company|http://127.0.0.1:$eport/v1/company|" \
    "$top_srcdir/conf/workflows/crm.yaml" >"$PD_DIR/workflows/crm.yaml"
grep -q "127.0.0.1:$eport" "$PD_DIR/workflows/crm.yaml" || pfx_fail "the webhook URL was not set"
$PD check || pfx_fail "postdrip check"

# Monday 2 March 2026, 10:00 UTC: the CRM reports four new leads (for l7
# the service answers "accepted", not JSON), two lost ones and a new
# customer.
export POSTDRIP_NOW=2026-03-02T10:00:00Z
for n in 1 2 3 4 5 6 7; do
	$PD contact add "l$n@sink.test" first_name=L$n owner=rep@sink.test >/dev/null ||
	    pfx_fail "contact add l$n"
done
$PD contact add rep@sink.test first_name=Rita >/dev/null || pfx_fail "contact add rep"
$PD contact add l1@sink.test company=Initech >/dev/null || pfx_fail "company l1"
for n in 1 2 3 7; do $PD event "l$n@sink.test" crm_status status=new || pfx_fail "new l$n"; done
$PD event l4@sink.test crm_status status=lost || pfx_fail "lost l4"
$PD event l5@sink.test crm_status status=lost || pfx_fail "lost l5"
$PD event l6@sink.test crm_status status=customer date=2026-03-02 || pfx_fail "customer l6"
flow_engine 2026-03-02T10:00:05Z
flow_expect 6
# The service was asked once per new lead, with the body of the step.
[ "$(wc -l <"$PD_DIR/enrich.log")" = 4 ] || pfx_fail "requests: $(cat "$PD_DIR/enrich.log")"
grep -q '^/v1/company [0-9]*\.[0-9]* Bearer change-me {"company": "Initech", "email": "l1@sink.test"}$' \
    "$PD_DIR/enrich.log" || pfx_fail "request for l1: $(cat "$PD_DIR/enrich.log")"
# Its answer is on the contacts, and decided the paths.
$PD contact show l1@sink.test | grep -q '"company_size": 250' || pfx_fail "l1: $($PD contact show l1@sink.test)"
$PD contact show l1@sink.test | grep -q '"industry": "retail"' || pfx_fail "l1: no industry"
$PD contact show l2@sink.test | grep -q '"company_size": 12' || pfx_fail "l2: no company_size"
$PD contact show l3@sink.test | grep -q 'company_size' && pfx_fail "l3: a company_size the service did not give"
$PD timeline l1@sink.test | grep -q "	field_changed	field=company_size value=250 .*workflow=crm-new-lead" ||
    { $PD timeline l1@sink.test >&2; pfx_fail "l1: the saved field is not in the timeline"; }
$PD timeline l3@sink.test | grep "	webhook	" | grep -q "unanswered=company_size,industry" ||
    { $PD timeline l3@sink.test >&2; pfx_fail "l3: the unanswered fields are not in the webhook event"; }
$PD timeline l7@sink.test | grep "	webhook	" | grep -q "not_saved=answer is not a JSON object" ||
    { $PD timeline l7@sink.test >&2; pfx_fail "l7: the webhook event does not say the answer was not saved"; }
[ "$(flow_got l7@sink.test 'Thanks for your interest in Acme')" = 1 ] || pfx_fail "l7: no general mail"
[ "$(flow_got l1@sink.test 'Acme for Initech')" = 1 ] || pfx_fail "l1: no enterprise mail"
[ "$(flow_got rep@sink.test 'New lead: l1@sink.test (Initech, 250)')" = 1 ] || pfx_fail "rep: no alert"
# The rep's contact record has a first name: the alert greets her by it.
for f in $(pfx_sink_files); do
	grep -q '^Subject: New lead: l1@sink.test' "$f" || continue
	grep -q '^Hi Rita,' "$f" || pfx_fail "the alert does not greet its owner: $(grep '^Hi ' "$f")"
done
[ "$(flow_got l2@sink.test 'Get going with Acme in an afternoon')" = 1 ] || pfx_fail "l2: no self-serve mail"
[ "$(flow_got l3@sink.test 'Thanks for your interest in Acme')" = 1 ] || pfx_fail "l3: no general mail"
[ "$(flow_got l6@sink.test 'Welcome aboard, L6')" = 1 ] || pfx_fail "l6: no onboarding"
$PD contact show l1@sink.test | grep -q '"enterprise"' || pfx_fail "l1: not tagged enterprise"
$PD contact show l4@sink.test | grep -q '"crm_status": "lost"' || pfx_fail "l4: crm_status not kept"
$PD contact show l6@sink.test | grep -q '"customer_since": "2026-03-02"' || pfx_fail "l6: customer_since not kept"
# A re-run sends nothing twice and calls nobody again.
flow_engine 2026-03-02T10:00:06Z
flow_expect 6
[ "$(wc -l <"$PD_DIR/enrich.log")" = 4 ] || pfx_fail "the service was called again"

# Thursday 5 March: onboarding-2 to l6. Friday 6 March: l5 becomes a customer.
flow_engine 2026-03-05T10:00:05Z
flow_expect 7
[ "$(flow_got l6@sink.test 'Is your mail server connected?')" = 1 ] || pfx_fail "l6: no onboarding-2"
POSTDRIP_NOW=2026-03-06T11:00:00Z $PD event l5@sink.test crm_status status=customer || pfx_fail "customer l5"
flow_engine 2026-03-06T11:00:05Z
flow_expect 8
[ "$(flow_got l5@sink.test 'Welcome aboard, L5')" = 1 ] || pfx_fail "l5: no onboarding"
$PD timeline l5@sink.test | grep -q "	workflow_exited	workflow=crm-lost" ||
    { $PD timeline l5@sink.test >&2; pfx_fail "l5: still in the nurture"; }

# Monday 16 March, 10:00: fourteen days on, but the nurture goes out on
# Tuesdays to Thursdays only; Tuesday 10:00 it goes, to l4 alone.
flow_engine 2026-03-12T10:00:05Z
flow_expect 10
[ "$(flow_got l6@sink.test 'Your first report')" = 1 ] || pfx_fail "l6: no onboarding-3"
[ "$(flow_got l5@sink.test 'Is your mail server connected?')" = 1 ] || pfx_fail "l5: no onboarding-2"
flow_engine 2026-03-16T10:00:05Z
flow_expect 10
flow_engine 2026-03-17T10:00:30Z
flow_expect 11
[ "$(flow_got l4@sink.test 'A guide you might find useful')" = 1 ] || pfx_fail "l4: no nurture-1"
[ "$(flow_sent_at l4@sink.test 3)" = 2026-03-17T10:00:30Z ] || pfx_fail "l4: nurture-1 at $(flow_sent_at l4@sink.test 3)"
[ "$(flow_got l5@sink.test 'A guide you might find useful')" = 0 ] || pfx_fail "l5 (a customer) got the nurture"
# A month on (Thursday 16 April), the second; l5's onboarding is over.
flow_engine 2026-04-16T10:00:30Z
flow_expect 13
[ "$(flow_got l5@sink.test 'Your first report')" = 1 ] || pfx_fail "l5: no onboarding-3"
[ "$(flow_got l4@sink.test 'How a team like yours doubled its replies')" = 1 ] || pfx_fail "l4: no nurture-2"
echo "ok: enrichment answer saved and branched (250, 12, unknown); onboarding for 2 customers; nurture from a Tuesday, not to the won-back lead"
exit 0

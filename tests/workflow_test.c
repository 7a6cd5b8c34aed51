/*
 * workflow_test - the workflow language: every error path with its exact
 * "file:line: message", the flattened step graph, conditions, triggers,
 * exit rules, time zones, send windows, date triggers and waits, the
 * directory checker, and the example workflows shipped in conf/workflows.
 */
#include "pdconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "util/clock.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "testutil.h"
#include "util/tzone.h"
#include "workflow/workflow.h"

/* load - a set from text named t.yaml; errs gets the diagnostics */

static WORKFLOW_SET *
load(const char *yaml, STRBUF *errs)
{
	strbuf_reset(errs);
	return (workflow_load_string("t.yaml", yaml, strlen(yaml), errs));
}

/* at - seconds of an ISO 8601 time */

static time_t
at(const char *iso)
{
	time_t	t;

	if (clock_parse(iso, &t) < 0)
		fail_msg("bad time in test: %s", iso);
	return (t);
}

/*
 * Every error the parser can report, with its exact text. One row per
 * path; a row fails when the set loads or the text differs.
 */
typedef struct ERR_CASE {
	const char *name;
	const char *yaml;
	const char *want;
} ERR_CASE;

static const ERR_CASE err_cases[] = {
	{"split one arm",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - split:\n"
	    "      - {arm: a, steps: [end]}\n",
	    "t.yaml:5: split: expected a list of at least two arms (arm: NAME, weight: N, steps: [...])\n"},
	{"split arm twice",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - split:\n"
	    "      - arm: a\n"
	    "      - arm: a\n",
	    "t.yaml:6: split: arm \"a\" already named on line 5\n"},
	{"split bad weight",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - split:\n"
	    "      - {arm: a, weight: -1}\n"
	    "      - {arm: b}\n",
	    "t.yaml:5: weight: expected a whole number from 0 to 10000, got \"-1\"\n"},
	{"split all zero",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - split:\n"
	    "      - {arm: a, weight: 0}\n"
	    "      - {arm: b, weight: 0}\n",
	    "t.yaml:5: split: every arm has weight 0\n"},
	{"split unknown key",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - split:\n"
	    "      - {arm: a, then: [end]}\n"
	    "      - {arm: b}\n",
	    "t.yaml:5: unknown key \"then\" in a split arm (expected arm, weight, steps)\n"},
	{"split no name",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - split:\n"
	    "      - {weight: 2}\n"
	    "      - {arm: b}\n",
	    "t.yaml:5: split: an arm needs a name (arm: NAME)\n"},
	{"split promote unknown",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - split:\n"
	    "      - {arm: a}\n"
	    "      - {arm: b}\n"
	    "    promote: c\n",
	    "t.yaml:7: promote: no arm is called \"c\"\n"},
	{"split bad step in arm",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - split:\n"
	    "      - {arm: a, steps: [{wait: soon}]}\n"
	    "      - {arm: b}\n",
	    "t.yaml:5: wait: bad duration \"soon\" (use 90s, 15m, 2h, 3d or 2w)\n"},
	{"alias",
	    "workflow: &a x\n"
	    "trigger: *a\n"
	    "steps: [end]\n",
	    "t.yaml:2: YAML aliases (*name) are not supported\n"},
	{"duplicate key",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps: [end]\n"
	    "steps: [end]\n",
	    "t.yaml:4: duplicate key \"steps\" (first on line 3)\n"},
	{"mapping key not text",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps: [end]\n"
	    "? [a]\n"
	    ": b\n",
	    "t.yaml:4: a mapping key must be plain text\n"},
	{"not a mapping",
	    "- a\n"
	    "- b\n",
	    "t.yaml:1: expected a mapping that starts with \"workflow: NAME\" or \"segment: NAME\", got a list\n"},
	{"neither",
	    "name: x\n",
	    "t.yaml:1: expected \"workflow: NAME\" or \"segment: NAME\" in this document\n"},
	{"both",
	    "workflow: x\n"
	    "segment: y\n",
	    "t.yaml:1: a document is a workflow or a segment, not both\n"},
	{"unknown workflow key",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps: [end]\n"
	    "step: [end]\n",
	    "t.yaml:4: unknown key \"step\" in workflow\n"},
	{"bad workflow name",
	    "workflow: a b\n"
	    "trigger: subscribed\n"
	    "steps: [end]\n",
	    "t.yaml:1: workflow: bad name \"a b\" (a letter or digit, then letters, digits, '.', '_' or '-'; at most 63)\n"},
	{"no trigger",
	    "workflow: x\n"
	    "steps: [end]\n",
	    "t.yaml:1: workflow x has no trigger (use \"trigger: manual\" for none)\n"},
	{"no steps",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps: []\n",
	    "t.yaml:3: workflow x has no steps\n"},
	{"no steps key",
	    "workflow: x\n"
	    "trigger: subscribed\n",
	    "t.yaml:1: workflow x has no steps\n"},
	{"bad stream",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "stream: promo\n"
	    "steps: [end]\n",
	    "t.yaml:3: stream: expected marketing or transactional, got \"promo\"\n"},
	{"bad enabled",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "enabled: perhaps\n"
	    "steps: [end]\n",
	    "t.yaml:3: enabled: expected yes or no, got \"perhaps\"\n"},
	{"description not text",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "description: [a, b]\n"
	    "steps: [end]\n",
	    "t.yaml:3: description: expected text, got a list\n"},
	{"unknown trigger key",
	    "workflow: x\n"
	    "trigger:\n"
	    "  evnt: subscribed\n"
	    "steps: [end]\n",
	    "t.yaml:3: unknown key \"evnt\" in trigger\n"},
	{"two trigger kinds",
	    "workflow: x\n"
	    "trigger:\n"
	    "  event: subscribed\n"
	    "  yearly: birthday\n"
	    "steps: [end]\n",
	    "t.yaml:4: trigger: both event and yearly; a workflow has one trigger\n"},
	{"no trigger kind",
	    "workflow: x\n"
	    "trigger:\n"
	    "  before: 3d\n"
	    "steps: [end]\n",
	    "t.yaml:3: trigger: needs one of event, yearly, date, segment, inactive or manual\n"},
	{"where on yearly",
	    "workflow: x\n"
	    "trigger:\n"
	    "  yearly: birthday\n"
	    "  where: {a: b}\n"
	    "steps: [end]\n",
	    "t.yaml:4: trigger: where does not apply to a yearly trigger\n"},
	{"at on date",
	    "workflow: x\n"
	    "trigger:\n"
	    "  date: trial_end\n"
	    "  at: \"09:00\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: trigger: at does not apply to a date trigger\n"},
	{"bad event type",
	    "workflow: x\n"
	    "trigger: Sub Scribed\n"
	    "steps: [end]\n",
	    "t.yaml:2: trigger: bad event type \"Sub Scribed\" (lower case letters, digits, '.', '_' or '-')\n"},
	{"yearly offset too big",
	    "workflow: x\n"
	    "trigger:\n"
	    "  yearly: birthday\n"
	    "  before: 400d\n"
	    "steps: [end]\n",
	    "t.yaml:3: yearly: an offset of more than 300 days\n"},
	{"before and after",
	    "workflow: x\n"
	    "trigger:\n"
	    "  date: trial_end\n"
	    "  before: 3d\n"
	    "  after: 1d\n"
	    "steps: [end]\n",
	    "t.yaml:5: use before or after, not both\n"},
	{"bad at",
	    "workflow: x\n"
	    "trigger:\n"
	    "  yearly: birthday\n"
	    "  at: \"25:00\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: at: bad time of day \"25:00\" (use HH:MM, e.g. 09:30)\n"},
	{"manual no",
	    "workflow: x\n"
	    "trigger:\n"
	    "  manual: no\n"
	    "steps: [end]\n",
	    "t.yaml:3: manual: only \"manual: yes\" makes sense\n"},
	{"trigger list",
	    "workflow: x\n"
	    "trigger: [subscribed]\n"
	    "steps: [end]\n",
	    "t.yaml:2: trigger: expected a mapping, got a list\n"},
	{"bad where",
	    "workflow: x\n"
	    "trigger:\n"
	    "  event: clicked\n"
	    "  where: pricing\n"
	    "steps: [end]\n",
	    "t.yaml:4: where: expected a mapping, got text\n"},
	{"unknown condition key",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  colour: blue\n"
	    "steps: [end]\n",
	    "t.yaml:4: unknown condition \"colour\" (expected opened, clicked, replied, bounced, complained, unsubscribed, event, field, tag, list, score, segment, active, inactive, all, any or not)\n"},
	{"unknown condition word",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - if: purchased\n"
	    "    then: [end]\n",
	    "t.yaml:4: unknown condition \"purchased\" (for an event of that type, write \"event: purchased\")\n"},
	{"bad field expression",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  field: \"country is FR\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: field: expected \"NAME OP VALUE\" with OP one of = != < <= > >= contains exists missing, got \"country is FR\"\n"},
	{"field exists with value",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  field: \"company exists yes\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: field: nothing may follow \"exists\"\n"},
	{"field without value",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  field: \"country =\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: field: no value to compare with in \"country =\"\n"},
	{"bad score",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  score: \"lots\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: score: expected a comparison such as \">= 50\", got \"lots\"\n"},
	{"all not a list",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  all: {tag: a}\n"
	    "steps: [end]\n",
	    "t.yaml:4: all: expected a list of conditions, got a mapping\n"},
	{"empty any",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  any: []\n"
	    "steps: [end]\n",
	    "t.yaml:4: any: empty list of conditions\n"},
	{"event no without type",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  event: no\n"
	    "steps: [end]\n",
	    "t.yaml:4: event: expected an event type, got \"no\"\n"},
	{"opened maybe",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  opened: maybe\n"
	    "steps: [end]\n",
	    "t.yaml:4: opened: expected yes, no or a mapping, got \"maybe\"\n"},
	{"link on opened",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  opened:\n"
	    "    link: pricing\n"
	    "steps: [end]\n",
	    "t.yaml:5: link: only clicked events have links\n"},
	{"where two keys",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  event:\n"
	    "    type: purchased\n"
	    "    where: {sku: a, size: b}\n"
	    "steps: [end]\n",
	    "t.yaml:6: where: at most 1 key\n"},
	{"event without type",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  event:\n"
	    "    within: 3d\n"
	    "steps: [end]\n",
	    "t.yaml:5: event condition needs a type\n"},
	{"unknown key in event condition",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  clicked:\n"
	    "    url: x\n"
	    "steps: [end]\n",
	    "t.yaml:5: unknown key \"url\" in event condition\n"},
	{"empty condition",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - if: {}\n"
	    "    then: [end]\n",
	    "t.yaml:4: if: empty condition\n"},
	{"missing condition",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - if:\n"
	    "    then: [end]\n",
	    "t.yaml:4: if: missing condition\n"},
	{"bad tag name",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  tag: \"two words\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: tag: bad name \"two words\" (a letter, then letters, digits, '.', '_' or '-'; at most 64)\n"},
	{"bad within",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  clicked:\n"
	    "    within: soon\n"
	    "steps: [end]\n",
	    "t.yaml:5: within: bad duration \"soon\" (use 90s, 15m, 2h, 3d or 2w)\n"},
	{"unknown segment",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  segment: vips\n"
	    "steps: [end]\n",
	    "t.yaml:4: unknown segment \"vips\"\n"},
	{"segment trigger unknown",
	    "workflow: x\n"
	    "trigger:\n"
	    "  segment: vips\n"
	    "steps: [end]\n",
	    "t.yaml:3: unknown segment \"vips\"\n"},
	{"segment cycle",
	    "segment: a\n"
	    "where:\n"
	    "  segment: b\n"
	    "---\n"
	    "segment: b\n"
	    "where:\n"
	    "  any:\n"
	    "    - segment: a\n"
	    "    - tag: x\n",
	    "t.yaml:1: segment \"a\" refers to itself\n"
	    "t.yaml:5: segment \"b\" refers to itself\n"},
	{"duplicate segment",
	    "segment: a\n"
	    "where: {tag: x}\n"
	    "---\n"
	    "segment: a\n"
	    "where: {tag: y}\n",
	    "t.yaml:4: segment \"a\" is already defined at t.yaml:1\n"},
	{"duplicate workflow",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps: [end]\n"
	    "---\n"
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps: [end]\n",
	    "t.yaml:5: workflow \"x\" is already defined at t.yaml:1\n"},
	{"segment without where",
	    "segment: a\n",
	    "t.yaml:1: segment a has no where: condition\n"},
	{"unknown segment key",
	    "segment: a\n"
	    "where: {tag: x}\n"
	    "who: all\n",
	    "t.yaml:3: unknown key \"who\" in segment\n"},
	{"unknown step key",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - wiat: 2d\n",
	    "t.yaml:4: unknown step \"wiat\" (expected send, wait, wait_until, wait_for, if, set, add_tag, remove_tag, add_score, notify, webhook, unsubscribe, split, goto or end)\n"},
	{"unknown step word",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - stop\n",
	    "t.yaml:4: unknown step \"stop\" (expected send, wait, wait_until, wait_for, if, set, add_tag, remove_tag, add_score, notify, webhook, unsubscribe, split, goto or end)\n"},
	{"step with only label",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - label: a\n",
	    "t.yaml:4: unknown step \"label\" (expected send, wait, wait_until, wait_for, if, set, add_tag, remove_tag, add_score, notify, webhook, unsubscribe, split, goto or end)\n"},
	{"two step kinds",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - send: a\n"
	    "    wait: 1d\n",
	    "t.yaml:5: step has both send and wait; write two steps\n"},
	{"unknown key in step",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - send: a\n"
	    "    timeout: 1d\n",
	    "t.yaml:5: unknown key \"timeout\" in send step\n"},
	{"step is a list",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - [send, a]\n",
	    "t.yaml:4: a step is a word such as end or a mapping such as \"send: NAME\"; got a list\n"},
	{"bad label",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - label: 1st\n"
	    "    send: a\n",
	    "t.yaml:4: label: bad name \"1st\" (a letter, then letters, digits, '.', '_' or '-'; at most 48)\n"},
	{"duplicate label",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - label: a\n"
	    "    send: a\n"
	    "  - label: a\n"
	    "    send: b\n",
	    "t.yaml:7: label \"a\" already used on line 5\n"},
	{"send not text",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - send: [a]\n",
	    "t.yaml:4: send: expected text, got a list\n"},
	{"send empty",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - send:\n",
	    "t.yaml:4: send: expected text, got empty\n"},
	{"bad wait",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - wait: 3 days\n",
	    "t.yaml:4: wait: bad duration \"3 days\" (use 90s, 15m, 2h, 3d or 2w)\n"},
	{"zero wait",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - wait: 0s\n",
	    "t.yaml:4: wait: bad duration \"0s\" (use 90s, 15m, 2h, 3d or 2w)\n"},
	{"bad wait_until date",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - wait_until: 2026-13-01\n",
	    "t.yaml:4: wait_until: bad date \"2026-13-01\" (use 2026-12-24 or 2026-12-24T09:00:00Z)\n"},
	{"wait_for without timeout",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - wait_for: purchased\n",
	    "t.yaml:4: wait_for: needs a timeout\n"},
	{"if without branches",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - if: opened\n",
	    "t.yaml:4: if: needs then or else\n"},
	{"then not a list",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - if: opened\n"
	    "    then: end\n",
	    "t.yaml:5: then: expected a list of steps, got text\n"},
	{"set not mapping",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - set: plan\n",
	    "t.yaml:4: set: expected a mapping, got text\n"},
	{"set nothing",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - set: {}\n",
	    "t.yaml:4: set: no fields\n"},
	{"set email",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - set:\n"
	    "      email: a@b.example\n",
	    "t.yaml:5: set: a workflow cannot change \"email\"\n"},
	{"set bad field",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - set:\n"
	    "      \"two words\": a\n",
	    "t.yaml:5: set: bad field name \"two words\"\n"},
	{"bad add_score",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - add_score: ten\n",
	    "t.yaml:4: add_score: expected a whole number (may be negative), got \"ten\"\n"},
	{"bad notify target",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - notify: sales\n"
	    "    template: t\n",
	    "t.yaml:4: notify: expected owner or an address, got \"sales\"\n"},
	{"notify to without owner",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - notify: a@example.com\n"
	    "    to: b@example.com\n"
	    "    template: t\n",
	    "t.yaml:5: notify: \"to\" is the fallback of \"notify: owner\"\n"},
	{"notify without template",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - notify: owner\n",
	    "t.yaml:4: notify: needs a template\n"},
	{"notify bad to",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - notify: owner\n"
	    "    to: sales\n"
	    "    template: t\n",
	    "t.yaml:5: to: bad address \"sales\"\n"},
	{"webhook scheme",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - webhook: ftp://example.com/x\n",
	    "t.yaml:4: webhook: the URL must start with https:// or http://\n"},
	{"webhook url space",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - webhook: \"https://example.com/a b\"\n",
	    "t.yaml:4: webhook: bad URL\n"},
	{"webhook retries",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - webhook: https://example.com/x\n"
	    "    retries: 50\n",
	    "t.yaml:5: retries: expected a number from 0 to 20\n"},
	{"webhook timeout",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - webhook: https://example.com/x\n"
	    "    timeout: 10m\n",
	    "t.yaml:5: timeout: a webhook waits at most 5m\n"},
	{"webhook header name",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - webhook: https://example.com/x\n"
	    "    headers:\n"
	    "      \"X Bad\": 1\n",
	    "t.yaml:6: headers: bad header name \"X Bad\"\n"},
	{"webhook header value",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - webhook: https://example.com/x\n"
	    "    headers:\n"
	    "      X-Token: \"a\\r\\nBcc: x\"\n",
	    "t.yaml:6: headers: line break in the value of X-Token\n"},
	{"webhook headers list",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - webhook: https://example.com/x\n"
	    "    headers: [a]\n",
	    "t.yaml:5: headers: expected a mapping, got a list\n"},
	{"goto missing",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - send: a\n"
	    "  - goto: nowhere\n",
	    "t.yaml:5: goto: no step is labelled \"nowhere\"\n"},
	{"goto loop",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - label: top\n"
	    "    send: a\n"
	    "  - add_score: 1\n"
	    "  - goto: top\n",
	    "t.yaml:7: goto \"top\" loops back without a wait: the workflow would repeat at once\n"},
	{"goto loop through if",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - label: top\n"
	    "    if: opened\n"
	    "    then:\n"
	    "      - send: a\n"
	    "    else:\n"
	    "      - goto: top\n",
	    "t.yaml:9: goto \"top\" loops back without a wait: the workflow would repeat at once\n"},
	{"end with value",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - end: later\n",
	    "t.yaml:4: end: takes no value\n"},
	{"unsubscribe bad reason",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - unsubscribe: \"no reason\"\n",
	    "t.yaml:4: unsubscribe: bad name \"no reason\" (a letter, then letters, digits, '.', '_' or '-'; at most 64)\n"},
	{"nested too deeply",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - label: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
	    "    if: opened\n"
	    "    then:\n"
	    "      - if: opened\n"
	    "        then:\n"
	    "          - if: opened\n"
	    "            then:\n"
	    "              - end\n",
	    "t.yaml:11: steps nested too deeply (give this step a label)\n"},
	{"bad days",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "send:\n"
	    "  days: mon-fry\n"
	    "steps: [end]\n",
	    "t.yaml:4: days: expected days such as mon-fri, mon,wed,fri or weekdays\n"},
	{"bad hours",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "send:\n"
	    "  hours: \"9-17\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: hours: expected ranges such as 09:00-17:00 (at most 8)\n"},
	{"empty hours range",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "send:\n"
	    "  hours: \"09:00-09:00\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: hours: expected ranges such as 09:00-17:00 (at most 8)\n"},
	{"unknown zone",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "send:\n"
	    "  timezone: Mars/Olympus\n"
	    "steps: [end]\n",
	    "t.yaml:4: timezone: unknown time zone \"Mars/Olympus\" (use an IANA name such as Europe/Paris)\n"},
	{"zone path",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "send:\n"
	    "  timezone: ../../etc/passwd\n"
	    "steps: [end]\n",
	    "t.yaml:4: timezone: unknown time zone \"../../etc/passwd\" (use an IANA name such as Europe/Paris)\n"},
	{"unknown send key",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "send:\n"
	    "  hour: \"09:00-17:00\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: unknown key \"hour\" in send\n"},
	{"send not mapping",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "send: later\n"
	    "steps: [end]\n",
	    "t.yaml:3: send: expected a mapping, got text\n"},
	{"bad reentry",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "reentry: twice\n"
	    "steps: [end]\n",
	    "t.yaml:3: reentry: expected once, always, restart, or \"once per\" a duration such as 30d, got \"twice\"\n"},
	{"bad exit",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "exit:\n"
	    "  - purchased\n"
	    "steps: [end]\n",
	    "t.yaml:4: unknown condition \"purchased\" (for an event of that type, write \"event: purchased\")\n"},
	{"bad goal",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "goal:\n"
	    "  field: \"plan\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: field: expected \"NAME OP VALUE\" with OP one of = != < <= > >= contains exists missing, got \"plan\"\n"},
	{"several errors",
	    "workflow: x\n"
	    "trigger:\n"
	    "  evnt: subscribed\n"
	    "send:\n"
	    "  days: someday\n"
	    "steps:\n"
	    "  - wait: forever\n",
	    "t.yaml:3: unknown key \"evnt\" in trigger\n"
	    "t.yaml:5: days: expected days such as mon-fri, mon,wed,fri or weekdays\n"
	    "t.yaml:7: wait: bad duration \"forever\" (use 90s, 15m, 2h, 3d or 2w)\n"},
	{"where bad key",
	    "workflow: x\n"
	    "trigger:\n"
	    "  event: clicked\n"
	    "  where: {\"a b\": c}\n"
	    "steps: [end]\n",
	    "t.yaml:4: where: bad key \"a b\"\n"},
	{"where value not text",
	    "workflow: x\n"
	    "trigger:\n"
	    "  event: clicked\n"
	    "  where: {link: [a]}\n"
	    "steps: [end]\n",
	    "t.yaml:4: where: expected text, got a list\n"},
	{"manual maybe",
	    "workflow: x\n"
	    "trigger:\n"
	    "  manual: maybe\n"
	    "steps: [end]\n",
	    "t.yaml:3: manual: expected yes or no, got \"maybe\"\n"},
	{"type without event",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  clicked:\n"
	    "    type: purchased\n"
	    "steps: [end]\n",
	    "t.yaml:5: clicked: \"type\" only goes with event:\n"},
	{"link and where",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  clicked:\n"
	    "    link: a\n"
	    "    where: {campaign: b}\n"
	    "steps: [end]\n",
	    "t.yaml:6: where: an event condition tests one key\n"},
	{"yearly bad field",
	    "workflow: x\n"
	    "trigger:\n"
	    "  yearly: 1st\n"
	    "steps: [end]\n",
	    "t.yaml:3: yearly: bad name \"1st\" (a letter, then letters, digits, '.', '_' or '-'; at most 64)\n"},
	{"segment bad name",
	    "segment: \"a b\"\n"
	    "where: {tag: x}\n",
	    "t.yaml:1: segment: bad name \"a b\" (a letter, then letters, digits, '.', '_' or '-'; at most 64)\n"},
	{"segment trigger bad name",
	    "workflow: x\n"
	    "trigger:\n"
	    "  segment: [a]\n"
	    "steps: [end]\n",
	    "t.yaml:3: segment: expected text, got a list\n"},
	{"bad inactive",
	    "workflow: x\n"
	    "trigger:\n"
	    "  inactive: long\n"
	    "steps: [end]\n",
	    "t.yaml:3: inactive: bad duration \"long\" (use 90s, 15m, 2h, 3d or 2w)\n"},
	{"timezone_field bad",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "send:\n"
	    "  timezone_field: \"my tz\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: timezone_field: bad name \"my tz\" (a letter, then letters, digits, '.', '_' or '-'; at most 64)\n"},
	{"reentry zero",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "reentry: once per 0d\n"
	    "steps: [end]\n",
	    "t.yaml:3: reentry: expected once, always, restart, or \"once per\" a duration such as 30d, got \"once per 0d\"\n"},
	{"secret not text",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - webhook: https://example.com/x\n"
	    "    secret: [a]\n",
	    "t.yaml:5: secret: expected text, got a list\n"},
	{"steps mapping",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  send: a\n",
	    "t.yaml:4: steps: expected a list of steps, got a mapping\n"},
	{"on_event mapping",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - wait_for: clicked\n"
	    "    timeout: 1d\n"
	    "    on_event: {send: a}\n",
	    "t.yaml:6: on_event: expected a list of steps, got a mapping\n"},
	{"wait_for bad type",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - wait_for: Clicked\n"
	    "    timeout: 1d\n",
	    "t.yaml:4: wait_for: bad event type \"Clicked\" (lower case letters, digits, '.', '_' or '-')\n"},
	{"wait_for bad timeout",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - wait_for: clicked\n"
	    "    timeout: 1 day\n",
	    "t.yaml:5: timeout: bad duration \"1 day\" (use 90s, 15m, 2h, 3d or 2w)\n"},
	{"add_tag bad",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - add_tag: \"two words\"\n",
	    "t.yaml:4: add_tag: bad name \"two words\" (a letter, then letters, digits, '.', '_' or '-'; at most 64)\n"},
	{"remove_tag empty",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - remove_tag:\n",
	    "t.yaml:4: remove_tag: expected text, got empty\n"},
	{"wait_until bad field",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - wait_until: \"trial end\"\n",
	    "t.yaml:4: wait_until: bad name \"trial end\" (a letter, then letters, digits, '.', '_' or '-'; at most 64)\n"},
	{"wait_until before bad",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - wait_until: trial_end\n"
	    "    before: soon\n",
	    "t.yaml:5: before: bad duration \"soon\" (use 90s, 15m, 2h, 3d or 2w)\n"},
	{"notify template bad",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - notify: owner\n"
	    "    template: \"a/b\"\n",
	    "t.yaml:5: template: bad name \"a/b\" (a letter, then letters, digits, '.', '_' or '-'; at most 48)\n"},
	{"send bad template name",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - send: ../etc/passwd\n",
	    "t.yaml:4: send: bad name \"../etc/passwd\" (a letter, then letters, digits, '.', '_' or '-'; at most 48)\n"},
	{"goto bad label",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - goto: \"no where\"\n",
	    "t.yaml:4: goto: bad name \"no where\" (a letter, then letters, digits, '.', '_' or '-'; at most 48)\n"},
	{"score missing number",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  score: \">=\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: score: expected a comparison such as \">= 50\", got \">=\"\n"},
	{"score contains",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  score: \"contains 5\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: score: expected a comparison such as \">= 50\", got \"contains 5\"\n"},
	{"not empty",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  not:\n"
	    "steps: [end]\n",
	    "t.yaml:4: not: missing condition\n"},
	{"condition is a number",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience: 5\n"
	    "steps: [end]\n",
	    "t.yaml:3: unknown condition \"5\"\n"},
	{"event type bad in condition",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  event: Bought\n"
	    "steps: [end]\n",
	    "t.yaml:4: event: bad event type \"Bought\" (lower case letters, digits, '.', '_' or '-')\n"},
	{"active bad",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "audience:\n"
	    "  active: 0s\n"
	    "steps: [end]\n",
	    "t.yaml:4: active: bad duration \"0s\" (use 90s, 15m, 2h, 3d or 2w)\n"},
	{"segment where bad",
	    "segment: a\n"
	    "where: {colour: red}\n",
	    "t.yaml:2: unknown condition \"colour\" (expected opened, clicked, replied, bounced, complained, unsubscribed, event, field, tag, list, score, segment, active, inactive, all, any or not)\n"},
	{"segment unknown in segment",
	    "segment: a\n"
	    "where: {segment: b}\n",
	    "t.yaml:2: unknown segment \"b\"\n"},
	{"workflow name list",
	    "workflow: [a]\n"
	    "trigger: subscribed\n"
	    "steps: [end]\n",
	    "t.yaml:1: workflow: expected text, got a list\n"},
	{"workflow name dot",
	    "workflow: .hidden\n"
	    "trigger: subscribed\n"
	    "steps: [end]\n",
	    "t.yaml:1: workflow: bad name \".hidden\" (a letter or digit, then letters, digits, '.', '_' or '-'; at most 63)\n"},
	{"hours list bad",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "send:\n"
	    "  hours: [\"09:00-12:00\", \"lunch\"]\n"
	    "steps: [end]\n",
	    "t.yaml:4: hours: expected ranges such as 09:00-17:00 (at most 8)\n"},
	{"too many hours",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "send:\n"
	    "  hours: \"01:00-02:00,03:00-04:00,05:00-06:00,07:00-08:00,09:00-10:00,11:00-12:00,13:00-14:00,15:00-16:00,17:00-18:00\"\n"
	    "steps: [end]\n",
	    "t.yaml:4: hours: expected ranges such as 09:00-17:00 (at most 8)\n"},
	{"days list bad",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "send:\n"
	    "  days: [mon, funday]\n"
	    "steps: [end]\n",
	    "t.yaml:4: days: expected days such as mon-fri, mon,wed,fri or weekdays\n"},
	{"webhook too many headers",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - webhook: https://example.com/x\n"
	    "    headers: {h0: v, h1: v, h2: v, h3: v, h4: v, h5: v, h6: v, h7: v, h8: v, h9: v, h10: v, h11: v, h12: v, h13: v, h14: v, h15: v, h16: v, h17: v, h18: v, h19: v, h20: v, h21: v, h22: v, h23: v, h24: v, h25: v, h26: v, h27: v, h28: v, h29: v, h30: v, h31: v, h32: v}\n",
	    "t.yaml:5: headers: at most 32\n"},
	{"webhook bad header value",
	    "workflow: x\n"
	    "trigger: subscribed\n"
	    "steps:\n"
	    "  - webhook: https://example.com/x\n"
	    "    headers: {X-A: [1]}\n",
	    "t.yaml:5: headers: expected text, got a list\n"},
};

static void
test_errors(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set;
	size_t	i;
	int	failed = 0;

	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		set = load(err_cases[i].yaml, &errs);
		if (set != 0 || strcmp(strbuf_str(&errs), err_cases[i].want) != 0) {
			print_error("case \"%s\": %s\n got: %s want: %s", err_cases[i].name,
				    set ? "loaded" : "refused", strbuf_str(&errs), err_cases[i].want);
			failed++;
		}
		workflow_set_free(set);
	}
	strbuf_free(&errs);
	assert_int_equal(failed, 0);
}

/* Errors whose input is easier to build than to write down. */
static void
test_errors_built(void **state)
{
	STRBUF	errs = STRBUF_INIT, y = STRBUF_INIT;
	WORKFLOW_SET *set;
	char   *big;
	int	i;

	/* libfyaml words its syntax errors; the prefix and line are ours. */
	set = load("workflow: x\ntrigger: [subscribed\nsteps: [end]\n", &errs);
	assert_null(set);
	assert_true(strncmp(strbuf_str(&errs), "t.yaml:3: YAML syntax: ", 23) == 0);

	for (i = 0; i < 40; i++)
		strbuf_putc(&y, '[');
	set = load(strbuf_str(&y), &errs);
	assert_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:1: YAML nested too deeply\n");

	strbuf_reset(&y);
	for (i = 0; i < 4097; i++)
		strbuf_printf(&y, "k%d: v\n", i);
	set = load(strbuf_str(&y), &errs);
	assert_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:4097: too many keys in one mapping\n");

	strbuf_reset(&y);
	strbuf_puts(&y, "k:\n");
	for (i = 0; i < 4097; i++)
		strbuf_puts(&y, "- v\n");
	set = load(strbuf_str(&y), &errs);
	assert_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:4098: too many items in one list\n");

	/* 25 lists of 4,000 items: more nodes than a file may have. */
	strbuf_reset(&y);
	for (i = 0; i < 25 * 4000; i++)
		strbuf_puts(&y, i % 4000 == 0 ? "---\n- v\n" : "- v\n");
	set = load(strbuf_str(&y), &errs);
	assert_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:100001: too many YAML nodes in one file\n");

	big = mymalloc(1024 * 1024 + 2);
	memset(big, '#', 1024 * 1024 + 1);
	big[1024 * 1024 + 1] = 0;
	set = load(big, &errs);
	assert_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:1: file larger than 1048576 bytes\n");
	myfree(big);

	set = load("workflow: x\ntrigger: subscribed\nsteps:\n  - send: \"a\\0b\"\n", &errs);
	assert_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:4: null byte (\\0) in text\n");
	/* In any value, not only those read as text: no "wel" for "wel\0come". */
	set = load("workflow: x\ndescription: \"wel\\0come\"\ntrigger: subscribed\nsteps: [end]\n", &errs);
	assert_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:2: null byte (\\0) in text\n");
	/* Nothing but comments. */
	set = load("# a workflow, one day\n", &errs);
	assert_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:1: no workflow or segment in this file\n");

	/* Not UTF-8: refused before libfyaml sees it (its scanner can hang). */
	set = load("workflow: x\ndescription: caf\xc3\xa9\ntrigger: subscribed\n"
		   "steps:\n  - send: \xc3\x28\n", &errs);
	assert_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:5: not UTF-8 text\n");
	set = load("workflow: x\n# overlong /: \xc0\xaf\n", &errs);
	assert_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:2: not UTF-8 text\n");
	set = load("workflow: x\n# surrogate: \xed\xa0\x80\n", &errs);
	assert_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:2: not UTF-8 text\n");
	set = load("workflow: x\n# cut: \xe2\x82", &errs);
	assert_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:2: not UTF-8 text\n");
	set = load("workflow: x\ndescription: caf\xc3\xa9 \xf0\x9f\x93\xa7\ntrigger: subscribed\nsteps: [end]\n", &errs);
	assert_non_null(set);
	assert_string_equal(workflow_at(set, 0)->description, "caf\xc3\xa9 \xf0\x9f\x93\xa7");
	workflow_set_free(set);

	strbuf_free(&y);
	strbuf_free(&errs);
}

static void
test_warnings(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set;

	/* A dead stretch is reported once, at its first step, and loads. */
	set = load("workflow: x\ntrigger: subscribed\nsteps:\n  - send: a\n  - end\n"
		   "  - send: b\n  - send: c\n", &errs);
	assert_non_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:6: warning: step 3 is never reached\n");
	workflow_set_free(set);

	/* Reached only by goto: no warning. */
	set = load("workflow: x\ntrigger: subscribed\nsteps:\n  - send: a\n  - goto: more\n"
		   "  - end\n  - label: more\n    wait: 1d\n", &errs);
	assert_non_null(set);
	assert_string_equal(strbuf_str(&errs), "t.yaml:6: warning: step 3 is never reached\n");
	workflow_set_free(set);
	strbuf_free(&errs);
}

/*
 * The flat step array: ids, next indices, branches and their joins.
 */
static const char graph_yaml[] =
"workflow: welcome\n"			/* 1 */
"trigger: {event: subscribed}\n"	/* 2 */
"steps:\n"				/* 3 */
"  - send: welcome-1\n"			/* 4: [0] */
"  - wait: 2d\n"			/* 5: [1] */
"  - if: {clicked: pricing}\n"		/* 6: [2] */
"    then:\n"
"      - send: pricing\n"		/* 8: [3] */
"      - add_score: 10\n"		/* 9: [4] */
"    else:\n"
"      - send: welcome-2\n"		/* 11: [5] */
"  - label: again\n"			/* 12 */
"    wait_for: purchased\n"		/* 13: [6] */
"    timeout: 3d\n"
"    on_timeout:\n"
"      - send: reminder\n"		/* 16: [7] */
"      - goto: again\n"			/* 17: [8] */
"  - if: replied\n"			/* 18: [9] */
"    else:\n"
"      - end\n"				/* 20: [10] */
"  - set: {stage: 2, vip: true, gone: null}\n";	/* 21: [11] */

/* A/B split: the graph, arm ids, the arm of each step, the draw */

static const char split_yaml[] =
"workflow: ab\n"
"trigger: subscribed\n"
"steps:\n"
"  - send: first\n"
"  - label: subject\n"
"    split:\n"
"      - arm: a\n"
"        weight: 30\n"
"        steps:\n"
"          - send: a-1\n"
"          - wait: 1d\n"
"      - arm: b\n"
"        weight: 70\n"
"        steps:\n"
"          - send: b-1\n"
"      - arm: c\n"
"        weight: 0\n"
"  - send: after\n";

/* The webhook's save, templated set values and prefix matches in where. */
static void
test_save_and_prefix(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set;
	const WORKFLOW *wf;
	json_t *data;

	set = load("workflow: w\ntrigger:\n  event: page_visit\n  where:\n"
		   "    url: \"https://shop.example.com/products/*\"\nsteps:\n"
		   "  - set:\n      seen: \"{{event.url}}\"\n"
		   "  - webhook: https://e.example.com/x\n    save:\n"
		   "      size: company.size\n      industry: industry\n", &errs);
	assert_non_null(set);
	assert_string_equal(strbuf_str(&errs), "");
	wf = workflow_find(set, "w");
	assert_string_equal(json_string_value(json_object_get(wf->steps[1].save, "size")),
			    "company.size");
	assert_string_equal(json_string_value(json_object_get(wf->steps[1].save, "industry")),
			    "industry");
	data = json_pack("{s:s}", "url", "https://SHOP.example.com/products/boots");
	assert_int_equal(workflow_trigger_match(wf, "page_visit", data), 1);
	json_object_set_new(data, "url", json_string("https://shop.example.com/pricing"));
	assert_int_equal(workflow_trigger_match(wf, "page_visit", data), 0);
	json_object_set_new(data, "url", json_string("https://shop.example.com/products"));
	assert_int_equal(workflow_trigger_match(wf, "page_visit", data), 0);
	json_decref(data);
	workflow_set_free(set);
	assert_int_equal(workflow_value_match("lost", "LOST"), 1);
	assert_int_equal(workflow_value_match("lost*", "lost"), 0);
	assert_int_equal(workflow_value_match("anything", "*"), 1);

	/* Refused: a bad key, the address, a template that does not compile. */
	assert_null(load("workflow: w\ntrigger: x\nsteps:\n  - webhook: https://e.example.com/x\n"
			 "    save:\n      size: company..size\n", &errs));
	assert_non_null(strstr(strbuf_str(&errs), "t.yaml:6: save: bad key \"company..size\""));
	assert_null(load("workflow: w\ntrigger: x\nsteps:\n  - webhook: https://e.example.com/x\n"
			 "    save:\n      email: email\n", &errs));
	assert_non_null(strstr(strbuf_str(&errs), "t.yaml:6: save: a workflow cannot change \"email\""));
	assert_null(load("workflow: w\ntrigger: x\nsteps:\n  - set:\n      a: \"{{#x}}\"\n", &errs));
	assert_non_null(strstr(strbuf_str(&errs), "t.yaml:5: set: "));
	strbuf_free(&errs);
}

static void
test_split(void **state)
{
	STRBUF	errs = STRBUF_INIT, out = STRBUF_INIT;
	WORKFLOW_SET *set = load(split_yaml, &errs);
	const WORKFLOW *wf;
	const WF_STEP *sp;
	WF_STEP copy;
	char	cid[24];
	int	count[3] = {0, 0, 0};
	int	i, arm, again;

	assert_non_null(set);
	assert_string_equal(strbuf_str(&errs), "");
	wf = workflow_find(set, "ab");
	assert_int_equal(wf->nsteps, 6);
	sp = wf->steps + 1;
	assert_int_equal(sp->kind, WF_STEP_SPLIT);
	assert_string_equal(sp->id, "subject");
	assert_int_equal(sp->narms, 3);
	assert_string_equal(wf->steps[2].id, "subject.a.1");
	assert_string_equal(wf->steps[3].id, "subject.a.2");
	assert_string_equal(wf->steps[4].id, "subject.b.1");
	assert_string_equal(wf->steps[5].id, "3");
	/* Arms lead to their first step; an empty arm to the step after. */
	assert_int_equal(sp->arms[0].next, 2);
	assert_int_equal(sp->arms[1].next, 4);
	assert_int_equal(sp->arms[2].next, 5);
	assert_int_equal(wf->steps[3].next, 5);
	assert_int_equal(wf->steps[4].next, 5);
	assert_null(wf->steps[0].arm);
	assert_string_equal(wf->steps[2].arm, "a");
	assert_string_equal(wf->steps[3].arm, "a");
	assert_string_equal(wf->steps[4].arm, "b");
	assert_null(wf->steps[5].arm);
	assert_int_equal(sp->arms[0].weight, 30);
	assert_null(sp->promote);
	assert_int_equal(workflow_arm_find(sp, "b"), 1);
	assert_int_equal(workflow_arm_find(sp, "d"), -1);

	/* By weight over many contacts; always the same for one contact. */
	for (i = 1; i <= 2000; i++) {
		snprintf(cid, sizeof(cid), "%d", i);
		arm = workflow_split_arm(sp, "ab", cid, 0);
		assert_in_range(arm, 0, 1);
		again = workflow_split_arm(sp, "ab", cid, 0);
		assert_int_equal(arm, again);
		count[arm]++;
	}
	/* 600 expected in arm a; 500..700 is more than four standard deviations. */
	assert_in_range(count[0], 500, 700);
	assert_int_equal(count[0] + count[1], 2000);
	/* Promotion wins, even for an arm of weight 0; an unknown name does not. */
	for (i = 1; i <= 50; i++) {
		snprintf(cid, sizeof(cid), "%d", i);
		assert_int_equal(workflow_split_arm(sp, "ab", cid, "c"), 2);
		assert_int_equal(workflow_split_arm(sp, "ab", cid, "zz"),
				 workflow_split_arm(sp, "ab", cid, 0));
	}
	copy = *sp;
	copy.promote = "a";
	assert_int_equal(workflow_split_arm(&copy, "ab", "7", 0), 0);
	assert_int_equal(workflow_split_arm(&copy, "ab", "7", "b"), 1);

	workflow_show_steps(wf, &out);
	assert_non_null(strstr(strbuf_str(&out), "t.yaml:6\tsubject\tsplit a=30 b=70 c=0\ta subject.a.1 b subject.b.1 c 3\n"));
	strbuf_free(&out);
	workflow_set_free(set);

	/* promote: in the file. */
	set = load("workflow: ab\n"
		   "trigger: subscribed\n"
		   "steps:\n"
		   "  - split:\n"
		   "      - {arm: a, steps: [{send: x}]}\n"
		   "      - {arm: b, steps: [{send: y}]}\n"
		   "    promote: b\n", &errs);
	assert_non_null(set);
	wf = workflow_find(set, "ab");
	assert_string_equal(wf->steps[0].promote, "b");
	assert_string_equal(wf->steps[2].id, "1.b.1");
	for (i = 1; i <= 20; i++) {
		snprintf(cid, sizeof(cid), "%d", i);
		assert_int_equal(workflow_split_arm(wf->steps, "ab", cid, 0), 1);
	}
	workflow_set_free(set);
	strbuf_free(&errs);
}

static void
test_graph(void **state)
{
	static const struct {
		const char *id;
		WF_STEP_KIND kind;
		int	line, next, a, b;	/* a, b: then/else or event/timeout */
	}	want[] = {
		{"1", WF_STEP_SEND, 4, 1, -1, -1},
		{"2", WF_STEP_WAIT, 5, 2, -1, -1},
		{"3", WF_STEP_IF, 6, WF_END, 3, 5},
		{"3.then.1", WF_STEP_SEND, 8, 4, -1, -1},
		{"3.then.2", WF_STEP_ADD_SCORE, 9, 6, -1, -1},
		{"3.else.1", WF_STEP_SEND, 11, 6, -1, -1},
		{"again", WF_STEP_WAIT_FOR, 13, WF_END, 9, 7},
		{"again.timeout.1", WF_STEP_SEND, 16, 8, -1, -1},
		{"again.timeout.2", WF_STEP_GOTO, 17, 6, -1, -1},
		{"5", WF_STEP_IF, 18, WF_END, 11, 10},
		{"5.else.1", WF_STEP_END, 20, WF_END, -1, -1},
		{"6", WF_STEP_SET, 21, WF_END, -1, -1},
	};
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set = load(graph_yaml, &errs);
	const WORKFLOW *wf;
	const WF_STEP *s;
	size_t	i;

	assert_non_null(set);
	assert_string_equal(strbuf_str(&errs), "");
	assert_int_equal(workflow_count(set), 1);
	wf = workflow_find(set, "welcome");
	assert_non_null(wf);
	assert_null(workflow_find(set, "other"));
	assert_int_equal(wf->nsteps, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		s = wf->steps + i;
		assert_string_equal(s->id, want[i].id);
		assert_int_equal(s->kind, want[i].kind);
		assert_int_equal(s->pos.line, want[i].line);
		assert_string_equal(s->pos.file, "t.yaml");
		assert_int_equal(s->index, i);
		assert_int_equal(workflow_step_find(wf, want[i].id), i);
		if (s->kind == WF_STEP_IF) {
			assert_int_equal(s->then_next, want[i].a);
			assert_int_equal(s->else_next, want[i].b);
		} else if (s->kind == WF_STEP_WAIT_FOR) {
			assert_int_equal(s->on_event, want[i].a);
			assert_int_equal(s->on_timeout, want[i].b);
		} else
			assert_int_equal(s->next, want[i].next);
	}
	assert_int_equal(workflow_step_find(wf, "7"), -1);
	assert_string_equal(wf->steps[0].template, "welcome-1");
	assert_int_equal(wf->steps[1].duration, 2 * 86400);
	assert_int_equal(wf->steps[4].score, 10);
	assert_int_equal(wf->steps[6].duration, 3 * 86400);
	assert_string_equal(wf->steps[6].match.event, "purchased");
	assert_string_equal(wf->steps[8].target, "again");
	assert_int_equal(json_integer_value(json_object_get(wf->steps[11].values, "stage")), 2);
	assert_true(json_is_true(json_object_get(wf->steps[11].values, "vip")));
	assert_true(json_is_null(json_object_get(wf->steps[11].values, "gone")));
	assert_string_equal(workflow_step_kind_name(wf->steps[6].kind), "wait_for");

	/* Defaults: marketing, once, every day and hour, three implicit exits. */
	assert_int_equal(wf->stream, WF_STREAM_MARKETING);
	assert_int_equal(wf->reentry, WF_REENTRY_ONCE);
	assert_int_equal(wf->send.days, WF_DAY_ALL);
	assert_int_equal(wf->send.nhours, 0);
	assert_int_equal(wf->nexit, 3);
	assert_int_equal(wf->exits[2]->pos.line, 0);
	assert_true(wf->enabled);
	workflow_set_free(set);
	strbuf_free(&errs);
}

/* The text of the graph above, as "postdrip workflows NAME" shows it. */
static void
test_show(void **state)
{
	STRBUF	errs = STRBUF_INIT, out = STRBUF_INIT;
	WORKFLOW_SET *set = load(graph_yaml, &errs);
	const WORKFLOW *wf;

	assert_non_null(set);
	wf = workflow_at(set, 0);
	workflow_show_steps(wf, &out);
	assert_string_equal(strbuf_str(&out),
			    "t.yaml:4\t1\tsend welcome-1\t2\n"
			    "t.yaml:5\t2\twait 2d\t3\n"
			    "t.yaml:6\t3\tif clicked link=pricing\tthen 3.then.1 else 3.else.1\n"
			    "t.yaml:8\t3.then.1\tsend pricing\t3.then.2\n"
			    "t.yaml:9\t3.then.2\tadd_score +10\tagain\n"
			    "t.yaml:11\t3.else.1\tsend welcome-2\tagain\n"
			    "t.yaml:13\tagain\twait_for purchased timeout 3d\tevent 5 timeout again.timeout.1\n"
			    "t.yaml:16\tagain.timeout.1\tsend reminder\tagain.timeout.2\n"
			    "t.yaml:17\tagain.timeout.2\tgoto again\tagain\n"
			    "t.yaml:18\t5\tif replied\tthen 6 else 5.else.1\n"
			    "t.yaml:20\t5.else.1\tend\tend\n"
			    "t.yaml:21\t6\tset stage=2 vip=true gone=null\tend\n");
	strbuf_reset(&out);
	workflow_show_trigger(wf, &out);
	assert_string_equal(strbuf_str(&out), "event subscribed");
	workflow_set_free(set);

	set = load("workflow: s\n"
		   "trigger:\n  yearly: birthday\n  before: 7d\n  at: \"09:30\"\n"
		   "audience:\n  all:\n    - any: [{tag: vip}, {list: news}]\n"
		   "    - not: {field: \"company exists\"}\n"
		   "    - {score: \">= 50\", inactive: 1d12h, segment: s}\n"
		   "    - {clicked: {link: demo, within: 90m}}\n"
		   "steps:\n  - wait_until: 2026-12-24T09:00:00Z\n    after: 1h\n"
		   "  - notify: owner\n    to: a@example.com\n    template: t\n"
		   "  - webhook: https://example.com/h\n    secret: s3cret\n"
		   "    headers: {X-Key: hidden}\n"
		   "---\nsegment: s\nwhere: {tag: x}\n", &errs);
	assert_non_null(set);
	wf = workflow_at(set, 0);
	strbuf_reset(&out);
	workflow_show_trigger(wf, &out);
	assert_string_equal(strbuf_str(&out), "yearly birthday before 7d at 09:30");
	strbuf_reset(&out);
	workflow_show_cond(wf->audience, &out);
	assert_string_equal(strbuf_str(&out),
			    "all(any(tag vip, list news), not(company exists), "
			    "all(score >= 50, inactive 1d12h, segment s), clicked link=demo within 1h30m)");
	strbuf_reset(&out);
	workflow_show_steps(wf, &out);
	assert_string_equal(strbuf_str(&out),
			    "t.yaml:13\t1\twait_until 2026-12-24T09:00:00Z after 1h\t2\n"
			    "t.yaml:15\t2\tnotify owner or a@example.com template t\t3\n"
			    "t.yaml:18\t3\twebhook https://example.com/h X-Key:\tend\n");
	assert_null(strstr(strbuf_str(&out), "s3cret"));
	assert_null(strstr(strbuf_str(&out), "hidden"));
	workflow_set_free(set);
	strbuf_free(&out);
	strbuf_free(&errs);
}

static void
test_settings(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set;
	const WORKFLOW *wf;
	const WF_STEP *s;

	set = load("workflow: w\n"
		   "enabled: no\n"
		   "stream: transactional\n"
		   "trigger:\n  yearly: birthday\n  before: 7d\n  at: \"09:30\"\n"
		   "reentry: once per 30d\n"
		   "send:\n  days: [Saturday, sun]\n  hours: \"09:00-12:00, 14:00-17:30\"\n"
		   "  timezone: America/New_York\n  timezone_field: tz\n"
		   "goal:\n  - event: purchased\n"
		   "exit: unsubscribed\n"
		   "steps:\n"
		   "  - webhook: https://crm.example.com/hook\n"
		   "    secret: s3cret\n    headers: {X-Api-Key: k1}\n"
		   "    body: {email: \"{{contact.email}}\", n: 3}\n    retries: 2\n    timeout: 30s\n"
		   "  - notify: owner\n    to: sales@example.com\n    template: alert\n"
		   "  - notify: boss@example.com\n    template: alert\n"
		   "  - unsubscribe\n"
		   "  - wait_until: trial_end\n    before: 1d\n    at: \"08:00\"\n"
		   "  - wait_until: 2026-12-24T09:00:00Z\n"
		   "  - remove_tag: trial\n"
		   "  - add_score: -5\n", &errs);
	assert_string_equal(strbuf_str(&errs), "");
	assert_non_null(set);
	wf = workflow_at(set, 0);
	assert_false(wf->enabled);
	assert_int_equal(wf->stream, WF_STREAM_TRANSACTIONAL);
	assert_string_equal(workflow_stream_name(wf->stream), "transactional");
	assert_int_equal(wf->trigger.kind, WF_TRIG_YEARLY);
	assert_string_equal(wf->trigger.field, "birthday");
	assert_int_equal(wf->trigger.offset, -7 * 86400);
	assert_int_equal(wf->trigger.at, 9 * 60 + 30);
	assert_int_equal(wf->reentry, WF_REENTRY_INTERVAL);
	assert_int_equal(wf->reentry_after, 30 * 86400);
	assert_int_equal(wf->send.days, (1 << 0) | (1 << 6));
	assert_int_equal(wf->send.nhours, 2);
	assert_int_equal(wf->send.hour_start[1], 14 * 60);
	assert_int_equal(wf->send.hour_end[1], 17 * 60 + 30);
	assert_string_equal(wf->send.timezone, "America/New_York");
	assert_string_equal(wf->send.timezone_field, "tz");
	/* Transactional: no implicit exits; goal and exit written. */
	assert_int_equal(wf->nexit, 2);
	assert_int_equal(wf->ngoal, 1);
	assert_ptr_equal(wf->goals[0], wf->exits[0]);
	s = wf->steps;
	assert_string_equal(s->url, "https://crm.example.com/hook");
	assert_string_equal(s->secret, "s3cret");
	assert_int_equal(s->nheaders, 1);
	assert_string_equal(s->headers[0].name, "X-Api-Key");
	assert_string_equal(json_string_value(json_object_get(s->body, "email")), "{{contact.email}}");
	assert_int_equal(s->retries, 2);
	assert_int_equal(s->duration, 30);
	s++;
	assert_true(s->to_owner);
	assert_string_equal(s->to, "sales@example.com");
	assert_string_equal(s->template, "alert");
	s++;
	assert_false(s->to_owner);
	assert_string_equal(s->to, "boss@example.com");
	s++;
	assert_int_equal(s->kind, WF_STEP_UNSUBSCRIBE);
	assert_string_equal(s->name, "workflow");
	s++;
	assert_string_equal(s->field, "trial_end");
	assert_int_equal(s->offset, -86400);
	assert_int_equal(s->at, 8 * 60);
	s++;
	assert_int_equal(s->date, at("2026-12-24T09:00:00Z"));
	s++;
	assert_int_equal(s->kind, WF_STEP_REMOVE_TAG);
	assert_string_equal(s->name, "trial");
	s++;
	assert_int_equal(s->score, -5);
	workflow_set_free(set);
	strbuf_free(&errs);
}

static void
test_days(void **state)
{
	static const struct {
		const char *days;
		unsigned want;
	}	cases[] = {
		{"mon-fri", 0x3e}, {"weekdays", 0x3e}, {"weekend", 0x41},
		{"mon,wed,fri", 0x2a}, {"fri-mon", 0x63}, {"Tue - Thu", 0},
		{"sun", 0x01}, {"all", 0x7f}, {"wednesday", 0x08},
		{"[sat, mon-tue]", 0x46}, {"mond", 0}, {"mon-", 0},
	};
	STRBUF	errs = STRBUF_INIT, y = STRBUF_INIT;
	WORKFLOW_SET *set;
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&y);
		strbuf_printf(&y, "workflow: d\ntrigger: manual\nsend:\n  days: %s\nsteps: [end]\n",
			      cases[i].days);
		set = load(strbuf_str(&y), &errs);
		if (cases[i].want == 0) {
			if (set != 0)
				fail_msg("days \"%s\" loaded", cases[i].days);
			continue;
		}
		if (set == 0)
			fail_msg("days \"%s\": %s", cases[i].days, strbuf_str(&errs));
		assert_int_equal(workflow_at(set, 0)->send.days, cases[i].want);
		workflow_set_free(set);
	}
	strbuf_free(&y);
	strbuf_free(&errs);
}

/*
 * Conditions, against a contact and a fake event history.
 */
typedef struct FAKE_EVENT {
	const char *type, *key, *value;
	const char *when;
} FAKE_EVENT;

typedef struct FAKE {
	const FAKE_EVENT *ev;
	int	fail;			/* has_event answers -1 */
	int	calls;
} FAKE;

static int
fake_has_event(void *ctx, const char *type, const char *key, const char *value,
	               time_t since)
{
	FAKE   *f = ctx;
	const FAKE_EVENT *e;

	f->calls++;
	if (f->fail)
		return (-1);
	for (e = f->ev; e->type; e++) {
		if (strcmp(e->type, type) != 0 || at(e->when) < since)
			continue;
		if (key && (e->key == 0 || strcmp(e->key, key) != 0 || strcmp(e->value, value) != 0))
			continue;
		return (1);
	}
	return (0);
}

static const FAKE_EVENT history[] = {
	{"opened", 0, 0, "2026-03-01T10:00:00Z"},
	{"clicked", "link", "pricing", "2026-03-02T10:00:00Z"},
	{"purchased", "sku", "A-1", "2026-02-01T10:00:00Z"},
	{0},
};

static const char cond_yaml[] =
"segment: hot\n"
"where:\n  any:\n    - score: \">= 50\"\n    - tag: vip\n"
"---\n"
"segment: warm\n"
"where:\n  segment: hot\n"
"---\n"
"workflow: c\ntrigger: manual\nsteps:\n"
"  - if: {clicked: pricing}\n    then: [end]\n"		/* 0 */
"  - if: {clicked: demo}\n    then: [end]\n"		/* 1 */
"  - if: clicked\n    then: [end]\n"			/* 2 */
"  - if: {opened: no}\n    then: [end]\n"			/* 3 */
"  - if: {event: purchased}\n    then: [end]\n"		/* 4: before since */
"  - if: {event: {type: purchased, within: 60d, where: {sku: A-1}}}\n    then: [end]\n"	/* 5 */
"  - if: {field: \"country = fr\"}\n    then: [end]\n"	/* 6 */
"  - if: {field: \"country != FR\"}\n    then: [end]\n"	/* 7 */
"  - if: {field: \"employees >= 50\"}\n    then: [end]\n"	/* 8 */
"  - if: {field: \"employees < 100\"}\n    then: [end]\n"	/* 9 */
"  - if: {field: \"title contains cto\"}\n    then: [end]\n"	/* 10 */
"  - if: {field: \"company exists\"}\n    then: [end]\n"	/* 11 */
"  - if: {field: \"phone missing\"}\n    then: [end]\n"	/* 12 */
"  - if: {field: \"nothing = x\"}\n    then: [end]\n"	/* 13 */
"  - if: {field: \"nothing != x\"}\n    then: [end]\n"	/* 14 */
"  - if: {tag: VIP}\n    then: [end]\n"			/* 15 */
"  - if: {tag: other}\n    then: [end]\n"			/* 16 */
"  - if: {score: \"> 40\"}\n    then: [end]\n"		/* 17 */
"  - if: {segment: warm}\n    then: [end]\n"		/* 18 */
"  - if: {active: 7d}\n    then: [end]\n"			/* 19 */
"  - if: {inactive: 1d}\n    then: [end]\n"			/* 20 */
"  - if: {list: news}\n    then: [end]\n"			/* 21 */
"  - if: {any: [replied, {tag: vip}]}\n    then: [end]\n"	/* 22 */
"  - if: {not: {tag: vip}}\n    then: [end]\n"		/* 23 */
"  - if: {tag: vip, field: \"country = de\"}\n    then: [end]\n"	/* 24 */
"  - if: {field: \"interests = golf\"}\n    then: [end]\n"	/* 25 */
"  - if: {field: \"signup < 2026-01-01\"}\n    then: [end]\n"	/* 26 */
"  - if: {email: no}\n    then: [end]\n";

static void
test_conditions(void **state)
{
	/* want[i]: the value of step i's condition */
	static const int want[] = {
		1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1,
	};
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set;
	const WORKFLOW *wf;
	FAKE	fake = {history, 0, 0};
	WF_FACTS f;
	json_t *contact;
	size_t	i;
	const char *text = cond_yaml;
	char   *trimmed;

	/* The last step is not a condition we know: check it, then drop it. */
	set = load(text, &errs);
	assert_null(set);
	assert_string_equal(strbuf_str(&errs),
	     "t.yaml:68: unknown condition \"email\" (expected opened, clicked, replied, bounced, complained, unsubscribed, event, field, tag, list, score, segment, active, inactive, all, any or not)\n");
	trimmed = mystrndup(text, strstr(text, "  - if: {email") - text);
	set = load(trimmed, &errs);
	myfree(trimmed);
	assert_non_null(set);
	wf = workflow_find(set, "c");
	assert_int_equal(wf->nsteps, 2 * (sizeof(want) / sizeof(want[0])));

	contact = json_pack("{s:I, s:s, s:i, s:[s], s:[s], s:{s:s, s:i, s:s, s:s, s:s, s:[s,s], s:s}}",
			    "id", (json_int_t) 7, "email", "ann@example.com", "score", 45,
			    "tags", "vip", "lists", "news",
			    "fields", "country", "FR", "employees", 80, "title", "CTO and founder",
			    "company", "Acme", "phone", "", "interests", "sailing", "golf",
			    "signup", "2025-06-30");
	assert_non_null(contact);
	memset(&f, 0, sizeof(f));
	f.contact = contact;
	f.has_event = fake_has_event;
	f.ctx = &fake;
	f.now = at("2026-03-05T00:00:00Z");
	f.since = at("2026-02-15T00:00:00Z");
	f.set = set;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const WF_STEP *s = wf->steps + 2 * i;

		assert_int_equal(s->kind, WF_STEP_IF);
		if (workflow_cond_eval(s->cond, &f) != want[i])
			fail_msg("condition of step %s (line %d): got %d, want %d", s->id,
				 s->pos.line, !want[i], want[i]);
	}

	/* Segments without a callback use the set's definitions, and the
	 * callback wins when there is one. */
	assert_int_equal(workflow_segment_eval(workflow_segment(set, "hot"), &f), 1);
	json_object_set_new(contact, "tags", json_array());
	assert_int_equal(workflow_segment_eval(workflow_segment(set, "hot"), &f), 0);
	json_object_set_new(contact, "score", json_integer(50));
	assert_int_equal(workflow_segment_eval(workflow_segment(set, "hot"), &f), 1);
	assert_int_equal(workflow_segment_count(set), 2);
	assert_string_equal(workflow_segment_at(set, 1)->name, "warm");

	/* Store trouble: unknown, unless the answer does not need it. */
	fake.fail = 1;
	assert_int_equal(workflow_cond_eval(wf->steps[0].cond, &f), -1);	/* clicked */
	assert_int_equal(workflow_cond_eval(wf->steps[12].cond, &f), 1);	/* field */
	assert_int_equal(workflow_cond_eval(wf->steps[44].cond, &f), -1);	/* any: replied, vip */
	json_object_set_new(contact, "tags", json_pack("[s]", "vip"));
	assert_int_equal(workflow_cond_eval(wf->steps[44].cond, &f), 1);
	assert_int_equal(workflow_cond_eval(wf->steps[40].cond, &f), -1);	/* inactive */

	/* No callback: no events. */
	f.has_event = 0;
	assert_int_equal(workflow_cond_eval(wf->steps[0].cond, &f), 0);
	assert_int_equal(workflow_cond_eval(wf->steps[12].cond, &f), 1);
	assert_int_equal(workflow_audience_eval(wf, &f), 1);

	/* A reply is a person engaging, for these conditions as for the
	 * inactivity trigger. */
	{
		static const FAKE_EVENT replied_only[] = {
			{"replied", 0, 0, "2026-03-04T12:00:00Z"},
			{0},
		};
		FAKE	r = {replied_only, 0, 0};

		f.has_event = fake_has_event;
		f.ctx = &r;
		assert_int_equal(workflow_cond_eval(wf->steps[38].cond, &f), 1);	/* active 7d */
		assert_int_equal(workflow_cond_eval(wf->steps[40].cond, &f), 0);	/* inactive 1d */
	}

	json_decref(contact);
	workflow_set_free(set);
	strbuf_free(&errs);
}

static void
test_triggers_exits(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set;
	const WORKFLOW *wf, *off;
	json_t *d;
	WF_FACTS f;
	FAKE	fake = {history, 0, 0};

	set = load("workflow: t\n"
		   "trigger:\n  event: clicked\n  where: {link: pricing, campaign: 7}\n"
		   "exit:\n  - event: purchased\n  - field: \"plan = pro\"\n"
		   "audience: {tag: vip}\n"
		   "steps: [end]\n"
		   "---\nworkflow: off\nenabled: no\ntrigger: subscribed\nsteps: [end]\n", &errs);
	assert_non_null(set);
	wf = workflow_find(set, "t");
	off = workflow_find(set, "off");

	d = json_pack("{s:s, s:i}", "link", "pricing", "campaign", 7);
	assert_int_equal(workflow_trigger_match(wf, "clicked", d), 1);
	assert_int_equal(workflow_trigger_match(wf, "opened", d), 0);
	json_object_set_new(d, "link", json_string("PRICING"));
	assert_int_equal(workflow_trigger_match(wf, "clicked", d), 1);
	json_object_set_new(d, "link", json_string("demo"));
	assert_int_equal(workflow_trigger_match(wf, "clicked", d), 0);
	json_object_del(d, "link");
	assert_int_equal(workflow_trigger_match(wf, "clicked", d), 0);
	assert_int_equal(workflow_trigger_match(wf, "clicked", 0), 0);
	json_decref(d);
	assert_int_equal(workflow_trigger_match(off, "subscribed", 0), 0);

	/* Exits: the written ones, then the marketing stream's own. */
	assert_int_equal(wf->nexit, 5);
	assert_int_equal(workflow_exit_match(wf, "purchased", 0), 1);
	assert_int_equal(workflow_exit_match(wf, "unsubscribed", 0), 1);
	assert_int_equal(workflow_exit_match(wf, "complained", 0), 1);
	d = json_pack("{s:s}", "class", "soft");
	assert_int_equal(workflow_exit_match(wf, "bounced", d), 0);
	json_object_set_new(d, "class", json_string("hard"));
	assert_int_equal(workflow_exit_match(wf, "bounced", d), 1);
	json_decref(d);
	assert_int_equal(workflow_exit_match(wf, "opened", 0), 0);

	memset(&f, 0, sizeof(f));
	f.contact = json_pack("{s:{s:s}, s:[]}", "fields", "plan", "basic", "tags");
	f.has_event = fake_has_event;
	f.ctx = &fake;
	f.now = at("2026-03-05T00:00:00Z");
	f.since = at("2026-02-15T00:00:00Z");
	/* The purchase was before the enrolment: not an exit. */
	assert_int_equal(workflow_exit_eval(wf, &f), 0);
	f.since = at("2026-01-15T00:00:00Z");
	assert_int_equal(workflow_exit_eval(wf, &f), 1);
	f.since = at("2026-02-15T00:00:00Z");
	json_object_set_new(json_object_get(f.contact, "fields"), "plan", json_string("Pro"));
	assert_int_equal(workflow_exit_eval(wf, &f), 1);
	assert_int_equal(workflow_audience_eval(wf, &f), 0);
	json_decref(f.contact);
	workflow_set_free(set);
	strbuf_free(&errs);
}

/*
 * Time zones: our TZif reader against the C library, in this process
 * only (the test is single-threaded, so switching TZ is safe here).
 */
static void
test_tzone(void **state)
{
	static const char *const zones[] = {
		"Europe/Paris", "America/New_York", "Australia/Sydney", "Asia/Kolkata",
		"America/Sao_Paulo", "Pacific/Chatham", "UTC", "America/St_Johns",
		"Europe/Dublin", "Africa/Casablanca", 0,
	};
	const char *old = getenv("TZ");
	char   *saved = old ? mystrdup(old) : 0;
	TZONE  *tz;
	struct tm tm;
	time_t	t;
	int	i, bad = 0;

	assert_null(tzone_load("Mars/Olympus"));
	assert_null(tzone_load("../etc/passwd"));
	assert_null(tzone_load("Europe/../../etc/passwd"));
	assert_null(tzone_load(""));
	assert_false(tzone_name_ok("/etc/passwd"));
	assert_true(tzone_name_ok("Etc/GMT+3"));
	for (i = 0; zones[i]; i++) {
		tz = tzone_load(zones[i]);
		if (tz == 0) {
			print_error("zone %s not installed\n", zones[i]);
			bad++;
			continue;
		}
		setenv("TZ", zones[i], 1);
		tzset();
		/* 1950 to 2080, every 7h13m: both sides of every DST change. */
		for (t = -631152000; t < 3471292800; t += 7 * 3600 + 13 * 60) {
			localtime_r(&t, &tm);
			if (tm.tm_gmtoff != tzone_offset(tz, t)) {
				if (bad++ < 5)
					print_error("%s at %ld: libc %ld, ours %ld\n", zones[i], (long) t,
						    (long) tm.tm_gmtoff, tzone_offset(tz, t));
			} else if (tzone_mktime(tz, t + tm.tm_gmtoff) + tzone_offset(tz, tzone_mktime(tz, t + tm.tm_gmtoff)) != t + tm.tm_gmtoff) {
				if (bad++ < 5)
					print_error("%s: mktime of %ld\n", zones[i], (long) t);
			}
		}
		tzone_free(tz);
	}
	if (saved) {
		setenv("TZ", saved, 1);
		myfree(saved);
	} else
		unsetenv("TZ");
	tzset();
	assert_int_equal(bad, 0);

	/* A spring-forward gap reads as the time after it; an overlap as the
	 * earlier instant. */
	tz = tzone_load("Europe/Paris");
	assert_non_null(tz);
	assert_int_equal(tzone_mktime(tz, at("2026-03-29T02:30:00Z")), at("2026-03-29T01:30:00Z"));
	assert_int_equal(tzone_mktime(tz, at("2026-10-25T02:30:00Z")), at("2026-10-25T00:30:00Z"));
	assert_string_equal(tzone_name(tz), "Europe/Paris");
	tzone_free(tz);
	assert_int_equal(tzone_weekday(tzone_days_from_civil(2026, 3, 30)), 1);
}

static const char window_yaml[] =
"workflow: office\ntrigger: manual\n"
"send:\n  days: mon-fri\n  hours: \"09:00-17:00\"\n  timezone: Europe/Paris\n"
"steps: [end]\n"
"---\n"
"workflow: night\ntrigger: manual\nsend:\n  hours: \"22:00-06:00\"\nsteps: [end]\n"
"---\n"
"workflow: split\ntrigger: manual\nsend:\n  days: sat\n  hours: [\"09:00-12:00\", \"14:00-17:00\"]\nsteps: [end]\n"
"---\n"
"workflow: always\ntrigger: manual\nsteps: [end]\n";

static void
test_send_window(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set = load(window_yaml, &errs);
	const WORKFLOW *office, *night, *split, *always;
	json_t *c;

	assert_non_null(set);
	office = workflow_find(set, "office");
	night = workflow_find(set, "night");
	split = workflow_find(set, "split");
	always = workflow_find(set, "always");

	/* Friday 16:30 in Paris (CET): inside. */
	assert_int_equal(workflow_send_window(office, 0, at("2026-03-27T15:30:00Z")),
			 at("2026-03-27T15:30:00Z"));
	/* Friday 17:00: closed until Monday 09:00, by then summer time. */
	assert_int_equal(workflow_send_window(office, 0, at("2026-03-27T16:00:00Z")),
			 at("2026-03-30T07:00:00Z"));
	/* Saturday: the same Monday. */
	assert_int_equal(workflow_send_window(office, 0, at("2026-03-28T10:00:00Z")),
			 at("2026-03-30T07:00:00Z"));
	/* Monday 08:59:30 in Paris: 30 seconds later. */
	assert_int_equal(workflow_send_window(office, 0, at("2026-03-30T06:59:30Z")),
			 at("2026-03-30T07:00:00Z"));
	/* A New York contact: 09:00 EDT. */
	assert_int_equal(workflow_send_window(office, "America/New_York", at("2026-03-30T12:00:00Z")),
			 at("2026-03-30T13:00:00Z"));
	/* An unknown zone falls back to the workflow's. */
	assert_int_equal(workflow_send_window(office, "Nowhere/Land", at("2026-03-30T12:00:00Z")),
			 at("2026-03-30T12:00:00Z"));
	/* Overnight hours, UTC by default. */
	assert_int_equal(workflow_send_window(night, 0, at("2026-03-30T12:00:00Z")),
			 at("2026-03-30T22:00:00Z"));
	assert_int_equal(workflow_send_window(night, 0, at("2026-03-30T23:00:00Z")),
			 at("2026-03-30T23:00:00Z"));
	assert_int_equal(workflow_send_window(night, 0, at("2026-03-31T05:59:00Z")),
			 at("2026-03-31T05:59:00Z"));
	/* Two ranges on Saturdays: the lunch break, then next Saturday. */
	assert_int_equal(workflow_send_window(split, 0, at("2026-03-28T12:30:00Z")),
			 at("2026-03-28T14:00:00Z"));
	assert_int_equal(workflow_send_window(split, 0, at("2026-03-28T17:00:00Z")),
			 at("2026-04-04T09:00:00Z"));
	assert_int_equal(workflow_send_window(always, 0, 12345), 12345);

	/* The set's default zone applies to workflows without one. */
	assert_int_equal(workflow_set_timezone(set, "Nowhere/Land"), -1);
	assert_int_equal(workflow_set_timezone(set, "Asia/Tokyo"), 0);
	assert_int_equal(workflow_send_window(night, 0, at("2026-03-30T12:00:00Z")),
			 at("2026-03-30T13:00:00Z"));

	c = json_pack("{s:{s:s}}", "fields", "timezone", "America/Los_Angeles");
	assert_string_equal(workflow_contact_tz(office, c), "America/Los_Angeles");
	json_object_set_new(json_object_get(c, "fields"), "timezone", json_string("bogus"));
	assert_string_equal(workflow_contact_tz(office, c), "Europe/Paris");
	assert_string_equal(workflow_contact_tz(night, c), "Asia/Tokyo");
	json_decref(c);
	workflow_set_free(set);
	strbuf_free(&errs);
}

static const char dates_yaml[] =
"workflow: bday\ntrigger:\n  yearly: birthday\n  at: \"09:00\"\nsteps: [end]\n"
"---\n"
"workflow: anniv\ntrigger:\n  yearly: subscribed_at\n  before: 7d\n  at: \"10:00\"\nsteps: [end]\n"
"---\n"
"workflow: trial\ntrigger:\n  date: trial_end\n  before: 3d\n"
"send:\n  timezone: Europe/Paris\n"
"steps:\n"
"  - wait_until: trial_end\n    at: \"09:00\"\n"
"  - wait_until: webinar_at\n    before: 1h\n"
"  - wait_until: webinar_at\n    after: 2h\n"
"  - wait_until: 2026-12-24\n    before: 1d\n"
"  - wait_until: local_at\n";

static void
test_dates(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set = load(dates_yaml, &errs), *set2;
	const WORKFLOW *bday, *anniv, *trial;
	json_t *c;

	assert_non_null(set);
	bday = workflow_find(set, "bday");
	anniv = workflow_find(set, "anniv");
	trial = workflow_find(set, "trial");

	c = json_pack("{s:{s:s, s:s}}", "fields", "birthday", "1990-05-17", "timezone", "Europe/Paris");
	assert_int_equal(workflow_trigger_next(bday, c, at("2026-01-01T00:00:00Z")),
			 at("2026-05-17T07:00:00Z"));
	assert_int_equal(workflow_trigger_next(bday, c, at("2026-05-17T07:00:00Z")),
			 at("2026-05-17T07:00:00Z"));
	assert_int_equal(workflow_trigger_next(bday, c, at("2026-05-17T07:00:01Z")),
			 at("2027-05-17T07:00:00Z"));
	/* Without the year. */
	json_object_set_new(json_object_get(c, "fields"), "birthday", json_string("--12-31"));
	assert_int_equal(workflow_trigger_next(bday, c, at("2026-06-01T00:00:00Z")),
			 at("2026-12-31T08:00:00Z"));
	/* 29 February: the 28th in other years. */
	json_object_set_new(json_object_get(c, "fields"), "birthday", json_string("2000-02-29"));
	json_object_del(json_object_get(c, "fields"), "timezone");
	assert_int_equal(workflow_trigger_next(bday, c, at("2026-01-01T00:00:00Z")),
			 at("2026-02-28T09:00:00Z"));
	assert_int_equal(workflow_trigger_next(bday, c, at("2028-01-01T00:00:00Z")),
			 at("2028-02-29T09:00:00Z"));
	json_object_set_new(json_object_get(c, "fields"), "birthday", json_string("1990-02-30"));
	assert_int_equal(workflow_trigger_next(bday, c, 0), -1);
	json_object_set_new(json_object_get(c, "fields"), "birthday", json_string("soon"));
	assert_int_equal(workflow_trigger_next(bday, c, 0), -1);
	json_object_del(json_object_get(c, "fields"), "birthday");
	assert_int_equal(workflow_trigger_next(bday, c, 0), -1);

	/* The record's own "created" (seconds) works as a yearly date. */
	set2 = load("workflow: c\ntrigger:\n  yearly: created\n  at: \"08:00\"\nsteps: [end]\n", &errs);
	assert_non_null(set2);
	json_object_set_new(c, "created", json_integer(at("2024-07-14T23:30:00Z")));
	json_object_set_new(json_object_get(c, "fields"), "timezone", json_string("Europe/Paris"));
	/* 23:30 UTC is already the 15th in Paris. */
	assert_int_equal(workflow_trigger_next(workflow_at(set2, 0), c, at("2026-01-01T00:00:00Z")),
			 at("2026-07-15T06:00:00Z"));
	json_object_del(json_object_get(c, "fields"), "timezone");
	workflow_set_free(set2);

	/* A week before the anniversary, across the new year. */
	json_object_set_new(json_object_get(c, "fields"), "subscribed_at", json_string("2020-01-03T15:04:05Z"));
	assert_int_equal(workflow_trigger_next(anniv, c, at("2026-12-01T00:00:00Z")),
			 at("2026-12-27T10:00:00Z"));

	/* Relative to a date: local midnight in the workflow's zone, 3 days before. */
	json_object_set_new(json_object_get(c, "fields"), "trial_end", json_string("2026-04-10"));
	assert_int_equal(workflow_trigger_next(trial, c, at("2026-04-01T00:00:00Z")),
			 at("2026-04-06T22:00:00Z"));
	assert_int_equal(workflow_trigger_next(trial, c, at("2026-04-08T00:00:00Z")), -1);
	assert_int_equal(workflow_trigger_next(bday, c, 0), -1);

	/* Waits. */
	assert_int_equal(workflow_wait_until(trial, trial->steps + 0, c), at("2026-04-10T07:00:00Z"));
	/* at: is for dates; a time written in the field is kept. */
	json_object_set_new(json_object_get(c, "fields"), "trial_end", json_string("2026-04-10T18:30"));
	assert_int_equal(workflow_wait_until(trial, trial->steps + 0, c), at("2026-04-10T16:30:00Z"));
	json_object_set_new(json_object_get(c, "fields"), "webinar_at", json_string("2026-04-02T16:00:00Z"));
	assert_int_equal(workflow_wait_until(trial, trial->steps + 1, c), at("2026-04-02T15:00:00Z"));
	assert_int_equal(workflow_wait_until(trial, trial->steps + 2, c), at("2026-04-02T18:00:00Z"));
	assert_int_equal(workflow_wait_until(trial, trial->steps + 3, c), at("2026-12-23T00:00:00Z"));
	assert_int_equal(workflow_wait_until(trial, trial->steps + 4, c), -1);
	json_object_set_new(json_object_get(c, "fields"), "local_at", json_string("2026-07-01T12:00"));
	assert_int_equal(workflow_wait_until(trial, trial->steps + 4, c), at("2026-07-01T10:00:00Z"));
	json_object_set_new(json_object_get(c, "fields"), "local_at", json_integer(1000));
	assert_int_equal(workflow_wait_until(trial, trial->steps + 4, c), 1000);
	json_decref(c);
	workflow_set_free(set);
	strbuf_free(&errs);
}

/*
 * Directories: file names in messages, templates, segments across files.
 */
static void
test_check_dir(void **state)
{
	STRBUF	errs = STRBUF_INIT, want = STRBUF_INIT;
	WORKFLOW_SET *set;
	char   *dir = test_mkdtemp(), *tdir = test_mkdtemp();
	char   *wdir = myasprintf("%s/workflows", dir);
	char   *p[7], *big;
	FILE   *fp;
	int	i;

	assert_int_equal(mkdir(wdir, 0700), 0);
	p[0] = test_write(wdir, "a.yaml",
			  "workflow: a\ntrigger: subscribed\naudience: {segment: vip}\nsteps:\n"
			  "  - send: hello\n  - notify: owner\n    template: alert\n");
	p[1] = test_write(wdir, "b.yml", "segment: vip\nwhere: {tag: vip}\n");
	p[2] = test_write(wdir, "notes.txt", "not a workflow\n");
	p[3] = test_write(wdir, ".a.yaml.swp", "junk: [\n");
	p[4] = test_write(tdir, "hello.tmpl", "Subject: hi\n\nhello\n");
	/* Only NAME.tmpl is a template; a backup of one is not. */
	p[5] = test_write(tdir, "alert.tmpl~", "Subject: old\n\nold\n");
	p[6] = 0;

	/* A segment in another file resolves; a missing template is named. */
	assert_int_equal(workflow_check_dir(wdir, tdir, &errs), 1);
	strbuf_printf(&want, "%s/a.yaml:6: notify: no template \"alert\" (alert.tmpl) in %s\n", wdir, tdir);
	assert_string_equal(strbuf_str(&errs), strbuf_str(&want));
	strbuf_reset(&errs);
	set = workflow_load_dir(wdir, &errs);
	assert_non_null(set);
	assert_int_equal(workflow_count(set), 1);
	assert_int_equal(workflow_segment_count(set), 1);
	workflow_set_free(set);

	/* Errors in two files, in name order; nothing loads. */
	myfree(test_write(wdir, "c.yaml", "workflow: a\ntrigger: subscribed\nsteps: [end]\n"));
	myfree(test_write(wdir, "d.yaml", "workflow: d\ntrigger: subscribed\nsteps:\n  - wait: 1x\n"));
	strbuf_reset(&errs);
	strbuf_reset(&want);
	assert_null(workflow_load_dir(wdir, &errs));
	strbuf_printf(&want, "%s/d.yaml:4: wait: bad duration \"1x\" (use 90s, 15m, 2h, 3d or 2w)\n"
		      "%s/c.yaml:1: workflow \"a\" is already defined at %s/a.yaml:1\n",
		      wdir, wdir, wdir);
	assert_string_equal(strbuf_str(&errs), strbuf_str(&want));

	/* Files over the bound are refused before they are read. */
	big = myasprintf("%s/e.yaml", wdir);
	fp = fopen(big, "w");
	assert_non_null(fp);
	for (i = 0; i < 1024 * 1024 / 8 + 1; i++)
		fputs("#######\n", fp);
	fclose(fp);
	strbuf_reset(&errs);
	assert_int_equal(workflow_check_dir(wdir, 0, &errs), 3);
	assert_non_null(strstr(strbuf_str(&errs), "/e.yaml:0: cannot read: file too large\n"));
	myfree(big);

	/* A file where the directory should be; a template directory that
	 * does not exist while there are workflows to check. */
	strbuf_reset(&errs);
	strbuf_reset(&want);
	assert_int_equal(workflow_check_dir(p[0], 0, &errs), 1);
	strbuf_printf(&want, "%s:0: cannot open directory: Not a directory\n", p[0]);
	assert_string_equal(strbuf_str(&errs), strbuf_str(&want));
	test_rmdir(mystrdup(wdir));
	assert_int_equal(mkdir(wdir, 0700), 0);
	myfree(test_write(wdir, "a.yaml", "workflow: a\ntrigger: subscribed\nsteps: [end]\n"));
	strbuf_reset(&errs);
	strbuf_reset(&want);
	assert_int_equal(workflow_check_dir(wdir, "/nonexistent/t", &errs), 1);
	assert_string_equal(strbuf_str(&errs),
			    "/nonexistent/t:0: cannot open template directory: No such file or directory\n");

	/* At most 1,000 files; the rest are not read. */
	for (i = 0; i < 1000; i++) {
		char	name[32], text[64];

		snprintf(name, sizeof(name), "w%04d.yaml", i);
		snprintf(text, sizeof(text), "segment: s%04d\nwhere: {tag: vip}\n", i);
		myfree(test_write(wdir, name, text));
	}
	strbuf_reset(&errs);
	strbuf_reset(&want);
	assert_null(workflow_load_dir(wdir, &errs));
	strbuf_printf(&want, "%s:0: more than 1000 workflow files\n", wdir);
	assert_string_equal(strbuf_str(&errs), strbuf_str(&want));

	/* A missing directory is an empty set, and nothing to check. */
	strbuf_reset(&errs);
	set = workflow_load_dir("/nonexistent/postdrip", &errs);
	assert_non_null(set);
	assert_int_equal(workflow_count(set), 0);
	workflow_set_free(set);
	assert_int_equal(workflow_check_dir("/nonexistent/postdrip", "/nonexistent/t", &errs), 0);
	assert_string_equal(strbuf_str(&errs), "");

	for (i = 0; p[i]; i++)
		myfree(p[i]);
	myfree(wdir);
	test_rmdir(dir);
	test_rmdir(tdir);
	strbuf_free(&errs);
	strbuf_free(&want);
}

/* The shipped examples load without a word, and say what they should. */
static void
test_examples(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set;
	const WORKFLOW *wf;

	assert_int_equal(workflow_check_dir(TOP_SRCDIR "/conf/workflows",
					    TOP_SRCDIR "/conf/templates", &errs), 0);
	assert_string_equal(strbuf_str(&errs), "");
	set = workflow_load_dir(TOP_SRCDIR "/conf/workflows", &errs);
	assert_non_null(set);
	assert_int_equal(workflow_count(set), 28);

	wf = workflow_find(set, "welcome");
	assert_non_null(wf);
	assert_int_equal(wf->nsteps, 5);
	assert_int_equal(wf->trigger.kind, WF_TRIG_EVENT);
	wf = workflow_find(set, "trial");
	assert_int_equal(wf->ngoal, 3);
	wf = workflow_find(set, "hot-lead");
	assert_int_equal(wf->trigger.kind, WF_TRIG_SEGMENT);
	assert_non_null(workflow_segment(set, wf->trigger.segment));
	wf = workflow_find(set, "repermission");
	assert_int_equal(wf->trigger.kind, WF_TRIG_INACTIVE);
	assert_int_equal(wf->trigger.inactive, 180 * 86400);
	assert_int_equal(wf->steps[wf->steps[1].on_timeout].kind, WF_STEP_UNSUBSCRIBE);
	wf = workflow_find(set, "birthday");
	assert_int_equal(wf->trigger.kind, WF_TRIG_YEARLY);
	wf = workflow_find(set, "webinar");
	assert_int_equal(wf->stream, WF_STREAM_TRANSACTIONAL);
	wf = workflow_find(set, "replenish");
	assert_int_equal(wf->reentry, WF_REENTRY_RESTART);
	workflow_set_free(set);
	strbuf_free(&errs);
}

/* A click on an unsubscribe link is no click, unless it is asked for by name. */
static void
test_click_unsub(void **state)
{
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set;
	const WORKFLOW *wf;
	json_t *d;

	set = load("workflow: t\ntrigger: clicked\nreentry: restart\nexit:\n  - clicked\n"
		   "steps:\n  - wait_for: clicked\n    timeout: 1d\n"
		   "  - wait_for: clicked\n    where:\n      link: unsubscribe\n    timeout: 1d\n", &errs);
	assert_non_null(set);
	wf = workflow_find(set, "t");
	assert_int_equal(wf->reentry, WF_REENTRY_RESTART);
	d = json_pack("{s:s}", "link", "offer");
	assert_int_equal(workflow_click_unsub(d), 0);
	assert_int_equal(workflow_trigger_match(wf, "clicked", d), 1);
	assert_int_equal(workflow_exit_match(wf, "clicked", d), 1);
	json_decref(d);
	d = json_pack("{s:s, s:s}", "link", "Unsubscribe", "url", "https://example.com/x");
	assert_int_equal(workflow_click_unsub(d), 1);
	assert_int_equal(workflow_trigger_match(wf, "clicked", d), 0);
	assert_int_equal(workflow_exit_match(wf, "clicked", d), 0);
	assert_int_equal(workflow_match(&wf->steps[0].match, "clicked", d), 0);
	assert_int_equal(workflow_match(&wf->steps[1].match, "clicked", d), 1);
	json_decref(d);
	/* The default name (host/path) and the URL say so too. */
	d = json_pack("{s:s}", "link", "example.com/account/unsubscribe");
	assert_int_equal(workflow_click_unsub(d), 1);
	json_decref(d);
	d = json_pack("{s:s, s:s}", "link", "prefs", "url", "https://lists.example.com/Opt-Out?id=1");
	assert_int_equal(workflow_click_unsub(d), 1);
	json_decref(d);
	/* Only a path segment counts: not a host, a query or a later word. */
	d = json_pack("{s:s, s:s}", "link", "x", "url", "https://unsubscribe.example.com/why-unsubscribe?u=/unsubscribe");
	assert_int_equal(workflow_click_unsub(d), 0);
	json_decref(d);
	workflow_set_free(set);
	strbuf_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_errors_built),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_graph),
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_triggers_exits),
		cmocka_unit_test(test_tzone),
		cmocka_unit_test(test_send_window),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_check_dir),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_click_unsub),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_save_and_prefix),
	};

	return (cmocka_run_group_tests(tests, 0, 0));
}

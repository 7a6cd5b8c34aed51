#ifndef PD_WORKFLOW_H
#define PD_WORKFLOW_H

/*
 * workflow - workflow files (conf/workflows/NAME.yaml) and their in-memory form.
 *
 * A workflow is a trigger, an audience filter, a list of steps, exit rules,
 * send settings, a re-entry rule and a stream. The files are YAML, one or
 * more documents per file; a document is either a workflow (top key
 * "workflow: NAME") or a segment, a named audience filter (top key
 * "segment: NAME"). postdrip-workflow(5) is the reference for the format.
 *
 * The loader turns the nested YAML steps (if/then/else, wait_for with
 * on_event/on_timeout) into one flat array per workflow, in which control
 * flow is explicit: every step names the index of the step that runs after
 * it (WF_END: the enrolment ends). The scheduler therefore never walks a
 * tree; it keeps (workflow name, step id) in the enrolment and, after a
 * reload, finds the step again with workflow_step_find().
 *
 * Step ids are stable: a step's id is its label when it has one, else its
 * path in the file ("1", "2", "3.then.1", "4.timeout.2": 1-based positions;
 * the steps inside a labelled step take its label as their prefix,
 * "again.timeout.1"). Labels are the way to keep enrolments on the right
 * step when steps are inserted above them. An id is at most WF_ID_MAX - 1 bytes (it is stored in
 * STORE_SENT.step).
 *
 * Every element carries the file and line it came from (WF_POS) so that the
 * programs can name it in errors and logs.
 *
 * Ownership: a WORKFLOW_SET owns everything reachable from it; it is
 * immutable after loading, so any number of threads may read it at once
 * (the timezone cache inside is protected by its own lock). A reload builds
 * a new set; free the old one when no thread uses it any more.
 *
 * Time zones are read from the system's TZif files (zoneinfo) by our own
 * reader (tzone.h): no setenv("TZ")/tzset(), no global state, thread-safe.
 */
#include <time.h>
#include <jansson.h>

#include "util/strbuf.h"

#define WF_END		(-1)		/* "next step" index: the enrolment ends */
#define WF_ID_MAX	64		/* step ids and workflow names, with the null */

/* Where an element was written. file points into the set (do not free). */
typedef struct WF_POS {
	const char *file;
	int	line;
} WF_POS;

/*
 * Event matching: an event type plus key=value pairs that the event's data
 * must carry (all of them; values compared as text, numbers in their JSON
 * text form, true/false as "true"/"false"). Used by event triggers, wait_for
 * and event exit rules. Conventional keys of the recorded signals:
 * clicked: link (the link's name), url; bounced: class (hard/soft), status,
 * reason; opened: machine ("true" for privacy proxies and scanners).
 */
typedef struct WF_MATCH {
	char   *event;			/* event type, e.g. "clicked" */
	int	nwhere;
	char  **keys;			/* nwhere keys ... */
	char  **values;			/* ... and their values */
} WF_MATCH;

/*
 * Conditions: audience filters, "if" steps, exit rules and segments. A tree.
 */
typedef enum {
	WF_COND_ALL,			/* every sub is true (empty: true) */
	WF_COND_ANY,			/* some sub is true (empty: false) */
	WF_COND_NOT,			/* sub[0] is false */
	WF_COND_EVENT,			/* has_event(event, key, value, since) */
	WF_COND_FIELD,			/* contact field OP value */
	WF_COND_TAG,			/* contact has tag */
	WF_COND_LIST,			/* contact is on list (its "lists" array, or field "lists") */
	WF_COND_SCORE,			/* contact score OP number */
	WF_COND_SEGMENT,		/* in_segment(segment) */
	WF_COND_ACTIVE,			/* a human open or click within `within` seconds */
	WF_COND_INACTIVE,		/* no human open or click within `within` seconds */
} WF_COND_KIND;

typedef enum {
	WF_OP_EQ, WF_OP_NE, WF_OP_LT, WF_OP_LE, WF_OP_GT, WF_OP_GE,
	WF_OP_CONTAINS,			/* substring (case-insensitive) or array member */
	WF_OP_EXISTS,			/* field present and not empty */
	WF_OP_MISSING,			/* field absent or empty */
} WF_OP;

typedef struct WF_COND {
	WF_COND_KIND kind;
	WF_POS	pos;
	/* ALL, ANY, NOT */
	int	nsub;
	struct WF_COND **sub;
	/* EVENT: event type (opened, clicked, replied, bounced, or any type),
	 * one optional filter key=value (clicked: key "link"), and a window:
	 * within > 0: since now - within; within == 0: since the enrolment
	 * started (WF_FACTS.since). ACTIVE/INACTIVE use within too. */
	char   *event;
	char   *key;			/* may be NULL */
	char   *value;			/* may be NULL */
	long	within;			/* seconds */
	/* FIELD, SCORE: name (FIELD), operator, operand. A numeric operand
	 * (is_number) compares numerically when the field is a number or
	 * numeric text, else as text; dates in ISO 8601 compare as text. */
	char   *field;
	WF_OP	op;
	char   *operand;		/* text form; NULL for EXISTS/MISSING */
	double	number;
	int	is_number;
	/* TAG, LIST, SEGMENT: the name */
	char   *name;
} WF_COND;

/*
 * Triggers: what enrols a contact.
 */
typedef enum {
	WF_TRIG_EVENT,			/* an event of a type (match) */
	WF_TRIG_YEARLY,			/* each year on the month and day of a date field */
	WF_TRIG_DATE,			/* once, at a date(-time) field plus offset */
	WF_TRIG_SEGMENT,		/* the contact enters a segment */
	WF_TRIG_INACTIVE,		/* no human open or click for `inactive` seconds */
	WF_TRIG_MANUAL,			/* only by an explicit enrol command */
} WF_TRIG_KIND;

typedef struct WF_TRIGGER {
	WF_TRIG_KIND kind;
	WF_POS	pos;
	WF_MATCH match;			/* EVENT */
	char   *field;			/* YEARLY, DATE: contact field holding the date */
	long	offset;			/* YEARLY, DATE: seconds, negative = before */
	int	at;			/* YEARLY: minute of the local day to fire,
					 * -1: midnight (the send window then decides) */
	char   *segment;		/* SEGMENT */
	long	inactive;		/* INACTIVE: seconds */
} WF_TRIGGER;

/*
 * Steps, in one flat array per workflow; see the comment at the top.
 */
typedef enum {
	WF_STEP_SEND,			/* compose template, inject; then next */
	WF_STEP_WAIT,			/* wait `duration` seconds; then next */
	WF_STEP_WAIT_UNTIL,		/* wait until workflow_wait_until(); then next */
	WF_STEP_WAIT_FOR,		/* wait for match until duration; on_event / on_timeout */
	WF_STEP_IF,			/* cond ? then_next : else_next */
	WF_STEP_SET,			/* set contact fields (values; JSON null removes) */
	WF_STEP_ADD_TAG,		/* add tag `name` */
	WF_STEP_REMOVE_TAG,		/* remove tag `name` */
	WF_STEP_ADD_SCORE,		/* score += `score` (may be negative) */
	WF_STEP_NOTIFY,			/* internal mail: template to owner or `to` */
	WF_STEP_WEBHOOK,		/* HTTP POST JSON body to url */
	WF_STEP_UNSUBSCRIBE,		/* suppress the contact (reason), marketing stream */
	WF_STEP_SPLIT,			/* A/B split: one arm by weight (or the promoted one) */
	WF_STEP_GOTO,			/* jump to next (already resolved) */
	WF_STEP_END,			/* next == WF_END */
} WF_STEP_KIND;

typedef struct WF_HEADER {
	char   *name;
	char   *value;
} WF_HEADER;

/*
 * SPLIT: the arms of an A/B test. A contact goes down one arm, chosen by
 * workflow_split_arm() from a hash of (workflow, step, contact): at random
 * across contacts, in proportion to the weights, and the same arm for the
 * same contact on every run.
 */
#define WF_ARMS_MAX	8
#define WF_WEIGHT_MAX	10000

typedef struct WF_ARM {
	char   *name;			/* [A-Za-z0-9._-], unique in the step */
	WF_POS	pos;
	int	weight;			/* 0 .. WF_WEIGHT_MAX; 0: only when promoted */
	int	next;			/* first step of the arm, or the step after the split */
} WF_ARM;

typedef struct WF_STEP {
	WF_STEP_KIND kind;
	WF_POS	pos;
	char   *id;			/* stable id: label or path; unique */
	char   *label;			/* NULL if none */
	int	index;			/* position in WORKFLOW.steps */
	int	next;			/* index of the following step, or WF_END */
	/* SEND, NOTIFY: template name (in template_directory) */
	char   *template;
	/* WAIT: seconds. WAIT_FOR: timeout in seconds. WEBHOOK: request
	 * timeout in seconds. */
	long	duration;
	/* WAIT_UNTIL: a fixed instant (date != 0), or a contact date field
	 * (field != NULL) plus offset (negative = before). at: minute of the
	 * local day given to a field that holds a date without a time (-1:
	 * midnight); a time written in the field is kept. */
	time_t	date;
	char   *field;
	long	offset;
	int	at;
	/* WAIT_FOR: the event awaited (after the step starts); where to go when
	 * it arrives and when the timeout passes. */
	WF_MATCH match;
	int	on_event;		/* index or WF_END */
	int	on_timeout;		/* index or WF_END */
	/* IF */
	WF_COND *cond;
	int	then_next;		/* index or WF_END */
	int	else_next;		/* index or WF_END */
	/* SET: an object {field: value}; null values remove the field. */
	json_t *values;
	/* ADD_TAG, REMOVE_TAG: tag; UNSUBSCRIBE: reason */
	char   *name;
	/* ADD_SCORE */
	long	score;
	/* NOTIFY: to the contact's owner (field "owner"), else to `to`. */
	int	to_owner;
	char   *to;			/* fixed address; with to_owner, the fallback */
	/* WEBHOOK: body is a JSON template whose strings may hold Mustache
	 * ({{contact.email}}, {{contact.plan}}: the context of templates);
	 * NULL: the default body (contact, workflow, step, trigger event). secret: HMAC-SHA256 signature key
	 * for an X-Postdrip-Signature header (NULL: none). */
	char   *url;
	char   *secret;
	int	nheaders;
	WF_HEADER *headers;
	json_t *body;
	int	retries;		/* attempts after the first, with backoff */
	json_t *save;			/* {field: key or a.b path} of a 2xx JSON
					 * answer to set on the contact; NULL: none */
	/* GOTO: the label as written (next holds its index) */
	char   *target;
	/* SPLIT: the arms, and the arm promoted in the file (NULL: none) */
	int	narms;
	WF_ARM *arms;
	char   *promote;
	/* Any step: the arm of the innermost split it belongs to (NULL: none);
	 * sends record it in their event data as "arm". */
	char   *arm;
} WF_STEP;

/* Re-entry: may a contact be enrolled again after an enrolment? */
typedef enum {
	WF_REENTRY_ONCE,		/* once ever */
	WF_REENTRY_INTERVAL,		/* again when `reentry_after` seconds have
					 * passed since the last enrolment started */
	WF_REENTRY_ALWAYS,		/* each time the trigger fires (not while
					 * an enrolment is active) */
	WF_REENTRY_RESTART,		/* each time the trigger fires; a running
					 * enrolment ends (reason "restarted") */
} WF_REENTRY;

typedef enum {
	WF_STREAM_MARKETING,
	WF_STREAM_TRANSACTIONAL,
} WF_STREAM;

#define WF_DAY_ALL	0x7f		/* bit 0 Sunday ... bit 6 Saturday */
#define WF_HOURS_MAX	8

typedef struct WF_SEND {
	WF_POS	pos;
	unsigned days;			/* WF_DAY_* bits of allowed weekdays */
	int	nhours;			/* 0: all day */
	int	hour_start[WF_HOURS_MAX];	/* minutes since local midnight */
	int	hour_end[WF_HOURS_MAX];		/* exclusive; end < start spans midnight */
	char   *timezone;		/* default zone (NULL: the set's default) */
	char   *timezone_field;		/* contact field naming the zone ("timezone") */
} WF_SEND;

typedef struct WORKFLOW {
	char   *name;			/* unique in the set; [A-Za-z0-9._-] */
	WF_POS	pos;			/* the "workflow:" line */
	char   *description;		/* may be NULL */
	int	enabled;		/* "enabled: no" keeps it loaded, never enrols */
	WF_STREAM stream;
	WF_TRIGGER trigger;
	WF_COND *audience;		/* NULL: every contact */
	int	nexit;
	WF_COND **exits;		/* any true ends the enrolment; for the
					 * marketing stream the parser adds
					 * unsubscribed, complained and a hard
					 * bounce (implicit ones have line 0) */
	int	ngoal;
	WF_COND **goals;		/* the exits written as goal: (also in
					 * exits, not owned here): reaching one
					 * is a conversion, worth logging */
	WF_REENTRY reentry;
	long	reentry_after;		/* INTERVAL: seconds */
	WF_SEND	send;
	int	nsteps;
	WF_STEP *steps;			/* steps[0] runs first; nsteps may be 0 */
	struct WORKFLOW_SET *set;	/* back pointer (segments, zones) */
} WORKFLOW;

typedef struct WF_SEGMENT {
	char   *name;
	WF_POS	pos;
	char   *description;
	WF_COND *cond;
} WF_SEGMENT;

typedef struct WORKFLOW_SET WORKFLOW_SET;	/* opaque; use the functions */

/*
 * Loading and checking.
 */

/* Load every .yaml and .yml file of dir (sorted by name). NULL on error, with
 * "file:line: message" lines appended to errs (warnings too, prefixed
 * "warning: ", they do not fail the load). A missing directory is an empty
 * set. */
WORKFLOW_SET *workflow_load_dir(const char *dir, STRBUF *errs);
/* Same for one file (tests, fuzzing); name is used in messages. */
WORKFLOW_SET *workflow_load_file(const char *path, STRBUF *errs);
WORKFLOW_SET *workflow_load_string(const char *name, const char *text,
				           size_t len, STRBUF *errs);
/* Load and, when template_dir is not NULL, check that each send/notify names
 * an existing template (the file NAME.tmpl in template_dir). Returns the
 * number of errors (warnings are not counted). */
int	workflow_check_dir(const char *dir, const char *template_dir, STRBUF *errs);
/* The set's default zone for contacts and workflows without one (from the
 * config); -1 if the zone is unknown. Default: UTC. */
int	workflow_set_timezone(WORKFLOW_SET *set, const char *tz);
void	workflow_set_free(WORKFLOW_SET *set);

/* Access. Pointers stay valid for the life of the set. */
int	workflow_count(const WORKFLOW_SET *set);
const WORKFLOW *workflow_at(const WORKFLOW_SET *set, int i);
const WORKFLOW *workflow_find(const WORKFLOW_SET *set, const char *name);
const WF_SEGMENT *workflow_segment(const WORKFLOW_SET *set, const char *name);
int	workflow_segment_count(const WORKFLOW_SET *set);
const WF_SEGMENT *workflow_segment_at(const WORKFLOW_SET *set, int i);
/* Index of the step with this id, or -1 (the file changed under an
 * enrolment: the caller ends it and logs). */
int	workflow_step_find(const WORKFLOW *wf, const char *id);

/*
 * Evaluation. Conditions and audience filters are evaluated against facts
 * that the caller builds from the store.
 */
typedef struct WF_FACTS {
	json_t *contact;		/* {"id","email","fields":{},"tags":[],"score"} */
	/* Did the contact have an event of this type (with data key=value when
	 * key is not NULL) at or after since? "opened" and "clicked" count human
	 * ones only (the caller skips machine opens). 1 yes, 0 no, -1 cannot
	 * tell now (store trouble). NULL: never. */
	int	(*has_event) (void *ctx, const char *type, const char *key,
			              const char *value, time_t since);
	/* 1 in, 0 not, -1 cannot tell. NULL: evaluate the set's segment
	 * definition with these same facts (see workflow_segment_eval). */
	int	(*in_segment) (void *ctx, const char *segment);
	void   *ctx;
	time_t	now;
	time_t	since;			/* start of the enrolment (or of the step) */
	const WORKFLOW_SET *set;	/* for segments when in_segment is NULL */
} WF_FACTS;

/* 1 true, 0 false, -1 a fact could not be read (try again later). */
int	workflow_cond_eval(const WF_COND *c, const WF_FACTS *f);
int	workflow_audience_eval(const WORKFLOW *wf, const WF_FACTS *f);	/* no filter: 1 */
int	workflow_segment_eval(const WF_SEGMENT *seg, const WF_FACTS *f);
/* Exit rules: 1 when one is true now (checked before each step). */
int	workflow_exit_eval(const WORKFLOW *wf, const WF_FACTS *f);
/* Does an arriving event end the enrolment by itself (an event exit rule
 * matches it)? 1 or 0. */
int	workflow_exit_match(const WORKFLOW *wf, const char *event_type,
			            json_t *event_data);

/* Does an event of this type with this data fire the workflow's trigger?
 * 1 or 0 (0 for non-event triggers and disabled workflows). data may be
 * NULL. */
int	workflow_trigger_match(const WORKFLOW *wf, const char *event_type,
			               json_t *event_data);
/* Does an awaited event (WF_STEP_WAIT_FOR) match? 1 or 0. */
int	workflow_match(const WF_MATCH *m, const char *event_type, json_t *event_data);
/* A datum of an event, as text, against a where value: equal without
 * regard to case, or, for a value that ends in "*", beginning with what
 * comes before it. */
int	workflow_value_match(const char *have, const char *want);

/* Is a clicked event's link an unsubscribe link (named "unsubscribe", or a
 * URL whose path has a segment starting with "unsubscribe", "optout" or
 * "opt-out")? Such a click is not interest: "clicked", "clicked: yes", a
 * clicked trigger and a wait_for clicked without a link name ignore it;
 * only a condition or a where naming the link sees it. 1 or 0. */
int	workflow_click_unsub(json_t *event_data);

/* YEARLY and DATE triggers: the first instant >= after at which the trigger
 * fires for this contact, or (time_t) -1 (field missing or not a date, or a
 * DATE trigger already past). YEARLY uses the contact's zone; 29 February
 * falls on 28 February in other years. The scheduler finds candidates in
 * STORE_DB_DATEIDX under the month and day of (day - offset). */
time_t	workflow_trigger_next(const WORKFLOW *wf, json_t *contact, time_t after);
/* WAIT_UNTIL: when the wait ends for this contact, or (time_t) -1 when the
 * field is missing or not a date (the caller goes on at once and logs). */
time_t	workflow_wait_until(const WORKFLOW *wf, const WF_STEP *s, json_t *contact);

/* The contact's zone name: its timezone field when that is a known zone,
 * else the workflow's, else the set's. Valid for the life of the set or of
 * contact, whichever is shorter. */
const char *workflow_contact_tz(const WORKFLOW *wf, json_t *contact);
/* Next allowed send time >= t in zone tz (NULL: the workflow's default).
 * An unknown tz falls back to the workflow's default. */
time_t	workflow_send_window(const WORKFLOW *wf, const char *tz, time_t t);
/* Seconds east of UTC at t in zone tz (as workflow_send_window() picks
 * it): for showing a time as the contact sees it. */
long	workflow_zone_offset(const WORKFLOW *wf, const char *tz, time_t t);

/* SPLIT: the index in st->arms of the arm for this contact (contact is
 * its stable id, e.g. the store's contact number in decimal); promote,
 * when it names an arm, wins (the test is over). -1 when no arm has a
 * weight. */
int	workflow_split_arm(const WF_STEP *st, const char *workflow,
			           const char *contact, const char *promote);
/* The index of the arm called name, or -1. */
int	workflow_arm_find(const WF_STEP *st, const char *name);

/* Names, for logs and the timeline. */
const char *workflow_step_kind_name(WF_STEP_KIND kind);
const char *workflow_stream_name(WF_STREAM stream);

/* Text for people (workflow_show.c), appended to out: the trigger in a few
 * words ("event clicked link=pricing", "yearly birthday before 7d at
 * 09:00"); a condition on one line; the steps, one line each:
 * "file:line<TAB>id<TAB>what<TAB>next" (next: an id, "end", "then ID else
 * ID" or "event ID timeout ID", "A ID B ID" for the arms of a split). Secrets and header values are not shown. */
void	workflow_show_trigger(const WORKFLOW *wf, STRBUF *out);
void	workflow_show_cond(const WF_COND *c, STRBUF *out);
void	workflow_show_steps(const WORKFLOW *wf, STRBUF *out);

#endif

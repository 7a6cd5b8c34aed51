/*++
/* NAME
/*	cli_store 1
/* SUMMARY
/*	postdrip commands on settings, keys, suppressions and events
/* SYNOPSIS
/*	postdrip check
/*	postdrip config [-d] [NAME...]
/*	postdrip keygen
/*	postdrip suppress ADDRESS [--reason REASON]
/*	postdrip unsuppress ADDRESS
/*	postdrip suppressed
/*	postdrip event ADDRESS TYPE [key=value...]
/*	postdrip timeline ADDRESS
/*	postdrip stats [--json]
/* DESCRIPTION
/*	Each write is acknowledged only after its commit: when suppress
/*	returns, the policy daemon already refuses the address.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <unistd.h>

#include "util/addr.h"
#include "caps/stream.h"
#include "cli.h"
#include "util/clock.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "token/tokens.h"
#include "sched/scheduler.h"
#include "store/store_sched.h"
#include "workflow/workflow.h"

/* check_where - "file:line: " of a setting (the file alone for a default) */

static void
check_where(CLI *cli, STRBUF *out, const char *name)
{
	if (config_line(cli->cf, name))
		strbuf_printf(out, "%s:%d: ", config_path(cli->cf), config_line(cli->cf, name));
	else
		strbuf_printf(out, "%s: ", config_path(cli->cf));
}

/* check_postconf - one line of postconf's output, or NULL */

static char *
check_postconf(const char *dir, const char *args, char *buf, size_t len)
{
	STRBUF	cmd = STRBUF_INIT;
	FILE   *fp;
	char   *ok;

	strbuf_printf(&cmd, "postconf -c '%s' %s 2>/dev/null", dir, args);
	fp = strchr(dir, '\'') ? 0 : popen(strbuf_str(&cmd), "r");
	strbuf_free(&cmd);
	if (fp == 0)
		return (0);
	ok = fgets(buf, (int) len, fp);
	if (pclose(fp) != 0 || ok == 0)
		return (0);
	buf[strcspn(buf, "\n")] = 0;
	return (buf);
}

/* cli_check_settings - placeholders left, settings that cannot work together */

static int
cli_check_settings(CLI *cli, STRBUF *out)
{
	static const char *placeholders[] = {"bounce_domain", "tracker_url", "marketing_senders", 0};
	static const char *sockets[] = {"milter_listen", "lmtp_listen", 0};
	const char *v, *pfdir, *path, *f;
	char	qdir[1024], line[1024];
	int	i, errors = 0, chrooted;

	for (i = 0; placeholders[i]; i++) {
		v = config_str(cli->cf, placeholders[i]);
		if (strcasestr(v, "example.com") || strcasestr(v, "example.org")
		    || strcasestr(v, "example.net")) {
			check_where(cli, out, placeholders[i]);
			strbuf_printf(out, "warning: %s = %s is the example's placeholder; "
				      "set your own domain\n", placeholders[i], v);
		}
	}
	if (*config_str(cli->cf, "marketing_senders") && !*config_str(cli->cf, "tracker_url")) {
		check_where(cli, out, "tracker_url");
		strbuf_printf(out, "marketing_senders is set but tracker_url is empty: marketing "
			      "mail needs an https unsubscribe URL (List-Unsubscribe-Post)\n");
		errors++;
	}
	pfdir = config_str(cli->cf, "postfix_config_directory");
	if (*pfdir == 0 || check_postconf(pfdir, "-h queue_directory", qdir, sizeof(qdir)) == 0)
		return (errors);
	/* service type private unpriv chroot ...: the fifth column. */
	if (check_postconf(pfdir, "-M smtp/inet", line, sizeof(line)) == 0)
		return (errors);
	{
		char   *col = line, *tok = 0;
		int	n;

		for (n = 0; n < 5 && (tok = strtok(col, " \t")) != 0; n++)
			col = 0;
		chrooted = (n == 5 && tok && strcmp(tok, "n") != 0);
	}
	if (!chrooted)
		return (errors);
	for (i = 0; sockets[i]; i++) {
		v = config_str(cli->cf, sockets[i]);
		if (strncmp(v, "unix:", 5) != 0 && strncmp(v, "local:", 6) != 0)
			continue;
		path = strchr(v, ':') + 1;
		f = path + strlen(qdir);
		if (strncmp(path, qdir, strlen(qdir)) == 0 && *f == '/')
			continue;
		check_where(cli, out, sockets[i]);
		strbuf_printf(out, "%s = %s is outside Postfix's queue_directory %s, but smtpd runs "
			      "chrooted there (master.cf smtp/inet): put the socket under %s/\n",
			      sockets[i], v, qdir, qdir);
		errors++;
	}
	return (errors);
}

/* cli_check_outbound - marketing settings that the milter needs */

static int
cli_check_outbound(CLI *cli, STRBUF *errs)
{
	static const char *const streams[] = {
		"marketing_senders", "marketing_sasl_users", "marketing_clients", 0,
	};
	const char *path = config_path(cli->cf) ? config_path(cli->cf) : "postdrip.conf";
	const char *url = config_str(cli->cf, "tracker_url");
	const char *lu = config_str(cli->cf, "milter_list_unsubscribe");
	const char *const *n;
	char  **list, *serr;
	STREAM_RULES *sr;
	int	errors = 0;

	/*
	 * Marketing mail must carry a one-click https List-Unsubscribe (the
	 * bulk-sender rules): without a tracker URL postdrip-milter could
	 * only add a mailto, which mailbox providers do not accept alone.
	 */
	for (n = streams; *n; n++) {
		list = config_list(cli->cf, *n);
		if (list && *list && strncasecmp(url, "https://", 8) != 0
		    && strncasecmp(url, "http://", 7) != 0) {
			strbuf_printf(errs, "%s:%d: %s is set but tracker_url is %s: marketing mail "
				      "needs a List-Unsubscribe URL (tracker_url = https://...)\n",
				      path, config_line(cli->cf, *n), *n,
				      *url ? "not an http(s) URL" : "empty");
			errors++;
			break;
		}
	}
	if (errors == 0 && *config_str(cli->cf, "marketing_lists")
	    && strncasecmp(url, "https://", 8) != 0 && strncasecmp(url, "http://", 7) != 0) {
		strbuf_printf(errs, "%s:%d: marketing_lists is set but tracker_url is %s: marketing "
			      "mail needs a List-Unsubscribe URL (tracker_url = https://...)\n",
			      path, config_line(cli->cf, "marketing_lists"),
			      *url ? "not an http(s) URL" : "empty");
		errors++;
	}
	/* The stream rules as postdrip-policyd and postdrip-milter build them. */
	if ((sr = stream_rules_create(cli->cf, &serr)) == 0) {
		char   *line, *next;

		for (line = serr; line; line = next) {
			if ((next = strchr(line, '\n')) != 0)
				*next++ = 0;
			strbuf_printf(errs, "%s:%d: %s\n", path,
				      config_line(cli->cf, strncmp(line, "marketing_lists", 15) == 0 ?
					  "marketing_lists" : "marketing_clients"), line);
			errors++;
		}
		myfree(serr);
	}
	stream_rules_free(sr);
	if (strcasecmp(lu, "add") && strcasecmp(lu, "keep") && strcasecmp(lu, "replace")) {
		strbuf_printf(errs, "%s:%d: milter_list_unsubscribe = %s: expected add, keep or replace\n",
			      path, config_line(cli->cf, "milter_list_unsubscribe"), lu);
		errors++;
	}
	return (errors);
}
#include "classify/classify.h"

/* cli_check - validate everything a running postdrip reads */

int
cli_check(CLI *cli, int argc, char **argv)
{
	STRBUF	errs = STRBUF_INIT;
	TOKENS *tk;
	char   *err;
	int	errors = 0;

	if (argc != 1)
		return (fprintf(stderr, "usage: postdrip check\n"), CLI_USAGE);
	/* The configuration itself was loaded (and checked) by main(). */
	errors += cli_check_settings(cli, &errs);
	if ((tk = tokens_load(config_str(cli->cf, "token_key_file"), &err)) == 0) {
		strbuf_printf(&errs, "%s\n", err);
		myfree(err);
		errors++;
	}
	tokens_free(tk);
	errors += cli_check_templates(cli, &errs);
	errors += cli_check_workflows(cli, &errs);
	errors += cli_check_caps(cli, &errs);
	errors += cli_check_outbound(cli, &errs);
	/* The phrase vocabulary: only its default may be missing. */
	if (!(config_is_default(cli->cf, "bounce_reasons_file")
	      && access(config_str(cli->cf, "bounce_reasons_file"), F_OK) < 0
	      && errno == ENOENT)
	    && classify_reasons_check(config_str(cli->cf, "bounce_reasons_file"), &errs) < 0)
		errors++;
	fputs(strbuf_str(&errs), stdout);
	strbuf_free(&errs);
	return (errors ? CLI_ERROR : CLI_OK);
}

/* config_default_here - a setting's default, its $names expanded as here */

static const char *
config_default_here(CLI *cli, const CONF_PARAM *p, STRBUF *out)
{
	const char *s = p->def, *end;
	char	name[64];
	const CONF_PARAM *q;
	size_t	len;

	/*
	 * Defaults refer only to settings without references of their own
	 * ($config_directory, $bounce_domain), so one level is enough; a
	 * reference that is not a setting is kept as text.
	 */
	strbuf_reset(out);
	while (*s) {
		if (*s != '$') {
			strbuf_putc(out, *s++);
			continue;
		}
		end = s + 1;
		if (*end == '{')
			end++;
		for (len = 0; isalnum((unsigned char) end[len]) || end[len] == '_'; len++)
			 /* void */ ;
		if (len == 0 || len >= sizeof(name)) {
			strbuf_putc(out, *s++);
			continue;
		}
		memcpy(name, end, len);
		name[len] = 0;
		end += len;
		if (s[1] == '{') {
			if (*end != '}') {
				strbuf_putc(out, *s++);
				continue;
			}
			end++;
		}
		for (q = config_params; q->name && strcmp(q->name, name) != 0; q++)
			 /* void */ ;
		if (q->name)
			strbuf_puts(out, config_str(cli->cf, name));
		else
			strbuf_append(out, s, end - s);
		s = end;
	}
	return (strbuf_str(out));
}

/* cli_config - print settings like postconf */

int
cli_config(CLI *cli, int argc, char **argv)
{
	const CONF_PARAM *p;
	int	defaults = 0, i, status = CLI_OK, found;
	STRBUF	def = STRBUF_INIT;

	if (argc == 2 && strcmp(argv[1], "--doc") == 0) {
		/* name TAB default TAB description: for postdrip.conf(5) */
		for (p = config_params; p->name; p++)
			printf("%s\t%s\t%s\n", p->name, p->def, p->doc);
		return (CLI_OK);
	}
	if (argc > 1 && strcmp(argv[1], "-d") == 0) {
		defaults = 1;
		argc--, argv++;
	}
	for (i = 1; i < argc; i++)
		if (argv[i][0] == '-')
			return (fprintf(stderr, "usage: postdrip config [-d] [NAME...]\n"), CLI_USAGE);
	for (p = config_params; p->name; p++) {
		if (argc > 1) {
			for (found = 0, i = 1; i < argc; i++)
				if (strcmp(argv[i], p->name) == 0)
					found = 1;
			if (!found)
				continue;
		} else if (!defaults && strcmp(config_str(cli->cf, p->name),
					    config_default_here(cli, p, &def)) == 0)
			continue;
		printf("%s = %s\n", p->name, defaults ? p->def : config_str(cli->cf, p->name));
	}
	strbuf_free(&def);
	for (i = 1; i < argc; i++) {
		for (p = config_params; p->name && strcmp(p->name, argv[i]); p++)
			 /* void */ ;
		if (p->name == 0) {
			fprintf(stderr, "postdrip: unknown setting \"%s\"\n", argv[i]);
			status = CLI_ERROR;
		}
	}
	return (status);
}

/* cli_keygen - add a signing key */

int
cli_keygen(CLI *cli, int argc, char **argv)
{
	const char *path = config_str(cli->cf, "token_key_file");
	char   *err;
	int	keyid;

	if (argc != 1)
		return (fprintf(stderr, "usage: postdrip keygen\n"), CLI_USAGE);
	if (tokens_keygen(path, &keyid, &err) < 0) {
		fprintf(stderr, "postdrip: %s\n", err);
		myfree(err);
		return (CLI_ERROR);
	}
	printf("%s: key %d added; it signs from now on, older keys still verify\n",
	       path, keyid);
	return (CLI_OK);
}

/* Suppression. */

typedef struct {
	const char *addr;
	const char *reason;
	const char *source;
	time_t	now;
} CLI_SUPPRESS;

static int
cli_suppress_op(STORE_TXN *txn, void *ctx)
{
	CLI_SUPPRESS *s = ctx;
	json_t *data;
	uint64_t id;
	int	rc;

	if ((rc = store_suppress_put(txn, s->addr, s->reason, s->source, s->now)) != STORE_OK)
		return (rc);
	if (store_contact_find(txn, s->addr, &id) == STORE_OK) {
		data = json_pack("{s:s, s:s}", "reason", s->reason, "source", s->source);
		rc = store_event_append(txn, id, s->now, "suppressed", data, 0);
		json_decref(data);
	}
	return (rc);
}

static int
cli_unsuppress_op(STORE_TXN *txn, void *ctx)
{
	CLI_SUPPRESS *s = ctx;
	uint64_t id;
	int	rc;

	if ((rc = store_suppress_del(txn, s->addr)) != STORE_OK)
		return (rc);
	if (store_contact_find(txn, s->addr, &id) == STORE_OK)
		rc = store_event_append(txn, id, s->now, "unsuppressed", 0, 0);
	return (rc);
}

/* cli_addr_arg - a normalized address argument, or 0 with a message */

static char *
cli_addr_arg(const char *arg, char *buf)
{
	if (addr_normalize(arg, buf) == 0) {
		fprintf(stderr, "postdrip: not an e-mail address: \"%s\"\n", arg);
		return (0);
	}
	return (buf);
}

int
cli_suppress(CLI *cli, int argc, char **argv)
{
	CLI_SUPPRESS s;
	char	addr[ADDR_MAX + 1];
	int	rc;

	memset(&s, 0, sizeof(s));
	s.reason = "manual";
	s.source = "cli";
	if (argc == 4 && strcmp(argv[2], "--reason") == 0)
		s.reason = argv[3];
	else if (argc != 2)
		return (fprintf(stderr, "usage: postdrip suppress ADDRESS [--reason REASON]\n"), CLI_USAGE);
	if ((s.addr = cli_addr_arg(argv[1], addr)) == 0)
		return (CLI_ERROR);
	if (*s.reason == 0 || strlen(s.reason) > 63 || strpbrk(s.reason, " \t\r\n"))
		return (fprintf(stderr, "postdrip: a reason is one word of up to 63 characters\n"), CLI_USAGE);
	s.now = clock_now();
	if ((rc = store_write(cli_store(cli), cli_suppress_op, &s)) != STORE_OK) {
		fprintf(stderr, "postdrip: suppress %s: %s\n", addr, store_strerror(rc));
		return (CLI_ERROR);
	}
	return (CLI_OK);
}

int
cli_unsuppress(CLI *cli, int argc, char **argv)
{
	CLI_SUPPRESS s;
	char	addr[ADDR_MAX + 1];
	int	rc;

	if (argc != 2)
		return (fprintf(stderr, "usage: postdrip unsuppress ADDRESS\n"), CLI_USAGE);
	memset(&s, 0, sizeof(s));
	if ((s.addr = cli_addr_arg(argv[1], addr)) == 0)
		return (CLI_ERROR);
	s.now = clock_now();
	rc = store_write(cli_store(cli), cli_unsuppress_op, &s);
	if (rc == STORE_NOTFOUND) {
		fprintf(stderr, "postdrip: %s is not suppressed\n", addr);
		return (CLI_ERROR);
	}
	if (rc != STORE_OK) {
		fprintf(stderr, "postdrip: unsuppress %s: %s\n", addr, store_strerror(rc));
		return (CLI_ERROR);
	}
	return (CLI_OK);
}

static int
cli_suppressed_print(const char *addr, const STORE_SUPPRESSION *s, void *ctx)
{
	char	when[CLOCK_ISO_LEN];

	printf("%s\t%s\t%s\t%s\n", addr, s->reason, clock_format(s->time, when), s->source);
	return (0);
}

int
cli_suppressed(CLI *cli, int argc, char **argv)
{
	STORE_TXN *txn;
	int	rc;

	if (argc != 1)
		return (fprintf(stderr, "usage: postdrip suppressed\n"), CLI_USAGE);
	if ((rc = store_rbegin(cli_store(cli), &txn)) != STORE_OK)
		return (CLI_ERROR);
	rc = store_suppress_walk(txn, cli_suppressed_print, 0);
	store_rend(txn);
	return (rc == STORE_OK ? CLI_OK : CLI_ERROR);
}

/* Events. */

typedef struct {
	const char *addr;
	const char *type;
	json_t *data;
	time_t	now;
	uint64_t seq;
} CLI_EVENT;

static int
cli_event_op(STORE_TXN *txn, void *ctx)
{
	CLI_EVENT *e = ctx;
	uint64_t id;
	int	rc;

	if ((rc = store_contact_ensure(txn, e->addr, e->now, &id, 0)) != STORE_OK)
		return (rc);
	return (store_event_append(txn, id, e->now, e->type, e->data, &e->seq));
}

/* cli_event_type_ok - event types are short lower-case words */

static int
cli_event_type_ok(const char *t)
{
	size_t	n = strlen(t);

	if (n == 0 || n > 47)
		return (0);
	for (; *t; t++)
		if (!(islower((unsigned char) *t) || isdigit((unsigned char) *t) || *t == '_' || *t == '-' || *t == '.'))
			return (0);
	return (1);
}

int
cli_event(CLI *cli, int argc, char **argv)
{
	CLI_EVENT e;
	char	addr[ADDR_MAX + 1], *eq;
	int	i, rc;

	if (argc < 3)
		return (fprintf(stderr, "usage: postdrip event ADDRESS TYPE [key=value...]\n"), CLI_USAGE);
	memset(&e, 0, sizeof(e));
	if ((e.addr = cli_addr_arg(argv[1], addr)) == 0)
		return (CLI_ERROR);
	if (!cli_event_type_ok(argv[2])) {
		fprintf(stderr, "postdrip: bad event type \"%s\": use lower-case letters, digits, _ - .\n", argv[2]);
		return (CLI_USAGE);
	}
	e.type = argv[2];
	e.data = json_object();
	for (i = 3; i < argc; i++) {
		if ((eq = strchr(argv[i], '=')) == 0 || eq == argv[i]) {
			fprintf(stderr, "postdrip: expected key=value, got \"%s\"\n", argv[i]);
			json_decref(e.data);
			return (CLI_USAGE);
		}
		*eq = 0;
		json_object_set_new(e.data, argv[i], json_string(eq + 1));
		*eq = '=';
	}
	e.now = clock_now();
	rc = store_write(cli_store(cli), cli_event_op, &e);
	json_decref(e.data);
	if (rc != STORE_OK) {
		fprintf(stderr, "postdrip: event: %s\n", store_strerror(rc));
		return (CLI_ERROR);
	}
	return (CLI_OK);
}

/* cli_timeline_print - time TAB type TAB details */

static int
cli_timeline_print(const STORE_EVENT *ev, void *ctx)
{
	char	when[CLOCK_ISO_LEN];
	const char *key;
	json_t *v;
	char   *text;
	int	first = 1;

	printf("%s\t%s\t", clock_format(ev->time, when), ev->type);
	json_object_foreach(ev->data, key, v) {
		if (json_is_string(v))
			printf("%s%s=%s", first ? "" : " ", key, json_string_value(v));
		else {
			text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			printf("%s%s=%s", first ? "" : " ", key, text ? text : "");
			free(text);
		}
		first = 0;
	}
	putchar('\n');
	return (0);
}

int
cli_timeline(CLI *cli, int argc, char **argv)
{
	STORE_TXN *txn;
	char	addr[ADDR_MAX + 1];
	uint64_t id;
	int	rc;

	if (argc != 2)
		return (fprintf(stderr, "usage: postdrip timeline ADDRESS\n"), CLI_USAGE);
	if (cli_addr_arg(argv[1], addr) == 0)
		return (CLI_ERROR);
	if ((rc = store_rbegin(cli_store(cli), &txn)) != STORE_OK)
		return (CLI_ERROR);
	rc = store_contact_find(txn, addr, &id);
	if (rc == STORE_OK)
		rc = store_timeline_walk(txn, id, cli_timeline_print, 0);
	store_rend(txn);
	if (rc == STORE_NOTFOUND) {
		fprintf(stderr, "postdrip: no contact %s\n", addr);
		return (CLI_ERROR);
	}
	return (rc == STORE_OK ? CLI_OK : CLI_ERROR);
}

/*
 * Per-workflow figures for "postdrip stats": the enrolments by state (and
 * the ended ones by reason), and the workflow's messages by outcome, from
 * the events the engine and the signal module record:
 *	sent		"sent" (composed and handed to injection)
 *	deferred	"send_deferred" (each 4xx or unreachable attempt)
 *	refused		"send_refused" (5xx at injection) and "send_failed"
 *			(retried past engine_retry_limit)
 *	bounced		"bounced" that names the workflow (a DSN came back)
 *	delivered	sent, less refused, failed and bounced: accepted by
 *			Postfix and not (yet) bounced
 */
#define ST_ENROLLED	0
#define ST_ACTIVE	1
#define ST_COMPLETED	2
#define ST_EXITED	3
#define ST_SENT		4
#define ST_DEFERRED	5
#define ST_REFUSED	6
#define ST_BOUNCED	7
#define ST_N		8

typedef struct STAT_WF {
	char	name[WF_ID_MAX];
	unsigned long n[ST_N];
	json_t *reasons;		/* exited: reason -> count */
} STAT_WF;

typedef struct STATS {
	STAT_WF *wf;
	size_t	n, a;
} STATS;

/* stats_wf - the row of a workflow, made on first use */

static STAT_WF *
stats_wf(STATS *st, const char *name)
{
	size_t	i;

	for (i = 0; i < st->n; i++)
		if (strcmp(st->wf[i].name, name) == 0)
			return (st->wf + i);
	if (st->n == st->a) {
		st->a = st->a ? 2 * st->a : 16;
		st->wf = myrealloc(st->wf, st->a * sizeof(*st->wf));
	}
	memset(st->wf + st->n, 0, sizeof(*st->wf));
	snprintf(st->wf[st->n].name, sizeof(st->wf[st->n].name), "%s", name);
	st->wf[st->n].reasons = json_object();
	return (st->wf + st->n++);
}

/* stats_wf_cmp - by name */

static int
stats_wf_cmp(const void *a, const void *b)
{
	return (strcmp(((const STAT_WF *) a)->name, ((const STAT_WF *) b)->name));
}

/* stats_enrol_fn - one enrolment */

static int
stats_enrol_fn(const unsigned char *k, size_t klen, const unsigned char *v,
	               size_t vlen, void *ctx)
{
	STATS  *st = ((void **) ctx)[0];
	STORE_TXN *txn = ((void **) ctx)[1];
	SCHED_ENROL e;
	STAT_WF *w;
	json_t *c;

	(void) v;
	(void) vlen;
	if (klen != 8 || sched_enrol_get(txn, store_u64_get(k), &e) != STORE_OK)
		return (0);
	w = stats_wf(st, e.workflow);
	w->n[ST_ENROLLED]++;
	if (e.state == SCHED_ACTIVE || e.state == SCHED_WAITING)
		w->n[ST_ACTIVE]++;
	else if (e.state == SCHED_DONE)
		w->n[ST_COMPLETED]++;
	else if (e.state == SCHED_EXITED) {
		w->n[ST_EXITED]++;
		c = json_object_get(w->reasons, e.reason[0] ? e.reason : "unknown");
		json_object_set_new(w->reasons, e.reason[0] ? e.reason : "unknown",
				    json_integer(c ? json_integer_value(c) + 1 : 1));
	}
	return (0);
}

/* stats_events - the sends of each workflow, from the event log */

static void
stats_events(STATS *st, STORE_TXN *txn)
{
	static const struct {
		const char *type;
		int	slot;
	}	map[] = {
		{"sent", ST_SENT}, {"send_deferred", ST_DEFERRED},
		{"send_refused", ST_REFUSED}, {"send_failed", ST_REFUSED},
		{"bounced", ST_BOUNCED}, {0},
	};
	STORE_EVENT ev;
	const char *wf;
	uint64_t after = 0;
	size_t	n, max = store_count(txn, STORE_DB_EVENT);
	int	i;

	for (n = 0; n < max && store_event_next(txn, after, &ev) == STORE_OK; n++) {
		after = ev.seq;
		for (i = 0; map[i].type; i++)
			if (strcmp(ev.type, map[i].type) == 0)
				break;
		if (map[i].type && ev.data
		    && (wf = json_string_value(json_object_get(ev.data, "workflow"))) != 0 && *wf)
			stats_wf(st, wf)->n[map[i].slot]++;
		store_event_free(&ev);
	}
}

/* cli_stats - counts */

int
cli_stats(CLI *cli, int argc, char **argv)
{
	STORE_TXN *txn;
	STATS	st;
	STAT_WF *w;
	void   *ctx[2];
	json_t *top = 0, *wfs = 0, *o;
	const char *reason;
	json_t *cnt;
	unsigned long delivered;
	size_t	i;
	int	rc, json = 0;

	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		json = 1;
	else if (argc != 1)
		return (fprintf(stderr, "usage: postdrip stats [--json]\n"), CLI_USAGE);
	if ((rc = store_rbegin(cli_store(cli), &txn)) != STORE_OK)
		return (CLI_ERROR);
	memset(&st, 0, sizeof(st));
	ctx[0] = &st;
	ctx[1] = txn;
	(void) store_walk(txn, STORE_DB_ENROL, 0, 0, stats_enrol_fn, ctx);
	stats_events(&st, txn);
	if (st.n)
		qsort(st.wf, st.n, sizeof(*st.wf), stats_wf_cmp);
	if (json) {
		top = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		  "contacts", (json_int_t) store_count(txn, STORE_DB_CONTACT),
		  "suppressed", (json_int_t) store_count(txn, STORE_DB_SUPPRESS),
			"events", (json_int_t) store_count(txn, STORE_DB_EVENT),
			"sent", (json_int_t) store_count(txn, STORE_DB_SENT),
			"injected", (json_int_t) sched_meta_get(txn, SCHED_COUNT_SENT),
		      "refused", (json_int_t) sched_meta_get(txn, SCHED_COUNT_REFUSED),
		    "deferred", (json_int_t) sched_meta_get(txn, SCHED_COUNT_DEFERRED),
			"failed", (json_int_t) sched_meta_get(txn, SCHED_COUNT_FAILED),
		      "enrolments", (json_int_t) store_count(txn, STORE_DB_ENROL),
		      "scheduled", (json_int_t) store_count(txn, STORE_DB_SCHEDULE));
		json_object_set_new(top, "workflows", wfs = json_object());
	} else {
		printf("contacts\t%zu\n", store_count(txn, STORE_DB_CONTACT));
		printf("suppressed\t%zu\n", store_count(txn, STORE_DB_SUPPRESS));
		printf("events\t%zu\n", store_count(txn, STORE_DB_EVENT));
		printf("sent\t%zu\n", store_count(txn, STORE_DB_SENT));
		/* What the MTA said to the engine's injections, apart. */
		printf("injected\t%llu\n", (unsigned long long) sched_meta_get(txn, SCHED_COUNT_SENT));
		printf("refused\t%llu\n", (unsigned long long) sched_meta_get(txn, SCHED_COUNT_REFUSED));
		printf("deferred\t%llu\n", (unsigned long long) sched_meta_get(txn, SCHED_COUNT_DEFERRED));
		printf("failed\t%llu\n", (unsigned long long) sched_meta_get(txn, SCHED_COUNT_FAILED));
		printf("enrolments\t%zu\n", store_count(txn, STORE_DB_ENROL));
		printf("scheduled\t%zu\n", store_count(txn, STORE_DB_SCHEDULE));
		if (st.n)
			printf("\n%-16s %8s %7s %9s %7s %6s %9s %8s %7s %7s\n", "WORKFLOW",
			       "ENROLLED", "ACTIVE", "COMPLETED", "EXITED", "SENT",
			       "DELIVERED", "DEFERRED", "REFUSED", "BOUNCED");
	}
	store_rend(txn);
	for (i = 0; i < st.n; i++) {
		w = st.wf + i;
		delivered = w->n[ST_SENT] > w->n[ST_REFUSED] + w->n[ST_BOUNCED] ?
			w->n[ST_SENT] - w->n[ST_REFUSED] - w->n[ST_BOUNCED] : 0;
		if (json) {
			o = json_pack("{s:I, s:I, s:I, s:I, s:O, s:I, s:I, s:I, s:I, s:I}",
				      "enrolled", (json_int_t) w->n[ST_ENROLLED],
				      "active", (json_int_t) w->n[ST_ACTIVE],
				      "completed", (json_int_t) w->n[ST_COMPLETED],
				      "exited", (json_int_t) w->n[ST_EXITED],
				      "exited_by_reason", w->reasons,
				      "sent", (json_int_t) w->n[ST_SENT],
				      "delivered", (json_int_t) delivered,
				      "deferred", (json_int_t) w->n[ST_DEFERRED],
				      "refused", (json_int_t) w->n[ST_REFUSED],
				      "bounced", (json_int_t) w->n[ST_BOUNCED]);
			json_object_set_new(wfs, w->name, o);
		} else {
			printf("%-16s %8lu %7lu %9lu %7lu %6lu %9lu %8lu %7lu %7lu\n", w->name,
			       w->n[ST_ENROLLED], w->n[ST_ACTIVE], w->n[ST_COMPLETED],
			       w->n[ST_EXITED], w->n[ST_SENT], delivered, w->n[ST_DEFERRED],
			       w->n[ST_REFUSED], w->n[ST_BOUNCED]);
			if (w->n[ST_EXITED]) {
				printf("%-16s exited:", "");
				json_object_foreach(w->reasons, reason, cnt)
					printf(" %s=%lld", reason, (long long) json_integer_value(cnt));
				printf("\n");
			}
		}
		json_decref(w->reasons);
	}
	if (json) {
		char   *text = json_dumps(top, JSON_SORT_KEYS);

		printf("%s\n", text);
		free(text);
		json_decref(top);
	}
	if (st.wf)
		myfree(st.wf);
	return (CLI_OK);
}

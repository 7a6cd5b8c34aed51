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
/*	postdrip stats
/* DESCRIPTION
/*	Each write is acknowledged only after its commit: when suppress
/*	returns, the policy daemon already refuses the address.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "util/addr.h"
#include "cli.h"
#include "util/clock.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "token/tokens.h"
#include "sched/scheduler.h"
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
	if ((tk = tokens_load(config_str(cli->cf, "token_key_file"), &err)) == 0) {
		strbuf_printf(&errs, "%s\n", err);
		myfree(err);
		errors++;
	}
	tokens_free(tk);
	errors += cli_check_templates(cli, &errs);
	errors += cli_check_workflows(cli, &errs);
	errors += cli_check_caps(cli, &errs);
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

/* cli_config - print settings like postconf */

int
cli_config(CLI *cli, int argc, char **argv)
{
	const CONF_PARAM *p;
	int	defaults = 0, i, status = CLI_OK, found;

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
		} else if (!defaults && config_is_default(cli->cf, p->name)
			   && strcmp(p->name, "config_directory") != 0)
			continue;
		printf("%s = %s\n", p->name, defaults ? p->def : config_str(cli->cf, p->name));
	}
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

/* cli_stats - counts */

int
cli_stats(CLI *cli, int argc, char **argv)
{
	STORE_TXN *txn;
	int	rc;

	if (argc != 1)
		return (fprintf(stderr, "usage: postdrip stats\n"), CLI_USAGE);
	if ((rc = store_rbegin(cli_store(cli), &txn)) != STORE_OK)
		return (CLI_ERROR);
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
	store_rend(txn);
	return (CLI_OK);
}

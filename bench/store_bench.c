/*++
/* NAME
/*	store_bench 1
/* SUMMARY
/*	foundation benchmark: events, contact import, tokens
/* SYNOPSIS
/*	store_bench [-n EVENTS] [-c CONTACTS] [-p path-to-postdrip]
/* DESCRIPTION
/*	Prints, on a fresh store in a temp directory:
/*	events appended per second through the group-commit writer (every
/*	commit durable: one fsync per batch), contacts imported per second
/*	from CSV by "postdrip contact import", and token sign+verify pairs
/*	per second. Each phase is bounded in count.
/*
/*	The first line is the event rate's ratio to its target (100,000
/*	events/s). The event line also gives the CPU seconds the phase
/*	used and the rate per CPU second: on a machine busy with other work
/*	the wall-clock rate falls while the rate per CPU second does not,
/*	so the two together tell a slow store from a loaded machine.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "store/store.h"
#include "token/tokens.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* cpu_s - user and system CPU seconds of this process so far */

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
		+ ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

typedef struct {
	uint64_t contact;
	time_t	when;
} EV;

static json_t *ev_data;

static int
ev_op(STORE_TXN *txn, void *ctx)
{
	EV     *e = ctx;

	return (store_event_append(txn, e->contact, e->when, "opened", ev_data, 0));
}

static int ev_failed;

static void
ev_done(void *ctx, int status)
{
	if (status != STORE_OK)
		ev_failed++;
}

int
main(int argc, char **argv)
{
	long	nevents = 500000, ncontacts = 100000, i;
	const char *postdrip = "../cli/postdrip";
	char	tmpl[] = "/tmp/pdbench.XXXXXX", *dir, *cmd, *err;
	STORE_OPTS opts;
	STORE  *st;
	EV     *evs;
	double	t0, t1, c0, c1;
	int	ch;
	FILE   *fp;

	while ((ch = getopt(argc, argv, "n:c:p:")) > 0) {
		switch (ch) {
		case 'n':
			nevents = atol(optarg);
			break;
		case 'c':
			ncontacts = atol(optarg);
			break;
		case 'p':
			postdrip = optarg;
			break;
		default:
			msg_fatal("usage: store_bench [-n EVENTS] [-c CONTACTS] [-p postdrip]");
		}
	}
	if ((dir = mkdtemp(tmpl)) == 0)
		msg_fatal("mkdtemp: %m");
	cmd = myasprintf("mkdir -p %s/data", dir);
	if (system(cmd) != 0)
		msg_fatal("%s failed", cmd);
	myfree(cmd);

	/* 1. Events through the group-commit writer. */
	memset(&opts, 0, sizeof(opts));
	cmd = myasprintf("%s/data", dir);
	if ((st = store_open(cmd, &opts, &err)) == 0)
		msg_fatal("%s", err);
	ev_data = json_pack("{s:s, s:s}", "message", "1234", "ua", "Mozilla/5.0");
	evs = mycalloc(nevents, sizeof(*evs));
	t0 = now_s();
	c0 = cpu_s();
	for (i = 0; i < nevents; i++) {
		evs[i].contact = 1 + (i * 7919) % 10000;
		evs[i].when = 1772355600 + i;
		store_write_async(st, ev_op, evs + i, ev_done, 0);
	}
	store_flush(st);
	t1 = now_s();
	c1 = cpu_s();
	printf("events ratio to target: %.2f (target >= 1.00: 100000 events/s)\n",
	       nevents / (t1 - t0) / 100000.0);
	printf("events_appended        %ld in %.2f s: %.0f events/s (durable group commit; target 100000/s)%s\n",
	       nevents, t1 - t0, nevents / (t1 - t0), ev_failed ? " FAILURES" : "");
	printf("events_cpu             %.2f CPU s (user+sys, all threads): %.0f events per CPU second\n",
	       c1 - c0, c1 > c0 ? nevents / (c1 - c0) : 0.0);
	store_close(st);
	json_decref(ev_data);
	myfree(evs);
	myfree(cmd);

	/* 2. Contacts from CSV, through the real command. */
	cmd = myasprintf("%s/contacts.csv", dir);
	if ((fp = fopen(cmd, "w")) == 0)
		msg_fatal("%s: %m", cmd);
	fprintf(fp, "email,first_name,last_name,birthday,timezone,owner,tags,score\n");
	for (i = 0; i < ncontacts; i++)
		fprintf(fp, "user%ld@example%ld.test,First%ld,Last%ld,19%02ld-%02ld-%02ld,Europe/Berlin,rep%ld@example.com,news;trial,%ld\n",
			i, i % 100, i, i, 50 + i % 50, 1 + i % 12, 1 + i % 28, i % 20, i % 100);
	fclose(fp);
	myfree(cmd);
	cmd = myasprintf("printf 'data_directory = %s/data2\\n' > %s/bench.conf && mkdir -p %s/data2", dir, dir, dir);
	if (system(cmd) != 0)
		msg_fatal("%s failed", cmd);
	myfree(cmd);
	cmd = myasprintf("%s -c %s/bench.conf contact import %s/contacts.csv >/dev/null", postdrip, dir, dir);
	t0 = now_s();
	if (system(cmd) != 0)
		msg_fatal("%s failed", cmd);
	t1 = now_s();
	printf("contacts_imported      %ld in %.2f s: %.0f contacts/s (CSV, 8 columns)\n",
	       ncontacts, t1 - t0, ncontacts / (t1 - t0));
	myfree(cmd);

	/* 3. Tokens. */
	{
		static const unsigned char secret[32] = "bench-secret-bench-secret-bench";
		TOKENS *tk = tokens_from_secret(1, secret, 32);
		TOKEN	t = {TOKEN_CLICK, 0, 0, 0}, got;
		char	buf[TOKEN_TEXT_MAX];
		const char *url = "https://www.example.com/products/pricing?utm_source=newsletter";
		long	n = 200000, bad = 0;

		t0 = now_s();
		for (i = 0; i < n; i++) {
			t.contact = i;
			t.message = i * 3;
			tokens_sign(tk, &t, url, strlen(url), buf);
			if (tokens_verify(tk, buf, strlen(buf), url, strlen(url), &got) != TOKENS_OK)
				bad++;
		}
		t1 = now_s();
		printf("tokens_sign_verify     %ld pairs in %.2f s: %.0f pairs/s%s\n",
		       n, t1 - t0, n / (t1 - t0), bad ? " FAILURES" : "");
		tokens_free(tk);
	}
	cmd = myasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		msg_warn("cannot remove %s", dir);
	myfree(cmd);
	return (ev_failed ? 1 : 0);
}

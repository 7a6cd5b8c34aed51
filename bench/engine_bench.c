/*++
/* NAME
/*	engine_bench 1
/* SUMMARY
/*	scheduler and injector benchmark
/* SYNOPSIS
/*	engine_bench tick [-n ENROLMENTS] [-d DUE-PERCENT]
/*
/*	engine_bench inject -a HOST:PORT [-n MESSAGES] [-c CONNECTIONS]
/* DESCRIPTION
/*	"tick" builds a fresh store in a temp directory with ENROLMENTS
/*	contacts (1,000,000) each enrolled once, DUE-PERCENT (1) of them
/*	with a job due now and the others spread over the next 30 days, then
/*	times a tick that finds nothing due and a tick that runs every due
/*	job (each job: exit rules, add_score on the contact with its event,
/*	a 30-day wait, committed through the group-commit writer). It prints
/*	the time per tick and per job and the peak resident memory (VmHWM)
/*	before and after the ticks: the tick must cost in proportion to the
/*	jobs due, not to the contacts.
/*
/*	"inject" sends MESSAGES (2000) messages of about 1 kB to
/*	rcpt@sink.test through the engine's injector (inject(3)) with
/*	CONNECTIONS (4) parallel SMTP connections, in batches of 500, and
/*	prints messages per second. engine_bench.sh compares that with
/*	smtp-source against the same private Postfix.
/*
/*	Both are bounded: by the counts given, and the fixture's build
/*	prints its own time.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sched/sched_int.h"
#include "sched/inject.h"
#include "util/clock.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#define DAY 86400

/* now_s - monotonic seconds */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* vm_status - a line of /proc/self/status in kB (VmHWM, RssAnon, ...) */

static long
vm_status(const char *name)
{
	FILE   *fp = fopen("/proc/self/status", "r");
	char	line[256];
	size_t	len = strlen(name);
	long	kb = -1;

	if (fp == 0)
		return (-1);
	while (fgets(line, sizeof(line), fp))
		if (strncmp(line, name, len) == 0 && line[len] == ':')
			kb = atol(line + len + 1);
	fclose(fp);
	return (kb);
}

typedef struct FILL {
	long	from, to;		/* contact numbers [from, to) */
	long	due_every;		/* every Nth is due now */
	time_t	t0;
} FILL;

/* fill_write - contacts and their enrolments, one chunk per transaction */

static int
fill_write(STORE_TXN *txn, void *ctx)
{
	FILL   *f = ctx;
	SCHED_ENROL e;
	char	addr[64];
	json_t *rec;
	uint64_t id;
	long	i;
	int	rc;

	for (i = f->from; i < f->to; i++) {
		snprintf(addr, sizeof(addr), "c%ld@sink.test", i);
		rec = json_pack("{s:s, s:I, s:{}, s:[], s:i}", "email", addr,
				"created", (json_int_t) f->t0 - 40 * DAY, "fields", "tags",
				"score", 0);
		rc = store_contact_put(txn, rec, &id);
		json_decref(rec);
		if (rc != STORE_OK)
			return (rc);
		memset(&e, 0, sizeof(e));
		e.contact = id;
		strcpy(e.workflow, "bench");
		strcpy(e.step, "1");
		e.state = SCHED_ACTIVE;
		e.nsteps = 1;
		e.started = e.updated = f->t0 - DAY;
		e.id = store_next_id(txn, "enrolment");
		/* Spread the others over 30 days, by a stride that mixes them. */
		if ((rc = sched_job_set(txn, &e, i % f->due_every == 0 ? f->t0 - 60 :
				  f->t0 + 1 + (time_t) ((i * 7919) % (30 * DAY)))) != STORE_OK
		    || (rc = sched_enrol_put(txn, &e)) != STORE_OK)
			return (rc);
	}
	return (STORE_OK);
}

/* bench_tick - the scheduler's tick cost over a large store */

static int
bench_tick(int argc, char **argv)
{
	long	n = 1000000, pct = 1, i, chunk = 20000;
	char	tmpl[] = "/tmp/pdengbench.XXXXXX", *dir, *err = 0, *cmd;
	static const unsigned char secret[32] = "engine-bench-secret-engine-bench";
	const char *yaml = "workflow: bench\ntrigger:\n  event: bench_never\n"
	"steps:\n  - add_score: 1\n  - wait: 30d\n";
	STRBUF	errs = STRBUF_INIT;
	STORE_OPTS opts;
	STORE  *st;
	STORE_TXN *txn;
	WORKFLOW_SET *wfs;
	TOKENS *tk;
	CONFIG *cf;
	SCHED  *s;
	SCHED_STATS stats;
	FILL	f;
	time_t	t0;
	double	a, b;
	long	hwm0, anon0;
	int	ch;

	while ((ch = getopt(argc, argv, "n:d:")) > 0) {
		switch (ch) {
		case 'n':
			n = atol(optarg);
			break;
		case 'd':
			pct = atol(optarg);
			break;
		default:
			msg_fatal("usage: engine_bench tick [-n ENROLMENTS] [-d DUE-PERCENT]");
		}
	}
	if (n < 100 || pct < 1 || pct > 100)
		msg_fatal("engine_bench: -n at least 100, -d 1..100");
	if ((dir = mkdtemp(tmpl)) == 0)
		msg_fatal("mkdtemp: %m");
	memset(&opts, 0, sizeof(opts));
	opts.map_size = (size_t) 4 << 30;
	if ((st = store_open(dir, &opts, &err)) == 0)
		msg_fatal("%s", err);
	clock_parse("2026-03-02T09:00:00Z", &t0);
	f.due_every = 100 / pct;
	f.t0 = t0;
	a = now_s();
	for (i = 0; i < n; i += chunk) {
		f.from = i;
		f.to = i + chunk < n ? i + chunk : n;
		/* The fixture need not survive a crash: no fsync per chunk. */
		if (store_write_flags(st, fill_write, &f, STORE_W_NOSYNC) != STORE_OK)
			msg_fatal("cannot build the fixture");
	}
	b = now_s();
	if (store_rbegin(st, &txn) != STORE_OK)
		msg_fatal("store_rbegin");
	printf("fixture                %ld contacts, %zu enrolments, %zu jobs, built in %.1f s\n",
	       n, store_count(txn, STORE_DB_ENROL), store_count(txn, STORE_DB_SCHEDULE), b - a);
	store_rend(txn);

	cf = config_defaults();
	tk = tokens_from_secret(1, secret, sizeof(secret));
	if ((wfs = workflow_load_string("bench.yaml", yaml, strlen(yaml), &errs)) == 0)
		msg_fatal("%s", strbuf_str(&errs));
	s = sched_create(st, cf, wfs, tk);
	/* A first tick does the day's date triggers (one commit). */
	if (sched_tick(s, t0 - 7200, 0) != STORE_OK)
		msg_fatal("tick failed");
	hwm0 = vm_status("VmHWM");
	anon0 = vm_status("RssAnon");

	/* Nothing due: what a tick costs when the store is big and idle. */
	memset(&stats, 0, sizeof(stats));
	a = now_s();
	if (sched_tick(s, t0 - 3600, &stats) != STORE_OK)
		msg_fatal("tick failed");
	b = now_s();
	printf("tick_idle              %zu jobs in %.3f ms\n", stats.jobs, (b - a) * 1e3);

	memset(&stats, 0, sizeof(stats));
	a = now_s();
	if (sched_tick(s, t0, &stats) != STORE_OK)
		msg_fatal("tick failed");
	b = now_s();
	printf("tick_due               %zu jobs (%ld%% of %ld) in %.3f s: %.1f us/job, %.0f jobs/s\n",
	       stats.jobs, pct, n, b - a, (b - a) * 1e6 / (stats.jobs ? stats.jobs : 1),
	       stats.jobs / (b - a));
	memset(&stats, 0, sizeof(stats));
	a = now_s();
	if (sched_tick(s, t0 + 1, &stats) != STORE_OK)
		msg_fatal("tick failed");
	b = now_s();
	printf("tick_after             %zu jobs in %.3f ms (all done: nothing left due)\n",
	       stats.jobs, (b - a) * 1e3);
	printf("memory                 VmHWM %ld kB before the ticks, %ld kB after; "
	       "RssAnon (heap, not the LMDB map) %ld kB before, %ld kB after (batch %lld)\n",
	       hwm0, vm_status("VmHWM"), anon0, vm_status("RssAnon"),
	       config_int(cf, "engine_batch_size"));

	sched_free(s);
	workflow_set_free(wfs);
	tokens_free(tk);
	config_unref(cf);
	store_close(st);
	cmd = myasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		msg_warn("cannot remove %s", dir);
	myfree(cmd);
	strbuf_free(&errs);
	return (0);
}

/* bench_inject - messages per second through the injector */

static int
bench_inject(int argc, char **argv)
{
	const char *addr = 0;
	long	n = 2000, conns = 4, i, done = 0, ok = 0, k;
	STRBUF	body = STRBUF_INIT;
	INJECT_MSG *m;
	INJECT *inj;
	double	a, b;
	char  **rcpt;
	int	ch;

	while ((ch = getopt(argc, argv, "a:n:c:")) > 0) {
		switch (ch) {
		case 'a':
			addr = optarg;
			break;
		case 'n':
			n = atol(optarg);
			break;
		case 'c':
			conns = atol(optarg);
			break;
		default:
			msg_fatal("usage: engine_bench inject -a HOST:PORT [-n N] [-c CONNS]");
		}
	}
	if (addr == 0 || n < 1 || conns < 1 || conns > 64)
		msg_fatal("usage: engine_bench inject -a HOST:PORT [-n N] [-c CONNS]");
	strbuf_puts(&body, "From: bench@acme.test\nTo: rcpt@sink.test\nSubject: bench\n"
		    "Message-ID: <bench@acme.test>\n\n");
	while (strbuf_len(&body) < 1024)
		strbuf_puts(&body, "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n");
	m = mycalloc(n, sizeof(*m));
	rcpt = mycalloc(n, sizeof(*rcpt));
	for (i = 0; i < n; i++) {
		rcpt[i] = myasprintf("r%ld@sink.test", i);
		m[i].sender = "bounces+bench@bounce.test";
		m[i].rcpt = rcpt[i];
		m[i].data = strbuf_str(&body);
		m[i].len = strbuf_len(&body);
	}
	inj = inject_create(addr, (int) conns, 30, "bench.test");
	a = now_s();
	for (i = 0; i < n; i += k) {
		k = n - i < 500 ? n - i : 500;
		ok += (long) inject_batch(inj, m + i, (size_t) k);
		done += k;
	}
	b = now_s();
	inject_free(inj);
	printf("inject                 %ld of %ld accepted in %.2f s: %.0f msgs/s (%ld connections)\n",
	       ok, done, b - a, ok / (b - a), conns);
	for (i = 0; i < n; i++)
		myfree(rcpt[i]);
	myfree(rcpt);
	myfree(m);
	strbuf_free(&body);
	return (ok == n ? 0 : 1);
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		msg_fatal("usage: engine_bench tick|inject [options]");
	if (strcmp(argv[1], "tick") == 0)
		return (bench_tick(argc - 1, argv + 1));
	if (strcmp(argv[1], "inject") == 0)
		return (bench_inject(argc - 1, argv + 1));
	msg_fatal("usage: engine_bench tick|inject [options]");
}

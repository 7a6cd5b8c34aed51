/*++
/* NAME
/*	workflow_bench 1
/* SUMMARY
/*	timing of the workflow language's hot paths
/* SYNOPSIS
/*	workflow_bench [-d workflow_directory]
/* DESCRIPTION
/*	Prints, for the example workflows: loads of the whole directory per
/*	second (what "postdrip check" and a reload cost), trigger matches,
/*	condition evaluations and send-window computations per second (what
/*	the scheduler pays per event and per due job). Each figure runs for
/*	about half a second, bounded in count as well as in time.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/strbuf.h"
#include "workflow/workflow.h"

#define BENCH_SECONDS	0.5
#define BENCH_MAX	50000000L

/* elapsed - seconds since t0 */

static double
elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return ((t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9);
}

/* has_event - every other type answers yes */

static int
has_event(void *ctx, const char *type, const char *key, const char *value, time_t since)
{
	return (type[0] & 1);
}

/* main - run each figure, print it */

int
main(int argc, char **argv)
{
	const char *dir = "../conf/workflows";
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set;
	const WORKFLOW *wf;
	struct timespec t0;
	json_t *contact, *data;
	WF_FACTS f;
	long	n, hits = 0;
	double	s;
	time_t	t;
	int	ch, i, j;

	while ((ch = getopt(argc, argv, "d:")) != -1) {
		if (ch != 'd') {
			fprintf(stderr, "usage: workflow_bench [-d dir]\n");
			return (2);
		}
		dir = optarg;
	}
	if ((set = workflow_load_dir(dir, &errs)) == 0 || workflow_count(set) == 0) {
		fprintf(stderr, "workflow_bench: %s: %s\n", dir, strbuf_str(&errs));
		return (1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 0; n < BENCH_MAX && elapsed(&t0) < BENCH_SECONDS; n++) {
		workflow_set_free(set);
		set = workflow_load_dir(dir, &errs);
	}
	s = elapsed(&t0);
	printf("directory loads (%d workflows): %.0f/s\n", workflow_count(set), n / s);

	data = json_pack("{s:s}", "link", "pricing");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 0; n < BENCH_MAX && (n % 4096 || elapsed(&t0) < BENCH_SECONDS); n++)
		for (i = 0; i < workflow_count(set); i++)
			hits += workflow_trigger_match(workflow_at(set, i), "clicked", data);
	s = elapsed(&t0);
	printf("events matched against every trigger: %.0f/s\n", n / s);

	contact = json_pack("{s:I, s:s, s:i, s:[s], s:{s:s, s:s, s:s}}",
			    "id", (json_int_t) 1, "email", "a@example.com", "score", 42,
			    "tags", "vip", "fields", "plan", "trial", "country", "FR",
			    "timezone", "America/New_York");
	memset(&f, 0, sizeof(f));
	f.contact = contact;
	f.has_event = has_event;
	f.now = 1772355600;
	f.since = f.now - 86400;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 0; n < BENCH_MAX && (n % 4096 || elapsed(&t0) < BENCH_SECONDS); n++)
		for (i = 0; i < workflow_count(set); i++) {
			wf = workflow_at(set, i);
			hits += workflow_audience_eval(wf, &f) + workflow_exit_eval(wf, &f);
		}
	s = elapsed(&t0);
	printf("audience + exit checks of every workflow: %.0f/s\n", n / s);

	wf = workflow_find(set, "welcome") ? workflow_find(set, "welcome") : workflow_at(set, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 0, t = f.now; n < BENCH_MAX && (n % 4096 || elapsed(&t0) < BENCH_SECONDS); n++) {
		j = n % 3;
		t = workflow_send_window(wf, j == 0 ? "America/New_York" : j == 1 ? "Asia/Tokyo" : 0,
					 f.now + (n % 604800) * 37);
		hits += (t > 0);
	}
	s = elapsed(&t0);
	printf("send windows (3 zones, any time of the week): %.0f/s\n", n / s);
	if (hits < 0)
		printf("%ld\n", hits);
	json_decref(data);
	json_decref(contact);
	workflow_set_free(set);
	strbuf_free(&errs);
	return (0);
}

/*++
/* NAME
/*	template_bench 1
/* SUMMARY
/*	how fast templates render and messages are composed
/* SYNOPSIS
/*	template_bench [-d template_directory] [-t template] [-s seconds]
/* DESCRIPTION
/*	Renders the HTML body of a shipped template, then composes whole
/*	messages (render, MIME, encoding) with the template loaded once
/*	(as the engine caches it) and loaded from its file each time. Each
/*	phase stops after a fixed count or after its time, whichever comes
/*	first, and prints its rate.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "message/compose.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "message/template.h"

/* bench_cpu - CPU seconds of this process (the machine may be shared) */

static double
bench_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* bench_now - monotonic seconds */

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

int
main(int argc, char **argv)
{
	const char *dir = "conf/templates";
	const char *name = "followup-clicked";
	double	limit = 2;
	double	t0;
	double	t;
	double	c0;
	double	c;
	STRBUF	out = STRBUF_INIT;
	STRBUF	errs = STRBUF_INIT;
	COMPOSE_IN in;
	TMPLFILE *tf;
	json_t *ctx;
	char   *path;
	char   *err = 0;
	int	ch;
	int	n;
	int	pass;

	while ((ch = getopt(argc, argv, "d:t:s:")) > 0) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 't':
			name = optarg;
			break;
		case 's':
			limit = atof(optarg);
			break;
		default:
			msg_fatal("usage: template_bench [-d dir] [-t template] [-s seconds]");
		}
	}
	path = myasprintf("%s/%s%s", dir, name, TMPLFILE_SUFFIX);
	if ((tf = tmplfile_load(path, &errs)) == 0)
		msg_fatal("%s", strbuf_str(&errs));
	ctx = json_pack("{s:{s:s,s:s,s:s},s:{s:s,s:s,s:s},s:{s:b,s:b},s:{s:b},s:s,s:s}",
			"contact", "first_name", "Zo\xc3\xab", "email", "zoe@example.org",
			"company", "Initech",
			"owner", "name", "Bob Ray", "email", "bob@example.com", "title", "AE",
			"clicked", "pricing", 1, "demo", 1, "tags", "vip", 1,
			"workflow", "followup-clicked", "step", "send-1");

	t0 = bench_now();
	c0 = bench_cpu();
	for (n = 0; n < 2000000 && ((n & 1023) || bench_now() - t0 < limit); n++) {
		strbuf_reset(&out);
		if (template_render(tf->html ? tf->html : tf->text, ctx, 0, 0, 1, &out, &err) < 0)
			msg_fatal("%s", err);
	}
	t = bench_now() - t0;
	c = bench_cpu() - c0;
	printf("render %s body: %d in %.2f s: %.0f/s, %.0f per CPU second (%zu bytes)\n",
	       tf->html ? "HTML" : "text", n, t, n / t, n / c, strbuf_len(&out));

	memset(&in, 0, sizeof(in));
	in.template_dir = dir;
	in.template = name;
	in.context = ctx;
	in.message_id = "e1.2.AbCdEf@mail.example.com";
	in.from_default = "Acme <news@example.com>";
	in.to = "zoe@example.org";
	in.list_unsubscribe_url = "https://t.example.com/u/AbCdEfGhIjKlMnOp";
	in.list_unsubscribe_mailto = "unsubscribe+AbCdEfGhIjKlMnOp@bounce.example.com";
	in.workflow = "followup-clicked";
	in.step = "send-1";
	in.stream = COMPOSE_STREAM_MARKETING;
	in.date = 1772355600;
	for (pass = 0; pass < 2; pass++) {
		in.tf = pass == 0 ? tf : 0;
		t0 = bench_now();
		c0 = bench_cpu();
		for (n = 0; n < 200000 && ((n & 63) || bench_now() - t0 < limit); n++) {
			strbuf_reset(&out);
			if (compose_message(&in, &out, &err) < 0)
				msg_fatal("%s", err);
		}
		t = bench_now() - t0;
		c = bench_cpu() - c0;
		printf("compose, template %s: %d messages in %.2f s: %.0f/s, %.0f per CPU "
		       "second (%zu bytes each)\n", pass == 0 ? "loaded once" : "read each time",
		       n, t, n / t, n / c, strbuf_len(&out));
	}
	tmplfile_free(tf);
	json_decref(ctx);
	strbuf_free(&out);
	strbuf_free(&errs);
	myfree(path);
	return (0);
}

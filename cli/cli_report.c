/*++
/* NAME
/*	cli_report 3
/* SUMMARY
/*	postdrip report: what the workflows did
/* SYNOPSIS
/*	postdrip report [WORKFLOW] [--since DATE] [--json] [--html FILE]
/* DESCRIPTION
/*	Counts the recorded events per workflow and step (report(3)) and
/*	prints them as text, as JSON (--json), or writes them as one
/*	self-contained HTML page to FILE (--html; "-" is the standard
/*	output). DATE is ISO 8601 (2026-03-01 or 2026-03-01T09:00:00Z) or
/*	a duration back from now (30d). The workflows are read from
/*	workflow_directory for the order of their steps and their goals;
/*	when they cannot be read the report is made without them, with a
/*	warning.
/* DIAGNOSTICS
/*	Exit 0; 1 when the store cannot be read or FILE written; 2 on a
/*	usage error.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "report/report.h"
#include "util/clock.h"
#include "util/mymalloc.h"

#define REPORT_USAGE "usage: postdrip report [WORKFLOW] [--since DATE] [--json] [--html FILE]\n"

/* cli_report - the report command */

int
cli_report(CLI *cli, int argc, char **argv)
{
	REPORT_OPTS o;
	WORKFLOW_SET *wfs;
	STRBUF	errs = STRBUF_INIT, out = STRBUF_INIT;
	const char *html = 0;
	json_t *rep;
	long	back;
	int	i, as_json = 0, status = CLI_OK;
	FILE   *fp;

	memset(&o, 0, sizeof(o));
	o.now = clock_now();
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			as_json = 1;
		} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			i++;
			if (clock_parse(argv[i], &o.since) == 0) {
				/* a date */
			} else if (clock_parse_duration(argv[i], &back) == 0 && back > 0) {
				o.since = o.now - back;
			} else {
				fprintf(stderr, "postdrip: report: --since: not a date or a "
					"duration: \"%s\"\n", argv[i]);
				return (CLI_USAGE);
			}
		} else if (strcmp(argv[i], "--html") == 0 && i + 1 < argc) {
			html = argv[++i];
		} else if (argv[i][0] == '-' || o.workflow) {
			return (fputs(REPORT_USAGE, stderr), CLI_USAGE);
		} else {
			o.workflow = argv[i];
		}
	}
	wfs = workflow_load_dir(config_str(cli->cf, "workflow_directory"), &errs);
	if (wfs == 0)
		fprintf(stderr, "%spostdrip: report: warning: the workflows have errors; "
			"goals and step order are not shown\n", strbuf_str(&errs));
	strbuf_free(&errs);
	o.wfs = wfs;
	if (report_build(cli_store(cli), &o, &rep) != STORE_OK) {
		fprintf(stderr, "postdrip: report: cannot read the store\n");
		if (wfs)
			workflow_set_free(wfs);
		return (CLI_ERROR);
	}
	if (html) {
		report_html(rep, &out);
		fp = strcmp(html, "-") == 0 ? stdout : fopen(html, "w");
		if (fp == 0 || fwrite(strbuf_str(&out), 1, strbuf_len(&out), fp) != strbuf_len(&out)
		    || (fp != stdout && fclose(fp) != 0)) {
			fprintf(stderr, "postdrip: report: cannot write %s: %m\n", html);
			status = CLI_ERROR;
		}
		strbuf_reset(&out);
	}
	if (as_json) {
		char   *text = json_dumps(rep, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

		printf("%s\n", text);
		free(text);
	} else if (!html) {
		report_text(rep, &out);
		fputs(strbuf_str(&out), stdout);
	}
	strbuf_free(&out);
	json_decref(rep);
	if (wfs)
		workflow_set_free(wfs);
	return (status);
}

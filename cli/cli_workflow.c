/*++
/* NAME
/*	cli_workflow 1
/* SUMMARY
/*	postdrip commands on workflows
/* SYNOPSIS
/*	postdrip workflows [NAME...]
/*
/*	postdrip workflow promote WORKFLOW STEP ARM
/*
/*	postdrip workflow unpromote WORKFLOW STEP
/*
/*	postdrip check
/* DESCRIPTION
/*	"postdrip workflows" lists the workflows of workflow_directory, one
/*	a line: name, trigger, stream, enabled or disabled, number of
/*	steps, file:line. With names, it prints each one's steps as the
/*	engine runs them, with the ids that enrolments record
/*	(file:line, id, what, next step), then its audience and exit rules.
/*
/*	"postdrip workflow promote" ends the A/B test of a split step:
/*	from then on every contact that reaches the step takes ARM, as
/*	if the file said "promote: ARM" (the store's word wins over the
/*	file's). Contacts already past the split keep their arm.
/*	"unpromote" lets the weights decide again. The workflow, the
/*	step and the arm must exist in workflow_directory.
/*
/*	cli_check_workflows() loads every file of workflow_directory as
/*	postdrip-engine would, checks that each send and notify step names
/*	a template in template_directory, and that default_timezone is a
/*	known zone. Problems are "file:line: message" lines; warnings
/*	(steps never reached) are listed but do not fail the check.
/* SEE ALSO
/*	postdrip-workflow(5)
/*--*/
#include "pdconfig.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/tzone.h"
#include "sched/scheduler.h"
#include "workflow/workflow.h"

/* cli_check_workflows - a CLI_CHECKER for workflows */

int
cli_check_workflows(CLI *cli, STRBUF *errs)
{
	const char *tz = config_str(cli->cf, "default_timezone");
	TZONE  *zone;
	int	errors;

	errors = workflow_check_dir(config_str(cli->cf, "workflow_directory"),
				    config_str(cli->cf, "template_directory"), errs);
	/* Not an error: a server may run only the milter and policy daemon. */
	if (access(config_str(cli->cf, "workflow_directory"), F_OK) < 0 && errno == ENOENT)
		strbuf_printf(errs, "%s:%d: warning: workflow_directory %s does not exist: postdrip-engine runs no workflows\n",
			      config_path(cli->cf),
			      config_line(cli->cf, "workflow_directory"),
			      config_str(cli->cf, "workflow_directory"));
	if ((zone = tzone_load(tz)) == 0 && *tz) {
		strbuf_printf(errs, "%s:%d: default_timezone: unknown time zone \"%s\" (use an IANA name such as Europe/Paris)\n",
			      config_path(cli->cf),
			      config_line(cli->cf, "default_timezone"), tz);
		errors++;
	}
	tzone_free(zone);
	return (errors);
}

/* cli_workflows - list workflows, or show the steps of some */

int
cli_workflows(CLI *cli, int argc, char **argv)
{
	STRBUF	errs = STRBUF_INIT, out = STRBUF_INIT;
	WORKFLOW_SET *set;
	const WORKFLOW *wf;
	int	i, j, k, status = CLI_OK;

	for (i = 1; i < argc; i++)
		if (argv[i][0] == '-')
			return (fprintf(stderr, "usage: postdrip workflows [NAME...]\n"), CLI_USAGE);
	set = workflow_load_dir(config_str(cli->cf, "workflow_directory"), &errs);
	if (set == 0) {
		fputs(strbuf_str(&errs), stderr);
		strbuf_free(&errs);
		return (CLI_ERROR);
	}
	if (argc < 2) {
		for (i = 0; i < workflow_count(set); i++) {
			wf = workflow_at(set, i);
			strbuf_printf(&out, "%s\t", wf->name);
			workflow_show_trigger(wf, &out);
			strbuf_printf(&out, "\t%s\t%s\t%d step%s\t%s:%d\n",
				      workflow_stream_name(wf->stream),
				      wf->enabled ? "enabled" : "disabled", wf->nsteps,
				      wf->nsteps == 1 ? "" : "s", wf->pos.file, wf->pos.line);
		}
	}
	for (i = 1; i < argc; i++) {
		if ((wf = workflow_find(set, argv[i])) == 0) {
			fprintf(stderr, "postdrip: no workflow \"%s\"\n", argv[i]);
			status = CLI_ERROR;
			continue;
		}
		workflow_show_steps(wf, &out);
		if (wf->audience) {
			strbuf_puts(&out, "audience\t");
			workflow_show_cond(wf->audience, &out);
			strbuf_putc(&out, '\n');
		}
		for (j = 0; j < wf->nexit; j++) {
			for (k = 0; k < wf->ngoal && wf->goals[k] != wf->exits[j]; k++)
				 /* void */ ;
			strbuf_puts(&out, k < wf->ngoal ? "goal\t" : wf->exits[j]->pos.line ?
				    "exit\t" : "exit (implicit)\t");
			workflow_show_cond(wf->exits[j], &out);
			strbuf_putc(&out, '\n');
		}
	}
	fputs(strbuf_str(&out), stdout);
	/* Warnings (steps never reached) are worth seeing here too. */
	fputs(strbuf_str(&errs), stderr);
	strbuf_free(&out);
	strbuf_free(&errs);
	workflow_set_free(set);
	return (status);
}

typedef struct CLI_PROMOTE {
	const char *workflow;
	const char *step;
	const char *arm;		/* NULL: unpromote */
} CLI_PROMOTE;

/* cli_promote_op - the write of "workflow promote" */

static int
cli_promote_op(STORE_TXN *txn, void *ctx)
{
	CLI_PROMOTE *p = ctx;

	return (sched_promote_put(txn, p->workflow, p->step, p->arm));
}

/* cli_workflow - workflow promote|unpromote ... */

int
cli_workflow(CLI *cli, int argc, char **argv)
{
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set;
	const WORKFLOW *wf;
	const WF_STEP *st = 0;
	CLI_PROMOTE p;
	int	i, rc, status = CLI_ERROR;

	if (!((argc == 5 && strcmp(argv[1], "promote") == 0)
	      || (argc == 4 && strcmp(argv[1], "unpromote") == 0))) {
		fprintf(stderr, "usage: postdrip workflow promote WORKFLOW STEP ARM\n"
			"       postdrip workflow unpromote WORKFLOW STEP\n");
		return (CLI_USAGE);
	}
	p.workflow = argv[2];
	p.step = argv[3];
	p.arm = argc == 5 ? argv[4] : 0;
	set = workflow_load_dir(config_str(cli->cf, "workflow_directory"), &errs);
	if (set == 0) {
		fputs(strbuf_str(&errs), stderr);
		strbuf_free(&errs);
		return (CLI_ERROR);
	}
	if ((wf = workflow_find(set, p.workflow)) == 0)
		fprintf(stderr, "postdrip: no workflow \"%s\"\n", p.workflow);
	else if ((i = workflow_step_find(wf, p.step)) < 0
		 || (st = wf->steps + i)->kind != WF_STEP_SPLIT)
		fprintf(stderr, "postdrip: workflow %s has no split step \"%s\"\n",
			p.workflow, p.step);
	else if (p.arm && workflow_arm_find(st, p.arm) < 0)
		fprintf(stderr, "postdrip: split %s of workflow %s has no arm \"%s\"\n",
			p.step, p.workflow, p.arm);
	else if ((rc = store_write(cli_store(cli), cli_promote_op, &p)) == STORE_NOTFOUND)
		fprintf(stderr, "postdrip: split %s of workflow %s has no promoted arm\n",
			p.step, p.workflow);
	else if (rc != STORE_OK)
		fprintf(stderr, "postdrip: workflow %s: %s\n", argv[1], store_strerror(rc));
	else {
		if (p.arm)
			printf("%s\t%s\tpromoted %s\n", p.workflow, p.step, p.arm);
		else
			printf("%s\t%s\tsplit by weight\n", p.workflow, p.step);
		status = CLI_OK;
	}
	strbuf_free(&errs);
	workflow_set_free(set);
	return (status);
}

/*++
/* NAME
/*	cli_workflow 1
/* SUMMARY
/*	the workflow part of "postdrip check"
/* SYNOPSIS
/*	postdrip check
/* DESCRIPTION
/*	cli_check_workflows() loads every file of workflow_directory as
/*	postdrip-engine would, checks that each send and notify step names
/*	a template in template_directory, and that default_timezone is a
/*	known zone. Problems are "file:line: message" lines; warnings
/*	(steps never reached) are listed but do not fail the check.
/* SEE ALSO
/*	postdrip-workflow(5)
/*--*/
#include "pdconfig.h"

#include "cli.h"
#include "mymalloc.h"
#include "strbuf.h"
#include "tzone.h"
#include "workflow.h"

/* cli_check_workflows - a CLI_CHECKER for workflows */

int
cli_check_workflows(CLI *cli, STRBUF *errs)
{
	const char *tz = config_str(cli->cf, "default_timezone");
	TZONE  *zone;
	int	errors;

	errors = workflow_check_dir(config_str(cli->cf, "workflow_directory"),
				    config_str(cli->cf, "template_directory"), errs);
	if ((zone = tzone_load(tz)) == 0 && *tz) {
		strbuf_printf(errs, "%s:0: default_timezone: unknown time zone \"%s\"\n",
			      config_path(cli->cf), tz);
		errors++;
	}
	tzone_free(zone);
	return (errors);
}

#ifndef PD_CLI_H
#define PD_CLI_H

/*
 * cli - the postdrip command. One function per command, dispatched from the
 * table in postdrip.c. A command returns the exit status: 0 ok, 1 error,
 * 2 usage.
 */
#include "config/config.h"
#include "store/store.h"
#include "util/strbuf.h"

typedef struct CLI {
	const char *config_path;	/* -c, or the default */
	CONFIG *cf;			/* loaded before the command runs */
	STORE  *st;			/* opened on first cli_store() */
} CLI;

#define CLI_OK		0
#define CLI_ERROR	1
#define CLI_USAGE	2

/* The store under data_directory; exits with status 1 and a message when it
 * cannot be opened. */
STORE  *cli_store(CLI *cli);

typedef int (*CLI_FN) (CLI *cli, int argc, char **argv);

/* argv[0] is the command name. */
int	cli_check(CLI *cli, int argc, char **argv);
int	cli_keygen(CLI *cli, int argc, char **argv);
int	cli_config(CLI *cli, int argc, char **argv);
int	cli_contact(CLI *cli, int argc, char **argv);
int	cli_suppress(CLI *cli, int argc, char **argv);
int	cli_unsuppress(CLI *cli, int argc, char **argv);
int	cli_suppressed(CLI *cli, int argc, char **argv);
int	cli_event(CLI *cli, int argc, char **argv);
int	cli_timeline(CLI *cli, int argc, char **argv);
int	cli_enrol(CLI *cli, int argc, char **argv);	/* cli_enrol.c */
int	cli_queue(CLI *cli, int argc, char **argv);	/* cli_queue.c */
int	cli_init(CLI *cli, int argc, char **argv);	/* cli_init.c */
int	cli_stats(CLI *cli, int argc, char **argv);
int	cli_template(CLI *cli, int argc, char **argv);
int	cli_classify(CLI *cli, int argc, char **argv);
int	cli_reasons_load(CLI *cli, const char *path, STRBUF *errs);	/* cli_classify.c */
int	cli_report(CLI *cli, int argc, char **argv);	/* cli_report.c */

/* Hook for "postdrip check": further checkers (workflows, templates) append
 * "file:line: message" lines to errs and return the number of errors. */
typedef int (*CLI_CHECKER) (CLI *cli, STRBUF *errs);

int	cli_check_templates(CLI *cli, STRBUF *errs);	/* cli_template.c */
int	cli_check_workflows(CLI *cli, STRBUF *errs);	/* cli_workflow.c */
int	cli_workflows(CLI *cli, int argc, char **argv);	/* cli_workflow.c */
int	cli_workflow(CLI *cli, int argc, char **argv);	/* cli_workflow.c */
int	cli_check_caps(CLI *cli, STRBUF *errs);	/* cli_caps.c */

#endif

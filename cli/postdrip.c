/*++
/* NAME
/*	postdrip 1
/* SUMMARY
/*	postdrip command-line tool
/* SYNOPSIS
/*	postdrip [-c FILE] [-v] COMMAND [ARGS...]
/* DESCRIPTION
/*	One command per job; see postdrip(1) for the list. The configuration
/*	is loaded before any command runs, so a bad postdrip.conf stops every
/*	command with its file:line errors (and "postdrip check" lists them).
/* DIAGNOSTICS
/*	Exit status 0 on success, 1 on error, 2 on usage error.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/usage.h"

/*
 * One row per command: its synopsis (shown by "postdrip --help") and the
 * lines of its options (shown by "postdrip COMMAND --help").
 */
static const struct {
	const char *name;
	CLI_FN	fn;
	int	needs_config;		/* 0: runs even when the config is bad;
					 * -1: does not read it */
	const char *usage;
	const char *options;
}	cli_commands[] = {
	{"check", cli_check, 0, "check                      validate the configuration, workflows and templates",
	"  (none)      exit 0, or 1 with file:line: lines; warnings do not fail\n"},
	{"config", cli_config, 1, "config [-d] [NAME...]      print settings that differ from their defaults",
		"  -d          every setting with its default (like postconf -d)\n"
		"  NAME...     these settings, default or not\n"},
	{"keygen", cli_keygen, 1, "keygen                     add a new token signing key", ""},
	{"contact", cli_contact, 1, "contact add|show|export|import ...   manage contacts",
		"  add ADDRESS [field=value...] [--tag TAG...] [--score N]\n"
		"  show ADDRESS\n"
		"  export                    CSV on stdout\n"
		"  import FILE|- [--event TYPE]\n"
		"              --event TYPE records TYPE for each imported contact\n"},
	{"suppress", cli_suppress, 1, "suppress ADDRESS [--reason R]   refuse marketing mail to ADDRESS",
	"  --reason R  the reason stored and listed (default manual)\n"},
	{"unsuppress", cli_unsuppress, 1, "unsuppress ADDRESS         lift a suppression", ""},
	{"suppressed", cli_suppressed, 1, "suppressed                 list suppressed addresses", ""},
	{"event", cli_event, 1, "event ADDRESS TYPE [key=value...]   record an external event",
	"  key=value   details stored with the event\n"},
	{"enrol", cli_enrol, 1, "enrol ADDRESS WORKFLOW     put a contact into a workflow now", ""},
	{"queue", cli_queue, 1, "queue [FILTER] [--json] [--flush|--hold|--release|--delete]   scheduled work",
		"  FILTER      workflow=NAME, contact=ADDRESS, enrolment=ID (any of them)\n"
		"  --json      a JSON array, one object per job\n"
		"  --flush     make the selected jobs due now (windows and caps still apply)\n"
		"  --hold      the scheduler skips the selected enrolments until --release\n"
		"  --release   undo --hold\n"
		"  --delete    end the selected enrolments (reason deleted)\n"},
	{"timeline", cli_timeline, 1, "timeline ADDRESS           a contact's history", ""},
	{"classify", cli_classify, 0, "classify [-d] [-r] [-R FILE] FILE...   what each message is: bounce, autoreply, complaint, ...",
	"  -d          explain each decision\n"
	"  -r          add a column naming what decided the reason\n"
	"  -R FILE     use this bounce-reason vocabulary (bounce-reasons(5))\n"},
	{"stats", cli_stats, 1, "stats [--json]             counts of contacts, suppressions, events, sends; per workflow",
	"  --json      the same as one JSON object\n"},
	{"report", cli_report, 1, "report [WORKFLOW] [--since DATE] [--json] [--html FILE]   counts and rates per workflow and step",
		"  WORKFLOW    only this workflow\n"
		"  --since DATE  events from DATE on (ISO 8601, or a duration such as 30d)\n"
		"  --json      one JSON object\n"
		"  --html FILE a self-contained HTML page with charts\n"},
	{"workflows", cli_workflows, 1, "workflows [NAME...]        list workflows, or show the steps of some", ""},
	{"workflow", cli_workflow, 1, "workflow promote WF STEP ARM | unpromote WF STEP   end or resume an A/B test",
		"  promote WF STEP ARM   send every contact reaching split STEP to ARM\n"
		"  unpromote WF STEP     split by weight again\n"},
	{"template", cli_template, 1, "template NAME [CONTEXT.json] [--transactional] [--crlf]   preview a composed message",
		"  --transactional  compose as the transactional stream (no unsubscribe footer)\n"
		"  --crlf      CRLF line ends, as injected\n"},
	{"init", cli_init, -1, "init [DIR]                 copy the installed example configuration to DIR",
	"  DIR         where to put it (default " SYSCONFDIR "/postdrip); existing files are kept\n"},
	{0},
};

#define CLI_GLOBAL_OPTIONS \
	"  -c FILE     the configuration (default " CONFIG_DEFAULT_PATH ", or $POSTDRIP_CONFIG)\n" \
	"  -v          more logging\n"

/* usage - list the commands */

static int
usage(FILE *fp, int status)
{
	int	i;

	fprintf(fp, "usage: postdrip [-c FILE] [-v] COMMAND [ARGS...]\n\noptions:\n%s\ncommands:\n",
		CLI_GLOBAL_OPTIONS);
	for (i = 0; cli_commands[i].name; i++)
		fprintf(fp, "  %s\n", cli_commands[i].usage);
	fprintf(fp, "\n\"postdrip COMMAND --help\" lists a command's options; --version the version.\n");
	return (status);
}

/* cli_store - the store, opened on first use */

STORE  *
cli_store(CLI *cli)
{
	char   *err;

	if (cli->st)
		return (cli->st);
	if ((cli->st = store_open_config(cli->cf, 0, &err)) == 0) {
		fprintf(stderr, "postdrip: cannot open the store: %s\n", err);
		exit(CLI_ERROR);
	}
	return (cli->st);
}

int
main(int argc, char **argv)
{
	CLI	cli;
	char   *err = 0;
	int	ch, i, status;

	memset(&cli, 0, sizeof(cli));
	cli.config_path = getenv("POSTDRIP_CONFIG");
	if (cli.config_path == 0)
		cli.config_path = CONFIG_DEFAULT_PATH;
	/* --help among the global options (getopt does not know it). */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return (usage(stdout, CLI_OK));
		if (strcmp(argv[i], "--version") == 0)
			return (usage_version("postdrip"), CLI_OK);
		if (strcmp(argv[i], "-c") == 0)
			i++;
	}
	while ((ch = getopt(argc, argv, "+c:v")) > 0) {
		switch (ch) {
		case 'c':
			cli.config_path = optarg;
			break;
		case 'v':
			msg_verbose_set(msg_verbose + 1);
			break;
		default:
			return (usage(stderr, CLI_USAGE));
		}
	}
	if (optind >= argc)
		return (usage(stderr, CLI_USAGE));
	if (strcmp(argv[optind], "--help") == 0 || strcmp(argv[optind], "help") == 0)
		return (usage(stdout, CLI_OK));
	if (strcmp(argv[optind], "--version") == 0 || strcmp(argv[optind], "version") == 0)
		return (usage_version("postdrip"), CLI_OK);
	for (i = 0; cli_commands[i].name; i++)
		if (strcmp(cli_commands[i].name, argv[optind]) == 0)
			break;
	if (cli_commands[i].name == 0) {
		fprintf(stderr, "postdrip: unknown command \"%s\"\n", argv[optind]);
		return (usage(stderr, CLI_USAGE));
	}
	/* --help anywhere after the command ("contact add --help" too). */
	for (ch = optind + 1; ch < argc; ch++) {
		if (strcmp(argv[ch], "--help") == 0) {
			STRBUF	syn = STRBUF_INIT;

			strbuf_printf(&syn, "postdrip [-c FILE] %s", cli_commands[i].usage);
			usage_help(strbuf_str(&syn), cli_commands[i].options);
			strbuf_free(&syn);
			return (CLI_OK);
		}
		if (strcmp(argv[ch], "--version") == 0)
			return (usage_version("postdrip"), CLI_OK);
	}
	if (cli_commands[i].needs_config < 0)
		return (cli_commands[i].fn(&cli, argc - optind, argv + optind));
	cli.cf = config_load(cli.config_path, &err);
	if (cli.cf == 0 && cli_commands[i].needs_config) {
		fputs(err, stderr);
		myfree(err);
		return (CLI_ERROR);
	}
	if (cli.cf == 0) {
		/* check reports the errors itself */
		fputs(err, stdout);
		myfree(err);
		return (CLI_ERROR);
	}
	status = cli_commands[i].fn(&cli, argc - optind, argv + optind);
	if (cli.st)
		store_close(cli.st);
	config_unref(cli.cf);
	return (status);
}

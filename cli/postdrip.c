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

static const struct {
	const char *name;
	CLI_FN	fn;
	int	needs_config;		/* 0: runs even when the config is bad */
	const char *usage;
}	cli_commands[] = {
	{"check", cli_check, 0, "check                      validate the configuration, workflows and templates"},
	{"config", cli_config, 1, "config [-d] [NAME...]      print settings (-d: defaults)"},
	{"keygen", cli_keygen, 1, "keygen                     add a new token signing key"},
	{"contact", cli_contact, 1, "contact add|show|export|import ...   manage contacts"},
	{"suppress", cli_suppress, 1, "suppress ADDRESS [--reason R]   refuse marketing mail to ADDRESS"},
	{"unsuppress", cli_unsuppress, 1, "unsuppress ADDRESS         lift a suppression"},
	{"suppressed", cli_suppressed, 1, "suppressed                 list suppressed addresses"},
	{"event", cli_event, 1, "event ADDRESS TYPE [key=value...]   record an external event"},
	{"enrol", cli_enrol, 1, "enrol ADDRESS WORKFLOW     put a contact into a workflow now"},
	{"timeline", cli_timeline, 1, "timeline ADDRESS           a contact's history"},
	{"classify", cli_classify, 0, "classify [-d] FILE...      what each message is: bounce, autoreply, complaint, ..."},
	{"stats", cli_stats, 1, "stats                      counts of contacts, suppressions, events, sends"},
	{"workflows", cli_workflows, 1, "workflows [NAME...]        list workflows, or show the steps of some"},
	{"workflow", cli_workflow, 1, "workflow promote WF STEP ARM | unpromote WF STEP   end or resume an A/B test"},
	{"template", cli_template, 1, "template NAME [CONTEXT.json] [--transactional] [--crlf]   preview a composed message"},
	{0},
};

/* usage - list the commands */

static int
usage(FILE *fp, int status)
{
	int	i;

	fprintf(fp, "usage: postdrip [-c FILE] [-v] COMMAND [ARGS...]\n\ncommands:\n");
	for (i = 0; cli_commands[i].name; i++)
		fprintf(fp, "  %s\n", cli_commands[i].usage);
	return (status);
}

/* cli_store - the store, opened on first use */

STORE  *
cli_store(CLI *cli)
{
	STORE_OPTS opts;
	char   *err;

	if (cli->st)
		return (cli->st);
	memset(&opts, 0, sizeof(opts));
	opts.map_size = config_int(cli->cf, "store_map_size");
	opts.map_max = config_int(cli->cf, "store_map_max");
	opts.queue_max = config_int(cli->cf, "store_queue_max");
	if ((cli->st = store_open(config_str(cli->cf, "data_directory"), &opts, &err)) == 0) {
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
			printf("usage: postdrip [-c FILE] %s\n", cli_commands[i].usage);
			return (CLI_OK);
		}
	}
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

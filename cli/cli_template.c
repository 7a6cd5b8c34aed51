/*++
/* NAME
/*	cli_template 1
/* SUMMARY
/*	postdrip commands on message templates
/* SYNOPSIS
/*	postdrip template NAME [CONTEXT.json] [--transactional] [--crlf]
/* DESCRIPTION
/*	"postdrip template" composes the message that template NAME (in
/*	template_directory) gives for the context in CONTEXT.json (the
/*	context a workflow step sees: contact, owner, event, clicked, tags,
/*	...; see postdrip-template(5)) and prints it, so that a marketer can
/*	preview a template before a workflow sends it. The Message-ID and
/*	unsubscribe URL are placeholders; the date is now.
/*
/*	cli_check_templates() is the template part of "postdrip check":
/*	every NAME.tmpl and partial in template_directory is checked. A
/*	template directory that does not exist is not an error while
/*	template_directory has its default value (no templates yet).
/* DIAGNOSTICS
/*	Problems are "file:line: message" lines; exit status 1.
/*--*/
#include "pdconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli.h"
#include "util/clock.h"
#include "message/compose.h"
#include "config/config.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "message/template.h"

#define CLI_TEMPLATE_CONTEXT_MAX	(1024 * 1024)

/* cli_check_templates - the templates part of postdrip check */

int
cli_check_templates(CLI *cli, STRBUF *errs)
{
	const char *dir = config_str(cli->cf, "template_directory");
	struct stat st;

	template_limits_config(cli->cf);
	if (stat(dir, &st) < 0 && errno == ENOENT
	    && config_is_default(cli->cf, "template_directory"))
		return (0);
	return (template_dir_check(dir, errs));
}

/* cli_template - preview a composed message */

int
cli_template(CLI *cli, int argc, char **argv)
{
	COMPOSE_IN in;
	STRBUF	out = STRBUF_INIT;
	json_error_t jerr;
	json_t *ctx = 0;
	json_t *email;
	const char *name = 0;
	const char *file = 0;
	char   *unsub;
	char   *mailto;
	char   *from;
	char   *err = 0;
	struct stat st;
	int	transactional = 0;
	int	crlf = 0;
	int	status = CLI_OK;
	int	i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--transactional") == 0)
			transactional = 1;
		else if (strcmp(argv[i], "--crlf") == 0)
			crlf = 1;
		else if (argv[i][0] == '-' && argv[i][1] != 0)
			name = file = 0, i = argc;	/* unknown option */
		else if (name == 0)
			name = argv[i];
		else if (file == 0)
			file = argv[i];
		else
			name = 0, i = argc;
	}
	if (name == 0) {
		fprintf(stderr, "usage: postdrip template NAME [CONTEXT.json] [--transactional] [--crlf]\n");
		return (CLI_USAGE);
	}
	template_limits_config(cli->cf);
	if (file) {
		if (stat(file, &st) < 0) {
			fprintf(stderr, "postdrip: %s: %s\n", file, strerror(errno));
			return (CLI_ERROR);
		}
		if (st.st_size > CLI_TEMPLATE_CONTEXT_MAX) {
			fprintf(stderr, "postdrip: %s: larger than %d bytes\n", file,
				CLI_TEMPLATE_CONTEXT_MAX);
			return (CLI_ERROR);
		}
		if ((ctx = json_load_file(file, 0, &jerr)) == 0 || !json_is_object(ctx)) {
			fprintf(stderr, "postdrip: %s:%d: %s\n", file, jerr.line,
				ctx ? "the context must be a JSON object" : jerr.text);
			if (ctx)
				json_decref(ctx);
			return (CLI_ERROR);
		}
	} else {
		ctx = json_object();
	}
	email = json_object_get(json_object_get(ctx, "contact"), "email");
	unsub = myasprintf("%s/u/PREVIEW", config_str(cli->cf, "tracker_url"));
	mailto = myasprintf("unsubscribe+PREVIEW@%s", config_str(cli->cf, "bounce_domain"));
	from = myasprintf("postmaster@%s", config_str(cli->cf, "bounce_domain"));
	memset(&in, 0, sizeof(in));
	in.template_dir = config_str(cli->cf, "template_directory");
	in.template = name;
	in.context = ctx;
	in.message_id = "preview@postdrip.invalid";
	in.from_default = from;
	in.to = json_is_string(email) ? json_string_value(email) : "preview@example.com";
	in.list_unsubscribe_url = transactional ? 0 : unsub;
	in.list_unsubscribe_mailto = transactional ? 0 : mailto;
	in.workflow = "preview";
	in.step = name;
	in.stream = transactional ? COMPOSE_STREAM_TRANSACTIONAL : COMPOSE_STREAM_MARKETING;
	in.date = clock_now();
	in.crlf = crlf;
	if (compose_message(&in, &out, &err) < 0) {
		printf("%s\n", err);
		myfree(err);
		status = CLI_ERROR;
	} else {
		fwrite(strbuf_str(&out), 1, strbuf_len(&out), stdout);
	}
	myfree(unsub);
	myfree(mailto);
	myfree(from);
	json_decref(ctx);
	strbuf_free(&out);
	return (status);
}

/*++
/* NAME
/*	cli_classify 3
/* SUMMARY
/*	postdrip classify: what an inbound message is
/* SYNOPSIS
/*	postdrip classify [-d] [-r] [-R FILE] FILE...
/* DESCRIPTION
/*	Each FILE holds one message (RFC 5322; an mbox "From " line first
/*	is allowed). For every recipient the message reports on, one line
/*	is written to standard output, tab-separated:
/*
/*	file kind recipient status class reason
/*
/*	kind is bounce, autoreply, complaint, mdn, reply or other; status
/*	the DSN status (x.y.z, or empty); class hard, soft or none; reason
/*	a Sisimai-style reason name (userunknown, mailboxfull, expired,
/*	feedback, vacation, ...). A message that names no recipient gives
/*	one line with the recipient, status and reason empty.
/*
/*	With -d, a further column holds the remote reply or diagnostic
/*	text, on one line. With -r, a further column says what decided the
/*	reason: "status:5.1.1" (the DSN status detail code),
/*	"diagnostic-status:..." (the enhanced code in the remote reply),
/*	"reply-code", "bounce-reasons:LINE" (an entry of the phrase
/*	vocabulary), "stage:..." (the SMTP command the reply answered),
/*	"status-class:..." (a vague status), "action" (a success) or
/*	"none"; bounce-reasons(5) explains the order.
/*
/*	The phrase vocabulary is the file named by bounce_reasons_file in
/*	postdrip.conf, or, when that is its default and the file is not
/*	there, the copy compiled into postdrip. -R FILE reads FILE
/*	instead.
/* DIAGNOSTICS
/*	Exit status 0 when every file was read, 1 when one could not be,
/*	2 on a usage error. A file larger than CLI_CLASSIFY_MAX bytes is
/*	classified on its first CLI_CLASSIFY_MAX bytes, with a warning.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "config/config.h"
#include "classify/classify.h"
#include "cli.h"

#define CLI_CLASSIFY_MAX	(10 * 1024 * 1024)

/* read_bounded - a file's first CLI_CLASSIFY_MAX bytes */

static int
read_bounded(const char *path, STRBUF *buf)
{
	FILE   *fp;
	char	chunk[65536];
	size_t	n;

	strbuf_reset(buf);
	if ((fp = fopen(path, "r")) == 0) {
		msg_warn("classify: open %s: %s", path, strerror(errno));
		return (-1);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (buf->len + n > CLI_CLASSIFY_MAX) {
			msg_warn("classify: %s: larger than %d bytes; classifying the start",
				 path, CLI_CLASSIFY_MAX);
			strbuf_append(buf, chunk, CLI_CLASSIFY_MAX - buf->len);
			break;
		}
		strbuf_append(buf, chunk, n);
	}
	if (ferror(fp)) {
		msg_warn("classify: read %s: %s", path, strerror(errno));
		fclose(fp);
		return (-1);
	}
	fclose(fp);
	return (0);
}

/* print_row - one output line */

static void
print_row(const char *path, const CLASSIFY_RESULT *res,
	          const CLASSIFY_RCPT *rcpt, int diag, int why)
{
	printf("%s\t%s\t%s\t%s\t%s\t%s", path, classify_kind_name(res->kind),
	       rcpt ? rcpt->recipient : "", rcpt ? rcpt->status : "",
	       classify_class_name(rcpt ? rcpt->class : CLASSIFY_NONE),
	       rcpt ? rcpt->reason : "");
	if (diag)
		printf("\t%s", rcpt ? rcpt->diagnostic : "");
	if (why)
		printf("\t%s", rcpt ? rcpt->rule : "");
	putchar('\n');
}

/* cli_reasons_load - the phrase vocabulary: -R, the setting, or built in */

int
cli_reasons_load(CLI *cli, const char *path, STRBUF *errs)
{
	if (path)
		return (classify_reasons_load(path, 0, errs));
	/* Without a usable config, the compiled-in copy serves. */
	if (cli->cf == 0)
		return (0);
	/* Only the default may be missing: then the compiled-in copy serves. */
	return (classify_reasons_load(config_str(cli->cf, "bounce_reasons_file"),
			     config_is_default(cli->cf, "bounce_reasons_file"), errs));
}

/* cli_classify - the command */

int
cli_classify(CLI *cli, int argc, char **argv)
{
	STRBUF	buf = STRBUF_INIT;
	CLASSIFY_RESULT res;
	int	status = CLI_OK;
	STRBUF	errs = STRBUF_INIT;
	const char *reasons = 0;
	int	diag = 0;
	int	why = 0;
	int	i;
	size_t	r;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "-d") == 0) {
			diag = 1;
		} else if (strcmp(argv[i], "-r") == 0) {
			why = 1;
		} else if (strcmp(argv[i], "-R") == 0 && i + 1 < argc) {
			reasons = argv[++i];
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			fprintf(stderr, "usage: postdrip classify [-d] [-r] [-R FILE] FILE...\n");
			return (CLI_USAGE);
		}
	}
	if (i >= argc) {
		fprintf(stderr, "usage: postdrip classify [-d] [-r] [-R FILE] FILE...\n");
		return (CLI_USAGE);
	}
	if (cli_reasons_load(cli, reasons, &errs) < 0) {
		fputs(strbuf_str(&errs), stderr);
		strbuf_free(&errs);
		return (CLI_ERROR);
	}
	strbuf_free(&errs);
	for (; i < argc; i++) {
		if (read_bounded(argv[i], &buf) < 0) {
			status = CLI_ERROR;
			continue;
		}
		classify_message(strbuf_str(&buf), strbuf_len(&buf), &res);
		if (res.nrcpt == 0)
			print_row(argv[i], &res, 0, diag, why);
		for (r = 0; r < res.nrcpt; r++)
			print_row(argv[i], &res, res.rcpt + r, diag, why);
		classify_free(&res);
	}
	strbuf_free(&buf);
	if (fflush(stdout) != 0) {
		msg_warn("classify: write: %s", strerror(errno));
		status = CLI_ERROR;
	}
	return (status);
}

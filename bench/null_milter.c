/*++
/* NAME
/*	null_milter 1
/* SUMMARY
/*	a milter that does nothing, to compare postdrip-milter with
/* SYNOPSIS
/*	null_milter [-g bytes] [-a | -e] unix:/path | inet:port@host
/* DESCRIPTION
/*	null_milter accepts every message. It registers only the end of
/*	message callback, so libmilter asks Postfix for nothing else: this
/*	is the cheapest a milter can be, the baseline of
/*	bench/milter_bench.sh. It stops on SIGTERM.
/*
/*	With -a it takes the whole message instead, as a milter that
/*	edits the body must: the envelope, every header and the body,
/*	asking for no reply to any of them (the same protocol options as
/*	postdrip-milter), and still does nothing with them. That is the
/*	floor of any milter that reads the message through libmilter.
/*
/*	With -e it also makes the changes postdrip-milter makes to a
/*	marketing send, with values of the same size and no thought
/*	behind them: a VERP envelope sender, List-Unsubscribe,
/*	List-Unsubscribe-Post and Feedback-ID, and the body replaced (by
/*	itself). What Postfix spends applying such changes shows apart
/*	from what postdrip-milter spends deciding them.
/*
/*	With -g BYTES (and -e) the new body is that much longer: blank
/*	lines after the end of the message (its MIME epilogue), as many
/*	bytes as postdrip-milter's tracked links and pixel add. What the
/*	growth of a message alone costs Postfix shows apart.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libmilter/mfapi.h>

typedef struct {
	unsigned char *data;
	size_t	len;
	size_t	size;
} NULL_BODY;

static int null_edit;
static size_t null_grow;		/* -g: bytes added to the body */

/* null_eom - accept; with -e, make the changes first */

static sfsistat
null_eom(SMFICTX *ctx)
{
	NULL_BODY *b;

	if (!null_edit)
		return (SMFIS_ACCEPT);
	(void) smfi_chgfrom(ctx, "<bounces+aeaqdrybaabbuu77fbuzaxpd3u@bounce.test>", 0);
	(void) smfi_addheader(ctx, "List-Unsubscribe",
			      "<https://track.example.com/u/aeaqdrybaabbuu77fbuzaxpd3uaeaqdrybaabbuu77fbu>,"
			      " <mailto:unsubscribe+aeaqdrybaabbuu77fbuzaxpd3u@bounce.test>");
	(void) smfi_addheader(ctx, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
	(void) smfi_addheader(ctx, "Feedback-ID", "0:marketing:news.test:postdrip");
	if ((b = smfi_getpriv(ctx)) != 0 && b->len > 0) {
		(void) smfi_replacebody(ctx, b->data, (int) b->len);
		if (null_grow > 0) {
			unsigned char *pad = malloc(null_grow);
			size_t	n;

			/* After the body: the MIME epilogue, which readers ignore. */
			if (pad) {
				for (n = 0; n < null_grow; n++)
					pad[n] = (n % 78 == 76) ? '\r' : (n % 78 == 77) ? '\n' : ' ';
				(void) smfi_replacebody(ctx, pad, (int) null_grow);
				free(pad);
			}
		}
	}
	if (b)
		b->len = 0;
	return (SMFIS_ACCEPT);
}

/* The -a callbacks: take it, say nothing. */

static sfsistat
null_connect(SMFICTX *ctx, char *name, _SOCK_ADDR *addr)
{
	(void) ctx;
	(void) name;
	(void) addr;
	return (SMFIS_NOREPLY);
}

static sfsistat
null_string(SMFICTX *ctx, char *arg)
{
	(void) ctx;
	(void) arg;
	return (SMFIS_NOREPLY);
}

static sfsistat
null_argv(SMFICTX *ctx, char **argv)
{
	(void) ctx;
	(void) argv;
	return (SMFIS_NOREPLY);
}

static sfsistat
null_header(SMFICTX *ctx, char *name, char *value)
{
	(void) ctx;
	(void) name;
	(void) value;
	return (SMFIS_NOREPLY);
}

static sfsistat
null_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	NULL_BODY *b;

	if (!null_edit)
		return (SMFIS_NOREPLY);
	if ((b = smfi_getpriv(ctx)) == 0) {
		if ((b = calloc(1, sizeof(*b))) == 0)
			return (SMFIS_NOREPLY);
		(void) smfi_setpriv(ctx, b);
	}
	if (b->len + len > b->size) {
		size_t	size = 2 * (b->len + len);
		unsigned char *data = realloc(b->data, size);

		if (data == 0)
			return (SMFIS_NOREPLY);
		b->data = data;
		b->size = size;
	}
	memcpy(b->data + b->len, chunk, len);
	b->len += len;
	return (SMFIS_NOREPLY);
}

/* null_abort - forget the message */

static sfsistat
null_abort(SMFICTX *ctx)
{
	NULL_BODY *b = smfi_getpriv(ctx);

	if (b)
		b->len = 0;
	return (SMFIS_CONTINUE);
}

/* null_close - forget the connection */

static sfsistat
null_close(SMFICTX *ctx)
{
	NULL_BODY *b = smfi_getpriv(ctx);

	if (b) {
		free(b->data);
		free(b);
		(void) smfi_setpriv(ctx, 0);
	}
	return (SMFIS_CONTINUE);
}

static sfsistat
null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	               unsigned long f2, unsigned long f3, unsigned long *pf0,
	               unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void) ctx;
	(void) f2;
	(void) f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGHDRS
		     | SMFIF_CHGBODY | SMFIF_CHGFROM);
	*pf1 = f1 & (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT
		     | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NOUNKNOWN
		     | SMFIP_NODATA | SMFIP_NOEOH);
	*pf2 = *pf3 = 0;
	return (SMFIS_CONTINUE);
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc;
	int	all = 0;

	if (argc == 5 && strcmp(argv[1], "-g") == 0) {
		null_grow = strtoul(argv[2], 0, 10);
		argv += 2;
		argc -= 2;
	}
	if (argc == 3 && (strcmp(argv[1], "-a") == 0 || strcmp(argv[1], "-e") == 0)) {
		all = 1;
		null_edit = (argv[1][1] == 'e');
		argv++;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: null_milter [-g bytes] [-a | -e] unix:/path | inet:port@host\n");
		return (2);
	}
	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = "null_milter";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_eom = null_eom;
	if (all) {
		desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT
			| SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_CHGFROM;
		desc.xxfi_connect = null_connect;
		desc.xxfi_helo = null_string;
		desc.xxfi_envfrom = null_argv;
		desc.xxfi_envrcpt = null_argv;
		desc.xxfi_header = null_header;
		desc.xxfi_body = null_body;
		desc.xxfi_abort = null_abort;
		desc.xxfi_close = null_close;
		desc.xxfi_negotiate = null_negotiate;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS
	    || smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "null_milter: cannot listen on %s\n", argv[1]);
		return (1);
	}
	if (strncmp(argv[1], "unix:", 5) == 0)
		(void) chmod(argv[1] + 5, 0666);
	return (smfi_main() == MI_SUCCESS ? 0 : 1);
}

/*++
/* NAME
/*	fuzz_http 1
/* SUMMARY
/*	fuzz target: tracker request paths, queries and form bodies
/* SYNOPSIS
/*	LLVMFuzzerTestOneInput(data, size)
/* DESCRIPTION
/*	The input is "PATH\nQUERY\nCONTENT-TYPE\nBODY". The path and query
/*	go through track_parse() and track_verify() as the tracker's /o/,
/*	/c/ and /u/ do; a click that verifies must redirect to a URL that
/*	track_url_ok() accepts and that signs again to the same token. The
/*	body goes through trk_form_get() for the fields the tracker reads,
/*	whose values must fit their buffers and hold no NUL. The query and
/*	the body (up to a NUL) are also labelled by bot_label() as a click's
/*	User-Agent, with the content type as its Sec-Purpose: a label names
/*	a rule, or is none.
/*--*/
#include "pdconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token/track.h"
#include "tracker/tracker_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static TOKENS *fuzz_tk;
static BOT fuzz_bot;

/* fuzz_field - next NL-terminated field, copied with a null */

static char *
fuzz_field(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', end - *p);
	size_t	len = (nl ? nl : end) - *p;
	char   *s = malloc(len + 1);

	memcpy(s, *p, len);
	s[len] = 0;
	*p = nl ? nl + 1 : end;
	return (s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char secret[32] = "fuzz-secret-fuzz-secret-fuzz-se";
	static const char *const names[] = {"List-Unsubscribe", "csrf", "action", "email", "list", 0};
	const uint8_t *p = data, *end = data + size;
	char   *path, *query, *ctype, *ua, buf[256];
	BOT_REQ br;
	BOT_LABEL bl;
	TRACK_REQ *r = malloc(sizeof(*r));
	TOKEN	t;
	long	n;
	int	i;

	if (fuzz_tk == 0) {
		fuzz_tk = tokens_from_secret(7, secret, sizeof(secret));
		bot_init(&fuzz_bot);
	}
	path = fuzz_field(&p, end);
	query = fuzz_field(&p, end);
	ctype = fuzz_field(&p, end);
	if (track_parse(path, query, r) == 0 && r->kind != 0) {
		if (strlen(r->token) >= TOKEN_TEXT_MAX)
			abort();
		if (track_verify(fuzz_tk, r, &t) == TOKENS_OK && r->kind == 'c'
		    && !track_url_ok(r->url))
			abort();
	}
	for (i = 0; names[i]; i++) {
		n = trk_form_get(ctype, (const char *) p, end - p, names[i], buf, sizeof(buf) - 1);
		if (n >= (long) sizeof(buf) || (n >= 0 && strlen(buf) != (size_t) n))
			abort();
	}
	ua = malloc(end - p + 1);
	memcpy(ua, p, end - p);
	ua[end - p] = 0;
	memset(&br, 0, sizeof(br));
	br.kind = 'c';
	br.purpose = *ctype ? ctype : 0;
	br.message = 1;
	br.link_name = "l";
	for (i = 0; i < 2; i++) {
		br.user_agent = i ? query : ua;
		bot_label(&fuzz_bot, &br, &bl);
		if (bl.machine != (bl.reason != 0) || (bl.proxy && !bl.machine))
			abort();
	}
	free(ua);
	free(r);
	free(path);
	free(query);
	free(ctype);
	return (0);
}

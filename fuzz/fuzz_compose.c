/*++
/* NAME
/*	fuzz_compose 1
/* SUMMARY
/*	fuzz target: template files composed into messages
/* SYNOPSIS
/*	LLVMFuzzerTestOneInput(data, size)
/* DESCRIPTION
/*	Reads the input as a template file (header block, text body, HTML
/*	body) and composes a marketing message from it against a fixed
/*	context whose fields hold line breaks, quotes, angle brackets and
/*	non-ASCII text. A message that is composed must parse back with
/*	GMime, and must hold no header that the template could not set:
/*	no Bcc, no second From.
/*--*/
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <jansson.h>

#include "message/compose.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "message/template.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *fuzz_ctx;

/* fuzz_init - the fixed context and lower bounds */

static void
fuzz_init(void)
{
	TEMPLATE_LIMITS lim;

	g_mime_init();
	fuzz_ctx = json_loads("{\"contact\": {\"first_name\": \"Zo\\u00eb <&>\", \"email\": "
			      "\"ann@example.org\", \"evil\": \"x\\r\\nBcc: victim@example.net\","
			      " \"quote\": \"\\\"Smith, J\\\" <j@example.com>\", \"nul\": \"a\\u0000b\","
			      " \"long\": \"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
			      "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
			      "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"},"
			      " \"owner\": {\"name\": \"J\\u00f6rg, Sales\", \"email\": \"bob@example.com\"},"
			      " \"clicked\": {\"pricing\": true}, \"tags\": {\"vip\": true},"
			      " \"event\": {\"items\": [{\"name\": \"Mug\"}, {\"name\": \"Tee\"}]}}", 0, 0);
	template_limits_get(&lim);
	lim.max_output = 64 * 1024;
	lim.max_steps = 200000;
	lim.max_partial_depth = 4;
	template_limits_set(&lim);
}

/* fuzz_count - how many header lines start with name */

static int
fuzz_count(const char *msg, const char *name)
{
	size_t	n = strlen(name);
	const char *p;
	int	count = 0;

	for (p = msg; p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (*p == '\n' || *p == 0 || (p[0] == '\r' && p[1] == '\n'))
			break;				/* end of the header */
		if (strncasecmp(p, name, n) == 0)
			count++;
	}
	return (count);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STRBUF	errs = STRBUF_INIT;
	STRBUF	out = STRBUF_INIT;
	COMPOSE_IN in;
	TMPLFILE *tf;
	GMimeStream *st;
	GMimeParser *parser;
	GMimeMessage *m;
	char   *err = 0;

	if (fuzz_ctx == 0)
		fuzz_init();
	if ((tf = tmplfile_parse_text("fuzz.tmpl", (const char *) data, size, &errs)) == 0) {
		if (strncmp(strbuf_str(&errs), "fuzz.tmpl:", 10) != 0)
			abort();			/* errors always name the file */
		strbuf_free(&errs);
		return (0);
	}
	memset(&in, 0, sizeof(in));
	in.template_dir = ".";
	in.template = "fuzz";
	in.tf = tf;
	in.context = fuzz_ctx;
	in.message_id = "e1.2.AbC@mail.example.com";
	in.from_default = "Acme <news@example.com>";
	in.to = "ann@example.org";
	in.list_unsubscribe_url = "https://t.example.com/u/AbC";
	in.list_unsubscribe_mailto = "unsubscribe+AbC@bounce.example.com";
	in.workflow = "w";
	in.step = "s";
	in.stream = COMPOSE_STREAM_MARKETING;
	in.date = 1772355600;
	in.crlf = size & 1;
	if (compose_message(&in, &out, &err) == 0) {
		if (fuzz_count(strbuf_str(&out), "Bcc:") != 0
		    || fuzz_count(strbuf_str(&out), "From:") != 1
		    || fuzz_count(strbuf_str(&out), "To:") != 1
		    || fuzz_count(strbuf_str(&out), "Subject:") != 1)
			abort();
		st = g_mime_stream_mem_new_with_buffer(strbuf_str(&out), strbuf_len(&out));
		parser = g_mime_parser_new_with_stream(st);
		if ((m = g_mime_parser_construct_message(parser, 0)) == 0)
			abort();
		g_object_unref(m);
		g_object_unref(parser);
		g_object_unref(st);
	} else {
		myfree(err);
	}
	tmplfile_free(tf);
	strbuf_free(&out);
	strbuf_free(&errs);
	return (0);
}

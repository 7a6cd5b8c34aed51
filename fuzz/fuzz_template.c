/*++
/* NAME
/*	fuzz_template 1
/* SUMMARY
/*	fuzz target: Mustache templates
/* SYNOPSIS
/*	LLVMFuzzerTestOneInput(data, size)
/* DESCRIPTION
/*	Compiles the input as a template and renders it against a fixed
/*	context, for text and for HTML. A partial named "self" is the input
/*	again (recursion, stopped by the partial depth bound); any other
/*	partial is a small fixed template. The bounds are lowered so that a
/*	run stays fast; reaching one is a normal outcome, a crash or a leak
/*	is not.
/*--*/
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "message/template.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *fuzz_ctx;

typedef struct FUZZ_SRC {
	const uint8_t *data;
	size_t	size;
} FUZZ_SRC;

/* fuzz_partial - "self" is the input; others a fixed template */

static char *
fuzz_partial(const char *name, void *ctx)
{
	FUZZ_SRC *src = ctx;
	char   *copy;

	if (strcmp(name, "missing") == 0)
		return (0);
	if (strcmp(name, "self") != 0)
		return (mystrdup("[{{contact.first_name}}|{{#tags}}{{.}}{{/tags}}]\n  {{>x}}\n"));
	/* Partials are C strings: the input up to its first NUL. */
	copy = mymalloc(src->size + 1);
	memcpy(copy, src->data, src->size);
	copy[src->size] = 0;
	return (copy);
}

/* fuzz_init - the fixed context and lower bounds */

static void
fuzz_init(void)
{
	TEMPLATE_LIMITS lim;

	fuzz_ctx = json_loads("{\"contact\": {\"first_name\": \"Ann <&>\", \"email\": "
			      "\"ann@example.org\", \"score\": 12, \"ratio\": 0.25, "
			      "\"empty\": \"\", \"none\": null},"
			      " \"owner\": {\"name\": \"Bob\", \"email\": \"bob@example.com\"},"
			      " \"clicked\": {\"pricing\": true}, \"tags\": {\"vip\": true},"
			      " \"event\": {\"items\": [{\"name\": \"Mug\", \"price\": 9.5},"
			      " {\"name\": \"Tee\", \"price\": 20}, \"x\", 3, [1, [2]], {}]},"
			      " \"list\": [1, 2, 3], \"workflow\": \"w\", \"step\": \"s\"}", 0, 0);
	template_limits_get(&lim);
	lim.max_output = 64 * 1024;
	lim.max_steps = 200000;
	lim.max_partial_depth = 8;
	template_limits_set(&lim);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FUZZ_SRC src;
	STRBUF	out = STRBUF_INIT;
	TEMPLATE *t;
	char   *err = 0;
	int	html;

	if (fuzz_ctx == 0)
		fuzz_init();
	src.data = data;
	src.size = size;
	if ((t = template_compile("fuzz", (const char *) data, size, &err)) == 0) {
		if (err == 0 || strncmp(err, "fuzz:", 5) != 0)
			abort();			/* errors always name the template */
		myfree(err);
		return (0);
	}
	for (html = 0; html <= 1; html++) {
		err = 0;
		if (template_render(t, fuzz_ctx, fuzz_partial, &src, html, &out, &err) != TEMPLATE_OK) {
			if (err == 0)
				abort();
			myfree(err);
		}
		strbuf_free(&out);
	}
	template_free(t);
	return (0);
}

#ifndef PD_REWRITE_INT_H
#define PD_REWRITE_INT_H

/*
 * rewrite_int - what rewrite.c (MIME) and rewrite_html.c (HTML and
 * text) share.
 */
#include <stddef.h>

#include "util/strbuf.h"
#include "message/rewrite.h"

#define REWRITE_URL_MAX		8192	/* longer targets are left alone */
#define REWRITE_NAME_MAX	128	/* link names are cut there (TRACK_NAME_MAX) */

typedef struct REWRITE_STATE {
	const REWRITE_OPTS *opts;
	REWRITE_RESULT *res;
	int	number;			/* links handed to link_url() so far */
} REWRITE_STATE;

/*
 * Each appends the rewritten document to out and returns the number of
 * changes made (0: out holds a copy of the input). The input is UTF-8 or
 * ASCII-compatible bytes; only inserted and replaced bytes are new.
 */
int	rewrite_html(REWRITE_STATE *st, const char *in, size_t len, STRBUF *out);
int	rewrite_text(REWRITE_STATE *st, const char *in, size_t len, STRBUF *out);

/* Whether url (already trimmed) may be tracked; fills the link name. */
int	rewrite_trackable(const REWRITE_OPTS *opts, const char *url, STRBUF *name);

#endif

#ifndef PD_COMPOSE_H
#define PD_COMPOSE_H

/*
 * compose - build a workflow message from a template file (see compose.c).
 */
#include <time.h>
#include <jansson.h>

#include "util/addr.h"
#include "util/strbuf.h"
#include "message/template.h"

typedef struct COMPOSE_IN {
	const char *template_dir;	/* conf/templates */
	const char *template;		/* name without extension */
	json_t *context;		/* {"contact": {...fields..., "email"},
					 * "owner": {...}, "event": {...},
					 * "clicked": {...}, "tags": {...},
					 * "workflow": "...", "step": "..."} */
	const char *message_id;		/* without <>, with '@'; deterministic,
					 * given by the engine */
	const char *from_default;	/* when the template has no From (or
					 * owner missing) */
	const char *to;			/* contact address */
	const char *list_unsubscribe_url;	/* URL with signed token; required
						 * for marketing, may be NULL for
						 * transactional */
	const char *list_unsubscribe_mailto;	/* mailto address with token, may
						 * be NULL */
	const char *workflow, *step;	/* X-Postdrip-Workflow / X-Postdrip-Step
					 * headers (the milter reads them) */
	const char *stream;		/* "marketing" or "transactional" */
	time_t	date;			/* Date: from the clock */
	/* Optional. */
	int	crlf;			/* 1: CRLF line ends; 0: LF */
	const TMPLFILE *tf;		/* a template already loaded (a cache),
					 * with its partials; then template and
					 * template_dir are not read */
	const char *reply_address;	/* reply+TOKEN@bounce_domain: the
					 * Reply-To address, whatever the
					 * template says (its display name
					 * stays); reply_routing_streams */
	char   *reply_original;		/* out, ADDR_MAX + 1 bytes, or NULL:
					 * with reply_address, where replies
					 * would have gone (the template's
					 * Reply-To, else From) */
} COMPOSE_IN;

#define COMPOSE_STREAM_MARKETING	"marketing"
#define COMPOSE_STREAM_TRANSACTIONAL	"transactional"

#define COMPOSE_HDR_WORKFLOW	"X-Postdrip-Workflow"
#define COMPOSE_HDR_STEP	"X-Postdrip-Step"

/*
 * Append the whole message (headers and body) to out. Returns 0, or -1
 * with *err (caller frees with myfree()) saying what is wrong: a template
 * that cannot be loaded or rendered ("file:line: message"), a header value
 * that would contain a line break, a malformed address, marketing mail
 * without an unsubscribe URL.
 */
int	compose_message(const COMPOSE_IN *in, STRBUF *out, char **err);

#endif

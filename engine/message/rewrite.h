#ifndef PD_REWRITE_H
#define PD_REWRITE_H

/*
 * rewrite - link and open tracking of an outbound message (see rewrite.c).
 *
 * The rewriter knows nothing of tokens or the store: the caller's
 * callbacks make the tracker URLs.
 */
#include <stddef.h>

#include "util/strbuf.h"

/*
 * link_url() returns the tracked URL for one link (mymalloc'd; the
 * rewriter frees it), or a null pointer to leave that link as it is.
 * url is the link's target with HTML character references decoded and
 * surrounding white space removed, in UTF-8; name is the data-link value
 * or host+path; number counts the links handed over, from 1, in message
 * order. pixel_url() returns the open pixel's URL (mymalloc'd), or null
 * for none.
 */
typedef char *(*REWRITE_LINK_FN) (void *ctx, const char *url,
				          const char *name, int number);
typedef char *(*REWRITE_PIXEL_FN) (void *ctx);

typedef struct REWRITE_OPTS {
	int	track_links;		/* HTML <a>/<area> href */
	int	track_opens;		/* 1x1 pixel in each HTML part */
	int	track_text_links;	/* bare http(s) URLs in text/plain */
	size_t	max_size;		/* larger messages are left alone; 0: no
					 * limit */
	const char *const *exclude_domains;	/* null-terminated; each with
						 * its subdomains; may be null */
	const char *tracker_url;	/* links under TRACKER/ (unsubscribe,
					 * preferences, already tracked) are
					 * never tracked; may be null */
	const char *const *signing_domains;	/* null-terminated, may be null:
						 * the DKIM d= domains that sign
						 * after us; a DKIM-Signature of
						 * any other stops the rewrite */
	const char *honeypot_name;	/* link name of a hidden link added to
					 * each HTML part with links, or
					 * null/"": none */
	const char *honeypot_url;	/* the URL that link's token signs */
	REWRITE_LINK_FN link_url;
	REWRITE_PIXEL_FN pixel_url;
	void   *ctx;
} REWRITE_OPTS;

/* Why a message was, or was not, rewritten. */
#define REWRITE_OK		0	/* rewritten */
#define REWRITE_NOTHING		1	/* nothing to track: unchanged */
#define REWRITE_TOO_BIG		2	/* over max_size: unchanged */
#define REWRITE_DKIM_OTHER	3	/* signed by another domain: unchanged */
#define REWRITE_NO_HTML		4	/* no HTML part (and no text tracking) */
#define REWRITE_BAD_MIME	5	/* no header/body separator, or a
					 * nested boundary that clashes */
#define REWRITE_SIGNED		6	/* multipart/signed or /encrypted */

typedef struct REWRITE_RESULT {
	int	links;			/* links replaced */
	int	pixels;			/* pixels added */
	int	honeypots;		/* hidden honeypot links added */
	int	parts;			/* parts changed */
	int	skipped_parts;		/* HTML parts left alone (charset,
					 * encoding) */
	int	header_changed;		/* the top-level header block changed
					 * (Content-Transfer-Encoding) */
	size_t	body_offset;		/* where the body starts in out */
	char	detail[128];		/* for the log: "d=other.example", ... */
} REWRITE_RESULT;

/*
 * Rewrite the message msg[0..len) (headers and body, LF or CRLF line
 * ends) into out, which receives the input unchanged when the result is
 * not REWRITE_OK. Never logs; never fails otherwise.
 */
int	rewrite_message(const char *msg, size_t len, const REWRITE_OPTS *opts,
			        STRBUF *out, REWRITE_RESULT *res);

/* One word for each result, for logs: "rewritten", "too-big", ... */
const char *rewrite_strstatus(int status);

/*
 * The parse of an HTML document is kept for the documents seen last (a
 * message split into one transaction per recipient has the same HTML in
 * each, or the same but for a name or two). rewrite_cache_stats() tells how often that helped;
 * rewrite_cache_flush() forgets them all.
 */
typedef struct REWRITE_CACHE_STATS {
	unsigned long hits;		/* documents seen before, byte for byte */
	unsigned long near;		/* the same but for some text (a name) */
	unsigned long misses;		/* documents parsed */
} REWRITE_CACHE_STATS;

void	rewrite_cache_stats(REWRITE_CACHE_STATS *stats);
void	rewrite_cache_flush(void);

#endif

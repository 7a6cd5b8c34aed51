#ifndef PD_TEMPLATE_H
#define PD_TEMPLATE_H

/*
 * template - Mustache templates (see template.c and postdrip-template(5)).
 *
 * A template is compiled once and rendered many times against a jansson
 * context. Compiled templates are immutable: several threads may render the
 * same one at once.
 */
#include <stddef.h>
#include <jansson.h>

#include "util/strbuf.h"

typedef struct TEMPLATE TEMPLATE;	/* a compiled template */

#define TEMPLATE_OK	0
#define TEMPLATE_ERROR	(-1)

/*
 * Partials: the callback returns the source of a partial as a string
 * allocated with mymalloc() (the renderer releases it with myfree()), or
 * NULL when there is no such partial, which renders as nothing, as Mustache
 * requires. A partial is compiled with the default delimiters.
 */
typedef char *(*TEMPLATE_PARTIAL_FN) (const char *name, void *ctx);

/*
 * Bounds. Every compile and render checks them; the defaults are
 * TEMPLATE_DEF_*. template_limits_set() is meant to be called once at
 * program start (from the configuration), before any thread renders.
 */
typedef struct TEMPLATE_LIMITS {
	size_t	max_size;		/* template source bytes */
	int	max_depth;		/* nesting of sections */
	int	max_partial_depth;	/* partials within partials */
	size_t	max_output;		/* rendered bytes */
	unsigned long max_steps;	/* nodes visited while rendering */
} TEMPLATE_LIMITS;

#define TEMPLATE_DEF_MAX_SIZE		(256 * 1024)
#define TEMPLATE_DEF_MAX_DEPTH		32
#define TEMPLATE_DEF_MAX_PARTIAL_DEPTH	16
#define TEMPLATE_DEF_MAX_OUTPUT		(4 * 1024 * 1024)
#define TEMPLATE_DEF_MAX_STEPS		(4UL * 1024 * 1024)

void	template_limits_set(const TEMPLATE_LIMITS *lim);
void	template_limits_get(TEMPLATE_LIMITS *lim);

/* The bounds from the template_*_limit settings (tmplfile.c). */
struct CONFIG;
void	template_limits_config(const struct CONFIG *cf);

/* Compile; NULL with *err (caller frees) set to "name:line: message". */
TEMPLATE *template_compile(const char *name, const char *src, size_t len, char **err);

/* The same, for a template that starts at line first_line of file name. */
TEMPLATE *template_compile_at(const char *name, int first_line,
			              const char *src, size_t len, char **err);

/*
 * Render, appending to out. html_escape: 1 escapes {{name}} values for
 * HTML (& < > " '), 0 leaves them as they are (text parts and header
 * values). Returns TEMPLATE_OK, or TEMPLATE_ERROR with *err (caller frees)
 * set; out then holds a partial result that the caller discards.
 */
int	template_render(const TEMPLATE *t, json_t *context,
			        TEMPLATE_PARTIAL_FN partial, void *pctx,
			        int html_escape, STRBUF *out, char **err);

void	template_free(TEMPLATE *t);

/* Does the template contain any tag at all (or is it literal text)? */
int	template_has_tags(const TEMPLATE *t);

/* Call fn for each partial the template names (not following partials),
 * with the line of the tag. */
typedef void (*TEMPLATE_PARTIAL_VISIT) (const char *name, int line, void *ctx);
void	template_partials(const TEMPLATE *t, TEMPLATE_PARTIAL_VISIT fn, void *ctx);

/* Append str to out with HTML escaping (the escaping of {{name}}). */
void	template_html_escape(STRBUF *out, const char *str, size_t len);

/*
 * Template files (tmplfile.c): a header block (From:, Reply-To:, Subject:,
 * Preheader:), a blank line, the text body, and optionally a line
 * "--- html ---" followed by the HTML body. See postdrip-template(5).
 */
struct TMPLFILE_PART;

typedef struct TMPLFILE {
	char   *path;
	TEMPLATE *from;			/* may be null */
	TEMPLATE *reply_to;		/* may be null */
	TEMPLATE *subject;
	TEMPLATE *preheader;		/* may be null */
	TEMPLATE *text;
	TEMPLATE *html;			/* may be null */
	/* The partials the file uses, read when it was loaded. */
	struct TMPLFILE_PART *parts;
	int	nparts;
} TMPLFILE;

#define TMPLFILE_SUFFIX		".tmpl"
#define TMPLFILE_HTML_SEP	"--- html ---"
#define TMPLFILE_PARTIAL_DIR	"partials"

/* Load and compile; NULL with "file:line: message" lines appended to errs. */
TMPLFILE *tmplfile_load(const char *path, STRBUF *errs);

/* The same from text; path names it in errors and locates its partials. */
TMPLFILE *tmplfile_parse_text(const char *path, const char *text, size_t len,
			              STRBUF *errs);
void	tmplfile_free(TMPLFILE *tf);

/*
 * Check a template file as "postdrip check" does: appends one
 * "file:line: message" line per problem and returns the number of problems.
 * Partials named by the file must exist in the partials directory beside it.
 */
int	template_file_check(const char *path, STRBUF *errs);

/* Check every *.tmpl file (and the partials) in a directory. */
int	template_dir_check(const char *dir, STRBUF *errs);

/* Is name a safe template or partial name ([A-Za-z0-9_.-], no leading dot)? */
int	tmplfile_name_ok(const char *name);

/* The source of a partial for the text (html = 0) or HTML part: dir/partials/
 * NAME.txt, or NAME.html for HTML (falling back to NAME.txt). NULL when
 * missing or invalid; free() the result. */
char   *tmplfile_partial(const char *dir, const char *name, int html, size_t *len);

/* The same from the partials read with tf (which has them all unless it
 * names more than TMPLFILE_PARTS_MAX), else from dir. */
#define TMPLFILE_PARTS_MAX	64
char   *tmplfile_partial_get(const TMPLFILE *tf, const char *dir, const char *name,
			             int html);

#endif

/*++
/* NAME
/*	tmplfile 3
/* SUMMARY
/*	message template files
/* SYNOPSIS
/*	#include "message/template.h"
/*
/*	TMPLFILE *tmplfile_load(path, errs)
/*
/*	TMPLFILE *tmplfile_parse_text(path, text, len, errs)
/*
/*	void	tmplfile_free(tf)
/*
/*	int	template_file_check(path, errs)
/*
/*	int	template_dir_check(dir, errs)
/*
/*	char	*tmplfile_partial(dir, name, html, len)
/*
/*	void	template_limits_config(cf)
/* DESCRIPTION
/*	A message template is one file, NAME.tmpl, that a marketer edits by
/*	hand (postdrip-template(5)):
/*
/* .nf
/*	# comment lines are allowed among the headers
/*	From: {{owner.name|Acme}} <{{owner.email|hello@example.com}}>
/*	Reply-To: {{owner.email}}
/*	Subject: Welcome, {{contact.first_name|there}}!
/*	Preheader: the line that mail clients show after the subject
/*
/*	The text body, in Mustache.
/*	--- html ---
/*	<p>The optional HTML body, in Mustache.</p>
/* .fi
/*
/*	Header names are case-insensitive; a line that starts with white
/*	space continues the header above it. Subject is required; From falls
/*	back to the sender the engine is configured with. The text body is
/*	required (every message carries a plain-text alternative); the
/*	HTML body is optional.
/*
/*	Partials ({{> name}}) are files in the partials directory beside the
/*	template: partials/NAME.txt for the text part and the headers,
/*	partials/NAME.html for the HTML part (NAME.txt when there is no
/*	NAME.html).
/*
/*	tmplfile_load() reads and compiles a file; tmplfile_parse_text()
/*	does the same with text from elsewhere, path naming it in errors
/*	and locating its partials. template_file_check()
/*	does the same and also checks the partials the file names;
/*	template_dir_check() checks every template and partial of a
/*	directory.
/*
/*	template_limits_config() sets the renderer's bounds from the
/*	template_size_limit, template_depth_limit,
/*	template_partial_depth_limit and template_output_limit settings;
/*	programs call it once at start.
/* BOUNDS
/*	A file larger than the template size limit is refused before it is
/*	read whole.
/* DIAGNOSTICS
/*	Problems are appended to errs as "file:line: message" lines; the
/*	functions never log.
/*--*/

#include "pdconfig.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config/config.h"
#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/strbuf.h"
#include "message/template.h"

/* template_limits_config - bounds from the configuration */

void
template_limits_config(const CONFIG *cf)
{
	TEMPLATE_LIMITS lim;

	template_limits_get(&lim);
	lim.max_size = config_int(cf, "template_size_limit");
	lim.max_depth = config_int(cf, "template_depth_limit");
	lim.max_partial_depth = config_int(cf, "template_partial_depth_limit");
	lim.max_output = config_int(cf, "template_output_limit");
	template_limits_set(&lim);
}

/* tmplfile_name_ok - a template or partial name that cannot leave its directory */

int
tmplfile_name_ok(const char *name)
{
	const char *p;

	if (name == 0 || *name == 0 || *name == '.' || strlen(name) > 128)
		return (0);
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
		      || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return (0);
	return (1);
}

/* tmplfile_normalize - drop a byte-order mark and CRs before LF; new length */

static size_t
tmplfile_normalize(char *buf, size_t n)
{
	char   *r = buf;
	char   *w;

	/*
	 * Files saved by Windows editors: no byte-order mark, and CRLF line
	 * ends become LF (the message gets its line ends from the composer).
	 * Line numbers do not change.
	 */
	if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		r += 3;
	for (w = buf; r < buf + n; r++)
		if (!(r[0] == '\r' && r + 1 < buf + n && r[1] == '\n'))
			*w++ = *r;
	*w = 0;
	return (w - buf);
}

/* tmplfile_read - read a whole file, bounded; NULL with errno */

static char *
tmplfile_read(const char *path, size_t max, size_t *len, int *too_big)
{
	struct stat st;
	FILE   *fp;
	char   *buf;
	size_t	size;
	size_t	n;
	int	failed;

	*too_big = 0;
	if ((fp = fopen(path, "r")) == 0)
		return (0);
	if (fstat(fileno(fp), &st) < 0) {
		fclose(fp);
		return (0);
	}
	if (st.st_size < 0 || (size_t) st.st_size > max) {
		fclose(fp);
		*too_big = 1;
		errno = EFBIG;
		return (0);
	}
	/* One byte more than the size, to notice a file that grew meanwhile. */
	size = st.st_size;
	buf = mymalloc(size + 2);
	n = fread(buf, 1, size + 1, fp);
	failed = ferror(fp);
	fclose(fp);
	if (failed || n > size) {
		myfree(buf);
		errno = failed ? EIO : EAGAIN;
		return (0);
	}
	buf[n] = 0;
	*len = tmplfile_normalize(buf, n);
	return (buf);
}

/* tmplfile_read_errs - tmplfile_read() under the template size limit, a
 * failure said in errs as "PATH:1: why" */

static char *
tmplfile_read_errs(const char *path, size_t *len, STRBUF *errs)
{
	TEMPLATE_LIMITS lim;
	char   *buf;
	int	too_big;

	template_limits_get(&lim);
	if ((buf = tmplfile_read(path, lim.max_size, len, &too_big)) == 0) {
		if (too_big)
			strbuf_printf(errs, "%s:1: larger than the template size limit (%zu bytes)\n",
				      path, lim.max_size);
		else
			strbuf_printf(errs, "%s:1: cannot read: %s\n", path, strerror(errno));
	}
	return (buf);
}

/* utf8_bad - offset of the first byte that is not valid UTF-8 (or NUL), or -1 */

static long
utf8_bad(const unsigned char *s, size_t len)
{
	size_t	i = 0;
	size_t	k;
	size_t	need;
	unsigned long cp;

	while (i < len) {
		if (s[i] == 0)
			return (i);
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			need = 1, cp = s[i] & 0x1f;
		else if ((s[i] & 0xf0) == 0xe0)
			need = 2, cp = s[i] & 0x0f;
		else if ((s[i] & 0xf8) == 0xf0)
			need = 3, cp = s[i] & 0x07;
		else
			return (i);
		if (need >= len - i)
			return (i);
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return (i);
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and values past U+10FFFF. */
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800)
		    || (need == 3 && cp < 0x10000) || cp > 0x10ffff
		    || (cp >= 0xd800 && cp <= 0xdfff))
			return (i);
		i += need + 1;
	}
	return (-1);
}

/* line_of - line number of offset off */

static int
line_of(const char *buf, size_t off)
{
	int	line = 1;
	const char *p;

	for (p = buf; (p = memchr(p, '\n', buf + off - p)) != 0; p++)
		line++;
	return (line);
}

 /*
  * The headers a template may set. Anything else is refused: a typo in a
  * header name must not silently drop the header.
  */
static const char *const tmplfile_headers[] = {
	"From", "Reply-To", "Subject", "Preheader", 0,
};

/* tmplfile_is_sep - is [p, e) the line that starts the HTML body */

static int
tmplfile_is_sep(const char *p, const char *e)
{
	size_t	n = strlen(TMPLFILE_HTML_SEP);

	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	return ((size_t) (e - p) == n && strncasecmp(p, TMPLFILE_HTML_SEP, n) == 0);
}

/* tmplfile_parse - split and compile; returns the number of problems */

static int
tmplfile_parse(TMPLFILE *tf, const char *buf, size_t len, STRBUF *errs)
{
	const char *end = buf + len;
	const char *p = buf;
	const char *e;
	const char *nl;
	const char *colon;
	STRBUF	val[4];
	int	val_line[4];
	int	seen[4];
	TEMPLATE **slot[4];
	int	cur = -1;
	int	line = 1;
	int	errors = 0;
	int	got_blank = 0;
	int	i;
	const char *body;
	int	body_line;
	const char *html = 0;
	int	html_line = 0;
	size_t	text_len;
	char   *err;
	const char *s;

	slot[0] = &tf->from;
	slot[1] = &tf->reply_to;
	slot[2] = &tf->subject;
	slot[3] = &tf->preheader;
	for (i = 0; i < 4; i++) {
		memset(&val[i], 0, sizeof(val[i]));
		seen[i] = 0;
		val_line[i] = 0;
	}

	/* Header block. */
	for (; p < end; p = nl, line++) {
		nl = memchr(p, '\n', end - p);
		nl = nl ? nl + 1 : end;
		e = nl;
		while (e > p && (e[-1] == '\n' || e[-1] == '\r'))
			e--;
		for (s = p; s < e && (*s == ' ' || *s == '\t'); s++)
			 /* void */ ;
		if (s == e) {
			got_blank = 1;
			p = nl;
			line++;
			break;
		}
		if (*p == '#')
			continue;
		if (s > p) {
			if (cur < 0) {
				strbuf_printf(errs, "%s:%d: continuation line without a header above it\n",
					      tf->path, line);
				errors++;
				continue;
			}
			strbuf_putc(&val[cur], ' ');
			strbuf_append(&val[cur], s, e - s);
			continue;
		}
		colon = memchr(p, ':', e - p);
		if (colon == 0 || colon == p) {
			strbuf_printf(errs, "%s:%d: expected \"Name: value\" or a blank line "
				      "before the body\n", tf->path, line);
			errors++;
			cur = -1;
			continue;
		}
		for (cur = 0; tmplfile_headers[cur]; cur++)
			if (strlen(tmplfile_headers[cur]) == (size_t) (colon - p)
			    && strncasecmp(tmplfile_headers[cur], p, colon - p) == 0)
				break;
		if (tmplfile_headers[cur] == 0) {
			strbuf_printf(errs, "%s:%d: unknown header \"%.*s\" (a template sets "
				      "From, Reply-To, Subject and Preheader)\n",
				      tf->path, line, (int) (colon - p > 60 ? 60 : colon - p), p);
			errors++;
			cur = -1;
			continue;
		}
		if (seen[cur]) {
			strbuf_printf(errs, "%s:%d: %s: given twice (first at line %d)\n",
				      tf->path, line, tmplfile_headers[cur], val_line[cur]);
			errors++;
			cur = -1;
			continue;
		}
		seen[cur] = 1;
		val_line[cur] = line;
		for (s = colon + 1; s < e && (*s == ' ' || *s == '\t'); s++)
			 /* void */ ;
		strbuf_append(&val[cur], s, e - s);
		strbuf_puts(&val[cur], "");
	}
	if (!got_blank) {
		strbuf_printf(errs, "%s:%d: no blank line between the headers and the body\n",
			      tf->path, line > 1 ? line - 1 : 1);
		errors++;
	}
	if (!seen[2]) {
		strbuf_printf(errs, "%s:1: no Subject: header\n", tf->path);
		errors++;
	}
	for (i = 0; i < 4; i++) {
		if (seen[i]) {
			err = 0;
			*slot[i] = template_compile_at(tf->path, val_line[i], strbuf_str(&val[i]),
						       strbuf_len(&val[i]), &err);
			if (*slot[i] == 0) {
				strbuf_printf(errs, "%s\n", err);
				myfree(err);
				errors++;
			}
		}
		strbuf_free(&val[i]);
	}

	/* Bodies: the text up to the separator line, then the HTML. */
	body = p;
	body_line = line;
	for (; p < end; p = nl, line++) {
		nl = memchr(p, '\n', end - p);
		nl = nl ? nl + 1 : end;
		if (tmplfile_is_sep(p, nl[-1] == '\n' ? nl - 1 : nl)) {
			html = nl;
			html_line = line + 1;
			break;
		}
	}
	text_len = (html ? p : end) - body;
	for (s = body; s < body + text_len && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'); s++)
		 /* void */ ;
	if (got_blank && s == body + text_len) {
		strbuf_printf(errs, "%s:%d: the text body is empty\n", tf->path, body_line);
		errors++;
	}
	err = 0;
	if ((tf->text = template_compile_at(tf->path, body_line, body, text_len, &err)) == 0) {
		strbuf_printf(errs, "%s\n", err);
		myfree(err);
		errors++;
	}
	if (html) {
		err = 0;
		if ((tf->html = template_compile_at(tf->path, html_line, html, end - html, &err)) == 0) {
			strbuf_printf(errs, "%s\n", err);
			myfree(err);
			errors++;
		}
	}
	return (errors);
}

/* tmplfile_dir - the directory part of a path */

static char *
tmplfile_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	return (slash ? mystrndup(path, slash - path) : mystrdup("."));
}

 /*
  * Partials are read once, when the template is loaded, so that a template
  * kept loaded by the engine renders without touching the disk. Partials
  * named by partials are followed; a partial that names itself is read
  * once.
  */
struct TMPLFILE_PART {
	char   *name;
	int	html;
	char   *src;			/* null: there is no such partial */
};

typedef struct TMPLFILE_PRELOAD {
	TMPLFILE *tf;
	const char *dir;
	int	html;
} TMPLFILE_PRELOAD;

/* tmplfile_part_find - a partial already read, or null */

static struct TMPLFILE_PART *
tmplfile_part_find(const TMPLFILE *tf, const char *name, int html)
{
	int	i;

	for (i = 0; i < tf->nparts; i++)
		if (tf->parts[i].html == html && strcmp(tf->parts[i].name, name) == 0)
			return (&tf->parts[i]);
	return (0);
}

/* tmplfile_preload_visit - read one partial and those it names */

static void
tmplfile_preload_visit(const char *name, int line, void *ctx)
{
	TMPLFILE_PRELOAD *pl = ctx;
	TMPLFILE *tf = pl->tf;
	struct TMPLFILE_PART *part;
	TEMPLATE *t;
	char   *err = 0;

	if (tf->nparts >= TMPLFILE_PARTS_MAX || tmplfile_part_find(tf, name, pl->html))
		return;
	if (tf->parts == 0)
		tf->parts = mycalloc(TMPLFILE_PARTS_MAX, sizeof(*tf->parts));
	part = &tf->parts[tf->nparts++];
	part->name = mystrdup(name);
	part->html = pl->html;
	part->src = tmplfile_partial(pl->dir, name, pl->html, 0);
	if (part->src && (t = template_compile(name, part->src, strlen(part->src), &err)) != 0) {
		template_partials(t, tmplfile_preload_visit, ctx);
		template_free(t);
	} else if (err) {
		/* Reported when it is rendered, with the line that includes it. */
		myfree(err);
	}
}

/* tmplfile_preload - read every partial the file uses */

static void
tmplfile_preload(TMPLFILE *tf)
{
	TEMPLATE *text_parts[5];
	TMPLFILE_PRELOAD pl;
	char   *dir = tmplfile_dir(tf->path);
	int	i;

	text_parts[0] = tf->from;
	text_parts[1] = tf->reply_to;
	text_parts[2] = tf->subject;
	text_parts[3] = tf->preheader;
	text_parts[4] = tf->text;
	pl.tf = tf;
	pl.dir = dir;
	pl.html = 0;
	for (i = 0; i < 5; i++)
		if (text_parts[i])
			template_partials(text_parts[i], tmplfile_preload_visit, &pl);
	if (tf->html) {
		pl.html = 1;
		template_partials(tf->html, tmplfile_preload_visit, &pl);
	}
	myfree(dir);
}

/* tmplfile_partial_get - a partial of a loaded template */

char   *
tmplfile_partial_get(const TMPLFILE *tf, const char *dir, const char *name, int html)
{
	struct TMPLFILE_PART *part;

	if (tf && (part = tmplfile_part_find(tf, name, html)) != 0)
		return (part->src ? mystrdup(part->src) : 0);
	return (tmplfile_partial(dir, name, html, 0));
}

/* tmplfile_from_buf - check and compile text (buf is consumed) */

static TMPLFILE *
tmplfile_from_buf(const char *path, char *buf, size_t len, STRBUF *errs, int *errors)
{
	TMPLFILE *tf;
	long	bad;

	if ((bad = utf8_bad((unsigned char *) buf, len)) >= 0) {
		strbuf_printf(errs, "%s:%d: %s\n", path, line_of(buf, bad),
			      buf[bad] ? "not valid UTF-8" : "contains a NUL byte");
		myfree(buf);
		*errors = 1;
		return (0);
	}
	tf = mycalloc(1, sizeof(*tf));
	tf->path = mystrdup(path);
	*errors = tmplfile_parse(tf, buf, len, errs);
	myfree(buf);
	if (*errors) {
		tmplfile_free(tf);
		return (0);
	}
	tmplfile_preload(tf);
	return (tf);
}

/* tmplfile_load_errors - load, counting problems */

static TMPLFILE *
tmplfile_load_errors(const char *path, STRBUF *errs, int *errors)
{
	char   *buf;
	size_t	len;

	*errors = 0;
	if ((buf = tmplfile_read_errs(path, &len, errs)) == 0) {
		*errors = 1;
		return (0);
	}
	return (tmplfile_from_buf(path, buf, len, errs, errors));
}

/* tmplfile_parse_text - a template file's text from elsewhere than a file */

TMPLFILE *
tmplfile_parse_text(const char *path, const char *text, size_t len, STRBUF *errs)
{
	TEMPLATE_LIMITS lim;
	char   *buf;
	int	errors;

	template_limits_get(&lim);
	if (len > lim.max_size) {
		strbuf_printf(errs, "%s:1: larger than the template size limit (%zu bytes)\n",
			      path, lim.max_size);
		return (0);
	}
	buf = mymalloc(len + 1);
	memcpy(buf, text, len);
	buf[len] = 0;
	len = tmplfile_normalize(buf, len);
	return (tmplfile_from_buf(path, buf, len, errs, &errors));
}

/* tmplfile_load - read and compile a template file */

TMPLFILE *
tmplfile_load(const char *path, STRBUF *errs)
{
	int	errors;

	return (tmplfile_load_errors(path, errs, &errors));
}

/* tmplfile_free - destroy */

void
tmplfile_free(TMPLFILE *tf)
{
	int	i;

	if (tf == 0)
		return;
	template_free(tf->from);
	template_free(tf->reply_to);
	template_free(tf->subject);
	template_free(tf->preheader);
	template_free(tf->text);
	template_free(tf->html);
	for (i = 0; i < tf->nparts; i++) {
		myfree(tf->parts[i].name);
		if (tf->parts[i].src)
			myfree(tf->parts[i].src);
	}
	if (tf->parts)
		myfree(tf->parts);
	myfree(tf->path);
	myfree(tf);
}

/* tmplfile_partial_path - dir/partials/NAME.ext */

static char *
tmplfile_partial_path(const char *dir, const char *name, const char *ext)
{
	return (myasprintf("%s/%s/%s%s", dir, TMPLFILE_PARTIAL_DIR, name, ext));
}

/* tmplfile_partial - the source of a partial for the text or HTML part */

char   *
tmplfile_partial(const char *dir, const char *name, int html, size_t *lenp)
{
	TEMPLATE_LIMITS lim;
	char   *path;
	char   *buf = 0;
	size_t	len = 0;
	int	too_big;

	if (!tmplfile_name_ok(name))
		return (0);
	template_limits_get(&lim);
	if (html) {
		path = tmplfile_partial_path(dir, name, ".html");
		buf = tmplfile_read(path, lim.max_size, &len, &too_big);
		myfree(path);
	}
	if (buf == 0) {
		path = tmplfile_partial_path(dir, name, ".txt");
		buf = tmplfile_read(path, lim.max_size, &len, &too_big);
		myfree(path);
	}
	if (buf && memchr(buf, 0, len) != 0) {
		myfree(buf);
		return (0);
	}
	if (buf && lenp)
		*lenp = len;
	return (buf);
}

 /*
  * Checking the partials a file names: each must exist, for the text part
  * as NAME.txt, for the HTML part as NAME.html or NAME.txt.
  */
typedef struct TCHECK {
	const char *path;		/* the template file */
	char   *dir;			/* its directory */
	int	html;
	STRBUF *errs;
	int	errors;
} TCHECK;

/* tcheck_partial - one partial named at a line */

static void
tcheck_partial(const char *name, int line, void *ctx)
{
	TCHECK *tc = ctx;
	char   *src;

	if (!tmplfile_name_ok(name)) {
		strbuf_printf(tc->errs, "%s:%d: bad partial name \"%s\" (letters, digits, "
			      "'.', '_' and '-' only)\n", tc->path, line, name);
		tc->errors++;
		return;
	}
	if ((src = tmplfile_partial(tc->dir, name, tc->html, 0)) == 0) {
		strbuf_printf(tc->errs, "%s:%d: partial \"%s\" not found (%s/%s/%s%s)\n",
			      tc->path, line, name, tc->dir, TMPLFILE_PARTIAL_DIR, name,
			      tc->html ? ".html or .txt" : ".txt");
		tc->errors++;
		return;
	}
	myfree(src);
}

/* template_file_check - check one template file */

int
template_file_check(const char *path, STRBUF *errs)
{
	TMPLFILE *tf;
	TCHECK	tc;
	int	errors;

	if ((tf = tmplfile_load_errors(path, errs, &errors)) == 0)
		return (errors ? errors : 1);
	tc.path = path;
	tc.dir = tmplfile_dir(path);
	tc.errs = errs;
	tc.errors = 0;
	tc.html = 0;
	if (tf->from)
		template_partials(tf->from, tcheck_partial, &tc);
	if (tf->reply_to)
		template_partials(tf->reply_to, tcheck_partial, &tc);
	template_partials(tf->subject, tcheck_partial, &tc);
	if (tf->preheader)
		template_partials(tf->preheader, tcheck_partial, &tc);
	template_partials(tf->text, tcheck_partial, &tc);
	if (tf->html) {
		tc.html = 1;
		template_partials(tf->html, tcheck_partial, &tc);
	}
	myfree(tc.dir);
	tmplfile_free(tf);
	return (tc.errors);
}

/* has_suffix - does name end in suffix */

static int
has_suffix(const char *name, const char *suffix)
{
	size_t	n = strlen(name);
	size_t	s = strlen(suffix);

	return (n > s && strcmp(name + n - s, suffix) == 0);
}

/* name_cmp - qsort comparison of names */

static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *) a, *(char *const *) b));
}

/* tmplfile_list - sorted names in dir ending in one of the suffixes */

static char **
tmplfile_list(const char *dir, const char *const *suffixes, int *count)
{
	DIR    *dp;
	struct dirent *de;
	char  **names = 0;
	int	n = 0;
	int	cap = 0;
	int	i;

	*count = 0;
	if ((dp = opendir(dir)) == 0)
		return (0);
	while ((de = readdir(dp)) != 0) {
		if (de->d_name[0] == '.')
			continue;
		for (i = 0; suffixes[i]; i++)
			if (has_suffix(de->d_name, suffixes[i]))
				break;
		if (suffixes[i] == 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			names = myrealloc(names, cap * sizeof(*names));
		}
		names[n++] = mystrdup(de->d_name);
	}
	closedir(dp);
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);
	*count = n;
	return (names);
}

/* tmplfile_check_partial_file - compile one partial file */

static int
tmplfile_check_partial_file(const char *path, STRBUF *errs)
{
	TEMPLATE *t;
	char   *buf;
	char   *err = 0;
	size_t	len;
	long	bad;

	if ((buf = tmplfile_read_errs(path, &len, errs)) == 0)
		return (1);
	if ((bad = utf8_bad((unsigned char *) buf, len)) >= 0) {
		strbuf_printf(errs, "%s:%d: %s\n", path, line_of(buf, bad),
			      buf[bad] ? "not valid UTF-8" : "contains a NUL byte");
		myfree(buf);
		return (1);
	}
	t = template_compile(path, buf, len, &err);
	myfree(buf);
	if (t == 0) {
		strbuf_printf(errs, "%s\n", err);
		myfree(err);
		return (1);
	}
	template_free(t);
	return (0);
}

/* template_dir_check - check every template and partial in a directory */

int
template_dir_check(const char *dir, STRBUF *errs)
{
	static const char *const tmpl_suffix[] = {TMPLFILE_SUFFIX, 0};
	static const char *const part_suffix[] = {".txt", ".html", 0};
	char  **names;
	char   *path;
	char   *pdir;
	int	count;
	int	errors = 0;
	int	i;
	struct stat st;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		strbuf_printf(errs, "%s:1: not a directory of templates\n", dir);
		return (1);
	}
	names = tmplfile_list(dir, tmpl_suffix, &count);
	for (i = 0; i < count; i++) {
		path = myasprintf("%s/%s", dir, names[i]);
		errors += template_file_check(path, errs);
		myfree(path);
		myfree(names[i]);
	}
	if (names)
		myfree(names);
	pdir = myasprintf("%s/%s", dir, TMPLFILE_PARTIAL_DIR);
	names = tmplfile_list(pdir, part_suffix, &count);
	for (i = 0; i < count; i++) {
		path = myasprintf("%s/%s", pdir, names[i]);
		errors += tmplfile_check_partial_file(path, errs);
		myfree(path);
		myfree(names[i]);
	}
	if (names)
		myfree(names);
	myfree(pdir);
	return (errors);
}

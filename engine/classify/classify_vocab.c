/*++
/* NAME
/*	classify_vocab 3
/* SUMMARY
/*	the phrase vocabulary of delivery-failure reasons
/* SYNOPSIS
/*	#include "classify/classify.h"
/*
/*	int	classify_reasons_load(path, optional, errs)
/*	const char *path;
/*	int	optional;
/*	STRBUF	*errs;
/*
/*	int	classify_reasons_check(path, errs)
/*	const char *path;
/*	STRBUF	*errs;
/*
/*	int	classify_reasons_config(cf, err)
/*	const CONFIG *cf;
/*	char	**err;
/*
/*	#include "classify/classify_int.h"
/*
/*	const CLASSIFY_PHRASE *classify_vocab_match(text)
/*	const char *text;
/* DESCRIPTION
/*	The words remote servers use to say why they refused a message
/*	are data, not code: a table file (conf/bounce-reasons, installed
/*	as $config_directory/bounce-reasons; setting bounce_reasons_file)
/*	with one entry a line:
/*
/*	reason	tags	phrase
/*
/*	reason is a reason name (userunknown, mailboxfull, ...); tags a
/*	comma-separated list of the formats (MTAs, providers) whose
/*	wording the phrase is, or "generic" for wording many use; phrase
/*	the rest of the line, matched case-blind (ASCII case; other bytes
/*	as they are) as whole words of a diagnostic text folded to one
/*	line: a phrase that starts or ends with a letter or digit starts or
/*	ends a word of the text there, and its last word also stands for
/*	its plural in "s". Blank lines and lines starting with "#" are ignored. Entries
/*	are tried in file order and the first whose phrase occurs decides:
/*	a phrase that fits two reasons goes under the more specific one,
/*	earlier in the file.
/*
/*	A phrase may stand for a family of wordings: "{a|b|c}" is any one
/*	of the alternatives (the entry is expanded at load into one phrase
/*	per choice, all with the entry's line number), and "A * B" is A,
/*	then B starting at most 64 bytes after A ends. The reply codes that
/*	open the lines of a multi-line reply ("550-5.7.1 ") are left out of
/*	the text matched.
/*
/*	classify_reasons_load() reads the file at path and makes it the
/*	vocabulary that classify_message() uses from then on. When the file
/*	does not exist and optional is set, the copy of conf/bounce-reasons
/*	compiled into the library is used instead (a build-tree or
/*	not-yet-installed system). It returns 0, or -1 with
/*	"path:line: message" lines appended to errs; the vocabulary in use
/*	is then unchanged.
/*
/*	classify_reasons_check() only reads and checks the file.
/*
/*	classify_reasons_config() is what a program calls at start and on
/*	reload: it loads the file named by bounce_reasons_file in cf; only
/*	the default may be missing (the compiled-in copy then serves). It
/*	returns 0, or -1 with *err a message that the caller frees; the
/*	vocabulary in use is then unchanged.
/*
/*	classify_vocab_match() returns the first entry whose phrase occurs
/*	in text, or null. Without a loaded vocabulary the compiled-in copy
/*	is used.
/* DIAGNOSTICS
/*	File errors: an unknown reason, a bad tag, a phrase too short or
/*	too long, a bad "{...}" or " * ", a line too long, a file that
/*	cannot be read.
/* BUGS
/*	A vocabulary replaced by a later load is not freed (it stays linked
/*	from the new one): a thread may still be reading it, and loads
/*	happen at start and on reload only.
/*--*/
#include "pdconfig.h"

#include <pthread.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <stdio.h>

#include "util/mymalloc.h"
#include "util/msg.h"
#include "util/strbuf.h"
#include "classify/classify.h"
#include "classify/classify_int.h"

#define VOCAB_MAX_LINE		1024	/* bytes in one line */
#define VOCAB_MAX_PHRASE	200	/* bytes in one phrase */
#define VOCAB_MAX_ENTRIES	10000	/* entries in one file */
#define VOCAB_MAX_TEXT		4096	/* bytes of a text examined */
#define VOCAB_MAX_GROUPS	4	/* "{a|b}" groups in one phrase */
#define VOCAB_MAX_EXPAND	256	/* phrases one pattern stands for */
#define VOCAB_MAX_GAP		64	/* bytes " * " stands for, at most */
#define VOCAB_GAP		'\001'	/* " * " in a stored phrase */

typedef struct CLASSIFY_VOCAB {
	CLASSIFY_PHRASE *ent;
	size_t	nent;
	unsigned char first[65536 / 8];	/* first three bytes of phrases, hashed */
	struct CLASSIFY_VOCAB *older;		/* the one this replaced */
} CLASSIFY_VOCAB;

 /*
  * The reason names a phrase may give: Sisimai's vocabulary, which mail
  * administrators and the other bounce tools share.
  */
static const char *const reason_names[] = {
	"authfailure", "badreputation", "blocked", "contenterror",
	"exceedlimit", "expired", "filtered", "hasmoved", "hostunknown",
	"mailboxfull", "mailererror", "mesgtoobig", "networkerror",
	"norelaying", "notaccept", "notcompliantrfc", "onhold",
	"policyviolation", "rejected", "requireptr", "securityerror",
	"spamdetected", "speeding", "suspend", "syntaxerror", "systemerror",
	"systemfull", "toomanyconn", "userunknown", "virusdetected",
	0,
};

extern const char classify_vocab_builtin[];

static CLASSIFY_VOCAB *vocab_current;
static pthread_once_t vocab_once = PTHREAD_ONCE_INIT;

/* known_reason - the interned name, or null */

static const char *
known_reason(const char *name)
{
	const char *const *cpp;

	for (cpp = reason_names; *cpp; cpp++)
		if (strcmp(*cpp, name) == 0)
			return (*cpp);
	return (0);
}

/* tags_ok - comma-separated [a-z0-9-] names */

static int
tags_ok(const char *tags)
{
	const char *cp;
	int	len = 0;

	for (cp = tags; *cp; cp++) {
		if (*cp == ',') {
			if (len == 0)
				return (0);
			len = 0;
		} else if (islower((unsigned char) *cp) || isdigit((unsigned char) *cp)
			   || *cp == '-') {
			len++;
		} else {
			return (0);
		}
	}
	return (len > 0);
}

/* pair_bit - the bit of a two-byte sequence */

#define PAIR(a, b)	(((unsigned) (unsigned char) (a) << 8) | (unsigned char) (b))
#define TRI(a, b, c)	((PAIR(a, b) * 31 + (unsigned char) (c)) & 0xffff)
#define PAIR_SET(set, p) ((set)[(p) >> 3] |= 1 << ((p) & 7))
#define PAIR_HAS(set, p) ((set)[(p) >> 3] & (1 << ((p) & 7)))

/* vocab_free - release a vocabulary */

static void
vocab_free(CLASSIFY_VOCAB *v)
{
	size_t	i;

	for (i = 0; i < v->nent; i++) {
		myfree(v->ent[i].phrase);
		myfree(v->ent[i].tags);
	}
	if (v->ent)
		myfree(v->ent);
	myfree(v);
}

/* vocab_pattern_ok - null, or what is wrong with a phrase's pattern */

static const char *
vocab_pattern_ok(const char *phrase)
{
	const char *cp;
	long	product = 1;
	int	alts = 0;
	int	groups = 0;
	int	in_group = 0;

	for (cp = phrase; *cp; cp++) {
		if (*cp == '{') {
			if (in_group)
				return ("\"{\" inside \"{...}\"");
			in_group = 1;
			alts = 1;
			if (++groups > VOCAB_MAX_GROUPS)
				return ("too many \"{...}\" groups");
		} else if (*cp == '|' && in_group) {
			if (cp[-1] == '{' || cp[-1] == '|' || cp[1] == '}' || cp[1] == '|')
				return ("empty alternative in \"{...}\"");
			alts++;
		} else if (*cp == '}') {
			if (!in_group || cp[-1] == '{')
				return ("unbalanced or empty \"{...}\"");
			in_group = 0;
			product *= alts;
			if (product > VOCAB_MAX_EXPAND)
				return ("pattern expands to too many phrases");
		} else if (*cp == '*') {
			if (in_group || cp == phrase || cp[-1] != ' ' || cp[1] != ' '
			    || cp[2] == 0)
				return ("\" * \" must stand between two parts");
		}
	}
	if (in_group)
		return ("unbalanced \"{...}\"");
	return (0);
}

/* vocab_add - one concrete phrase */

static int
vocab_add(CLASSIFY_VOCAB *v, size_t *cap, const char *rname, const char *tags,
	          int lineno, const char *phrase)
{
	CLASSIFY_PHRASE *e;
	char   *cp;
	size_t	o;

	if (strlen(phrase) > VOCAB_MAX_PHRASE)
		return (-3);
	if (v->nent >= VOCAB_MAX_ENTRIES)
		return (-1);
	if (v->nent == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		v->ent = myrealloc(v->ent, *cap * sizeof(*v->ent));
	}
	e = v->ent + v->nent++;
	e->reason = rname;
	e->tags = mystrdup(tags);
	e->phrase = mystrdup(phrase);
	/* " * " becomes one GAP byte between the parts. */
	e->gaps = 0;
	while ((cp = strstr(e->phrase, " * ")) != 0) {
		*cp = VOCAB_GAP;
		memmove(cp + 1, cp + 3, strlen(cp + 3) + 1);
		e->gaps++;
	}
	for (cp = e->phrase; /* void */ ; cp += o + 1) {
		o = strcspn(cp, "\001");
		if (o < 3) {
			myfree(e->phrase);
			myfree(e->tags);
			v->nent--;
			return (-2);
		}
		if (cp[o] == 0)
			break;
	}
	o = strlen(e->phrase);
	e->len = o;
	e->line = lineno;
	e->first = TRI(e->phrase[0], e->phrase[1], e->phrase[2]);
	e->last = TRI(e->phrase[o - 3], e->phrase[o - 2], e->phrase[o - 1]);
	PAIR_SET(v->first, e->first);
	return (0);
}

/* vocab_expand - the phrases of a pattern: each "{a|b}" in turn */

static int
vocab_expand(CLASSIFY_VOCAB *v, size_t *cap, const char *rname,
	             const char *tags, int lineno, const char *rest,
	             const char *sofar)
{
	char	buf[VOCAB_MAX_LINE + 1];
	const char *open = strchr(rest, '{');
	const char *close;
	const char *alt;
	int	ret;

	if (open == 0) {
		snprintf(buf, sizeof(buf), "%s%s", sofar, rest);
		return (vocab_add(v, cap, rname, tags, lineno, buf));
	}
	close = strchr(open, '}');
	for (alt = open + 1; alt < close; alt += strcspn(alt, "|}") + 1) {
		size_t	alen = strcspn(alt, "|}");

		snprintf(buf, sizeof(buf), "%s%.*s%.*s", sofar, (int) (open - rest), rest,
			 (int) alen, alt);
		if ((ret = vocab_expand(v, cap, rname, tags, lineno, close + 1, buf)) < 0)
			return (ret);
	}
	return (0);
}

/* vocab_parse - a vocabulary from the text of a file */

static CLASSIFY_VOCAB *
vocab_parse(const char *name, const char *text, size_t len, STRBUF *errs)
{
	CLASSIFY_VOCAB *v = mycalloc(1, sizeof(*v));
	const char *cp = text;
	const char *end = text + len;
	size_t	cap = 0;
	int	lineno = 0;
	int	nerr = 0;

	while (cp < end) {
		const char *eol = memchr(cp, '\n', end - cp);
		char	line[VOCAB_MAX_LINE + 1];
		char	reason[64], tags[256];
		char   *lp, *field;
		size_t	llen, o;
		const char *rname;
		const char *why;
		int	space;
		int	ret;

		if (eol == 0)
			eol = end;
		llen = eol - cp;
		lineno++;
		if (llen > VOCAB_MAX_LINE) {
			strbuf_printf(errs, "%s:%d: line longer than %d bytes\n",
				      name, lineno, VOCAB_MAX_LINE);
			nerr++;
			cp = eol + 1;
			continue;
		}
		memcpy(line, cp, llen);
		line[llen] = 0;
		cp = eol + 1;
		if (llen && line[llen - 1] == '\r')
			line[--llen] = 0;
		for (lp = line; *lp == ' ' || *lp == '\t'; lp++)
			 /* void */ ;
		if (*lp == 0 || *lp == '#')
			continue;

		/* reason, tags, then the phrase: the rest of the line. */
		field = lp;
		lp += strcspn(lp, " \t");
		if (*lp == 0 || lp - field >= (long) sizeof(reason)) {
			strbuf_printf(errs, "%s:%d: want \"reason tags phrase\"\n",
				      name, lineno);
			nerr++;
			continue;
		}
		memcpy(reason, field, lp - field);
		reason[lp - field] = 0;
		lp += strspn(lp, " \t");
		field = lp;
		lp += strcspn(lp, " \t");
		if (*lp == 0 || lp - field >= (long) sizeof(tags)) {
			strbuf_printf(errs, "%s:%d: want \"reason tags phrase\"\n",
				      name, lineno);
			nerr++;
			continue;
		}
		memcpy(tags, field, lp - field);
		tags[lp - field] = 0;
		lp += strspn(lp, " \t");
		if ((rname = known_reason(reason)) == 0) {
			strbuf_printf(errs, "%s:%d: unknown reason \"%s\"\n",
				      name, lineno, reason);
			nerr++;
			continue;
		}
		if (!tags_ok(tags)) {
			strbuf_printf(errs, "%s:%d: bad tags \"%s\" (want names of"
				      " [a-z0-9-], comma-separated)\n",
				      name, lineno, tags);
			nerr++;
			continue;
		}

		/* The phrase as texts are matched: one line, ASCII lower case. */
		for (o = 0, space = 0; *lp; lp++) {
			if (*lp == ' ' || *lp == '\t') {
				space = 1;
				continue;
			}
			if (space && o > 0)
				line[o++] = ' ';
			space = 0;
			line[o++] = tolower((unsigned char) *lp);
		}
		line[o] = 0;
		if (o < 3) {
			strbuf_printf(errs, "%s:%d: phrase must have 3 to %d bytes\n",
				      name, lineno, VOCAB_MAX_PHRASE);
			nerr++;
			continue;
		}
		if ((why = vocab_pattern_ok(line)) != 0) {
			strbuf_printf(errs, "%s:%d: %s\n", name, lineno, why);
			nerr++;
			continue;
		}
		if ((ret = vocab_expand(v, &cap, rname, tags, lineno, line, "")) == -2) {
			strbuf_printf(errs, "%s:%d: a part of the phrase has fewer"
				      " than 3 bytes\n", name, lineno);
			nerr++;
			continue;
		}
		if (ret == -3) {
			strbuf_printf(errs, "%s:%d: phrase must have 3 to %d bytes\n",
				      name, lineno, VOCAB_MAX_PHRASE);
			nerr++;
			continue;
		}
		if (ret < 0) {
			strbuf_printf(errs, "%s:%d: more than %d entries\n",
				      name, lineno, VOCAB_MAX_ENTRIES);
			nerr++;
			break;
		}
	}
	if (nerr) {
		vocab_free(v);
		return (0);
	}
	return (v);
}

/* vocab_read - a vocabulary from a file; null with errors, or ENOENT */

static CLASSIFY_VOCAB *
vocab_read(const char *path, STRBUF *errs, int *missing)
{
	STRBUF	buf = STRBUF_INIT;
	char	chunk[8192];
	size_t	n;
	FILE   *fp;
	CLASSIFY_VOCAB *v;

	*missing = 0;
	if ((fp = fopen(path, "r")) == 0) {
		*missing = (errno == ENOENT);
		strbuf_printf(errs, "%s:0: cannot open: %s\n", path, strerror(errno));
		return (0);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		strbuf_append(&buf, chunk, n);
		if (buf.len > (size_t) VOCAB_MAX_ENTRIES * VOCAB_MAX_LINE)
			break;
	}
	if (ferror(fp)) {
		strbuf_printf(errs, "%s:0: read error: %s\n", path, strerror(errno));
		fclose(fp);
		strbuf_free(&buf);
		return (0);
	}
	fclose(fp);
	v = vocab_parse(path, strbuf_str(&buf), buf.len, errs);
	strbuf_free(&buf);
	return (v);
}

/* vocab_builtin - the compiled-in copy of conf/bounce-reasons */

static void
vocab_builtin(void)
{
	STRBUF	errs = STRBUF_INIT;

	if (vocab_current == 0) {
		vocab_current = vocab_parse("(built-in bounce-reasons)",
					    classify_vocab_builtin,
					    strlen(classify_vocab_builtin), &errs);
		/* The build checks the file; a bad copy is a build bug. */
		if (vocab_current == 0)
			vocab_current = mycalloc(1, sizeof(*vocab_current));
	}
	strbuf_free(&errs);
}

/* classify_reasons_load - read and install a vocabulary */

int
classify_reasons_load(const char *path, int optional, STRBUF *errs)
{
	STRBUF	my = STRBUF_INIT;
	CLASSIFY_VOCAB *v;
	int	missing;

	if ((v = vocab_read(path, &my, &missing)) == 0) {
		if (missing && optional) {
			pthread_once(&vocab_once, vocab_builtin);
			strbuf_free(&my);
			return (0);
		}
		strbuf_append(errs, strbuf_str(&my), my.len);
		strbuf_free(&my);
		return (-1);
	}
	strbuf_free(&my);
	/*
	 * Installed first, so that the compiled-in copy is never parsed. The
	 * vocabulary replaced stays linked from the new one: a thread may
	 * still be reading it.
	 */
	v->older = vocab_current;
	vocab_current = v;
	pthread_once(&vocab_once, vocab_builtin);
	return (0);
}

/* classify_reasons_check - read a vocabulary, report, forget it */

int
classify_reasons_check(const char *path, STRBUF *errs)
{
	CLASSIFY_VOCAB *v;
	int	missing;

	if ((v = vocab_read(path, errs, &missing)) == 0)
		return (-1);
	vocab_free(v);
	return (0);
}

/* reply_prefix - length of a reply code and enhanced code that open text */

static size_t
reply_prefix(const char *t)
{
	size_t	o;
	int	d;

	/*
	 * "550-", "550-5.7.1 ", "550 5.7.1 ": a reply code, then (or with a
	 * hyphen) an enhanced status code. A bare "550 " stays: its text
	 * may start a sentence that the phrases read as it is.
	 */
	if (!(t[0] == '4' || t[0] == '5') || !isdigit((unsigned char) t[1])
	    || !isdigit((unsigned char) t[2]) || (t[3] != '-' && t[3] != ' '))
		return (0);
	o = 4;
	if ((t[4] == '4' || t[4] == '5' || t[4] == '2') && t[5] == '.') {
		for (o = 6, d = 0; isdigit((unsigned char) t[o]) && d < 3; o++, d++)
			 /* void */ ;
		if (d == 0 || t[o] != '.')
			return (t[3] == '-' ? 4 : 0);
		for (o++, d = 0; isdigit((unsigned char) t[o]) && d < 3; o++, d++)
			 /* void */ ;
		if (d == 0 || (t[o] != ' ' && t[o] != 0))
			return (t[3] == '-' ? 4 : 0);
		return (t[o] == ' ' ? o + 1 : o);
	}
	return (t[3] == '-' ? 4 : 0);
}

/* WORD_CHAR - a byte that continues an ASCII word */

#define WORD_CHAR(c)	isalnum((unsigned char) (c))

/* word_end - a phrase ending in last ends a word at after */

static int
word_end(int last, const char *after)
{
	/* A last word also stands for its plural: "record", "records". */
	if (!WORD_CHAR(last) || !WORD_CHAR(after[0]))
		return (1);
	return (isalpha((unsigned char) last) && last != 's' && after[0] == 's'
		&& !WORD_CHAR(after[1]));
}

/* gap_match - the parts of a phrase in order, each soon after the last */

static int
gap_match(const char *low, const char *text, const char *phrase, int anchored)
{
	char	part[VOCAB_MAX_PHRASE + 1];
	const char *rest;
	const char *hit;
	size_t	plen = strcspn(phrase, "\001");

	memcpy(part, phrase, plen);
	part[plen] = 0;
	rest = phrase[plen] ? phrase + plen + 1 : 0;

	/*
	 * Each place where the first part occurs (only at text when the part
	 * is anchored there), until the rest follows within VOCAB_MAX_GAP
	 * bytes of it. The text is at most VOCAB_MAX_TEXT bytes and a pattern
	 * has few parts: bounded. The whole starts and ends on word edges, as
	 * a plain phrase does; the parts in between need none.
	 */
	hit = anchored ? (strncmp(text, part, plen) == 0 ? text : 0) : strstr(text, part);
	for (; hit; hit = anchored ? 0 : strstr(hit + 1, part)) {
		const char *after = hit + plen;
		size_t	nlen;
		const char *next;

		if (!anchored && WORD_CHAR(part[0]) && hit > low && WORD_CHAR(hit[-1]))
			continue;
		if (rest == 0) {
			if (!word_end(part[plen - 1], after))
				continue;
			return (1);
		}
		nlen = strcspn(rest, "\001");
		for (next = after; next <= after + VOCAB_MAX_GAP && *next; next++)
			if (strncmp(next, rest, nlen) == 0 && gap_match(low, next, rest, 1))
				return (1);
	}
	return (0);
}

/* bounded_at - a phrase found at hit in low starts and ends on word edges */

static int
bounded_at(const char *low, const char *hit, size_t len, const char *phrase)
{
	/*
	 * "user unknown" is not in "superuser unknowns": a phrase that starts
	 * or ends with a letter or digit starts or ends a word of the text.
	 * Other bytes (punctuation, UTF-8 of languages written without
	 * spaces) need no edge.
	 */
	if (WORD_CHAR(phrase[0]) && hit > low && WORD_CHAR(hit[-1]))
		return (0);
	return (word_end(phrase[len - 1], hit + len));
}

/* word_search - first place where phrase occurs as words in low */

static const char *
word_search(const char *low, const char *phrase, size_t len)
{
	const char *hit;

	for (hit = strstr(low, phrase); hit; hit = strstr(hit + 1, phrase))
		if (bounded_at(low, hit, len, phrase))
			return (hit);
	return (0);
}

/* classify_vocab_match - first entry whose phrase occurs in text */

const CLASSIFY_PHRASE *
classify_vocab_match(const char *text)
{
	const CLASSIFY_VOCAB *v;
	char	low[VOCAB_MAX_TEXT];
	unsigned char pairs[65536 / 8];
	size_t	i, n;
	int	any = 0;

	pthread_once(&vocab_once, vocab_builtin);
	v = vocab_current;
	for (n = 0, i = 0; text[i] && n + 1 < sizeof(low); i++) {
		/* "550-5.7.1 " of a multi-line reply's lines is no wording. */
		if (n == 0 || low[n - 1] == ' ') {
			size_t	skip = reply_prefix(text + i);

			if (skip && text[i += skip] == 0)
				break;
		}
		low[n++] = tolower((unsigned char) text[i]);
	}
	low[n] = 0;
	if (n < 3 || v->nent == 0)
		return (0);

	/*
	 * Which three-byte sequences occur (hashed to 16 bits): a phrase
	 * whose first or last three bytes do not occur cannot match, and
	 * most do not, so most phrases cost two bit tests instead of a
	 * substring search.
	 */
	memset(pairs, 0, sizeof(pairs));
	for (i = 0; i + 2 < n; i++) {
		unsigned p = TRI(low[i], low[i + 1], low[i + 2]);

		PAIR_SET(pairs, p);
		any |= PAIR_HAS(v->first, p) != 0;
	}
	if (!any)
		return (0);
	for (i = 0; i < v->nent; i++) {
		const CLASSIFY_PHRASE *e = v->ent + i;

		if (PAIR_HAS(pairs, e->first) && PAIR_HAS(pairs, e->last)
		    && e->len <= n + e->gaps
		    && (e->gaps ? gap_match(low, low, e->phrase, 0)
			: word_search(low, e->phrase, e->len) != 0))
			return (e);
	}
	return (0);
}

/* classify_reasons_config - the vocabulary named by the settings */

int
classify_reasons_config(const CONFIG *cf, char **err)
{
	STRBUF	errs = STRBUF_INIT;
	const char *path = config_str(cf, "bounce_reasons_file");

	if (classify_reasons_load(path, config_is_default(cf, "bounce_reasons_file"),
				  &errs) < 0) {
		while (errs.len > 0 && errs.data[errs.len - 1] == '\n')
			strbuf_truncate(&errs, errs.len - 1);
		*err = strbuf_steal(&errs);
		return (-1);
	}
	strbuf_free(&errs);
	if (msg_verbose)
		msg_info("bounce reasons from %s", path);
	return (0);
}

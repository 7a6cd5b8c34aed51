/*++
/* NAME
/*	config 3
/* SUMMARY
/*	postdrip.conf, main.cf style, table-driven
/* SYNOPSIS
/*	#include "config/config.h"
/*
/*	CONFIG	*config_load(path, &err)
/*	const char *config_str(cf, name)
/*	long long config_int(cf, name)
/*
/*	int	config_line(cf, name)
/* DESCRIPTION
/*	config_load() reads "name = value" lines. A line that starts with
/*	white space continues the previous one; '#' starts a comment line.
/*	Every name must be in config_params[]; every value must fit its
/*	type and bounds. Values may refer to other settings as $name or
/*	${name}; references are expanded after the whole file is read, so
/*	order does not matter. $config_directory is the directory of the
/*	loaded file.
/*
/*	A line is at most 64 KiB, and so is a setting with its
/*	continuation lines; a longer one (the last line too) is an error at
/*	its own line, and its setting is not used.
/*
/*	config_line() gives the line of config_path() on which a setting
/*	was given (0: its default), so that a value refused later, by the
/*	program that uses it, is still reported as "file:line: message"
/*	from the very CONFIG in use: the file is never read a second time.
/*
/*	A CONFIG is immutable once loaded and reference counted: a daemon
/*	that reloads builds a new one and drops its reference to the old one
/*	when nothing uses it any more.
/* DIAGNOSTICS
/*	Errors are returned as "file:line: message" lines, all of them, not
/*	only the first.
/*--*/
#include "config/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "util/clock.h"
#include "config/config.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#define CONFIG_LINE_MAX	(64 * 1024)	/* one logical line */
#define CONFIG_EXPAND_DEPTH 10

struct CONFIG {
	atomic_int refcount;
	char   *path;
	int	nparams;
	char  **raw;			/* as written (or default) */
	char  **value;			/* expanded */
	int    *set;			/* 1 when set in the file */
	char ***lists;			/* CONF_LIST, split */
	long long *num;			/* CONF_INT/TIME/SIZE/BOOL */
	int    *lines;			/* line that set it, 0: default */
};

/* config_index - a setting's index, or -1 */

static int
config_index(const char *name, size_t len)
{
	int	i;

	for (i = 0; config_params[i].name; i++)
		if (strlen(config_params[i].name) == len
		    && strncmp(config_params[i].name, name, len) == 0)
			return (i);
	return (-1);
}

/* config_new - a CONFIG with every default */

static CONFIG *
config_new(void)
{
	CONFIG *cf = mycalloc(1, sizeof(*cf));
	int	n;

	for (n = 0; config_params[n].name; n++)
		 /* void */ ;
	cf->nparams = n;
	cf->raw = mycalloc(n, sizeof(char *));
	cf->value = mycalloc(n, sizeof(char *));
	cf->set = mycalloc(n, sizeof(int));
	cf->lists = mycalloc(n, sizeof(char **));
	cf->num = mycalloc(n, sizeof(long long));
	cf->lines = mycalloc(n, sizeof(int));
	atomic_init(&cf->refcount, 1);
	return (cf);
}

/* config_expand - expand $name and ${name} */

static int
config_expand(CONFIG *cf, const char *in, STRBUF *out, int depth, char **bad)
{
	const char *p = in, *name;
	size_t	len;
	int	idx;

	if (depth > CONFIG_EXPAND_DEPTH) {
		*bad = mystrdup("recursion too deep in $name expansion");
		return (-1);
	}
	while (*p) {
		/* Nested references multiply: bound the result, not the input. */
		if (out->len > CONFIG_LINE_MAX) {
			*bad = myasprintf("value longer than %d bytes after $name expansion",
					  CONFIG_LINE_MAX);
			return (-1);
		}
		if (*p != '$') {
			strbuf_putc(out, *p++);
			continue;
		}
		p++;
		if (*p == '$') {
			strbuf_putc(out, *p++);
			continue;
		}
		if (*p == '{') {
			name = ++p;
			while (*p && *p != '}')
				p++;
			if (*p != '}') {
				*bad = mystrdup("unterminated ${name}");
				return (-1);
			}
			len = p++ - name;
		} else {
			name = p;
			while (isalnum((unsigned char) *p) || *p == '_')
				p++;
			len = p - name;
		}
		if (len == 0) {
			strbuf_putc(out, '$');
			continue;
		}
		if ((idx = config_index(name, len)) < 0) {
			*bad = myasprintf("unknown setting $%.*s", (int) len, name);
			return (-1);
		}
		if (config_expand(cf, cf->raw[idx], out, depth + 1, bad) < 0)
			return (-1);
	}
	return (0);
}

/* config_split - split a list value on commas and white space */

static char **
config_split(const char *value)
{
	char  **list = mycalloc(1, sizeof(char *));
	size_t	n = 0;
	const char *p = value, *start;

	for (;;) {
		while (*p && (isspace((unsigned char) *p) || *p == ','))
			p++;
		if (*p == 0)
			break;
		start = p;
		while (*p && !isspace((unsigned char) *p) && *p != ',')
			p++;
		list = myrealloc(list, (n + 2) * sizeof(char *));
		list[n++] = mystrndup(start, p - start);
		list[n] = 0;
	}
	return (list);
}

/* config_parse_size - bytes with optional k/m/g suffix */

static int
config_parse_size(const char *text, long long *val)
{
	char   *end;
	long long v, unit = 1;

	/* strtoll() takes a sign and leading space: a size has neither. */
	if (!isdigit((unsigned char) *text))
		return (-1);
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno == ERANGE)
		return (-2);
	if (end == text || errno || v < 0)
		return (-1);
	switch (tolower((unsigned char) *end)) {
	case 'k':
		unit = 1024LL, end++;
		break;
	case 'm':
		unit = 1024LL * 1024, end++;
		break;
	case 'g':
		unit = 1024LL * 1024 * 1024, end++;
		break;
	}
	/* 17179869185g would wrap to 1g: refuse what does not fit. */
	if (v > LLONG_MAX / unit)
		return (-2);
	if (*end == 'b' || *end == 'B')
		end++;
	return (*end ? -1 : (*val = v * unit, 0));
}

/* config_socket_valid - check Postfix socket notation */

static int
config_socket_valid(const char *v)
{
	const char *colon;

	if (*v == 0)
		return (1);
	if (strncmp(v, "unix:", 5) == 0)
		return (v[5] == '/' || v[5] == '.');
	if (strncmp(v, "inet:", 5) == 0)
		v += 5;
	colon = strrchr(v, ':');
	v = colon ? colon + 1 : v;
	if (*v == 0 || strlen(v) > 5)
		return (0);
	for (colon = v; *colon; colon++)
		if (!isdigit((unsigned char) *colon))
			return (0);
	/* libmilter's inet:PORT@HOST has no digits-only tail, so it fails
	 * above; a port out of range fails here rather than at bind(). */
	return (atoi(v) >= 1 && atoi(v) <= 65535);
}

/* config_finish - expand and type-check every value */

static int
config_finish(CONFIG *cf, STRBUF *errs)
{
	STRBUF	sb = STRBUF_INIT;
	const CONF_PARAM *p;
	int	i, errors = 0;
	char   *bad;
	long	secs;
	long long v;
	const char *what;

#define CONFIG_ERR(...) do { \
	    if (cf->lines[i]) \
		strbuf_printf(errs, "%s:%d: ", cf->path, cf->lines[i]); \
	    else \
		strbuf_printf(errs, "%s: ", cf->path ? cf->path : "default"); \
	    strbuf_printf(errs, __VA_ARGS__); strbuf_putc(errs, '\n'); errors++; \
	} while (0)

	for (i = 0; i < cf->nparams; i++) {
		p = config_params + i;
		strbuf_reset(&sb);
		bad = 0;
		if (config_expand(cf, cf->raw[i], &sb, 0, &bad) < 0) {
			CONFIG_ERR("%s: %s", p->name, bad);
			myfree(bad);
			continue;
		}
		cf->value[i] = mystrdup(strbuf_str(&sb));
		what = 0;
		switch (p->type) {
		case CONF_STR:
			break;
		case CONF_SOCKET:
			if (!config_socket_valid(cf->value[i]))
				what = "a socket as inet:host:port or unix:/path";
			break;
		case CONF_LIST:
			cf->lists[i] = config_split(cf->value[i]);
			break;
		case CONF_BOOL:
			if (strcasecmp(cf->value[i], "yes") == 0 || strcasecmp(cf->value[i], "true") == 0
			    || strcasecmp(cf->value[i], "on") == 0 || strcmp(cf->value[i], "1") == 0)
				cf->num[i] = 1;
			else if (strcasecmp(cf->value[i], "no") == 0 || strcasecmp(cf->value[i], "false") == 0
				 || strcasecmp(cf->value[i], "off") == 0 || strcmp(cf->value[i], "0") == 0)
				cf->num[i] = 0;
			else
				what = "yes or no";
			break;
		case CONF_INT:
		case CONF_TIME:
		case CONF_SIZE:
			if (p->type == CONF_TIME) {
				if (clock_parse_duration(cf->value[i], &secs) < 0) {
					what = "a duration such as 30s, 5m, 2h, 7d";
					break;
				}
				v = secs;
			} else if (p->type == CONF_SIZE) {
				int	rc = config_parse_size(cf->value[i], &v);

				if (rc == -2) {
					CONFIG_ERR("%s = %s: out of range (larger than %lld bytes)",
						   p->name, cf->value[i], (long long) LLONG_MAX);
					continue;
				}
				if (rc < 0) {
					what = "a size such as 512k, 64m, 1g";
					break;
				}
			} else {
				char   *end;

				errno = 0;
				v = strtoll(cf->value[i], &end, 10);
				if (end == cf->value[i] || *end || errno) {
					what = "an integer";
					break;
				}
			}
			if ((p->min || p->max) && (v < p->min || v > p->max)) {
				CONFIG_ERR("%s = %s: out of range (%lld..%lld)",
					   p->name, cf->value[i], p->min, p->max);
				continue;
			}
			cf->num[i] = v;
			break;
		}
		if (what)
			CONFIG_ERR("%s = %s: expected %s", p->name, cf->value[i], what);
	}
	strbuf_free(&sb);
	return (errors);
}

/* config_defaults - every setting at its default */

CONFIG *
config_defaults(void)
{
	CONFIG *cf = config_new();
	STRBUF	errs = STRBUF_INIT;
	int	i;

	for (i = 0; i < cf->nparams; i++)
		cf->raw[i] = mystrdup(config_params[i].def);
	if (config_finish(cf, &errs))
		msg_panic("bad default in config_params: %s", strbuf_str(&errs));
	strbuf_free(&errs);
	return (cf);
}

/* config_store_line - handle one logical "name = value" line */

static void
config_store_line(CONFIG *cf, char *line, int lineno, STRBUF *errs)
{
	char   *eq, *name, *value, *end;
	int	idx;

	if ((eq = strchr(line, '=')) == 0) {
		strbuf_printf(errs, "%s:%d: missing '=' after setting name\n", cf->path, lineno);
		return;
	}
	name = line;
	end = eq;
	while (end > name && isspace((unsigned char) end[-1]))
		end--;
	*end = 0;
	value = eq + 1;
	while (isspace((unsigned char) *value))
		value++;
	end = value + strlen(value);
	while (end > value && isspace((unsigned char) end[-1]))
		end--;
	*end = 0;
	if (*name == 0) {
		strbuf_printf(errs, "%s:%d: missing setting name before '='\n", cf->path, lineno);
		return;
	}
	if ((idx = config_index(name, strlen(name))) < 0) {
		strbuf_printf(errs, "%s:%d: unknown setting \"%s\"\n", cf->path, lineno, name);
		return;
	}
	if (strcmp(name, "config_directory") == 0) {
		strbuf_printf(errs, "%s:%d: config_directory is set from the file's location\n",
			      cf->path, lineno);
		return;
	}
	myfree(cf->raw[idx]);
	cf->raw[idx] = mystrdup(value);
	cf->set[idx] = 1;
	cf->lines[idx] = lineno;
}

/* config_getline - one physical line, bounded */

static int
config_getline(FILE *fp, STRBUF *line, int *too_long, int *nul)
{
	int	ch, any = 0;

	/*
	 * A line is read up to CONFIG_LINE_MAX bytes and the rest is skipped,
	 * never kept: a file of one huge line costs no memory, and the caller
	 * still learns where it is. The last line needs no newline.
	 */
	strbuf_reset(line);
	*too_long = *nul = 0;
	while ((ch = getc(fp)) != EOF) {
		any = 1;
		if (ch == '\n')
			break;
		if (ch == 0)
			*nul = 1;
		if (line->len >= CONFIG_LINE_MAX)
			*too_long = 1;
		else
			strbuf_putc(line, ch);
	}
	if (!any)
		return (-1);
	if (line->len > 0 && line->data[line->len - 1] == '\r')
		strbuf_truncate(line, line->len - 1);
	return (0);
}

/* config_load - read and check a configuration file */

CONFIG *
config_load(const char *path, char **err)
{
	CONFIG *cf;
	FILE   *fp;
	STRBUF	errs = STRBUF_INIT, logical = STRBUF_INIT, phys = STRBUF_INIT;
	char   *slash, *abs, *buf;
	int	lineno = 0, start = 0, i, eof;
	int	too_long, nul, bad = 0;

	*err = 0;
	if ((fp = fopen(path, "r")) == 0) {
		if (errno == ENOENT && strcmp(path, CONFIG_DEFAULT_PATH) == 0)
			return (config_defaults());
		*err = myasprintf("%s: %s\n", path, strerror(errno));
		return (0);
	}
	cf = config_new();
	abs = realpath(path, 0);
	cf->path = mystrdup(path);
	for (i = 0; i < cf->nparams; i++)
		cf->raw[i] = mystrdup(config_params[i].def);
	/* config_directory follows the file. */
	if (abs && (slash = strrchr(abs, '/')) != 0) {
		*slash = 0;
		myfree(cf->raw[0]);
		cf->raw[0] = mystrdup(*abs ? abs : "/");
	}
	free(abs);

	/*
	 * start is the line of the setting being collected (0: none); bad
	 * says that one of its lines was refused, so the setting is not
	 * stored half-read: its error was already given at that line.
	 */
	for (;;) {
		eof = config_getline(fp, &phys, &too_long, &nul) < 0;
		if (!eof)
			lineno++;
		buf = strbuf_str(&phys);
		if (!eof && (too_long || nul)) {
			if (too_long)
				strbuf_printf(&errs, "%s:%d: line too long (over %d bytes)\n",
					      path, lineno, CONFIG_LINE_MAX);
			else
				strbuf_printf(&errs, "%s:%d: null byte in line\n", path, lineno);
			/* It belongs to the setting before it, or starts one. */
			if (!isspace((unsigned char) buf[0])) {
				strbuf_reset(&logical);
				start = lineno;
			}
			bad = 1;
			continue;
		}
		/* A continuation line extends the logical line. */
		if (!eof && isspace((unsigned char) buf[0])) {
			char   *q = buf;

			while (isspace((unsigned char) *q))
				q++;
			if (*q == 0 || *q == '#')
				continue;
			if (start == 0) {
				strbuf_printf(&errs, "%s:%d: continuation line without a setting before it\n",
					      path, lineno);
				continue;
			}
			if (logical.len + 1 + strlen(q) > CONFIG_LINE_MAX) {
				strbuf_printf(&errs, "%s:%d: line too long (setting of line %d over %d bytes)\n",
					      path, lineno, start, CONFIG_LINE_MAX);
				bad = 1;
				continue;
			}
			strbuf_putc(&logical, ' ');
			strbuf_puts(&logical, q);
			continue;
		}
		/* Anything else ends the current logical line. */
		if (start && !bad)
			config_store_line(cf, strbuf_str(&logical), start, &errs);
		strbuf_reset(&logical);
		start = bad = 0;
		if (eof)
			break;
		if (phys.len == 0 || buf[0] == '#')
			continue;
		start = lineno;
		strbuf_append(&logical, buf, phys.len);
	}
	if (ferror(fp))
		strbuf_printf(&errs, "%s: read error: %s\n", path, strerror(errno));
	fclose(fp);
	strbuf_free(&phys);
	strbuf_free(&logical);
	if (errs.len == 0)
		config_finish(cf, &errs);
	if (errs.len) {
		*err = strbuf_steal(&errs);
		config_unref(cf);
		return (0);
	}
	strbuf_free(&errs);
	return (cf);
}

/* config_ref - one more user */

CONFIG *
config_ref(CONFIG *cf)
{
	atomic_fetch_add(&cf->refcount, 1);
	return (cf);
}

/* config_unref - one user less; free at zero */

void
config_unref(CONFIG *cf)
{
	int	i;
	char  **l;

	if (cf == 0 || atomic_fetch_sub(&cf->refcount, 1) != 1)
		return;
	for (i = 0; i < cf->nparams; i++) {
		myfree(cf->raw[i]);
		myfree(cf->value[i]);
		if (cf->lists[i]) {
			for (l = cf->lists[i]; *l; l++)
				myfree(*l);
			myfree(cf->lists[i]);
		}
	}
	myfree(cf->raw);
	myfree(cf->value);
	myfree(cf->set);
	myfree(cf->lists);
	myfree(cf->num);
	myfree(cf->lines);
	myfree(cf->path);
	myfree(cf);
}

const char *
config_path(const CONFIG *cf)
{
	return (cf->path ? cf->path : CONFIG_DEFAULT_PATH);
}

/* config_lookup - index of a setting the program asks for */

static int
config_lookup(const CONFIG *cf, const char *name, CONF_TYPE want)
{
	int	idx = config_index(name, strlen(name));

	if (idx < 0)
		msg_panic("config: unknown setting \"%s\"", name);
	if (want != (CONF_TYPE) - 1 && config_params[idx].type != want
	    && !(want == CONF_INT && (config_params[idx].type == CONF_TIME
				      || config_params[idx].type == CONF_SIZE)))
		msg_panic("config: setting \"%s\" used with the wrong type", name);
	return (idx);
}

const char *
config_str(const CONFIG *cf, const char *name)
{
	return (cf->value[config_lookup(cf, name, (CONF_TYPE) - 1)]);
}

long long
config_int(const CONFIG *cf, const char *name)
{
	return (cf->num[config_lookup(cf, name, CONF_INT)]);
}

int
config_bool(const CONFIG *cf, const char *name)
{
	return (cf->num[config_lookup(cf, name, CONF_BOOL)] != 0);
}

char  **
config_list(const CONFIG *cf, const char *name)
{
	return (cf->lists[config_lookup(cf, name, CONF_LIST)]);
}

int
config_is_default(const CONFIG *cf, const char *name)
{
	return (!cf->set[config_lookup(cf, name, (CONF_TYPE) - 1)]);
}

/* config_line - the line of config_path() that set a setting, or 0 */

int
config_line(const CONFIG *cf, const char *name)
{
	return (cf->lines[config_lookup(cf, name, (CONF_TYPE) - 1)]);
}

/* config_socket_split - host and port of inet notation */

static int
config_socket_split(const char *spec, char *host, size_t hlen, char *port, size_t plen)
{
	const char *p = spec, *colon;

	if (strncmp(p, "inet:", 5) == 0)
		p += 5;
	if (*p == '[') {
		const char *close = strchr(p, ']');

		if (close == 0 || close[1] != ':')
			return (-1);
		snprintf(host, hlen, "%.*s", (int) (close - p - 1), p + 1);
		snprintf(port, plen, "%s", close + 2);
		return (0);
	}
	if ((colon = strrchr(p, ':')) == 0) {
		snprintf(host, hlen, "127.0.0.1");
		snprintf(port, plen, "%s", p);
		return (0);
	}
	snprintf(host, hlen, "%.*s", (int) (colon - p), p);
	snprintf(port, plen, "%s", colon + 1);
	if (*host == 0)
		snprintf(host, hlen, "0.0.0.0");
	return (0);
}

/* config_socket_open - shared part of listen and connect */

static int
config_socket_open(const char *spec, int listening, int mode, char **err)
{
	struct addrinfo hints, *res = 0, *ai;
	char	host[256], port[32];
	int	fd = -1, on = 1, rc;

	*err = 0;
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un sun;
		const char *path = spec + 5;

		if (strlen(path) >= sizeof(sun.sun_path)) {
			*err = myasprintf("%s: socket path too long", spec);
			return (-1);
		}
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		strcpy(sun.sun_path, path);
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			goto fail;
		if (listening) {
			(void) unlink(path);
			if (bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
			    || chmod(path, mode ? mode : 0666) < 0
			    || listen(fd, 1024) < 0)
				goto fail;
		} else if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0)
			goto fail;
		return (fd);
	}
	if (config_socket_split(spec, host, sizeof(host), port, sizeof(port)) < 0) {
		*err = myasprintf("%s: bad socket address", spec);
		return (-1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = listening ? AI_PASSIVE : 0;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		*err = myasprintf("%s: %s", spec, gai_strerror(rc));
		return (-1);
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0)) < 0)
			continue;
		/* Nagle + delayed ACK costs milliseconds per exchange. */
		(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		if (listening) {
			(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
				break;
		} else if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		rc = errno;
		close(fd);
		errno = rc;
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		return (fd);
fail:
	rc = errno;
	if (*err == 0)
		*err = myasprintf("%s: %s", spec, strerror(rc));
	if (fd >= 0)
		close(fd);
	errno = rc;
	return (-1);
}

int
config_socket_listen(const char *spec, int mode, char **err)
{
	return (config_socket_open(spec, 1, mode, err));
}

int
config_socket_connect(const char *spec, char **err)
{
	return (config_socket_open(spec, 0, 0, err));
}

/*++
/* NAME
/*	workflow 3
/* SUMMARY
/*	load workflow files into a WORKFLOW_SET
/* SYNOPSIS
/*	#include "workflow/workflow.h"
/*
/*	WORKFLOW_SET *workflow_load_dir(dir, errs)
/*	WORKFLOW_SET *workflow_load_file(path, errs)
/*	WORKFLOW_SET *workflow_load_string(name, text, len, errs)
/*	void	workflow_set_free(set)
/*
/*	const WORKFLOW *workflow_find(set, name)
/*	int	workflow_step_find(wf, id)
/* DESCRIPTION
/*	workflow_load_dir() reads every regular file whose name ends in
/*	.yaml or .yml in dir, in name order, skipping names that start with
/*	a dot (editor files). See workflow.h for the in-memory form and
/*	postdrip-workflow(5) for the format.
/*
/*	A set is loaded whole or not at all: one error anywhere and the
/*	loader returns NULL, so that a half-read directory never runs.
/* DIAGNOSTICS
/*	"file:line: message" lines in errs. A file that cannot be read is
/*	reported as "file:0: ...". The library does not log.
/*--*/
#include "pdconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "workflow/workflow_int.h"

#define WF_FILES_MAX	1000		/* files in one directory */

/* wf_set_new - an empty set */

WORKFLOW_SET *
wf_set_new(void)
{
	WORKFLOW_SET *set = mycalloc(1, sizeof(*set));

	set->default_tz = mystrdup("UTC");
	if (pthread_mutex_init(&set->zone_lock, 0) != 0)
		msg_fatal("pthread_mutex_init failed");
	return (set);
}

/* wf_cond_free - free a condition tree */

void
wf_cond_free(WF_COND *c)
{
	int	i;

	if (c == 0)
		return;
	for (i = 0; i < c->nsub; i++)
		wf_cond_free(c->sub[i]);
	myfree(c->sub);
	myfree(c->event);
	myfree(c->key);
	myfree(c->value);
	myfree(c->field);
	myfree(c->operand);
	myfree(c->name);
	myfree(c);
}

/* wf_match_free - free a WF_MATCH's contents */

static void
wf_match_free(WF_MATCH *m)
{
	int	i;

	for (i = 0; i < m->nwhere; i++) {
		myfree(m->keys[i]);
		myfree(m->values[i]);
	}
	myfree(m->keys);
	myfree(m->values);
	myfree(m->event);
}

/* wf_workflow_free - free one workflow */

void
wf_workflow_free(WORKFLOW *wf)
{
	WF_STEP *s;
	int	i, j;

	if (wf == 0)
		return;
	myfree(wf->name);
	myfree(wf->description);
	wf_match_free(&wf->trigger.match);
	myfree(wf->trigger.field);
	myfree(wf->trigger.segment);
	wf_cond_free(wf->audience);
	for (i = 0; i < wf->nexit; i++)
		wf_cond_free(wf->exits[i]);
	myfree(wf->exits);
	myfree(wf->goals);
	myfree(wf->send.timezone);
	myfree(wf->send.timezone_field);
	for (i = 0; i < wf->nsteps; i++) {
		s = wf->steps + i;
		myfree(s->id);
		myfree(s->label);
		myfree(s->template);
		myfree(s->field);
		wf_match_free(&s->match);
		wf_cond_free(s->cond);
		if (s->values)
			json_decref(s->values);
		myfree(s->name);
		myfree(s->to);
		myfree(s->url);
		myfree(s->secret);
		for (j = 0; j < s->nheaders; j++) {
			myfree(s->headers[j].name);
			myfree(s->headers[j].value);
		}
		myfree(s->headers);
		if (s->body)
			json_decref(s->body);
		if (s->save)
			json_decref(s->save);
		myfree(s->target);
		for (j = 0; j < s->narms; j++)
			myfree(s->arms[j].name);
		myfree(s->arms);
		myfree(s->promote);
		myfree(s->arm);
	}
	myfree(wf->steps);
	myfree(wf);
}

/* workflow_set_free - free a set and everything in it */

void
workflow_set_free(WORKFLOW_SET *set)
{
	int	i;

	if (set == 0)
		return;
	for (i = 0; i < set->nwf; i++)
		wf_workflow_free(set->wf[i]);
	myfree(set->wf);
	for (i = 0; i < set->nseg; i++) {
		myfree(set->seg[i]->name);
		myfree(set->seg[i]->description);
		wf_cond_free(set->seg[i]->cond);
		myfree(set->seg[i]);
	}
	myfree(set->seg);
	for (i = 0; i < set->nfiles; i++)
		myfree(set->files[i]);
	myfree(set->files);
	for (i = 0; i < set->nzones; i++)
		tzone_free(set->zones[i]);
	myfree(set->zones);
	myfree(set->default_tz);
	pthread_mutex_destroy(&set->zone_lock);
	myfree(set);
}

/* wf_read_file - a whole file, bounded; NULL with errno */

static char *
wf_read_file(const char *path, size_t *len)
{
	struct stat st;
	char   *buf;
	size_t	got = 0;
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (0);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return (0);
	}
	if (!S_ISREG(st.st_mode) || st.st_size > YNODE_INPUT_MAX) {
		close(fd);
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		return (0);
	}
	buf = mymalloc(st.st_size + 1);
	/* Read at most what fstat promised: a file that grows is cut. */
	while (got < (size_t) st.st_size) {
		n = read(fd, buf + got, st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			myfree(buf);
			close(fd);
			return (0);
		}
		if (n == 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = 0;
	*len = got;
	return (buf);
}

/* wf_load_one - parse one file into set */

static void
wf_load_one(WORKFLOW_SET *set, const char *path, const char *label,
	            STRBUF *errs, int *nerr)
{
	WF_PARSER p;
	char   *text;
	size_t	len;

	memset(&p, 0, sizeof(p));
	p.set = set;
	p.errs = errs;
	p.file = wf_set_file(set, label);
	if ((text = wf_read_file(path, &len)) == 0) {
		strbuf_printf(errs, "%s:0: cannot read: %s\n", label,
			      errno == EFBIG ? "file too large" : strerror(errno));
		(*nerr)++;
		return;
	}
	wf_parse_text(&p, text, len);
	myfree(text);
	*nerr += p.nerr;
}

/* wf_name_cmp - qsort by name */

static int
wf_name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *) a, *(char *const *) b));
}

/* wf_yaml_name - a name we load: *.yaml or *.yml, not hidden */

static int
wf_yaml_name(const char *name)
{
	size_t	len = strlen(name);

	if (name[0] == '.')
		return (0);
	return ((len > 5 && strcmp(name + len - 5, ".yaml") == 0)
		|| (len > 4 && strcmp(name + len - 4, ".yml") == 0));
}

/* wf_load_dir - load a directory, counting errors */

WORKFLOW_SET *
wf_load_dir(const char *dir, STRBUF *errs, int *nerr)
{
	WORKFLOW_SET *set = wf_set_new();
	DIR    *dp;
	struct dirent *de;
	char  **names = 0;
	char   *path;
	int	n = 0, i;

	*nerr = 0;
	if ((dp = opendir(dir)) == 0) {
		if (errno != ENOENT) {
			strbuf_printf(errs, "%s:0: cannot open directory: %s\n", dir, strerror(errno));
			(*nerr)++;
		}
		return (set);
	}
	while ((de = readdir(dp)) != 0) {
		if (!wf_yaml_name(de->d_name))
			continue;
		if (n >= WF_FILES_MAX) {
			strbuf_printf(errs, "%s:0: more than %d workflow files\n", dir, WF_FILES_MAX);
			(*nerr)++;
			break;
		}
		names = myrealloc(names, (n + 1) * sizeof(char *));
		names[n++] = mystrdup(de->d_name);
	}
	closedir(dp);
	if (n > 1)
		qsort(names, n, sizeof(char *), wf_name_cmp);
	for (i = 0; i < n; i++) {
		path = myasprintf("%s/%s", dir, names[i]);
		wf_load_one(set, path, path, errs, nerr);
		myfree(path);
		myfree(names[i]);
	}
	myfree(names);
	wf_link_set(set, errs, nerr);
	return (set);
}

/* workflow_load_dir - load a directory; NULL on any error */

WORKFLOW_SET *
workflow_load_dir(const char *dir, STRBUF *errs)
{
	WORKFLOW_SET *set;
	int	nerr;

	set = wf_load_dir(dir, errs, &nerr);
	if (nerr) {
		workflow_set_free(set);
		return (0);
	}
	return (set);
}

/* workflow_load_file - load one file */

WORKFLOW_SET *
workflow_load_file(const char *path, STRBUF *errs)
{
	WORKFLOW_SET *set = wf_set_new();
	int	nerr = 0;

	wf_load_one(set, path, path, errs, &nerr);
	wf_link_set(set, errs, &nerr);
	if (nerr) {
		workflow_set_free(set);
		return (0);
	}
	return (set);
}

/* workflow_load_string - load text that claims to come from name */

WORKFLOW_SET *
workflow_load_string(const char *name, const char *text, size_t len,
		             STRBUF *errs)
{
	WORKFLOW_SET *set = wf_set_new();
	WF_PARSER p;
	int	nerr = 0;

	memset(&p, 0, sizeof(p));
	p.set = set;
	p.errs = errs;
	p.file = wf_set_file(set, name);
	wf_parse_text(&p, text, len);
	nerr = p.nerr;
	wf_link_set(set, errs, &nerr);
	if (nerr) {
		workflow_set_free(set);
		return (0);
	}
	return (set);
}

/* workflow_set_timezone - the zone of contacts and workflows without one */

int
workflow_set_timezone(WORKFLOW_SET *set, const char *tz)
{
	if (tz == 0 || *tz == 0)
		tz = "UTC";
	if (wf_zone(set, tz) == 0 && strcmp(tz, "UTC") != 0)
		return (-1);
	myfree(set->default_tz);
	set->default_tz = mystrdup(tz);
	return (0);
}

/* workflow_count - number of workflows */

int
workflow_count(const WORKFLOW_SET *set)
{
	return (set->nwf);
}

/* workflow_at - the i-th workflow, in file order */

const WORKFLOW *
workflow_at(const WORKFLOW_SET *set, int i)
{
	return (i >= 0 && i < set->nwf ? set->wf[i] : 0);
}

/* workflow_find - a workflow by name */

const WORKFLOW *
workflow_find(const WORKFLOW_SET *set, const char *name)
{
	int	i;

	for (i = 0; i < set->nwf; i++)
		if (strcmp(set->wf[i]->name, name) == 0)
			return (set->wf[i]);
	return (0);
}

/* workflow_segment - a segment by name */

const WF_SEGMENT *
workflow_segment(const WORKFLOW_SET *set, const char *name)
{
	int	i;

	for (i = 0; i < set->nseg; i++)
		if (set->seg[i]->name && strcmp(set->seg[i]->name, name) == 0)
			return (set->seg[i]);
	return (0);
}

/* workflow_segment_count - number of segments */

int
workflow_segment_count(const WORKFLOW_SET *set)
{
	return (set->nseg);
}

/* workflow_segment_at - the i-th segment */

const WF_SEGMENT *
workflow_segment_at(const WORKFLOW_SET *set, int i)
{
	return (i >= 0 && i < set->nseg ? set->seg[i] : 0);
}

/* workflow_step_find - index of a step id, or -1 */

int
workflow_step_find(const WORKFLOW *wf, const char *id)
{
	int	i;

	for (i = 0; i < wf->nsteps; i++)
		if (strcmp(wf->steps[i].id, id) == 0)
			return (i);
	return (-1);
}

/* workflow_arm_find - index of the arm called name, or -1 */

int
workflow_arm_find(const WF_STEP *st, const char *name)
{
	int	i;

	for (i = 0; name && i < st->narms; i++)
		if (strcmp(st->arms[i].name, name) == 0)
			return (i);
	return (-1);
}

/* split_hash - FNV-1a over a string and its terminating null */

static uint64_t
split_hash(uint64_t h, const char *s)
{
	do {
		h ^= (unsigned char) *s;
		h *= 0x100000001b3ULL;
	} while (*s++);
	return (h);
}

/* workflow_split_arm - the arm of an A/B split for one contact */

int
workflow_split_arm(const WF_STEP *st, const char *workflow,
		           const char *contact, const char *promote)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned long total = 0, pick;
	int	i;

	if ((i = workflow_arm_find(st, promote ? promote : st->promote)) >= 0)
		return (i);
	for (i = 0; i < st->narms; i++)
		total += st->arms[i].weight;
	if (total == 0)
		return (-1);
	h = split_hash(h, workflow);
	h = split_hash(h, st->id);
	h = split_hash(h, contact);
	/* The low bits of FNV mix poorly; fold the high half in. */
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	pick = (unsigned long) (h % total);
	for (i = 0; i < st->narms; i++) {
		if (pick < (unsigned long) st->arms[i].weight)
			return (i);
		pick -= st->arms[i].weight;
	}
	return (st->narms - 1);
}

/* workflow_step_kind_name - the word a step is written with */

const char *
workflow_step_kind_name(WF_STEP_KIND kind)
{
	static const char *const names[] = {
		[WF_STEP_SEND] = "send", [WF_STEP_WAIT] = "wait",
		[WF_STEP_WAIT_UNTIL] = "wait_until", [WF_STEP_WAIT_FOR] = "wait_for",
		[WF_STEP_IF] = "if", [WF_STEP_SET] = "set",
		[WF_STEP_ADD_TAG] = "add_tag", [WF_STEP_REMOVE_TAG] = "remove_tag",
		[WF_STEP_ADD_SCORE] = "add_score", [WF_STEP_NOTIFY] = "notify",
		[WF_STEP_WEBHOOK] = "webhook", [WF_STEP_UNSUBSCRIBE] = "unsubscribe",
		[WF_STEP_GOTO] = "goto", [WF_STEP_END] = "end",
		[WF_STEP_SPLIT] = "split",
	};

	if ((unsigned) kind >= sizeof(names) / sizeof(names[0]))
		return ("unknown");
	return (names[kind]);
}

/* workflow_stream_name - marketing or transactional */

const char *
workflow_stream_name(WF_STREAM stream)
{
	return (stream == WF_STREAM_TRANSACTIONAL ? "transactional" : "marketing");
}

/*++
/* NAME
/*	cli_contact 1
/* SUMMARY
/*	postdrip contact commands
/* SYNOPSIS
/*	postdrip contact add ADDRESS [field=value...] [--tag TAG...] [--score N]
/*	postdrip contact show ADDRESS
/*	postdrip contact export
/*	postdrip contact import FILE|- [--event TYPE]
/* DESCRIPTION
/*	add creates a contact (and records a "subscribed" event) or updates
/*	the fields and tags of an existing one (recording "field_changed" and
/*	"tag_added" events, which workflows may trigger on).
/*
/*	import reads CSV with a header row. The column "email" is required;
/*	"tags" holds tags separated by ';' or '|'; "score" an integer; every
/*	other column becomes a field of that name (first_name, birthday,
/*	timezone, owner, ...). Date fields (birthday, anniversary, and names
/*	ending in _date, _at or _end) must be ISO 8601 when not empty. A
/*	malformed row is reported with its line number and skipped; every
/*	other row is written whole or not at all. Rows are written in
/*	batches, one transaction each. With --event TYPE, each new contact
/*	also gets that event (for instance "subscribed" to start a welcome
/*	series); without it an import starts no workflow.
/*
/*	export writes every contact as CSV in the same format.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/addr.h"
#include "cli.h"
#include "util/clock.h"
#include "util/csv.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#define IMPORT_BATCH	1000

typedef struct CONTACT_ROW {
	char	addr[ADDR_MAX + 1];
	json_t *fields;			/* object */
	json_t *tags;			/* array of strings */
	json_t *score;			/* integer or NULL */
	time_t	created;		/* from an export; 0: now */
} CONTACT_ROW;

typedef struct CONTACT_BATCH {
	CONTACT_ROW *rows;
	int	nrows;
	time_t	now;
	const char *event;		/* for new contacts, or NULL */
	int	created, updated;	/* results */
	int	status;
} CONTACT_BATCH;

/* contact_is_date_field - fields whose values must be ISO dates */

static int
contact_is_date_field(const char *name)
{
	size_t	n = strlen(name);

	return (strcmp(name, "birthday") == 0 || strcmp(name, "anniversary") == 0
		|| (n > 5 && strcmp(name + n - 5, "_date") == 0)
		|| (n > 3 && strcmp(name + n - 3, "_at") == 0)
		|| (n > 4 && strcmp(name + n - 4, "_end") == 0));
}

/* contact_utf8_ok - is text well-formed UTF-8 (RFC 3629: shortest form,
 * no surrogates, nothing past U+10FFFF)? */

static int
contact_utf8_ok(const char *text)
{
	const unsigned char *p = (const unsigned char *) text;
	unsigned int cp;
	int	n, i;

	while (*p) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xC2 && *p <= 0xDF)
			n = 1, cp = *p & 0x1F;
		else if (*p >= 0xE0 && *p <= 0xEF)
			n = 2, cp = *p & 0x0F;
		else if (*p >= 0xF0 && *p <= 0xF4)
			n = 3, cp = *p & 0x07;
		else
			return (0);
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return (0);
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
		    || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return (0);
		p += n + 1;
	}
	return (1);
}

/* contact_field_check - NULL when a field value is fine, else why not */

static const char *
contact_field_check(const char *name, const char *value)
{
	time_t	t;

	if (*name == 0 || strlen(name) > 64)
		return ("field names are 1-64 characters");
	for (const char *p = name; *p; p++)
		if (!(isalnum((unsigned char) *p) || *p == '_' || *p == '-'))
			return ("field names are letters, digits, _ and -");
	if (strcmp(name, "id") == 0 || strcmp(name, "created") == 0)
		return ("field name is reserved");
	if (!contact_utf8_ok(value))
		return ("not valid UTF-8");
	if (*value && contact_is_date_field(name) && clock_parse(value, &t) < 0)
		return ("not an ISO 8601 date (YYYY-MM-DD)");
	return (0);
}

/* contact_tags_add - split "a;b|c" into the tags array */

static void
contact_tags_add(json_t *tags, const char *text)
{
	const char *p = text, *start, *end;

	while (*p) {
		while (*p == ';' || *p == '|' || isspace((unsigned char) *p))
			p++;
		start = p;
		while (*p && *p != ';' && *p != '|')
			p++;
		end = p;
		while (end > start && isspace((unsigned char) end[-1]))
			end--;
		if (end > start)
			json_array_append_new(tags, json_stringn(start, end - start));
	}
}

/* contact_has_tag - is tag in the array? */

static int
contact_has_tag(json_t *tags, const char *tag)
{
	size_t	i;
	json_t *v;

	json_array_foreach(tags, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), tag) == 0)
		return (1);
	return (0);
}

/* contact_apply - write one row: create or merge */

static int
contact_apply(STORE_TXN *txn, CONTACT_ROW *row, time_t now, const char *event,
	              int *created)
{
	json_t *rec = 0, *fields, *tags, *v, *data;
	uint64_t id;
	size_t	i;
	int	rc;

	*created = 0;
	rc = store_contact_get_by_addr(txn, row->addr, &rec);
	if (rc == STORE_RETRY)
		return (rc);
	if (rc == STORE_NOTFOUND) {
		rec = json_pack("{s:s, s:I, s:O, s:O, s:o}", "email", row->addr,
				"created", (json_int_t) (row->created ? row->created : now),
				"fields", row->fields,
				"tags", row->tags, "score",
				row->score ? json_incref(row->score) : json_integer(0));
		if ((rc = store_contact_put(txn, rec, &id)) == STORE_OK) {
			*created = 1;
			if (event)
				rc = store_event_append(txn, id, now, event, 0, 0);
		}
		json_decref(rec);
		return (rc);
	}
	/* Merge into the existing record; record what changed. */
	id = (uint64_t) json_integer_value(json_object_get(rec, "id"));
	if ((fields = json_object_get(rec, "fields")) == 0 || !json_is_object(fields))
		json_object_set_new(rec, "fields", fields = json_object());
	if ((tags = json_object_get(rec, "tags")) == 0 || !json_is_array(tags))
		json_object_set_new(rec, "tags", tags = json_array());
	rc = store_contact_fields_set(txn, id, now, fields, row->fields, 0);
	json_array_foreach(row->tags, i, v) {
		if (rc != STORE_OK)
			break;
		if (contact_has_tag(tags, json_string_value(v)))
			continue;
		json_array_append(tags, v);
		data = json_pack("{s:O}", "tag", v);
		rc = store_event_append(txn, id, now, "tag_added", data, 0);
		json_decref(data);
	}
	if (row->score)
		json_object_set(rec, "score", row->score);
	/* A failed event is the batch's failure, not one a later one hides. */
	if (rc == STORE_OK)
		rc = store_contact_put(txn, rec, &id);
	json_decref(rec);
	return (rc);
}

/* contact_batch_op - write a batch of rows in the writer's transaction */

static int
contact_batch_op(STORE_TXN *txn, void *ctx)
{
	CONTACT_BATCH *b = ctx;
	int	i, rc, created;

	b->created = b->updated = 0;
	for (i = 0; i < b->nrows; i++) {
		rc = contact_apply(txn, b->rows + i, b->now, b->event, &created);
		if (rc != STORE_OK)
			return (rc);
		if (created)
			b->created++;
		else
			b->updated++;
	}
	return (STORE_OK);
}

static void
contact_row_free(CONTACT_ROW *row)
{
	json_decref(row->fields);
	json_decref(row->tags);
	json_decref(row->score);
}

static void
contact_batch_done(void *ctx, int status)
{
	CONTACT_BATCH *b = ctx;

	b->status = status;
}

/* contact_add - postdrip contact add */

static int
contact_add(CLI *cli, int argc, char **argv)
{
	CONTACT_BATCH b;
	CONTACT_ROW row;
	const char *why;
	char   *eq, *end;
	int	i, rc;

	if (argc < 3)
		return (fprintf(stderr, "usage: postdrip contact add ADDRESS [field=value...] [--tag TAG...] [--score N]\n"), CLI_USAGE);
	memset(&row, 0, sizeof(row));
	if (addr_normalize(argv[2], row.addr) == 0) {
		fprintf(stderr, "postdrip: not an e-mail address: \"%s\"\n", argv[2]);
		return (CLI_ERROR);
	}
	row.fields = json_object();
	row.tags = json_array();
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--tag") == 0 && i + 1 < argc) {
			contact_tags_add(row.tags, argv[++i]);
		} else if (strcmp(argv[i], "--score") == 0 && i + 1 < argc) {
			long	v = strtol(argv[++i], &end, 10);

			if (*end || end == argv[i]) {
				fprintf(stderr, "postdrip: --score wants an integer\n");
				contact_row_free(&row);
				return (CLI_USAGE);
			}
			json_decref(row.score);
			row.score = json_integer(v);
		} else if ((eq = strchr(argv[i], '=')) != 0) {
			*eq = 0;
			if ((why = contact_field_check(argv[i], eq + 1)) != 0) {
				fprintf(stderr, "postdrip: %s: %s\n", argv[i], why);
				contact_row_free(&row);
				return (CLI_USAGE);
			}
			json_object_set_new(row.fields, argv[i], json_string(eq + 1));
		} else {
			fprintf(stderr, "postdrip: expected field=value, --tag or --score: \"%s\"\n", argv[i]);
			contact_row_free(&row);
			return (CLI_USAGE);
		}
	}
	memset(&b, 0, sizeof(b));
	b.rows = &row;
	b.nrows = 1;
	b.now = clock_now();
	b.event = "subscribed";
	rc = store_write(cli_store(cli), contact_batch_op, &b);
	contact_row_free(&row);
	if (rc != STORE_OK) {
		fprintf(stderr, "postdrip: contact add: %s\n", store_strerror(rc));
		return (CLI_ERROR);
	}
	printf("%s %s\n", b.created ? "added" : "updated", row.addr);
	return (CLI_OK);
}

/* contact_show - postdrip contact show */

static int
contact_show(CLI *cli, int argc, char **argv)
{
	STORE_TXN *txn;
	json_t *rec;
	int	rc;
	char	when[CLOCK_ISO_LEN];

	if (argc != 3)
		return (fprintf(stderr, "usage: postdrip contact show ADDRESS\n"), CLI_USAGE);
	if (store_rbegin(cli_store(cli), &txn) != STORE_OK)
		return (CLI_ERROR);
	rc = store_contact_get_by_addr(txn, argv[2], &rec);
	store_rend(txn);
	if (rc == STORE_NOTFOUND) {
		fprintf(stderr, "postdrip: no contact %s\n", argv[2]);
		return (CLI_ERROR);
	}
	if (rc != STORE_OK)
		return (CLI_ERROR);
	/* Times people read are ISO 8601, not the stored epoch seconds. */
	if (json_is_integer(json_object_get(rec, "created")))
		json_object_set_new(rec, "created", json_string(clock_format((time_t)
			json_integer_value(json_object_get(rec, "created")), when)));
	json_dumpf(rec, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(rec);
	return (CLI_OK);
}

/* contact_export - postdrip contact export */

typedef struct EXPORT_CTX {
	json_t *names;			/* field names, for the header */
	STRBUF	sb;
} EXPORT_CTX;

/* export_names - pass 1: collect every field name */

static int
export_names(json_t *rec, void *ctx)
{
	EXPORT_CTX *ex = ctx;
	const char *name;
	json_t *v;

	json_object_foreach(json_object_get(rec, "fields"), name, v)
		json_object_set_new(ex->names, name, json_true());
	return (0);
}

/* export_row - pass 2: one CSV row */

static int
export_row(json_t *rec, void *ctx)
{
	EXPORT_CTX *ex = ctx;
	char	created[CLOCK_ISO_LEN];
	json_t *fields = json_object_get(rec, "fields"), *v;
	const char *name;
	size_t	i;

	csv_write_field(stdout, json_string_value(json_object_get(rec, "email")) ?: "", 0);
	csv_write_field(stdout, clock_format((time_t) json_integer_value(
				json_object_get(rec, "created")), created), 0);
	printf("%lld,", (long long) json_integer_value(json_object_get(rec, "score")));
	strbuf_reset(&ex->sb);
	json_array_foreach(json_object_get(rec, "tags"), i, v) {
		if (i)
			strbuf_putc(&ex->sb, ';');
		strbuf_puts(&ex->sb, json_string_value(v) ?: "");
	}
	csv_write_field(stdout, strbuf_str(&ex->sb), json_object_size(ex->names) == 0);
	i = 0;
	json_object_foreach(ex->names, name, v) {
		json_t *f = json_object_get(fields, name);

		csv_write_field(stdout, json_is_string(f) ? json_string_value(f) : "",
				++i == json_object_size(ex->names));
	}
	return (ferror(stdout) != 0);
}

static int
contact_export(CLI *cli, int argc, char **argv)
{
	STORE_TXN *txn;
	EXPORT_CTX ex;
	const char *name;
	json_t *v;
	size_t	i;
	int	rc;

	if (argc != 2)
		return (fprintf(stderr, "usage: postdrip contact export\n"), CLI_USAGE);
	if (store_rbegin(cli_store(cli), &txn) != STORE_OK)
		return (CLI_ERROR);
	ex.names = json_object();
	ex.sb = (STRBUF) STRBUF_INIT;
	/* One read transaction: both passes see the same contacts. */
	if ((rc = store_contact_walk(txn, export_names, &ex)) == STORE_OK) {
		fputs(json_object_size(ex.names) ? "email,created,score,tags," : "email,created,score,tags\n", stdout);
		i = 0;
		json_object_foreach(ex.names, name, v)
			csv_write_field(stdout, name, ++i == json_object_size(ex.names));
		rc = store_contact_walk(txn, export_row, &ex);
	}
	store_rend(txn);
	strbuf_free(&ex.sb);
	json_decref(ex.names);
	if (rc != STORE_OK)
		fprintf(stderr, "postdrip: contact export: %s\n", store_strerror(rc));
	return (rc != STORE_OK || ferror(stdout) ? CLI_ERROR : CLI_OK);
}

/* contact_import - postdrip contact import */

static int
contact_import(CLI *cli, int argc, char **argv)
{
	FILE   *fp;
	CSV    *csv;
	char  **f, **header = 0;
	int	nf, nheader = 0, lineno, rc, i, email_col = -1, status = CLI_OK;
	const char *err, *why, *why_col, *event = 0, *path;
	CONTACT_BATCH **batches = 0;	/* the writer holds pointers to them */
	int	nbatches = 0, skipped = 0, created = 0, updated = 0, failed = 0;
	CONTACT_BATCH *b = 0;
	STORE  *st;

	if (argc == 5 && strcmp(argv[3], "--event") == 0)
		event = argv[4];
	else if (argc != 3)
		return (fprintf(stderr, "usage: postdrip contact import FILE|- [--event TYPE]\n"), CLI_USAGE);
	path = argv[2];
	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "r")) == 0) {
		fprintf(stderr, "postdrip: %s: %s\n", path, strerror(errno));
		return (CLI_ERROR);
	}
	st = cli_store(cli);
	csv = csv_open(fp);
	/* Header. */
	rc = csv_read(csv, &f, &nf, &lineno, &err);
	if (rc <= 0) {
		fprintf(stderr, "%s:%d: %s\n", path, lineno, rc < 0 ? err : "empty file: no header row");
		csv_close(csv);
		if (fp != stdin)
			fclose(fp);
		return (CLI_ERROR);
	}
	/*
	 * A spreadsheet saving "CSV" in a locale whose decimal mark is the
	 * comma separates fields with ';'. Its header then reads as one
	 * comma-separated field that holds semicolons (no column name has
	 * one), and the rows are read with ';' from here on.
	 */
	if (nf == 1 && strchr(f[0], ';') != 0) {
		char   *cp, *name, *saved = mystrdup(f[0]);

		csv_delimiter(csv, ';');
		header = mycalloc(strlen(saved) + 1, sizeof(char *));
		for (nf = 0, cp = saved; (name = strsep(&cp, ";")) != 0; nf++)
			header[nf] = mystrdup(name);
		myfree(saved);
		f = header;
	} else {
		header = mycalloc(nf, sizeof(char *));
		for (i = 0; i < nf; i++)
			header[i] = mystrdup(f[i]);
	}
	for (i = 0; i < nf; i++) {
		char   *h = header[i];

		for (char *p = h; *p; p++)
			*p = tolower((unsigned char) *p);
		if (strcmp(h, "email") == 0 || strcmp(h, "e-mail") == 0 || strcmp(h, "email_address") == 0) {
			if (email_col >= 0) {
				/* Which of two addresses is the contact's? Do not guess. */
				fprintf(stderr, "%s:%d: column \"%s\" (%d) repeats the e-mail column \"%s\" (%d)\n",
					path, lineno, f[i], i + 1, f[email_col], email_col + 1);
				status = CLI_ERROR;
			} else
				email_col = i;
			continue;
		}
		for (int j = 0; j < i; j++) {
			if (strcmp(header[j], h) == 0) {
				fprintf(stderr, "%s:%d: column \"%s\" (%d) repeats column %d\n",
					path, lineno, f[i], i + 1, j + 1);
				status = CLI_ERROR;
				break;
			}
		}
		if (strcmp(h, "tags") && strcmp(h, "score") && strcmp(h, "created") && (why = contact_field_check(h, "")) != 0) {
			fprintf(stderr, "%s:%d: column \"%s\": %s\n", path, lineno, f[i], why);
			status = CLI_ERROR;
		}
	}
	nheader = nf;
	if (email_col < 0) {
		fprintf(stderr, "%s:%d: no \"email\" column in the header\n", path, lineno);
		status = CLI_ERROR;
	}
	while (status == CLI_OK && (rc = csv_read(csv, &f, &nf, &lineno, &err)) != 0) {
		CONTACT_ROW *row;

		if (rc < 0) {
			fprintf(stderr, "%s:%d: skipped: %s\n", path, lineno, err);
			skipped++;
			continue;
		}
		if (nf == 1 && f[0][0] == 0)
			continue;			/* blank line */
		if (nf != nheader) {
			fprintf(stderr, "%s:%d: skipped: %d fields, the header has %d\n",
				path, lineno, nf, nheader);
			skipped++;
			continue;
		}
		if (b == 0 || b->nrows == IMPORT_BATCH) {
			batches = myrealloc(batches, (nbatches + 1) * sizeof(*batches));
			b = batches[nbatches++] = mycalloc(1, sizeof(*b));
			b->rows = mycalloc(IMPORT_BATCH, sizeof(CONTACT_ROW));
			b->now = clock_now();
			b->event = event;
		}
		row = b->rows + b->nrows;
		memset(row, 0, sizeof(*row));
		for (i = 0; i < nf && contact_utf8_ok(f[i]); i++)
			 /* void */ ;
		if (i < nf) {
			fprintf(stderr, "%s:%d: skipped: %s: not valid UTF-8\n",
				path, lineno, i == email_col ? "email" : header[i]);
			skipped++;
			continue;
		}
		if (addr_normalize(f[email_col], row->addr) == 0) {
			fprintf(stderr, "%s:%d: skipped: not an e-mail address: \"%s\"\n",
				path, lineno, f[email_col]);
			skipped++;
			continue;
		}
		row->fields = json_object();
		row->tags = json_array();
		why = why_col = 0;
		for (i = 0; i < nf && why == 0; i++) {
			if (i == email_col)
				continue;
			if (strcmp(header[i], "tags") == 0) {
				contact_tags_add(row->tags, f[i]);
			} else if (strcmp(header[i], "created") == 0) {
				if (*f[i] && clock_parse(f[i], &row->created) < 0)
					why = "created is not an ISO 8601 time";
			} else if (strcmp(header[i], "score") == 0) {
				char   *end;
				long	v;

				if (*f[i] == 0)
					continue;
				v = strtol(f[i], &end, 10);
				if (*end || end == f[i])
					why = "score is not an integer";
				else
					row->score = json_integer(v);
			} else if (*f[i]) {
				if ((why = contact_field_check(header[i], f[i])) == 0)
					json_object_set_new(row->fields, header[i], json_string(f[i]));
				else
					why_col = header[i];
			}
		}
		if (why) {
			/* A field's complaint names its column; the others say it. */
			if (why_col)
				fprintf(stderr, "%s:%d: skipped: %s: %s\n", path, lineno, why_col, why);
			else
				fprintf(stderr, "%s:%d: skipped: %s\n", path, lineno, why);
			contact_row_free(row);
			skipped++;
			continue;
		}
		b->nrows++;
		/* Full batches go to the writer at once; it commits them while
		 * we parse on. */
		if (b->nrows == IMPORT_BATCH)
			store_write_async(st, contact_batch_op, b, contact_batch_done, 0);
	}
	if (b && b->nrows && b->nrows < IMPORT_BATCH)
		store_write_async(st, contact_batch_op, b, contact_batch_done, 0);
	store_flush(st);
	for (i = 0; i < nbatches; i++) {
		b = batches[i];
		if (b->status != STORE_OK) {
			failed += b->nrows;
			status = CLI_ERROR;
		} else {
			created += b->created;
			updated += b->updated;
		}
		for (int r = 0; r < b->nrows; r++)
			contact_row_free(b->rows + r);
		myfree(b->rows);
		myfree(b);
	}
	myfree(batches);
	for (i = 0; i < nheader; i++)
		myfree(header[i]);
	myfree(header);
	csv_close(csv);
	if (fp != stdin)
		fclose(fp);
	if (failed)
		fprintf(stderr, "postdrip: %d rows not written: store failure\n", failed);
	printf("%s: %d added, %d updated, %d skipped\n", path, created, updated, skipped);
	return (status);
}

int
cli_contact(CLI *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return (contact_add(cli, argc, argv));
	if (argc >= 2 && strcmp(argv[1], "show") == 0)
		return (contact_show(cli, argc, argv));
	if (argc >= 2 && strcmp(argv[1], "export") == 0)
		return (contact_export(cli, argc, argv));
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return (contact_import(cli, argc, argv));
	fprintf(stderr, "usage: postdrip contact add|show|export|import ...\n");
	return (CLI_USAGE);
}

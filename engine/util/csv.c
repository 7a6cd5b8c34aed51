/*++
/* NAME
/*	csv 3
/* SUMMARY
/*	RFC 4180 comma-separated records
/* DESCRIPTION
/*	Fields may be quoted; a quoted field may hold commas, doubled quotes
/*	and line breaks. CRLF and LF both end a record. A field over
/*	CSV_FIELD_MAX bytes, more than CSV_FIELDS_MAX fields, a stray quote
/*	inside an unquoted field, text after a closing quote, or a quote left
/*	open at the end of input make the record malformed; the reader then
/*	skips to the end of that record and goes on with the next one.
/*
/*	A UTF-8 byte order mark at the very start of the input (spreadsheets
/*	write one) is dropped. csv_delimiter() sets the field separator for
/*	the records read after it (';' for spreadsheets of locales whose
/*	decimal mark is the comma); it is ',' otherwise.
/*--*/
#include "pdconfig.h"

#include <stdlib.h>
#include <string.h>

#include "util/csv.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

struct CSV {
	FILE   *fp;
	int	lineno;
	STRBUF	field;
	char   *fields[CSV_FIELDS_MAX];
	int	nfields;
	int	delim;			/* field separator */
	int	at_start;		/* no byte read yet: a BOM may follow */
};

CSV    *
csv_open(FILE *fp)
{
	CSV    *csv = mycalloc(1, sizeof(*csv));

	csv->fp = fp;
	csv->lineno = 1;
	csv->delim = ',';
	csv->at_start = 1;
	return (csv);
}

static void
csv_clear(CSV *csv)
{
	while (csv->nfields > 0)
		myfree(csv->fields[--csv->nfields]);
}

void
csv_close(CSV *csv)
{
	csv_clear(csv);
	strbuf_free(&csv->field);
	myfree(csv);
}

/* csv_delimiter - the field separator from the next record on */

void
csv_delimiter(CSV *csv, int delim)
{
	csv->delim = delim;
}

/* csv_bom - drop a UTF-8 byte order mark at the start of the input */

static void
csv_bom(CSV *csv)
{
	static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
	int	ch, i, j;

	csv->at_start = 0;
	for (i = 0; i < 3; i++) {
		if ((ch = getc(csv->fp)) != bom[i]) {
			/* Not a BOM: the byte that differs goes back (one byte of
			 * push-back is all stdio promises), the ones that matched
			 * start the first field. */
			if (ch != EOF)
				ungetc(ch, csv->fp);
			for (j = 0; j < i; j++)
				strbuf_putc(&csv->field, bom[j]);
			return;
		}
	}
}

/* csv_skip - skip the rest of a malformed record (to an unquoted newline) */

static void
csv_skip(CSV *csv, int quoted)
{
	int	ch;

	while ((ch = getc(csv->fp)) != EOF) {
		if (ch == '"')
			quoted = !quoted;
		else if (ch == '\n') {
			csv->lineno++;
			if (!quoted)
				return;
		}
	}
}

int
csv_read(CSV *csv, char ***fields, int *nfields, int *lineno, const char **err)
{
	int	ch, quoted = 0, was_quoted = 0, after_quote = 0, any = 0;

	csv_clear(csv);
	strbuf_reset(&csv->field);
	*lineno = csv->lineno;
	*err = 0;
	if (csv->at_start)
		csv_bom(csv);
	for (;;) {
		ch = getc(csv->fp);
		if (ch == EOF) {
			if (quoted) {
				*err = "quoted field not closed at end of input";
				return (-1);
			}
			if (!any)
				return (0);
			ch = '\n';		/* last line without newline */
			csv->lineno--;
		}
		any = 1;
		if (quoted) {
			if (ch == '"') {
				int	next = getc(csv->fp);

				if (next == '"') {
					strbuf_putc(&csv->field, '"');
				} else {
					if (next != EOF)
						ungetc(next, csv->fp);
					quoted = 0;
					after_quote = 1;
				}
				continue;
			}
			if (ch == '\n')
				csv->lineno++;
			if (csv->field.len >= CSV_FIELD_MAX) {
				*err = "field too long";
				csv_skip(csv, 1);
				return (-1);
			}
			strbuf_putc(&csv->field, ch);
			continue;
		}
		if (ch == '\r') {
			int	next = getc(csv->fp);

			if (next != '\n') {
				if (next != EOF)
					ungetc(next, csv->fp);
				*err = "carriage return inside an unquoted field";
				csv_skip(csv, 0);
				return (-1);
			}
			ch = '\n';
		}
		if (ch == csv->delim || ch == '\n') {
			if (csv->nfields >= CSV_FIELDS_MAX) {
				*err = "too many fields";
				if (ch != '\n')
					csv_skip(csv, 0);
				else
					csv->lineno++;
				return (-1);
			}
			csv->fields[csv->nfields++] = mystrndup(strbuf_str(&csv->field), csv->field.len);
			strbuf_reset(&csv->field);
			was_quoted = after_quote = 0;
			if (ch == '\n') {
				csv->lineno++;
				*fields = csv->fields;
				*nfields = csv->nfields;
				return (1);
			}
			continue;
		}
		if (after_quote) {
			*err = "text after a closing quote";
			csv_skip(csv, 0);
			return (-1);
		}
		if (ch == '"') {
			if (csv->field.len > 0 || was_quoted) {
				*err = "quote inside an unquoted field";
				csv_skip(csv, 0);
				return (-1);
			}
			quoted = was_quoted = 1;
			continue;
		}
		if (ch == 0) {
			*err = "null byte";
			csv_skip(csv, 0);
			return (-1);
		}
		if (csv->field.len >= CSV_FIELD_MAX) {
			*err = "field too long";
			csv_skip(csv, 0);
			return (-1);
		}
		strbuf_putc(&csv->field, ch);
	}
}

void
csv_write_field(FILE *fp, const char *text, int last)
{
	const char *p;

	if (strpbrk(text, ",\"\r\n") == 0 && *text != ' ') {
		fputs(text, fp);
	} else {
		putc('"', fp);
		for (p = text; *p; p++) {
			if (*p == '"')
				putc('"', fp);
			putc(*p, fp);
		}
		putc('"', fp);
	}
	fputs(last ? "\n" : ",", fp);
}

#ifndef PD_CSV_H
#define PD_CSV_H

/*
 * csv - RFC 4180 records from a stream, bounded.
 */
#include <stdio.h>

typedef struct CSV CSV;

#define CSV_FIELD_MAX	8192		/* bytes in one field */
#define CSV_FIELDS_MAX	256		/* fields in one record */

CSV    *csv_open(FILE *fp);
void	csv_close(CSV *csv);

/* The field separator of the records read from now on (default ','). */
void	csv_delimiter(CSV *csv, int delim);

/* Read one record: 1 and *fields (valid until the next call), 0 at end of
 * input, -1 for a malformed record (skipped through its end; *err says why).
 * *lineno is the line the record starts on. */
int	csv_read(CSV *csv, char ***fields, int *nfields, int *lineno, const char **err);

/* Write one field, quoted when needed. */
void	csv_write_field(FILE *fp, const char *text, int last);

#endif

/*++
/* NAME
/*	fuzz_csv 1
/* SUMMARY
/*	fuzz target: the CSV reader of "postdrip contact import"
/* SYNOPSIS
/*	LLVMFuzzerTestOneInput(data, size)
/* DESCRIPTION
/*	Reads the input as CSV to the end, as the import does, and checks
/*	what the reader promises: it ends, line numbers never go down, a
/*	record has between 1 and CSV_FIELDS_MAX fields of at most
/*	CSV_FIELD_MAX bytes, and a malformed record comes with a reason.
/*--*/
#include "pdconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/csv.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE   *fp;
	CSV    *csv;
	char  **fields;
	int	n, line, last = 0, rc, i, records = 0;
	const char *err;

	if (size == 0 || (fp = fmemopen((void *) data, size, "r")) == 0)
		return (0);
	csv = csv_open(fp);
	while ((rc = csv_read(csv, &fields, &n, &line, &err)) != 0) {
		if (line < last || ++records > (int) size + 1)
			abort();
		last = line;
		if (rc < 0) {
			if (err == 0 || *err == 0)
				abort();
			continue;
		}
		if (n < 1 || n > CSV_FIELDS_MAX)
			abort();
		for (i = 0; i < n; i++)
			if (strlen(fields[i]) > CSV_FIELD_MAX)
				abort();
	}
	csv_close(csv);
	fclose(fp);
	return (0);
}

/*++
/* NAME
/*	fuzz_config 1
/* SUMMARY
/*	fuzz target: the postdrip.conf parser
/* SYNOPSIS
/*	LLVMFuzzerTestOneInput(data, size)
/* DESCRIPTION
/*	Writes the input to a temporary file and loads it with
/*	config_load(), as a daemon loads postdrip.conf. Then it checks what
/*	the parser promises: a failed load returns errors and nothing else,
/*	every error line names the file, a successful load returns none,
/*	and every setting can be read back with the accessor of its type,
/*	with numbers inside their bounds. A broken promise aborts, which
/*	the fuzzer reports like a crash.
/*
/*	The file is rewritten in place for each input: config_load() takes
/*	a path, and the path must not change between inputs, or error texts
/*	would differ from run to run.
/*--*/
#include "pdconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "util/mymalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path[256];

/* fuzz_cleanup - remove the temporary file at exit */

static void
fuzz_cleanup(void)
{
	if (fuzz_path[0])
		(void) unlink(fuzz_path);
}

/* fuzz_init - make the temporary file once */

static void
fuzz_init(void)
{
	const char *tmp = getenv("TMPDIR");
	int	fd;

	snprintf(fuzz_path, sizeof(fuzz_path), "%s/fuzz_config.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if ((fd = mkstemp(fuzz_path)) < 0) {
		perror(fuzz_path);
		abort();
	}
	close(fd);
	atexit(fuzz_cleanup);
}

/* fuzz_check_errors - every line is "path:..." and the text ends in \n */

static void
fuzz_check_errors(const char *err)
{
	size_t	plen = strlen(fuzz_path);
	const char *line, *nl;

	if (err == 0 || *err == 0)
		abort();				/* failure without a reason */
	for (line = err; *line; line = nl + 1) {
		if (strncmp(line, fuzz_path, plen) != 0 || line[plen] != ':')
			abort();			/* error without file name */
		if ((nl = strchr(line, '\n')) == 0)
			abort();			/* unterminated error line */
	}
}

/* fuzz_check_config - read every setting back with its own accessor */

static void
fuzz_check_config(CONFIG *cf)
{
	const CONF_PARAM *p;
	long long v;
	char  **list;

	for (p = config_params; p->name; p++) {
		if (config_str(cf, p->name) == 0)
			abort();
		(void) config_is_default(cf, p->name);
		switch (p->type) {
		case CONF_INT:
		case CONF_TIME:
		case CONF_SIZE:
			v = config_int(cf, p->name);
			if ((p->min || p->max) && (v < p->min || v > p->max))
				abort();		/* accepted out of range */
			break;
		case CONF_BOOL:
			(void) config_bool(cf, p->name);
			break;
		case CONF_LIST:
			if ((list = config_list(cf, p->name)) == 0)
				abort();
			for (; *list; list++)
				if (**list == 0)
					abort();	/* empty list element */
			break;
		case CONF_STR:
		case CONF_SOCKET:
			break;
		}
	}
	if (strcmp(config_path(cf), fuzz_path) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE   *fp;
	CONFIG *cf;
	char   *err = 0;

	if (fuzz_path[0] == 0)
		fuzz_init();
	if ((fp = fopen(fuzz_path, "wb")) == 0) {
		perror(fuzz_path);
		abort();
	}
	if (size && fwrite(data, 1, size, fp) != size) {
		perror(fuzz_path);
		abort();
	}
	if (fclose(fp) != 0) {
		perror(fuzz_path);
		abort();
	}
	if ((cf = config_load(fuzz_path, &err)) == 0) {
		fuzz_check_errors(err);
		myfree(err);
		return (0);
	}
	if (err != 0)
		abort();				/* success with errors */
	fuzz_check_config(cf);
	config_unref(config_ref(cf));
	config_unref(cf);
	return (0);
}

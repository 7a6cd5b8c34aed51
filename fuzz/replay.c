/*++
/* NAME
/*	replay 1
/* SUMMARY
/*	run a fuzz target over its corpus without libFuzzer
/* SYNOPSIS
/*	fuzz_NAME.replay [file-or-directory ...]
/* DESCRIPTION
/*	Linked with one fuzz target (fuzz/fuzz_NAME.c), this program feeds
/*	every file of the target's seed corpus, fuzz/corpus/NAME/, to its
/*	LLVMFuzzerTestOneInput(), then the empty input. Built with gcc and
/*	the sanitizers like the unit tests, it makes every fuzz target a
/*	regression test in "make check": a seed that once crashed the
/*	parser stays in the corpus and must keep passing.
/*
/*	With arguments, the named files (and the files in the named
/*	directories) are run instead: that reproduces a crash file that
/*	libFuzzer wrote.
/*
/*	Each input is copied into a buffer of exactly its size, so that the
/*	address sanitizer sees a read past its end as it would under
/*	libFuzzer. Inputs are run in name order, so a failure repeats.
/* DIAGNOSTICS
/*	Names each input on stderr before it runs when FUZZ_VERBOSE is set,
/*	and the one that failed when the target aborts is the last named.
/*	Exit 0 when every input was run; 1 when an input cannot be read;
/*	a crash ends the program as the sanitizers decide. Exit 77 (skip)
/*	when the corpus directory does not exist.
/*--*/
#include "pdconfig.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define REPLAY_MAX_INPUT	(16 * 1024 * 1024)	/* libFuzzer's corpora stay far below */

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int	LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#ifndef FUZZ_CORPUS
#define FUZZ_CORPUS 0
#endif

static int replay_verbose;
static int replay_count;

/* replay_file - run the target on one file */

static int
replay_file(const char *path)
{
	FILE   *fp;
	struct stat st;
	uint8_t *data;
	size_t	got;

	if ((fp = fopen(path, "rb")) == 0 || fstat(fileno(fp), &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		if (fp)
			fclose(fp);
		return (-1);
	}
	if (st.st_size > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: %s: larger than %d bytes\n", path, REPLAY_MAX_INPUT);
		fclose(fp);
		return (-1);
	}
	/* One byte more than needed only when empty: malloc(0) may be NULL. */
	data = malloc(st.st_size ? (size_t) st.st_size : 1);
	if (data == 0) {
		fprintf(stderr, "replay: out of memory\n");
		exit(1);
	}
	got = fread(data, 1, st.st_size, fp);
	fclose(fp);
	if (got != (size_t) st.st_size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(data);
		return (-1);
	}
	if (replay_verbose)
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, got);
	LLVMFuzzerTestOneInput(data, got);
	free(data);
	replay_count++;
	return (0);
}

/* replay_cmp - name order for qsort */

static int
replay_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *) a, *(char *const *) b));
}

/* replay_dir - run the target on each file in a directory, in name order */

static int
replay_dir(const char *dir)
{
	DIR    *dp;
	struct dirent *de;
	char  **names = 0, *path;
	size_t	n = 0, i;
	int	errors = 0;
	struct stat st;

	if ((dp = opendir(dir)) == 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return (-1);
	}
	while ((de = readdir(dp)) != 0) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		if (names == 0 || (names[n] = strdup(de->d_name)) == 0) {
			fprintf(stderr, "replay: out of memory\n");
			exit(1);
		}
		n++;
	}
	closedir(dp);
	if (n)
		qsort(names, n, sizeof(*names), replay_cmp);
	for (i = 0; i < n; i++) {
		if ((path = malloc(strlen(dir) + strlen(names[i]) + 2)) == 0) {
			fprintf(stderr, "replay: out of memory\n");
			exit(1);
		}
		sprintf(path, "%s/%s", dir, names[i]);
		/* Seeds are flat; anything else (a README) is not an input. */
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && replay_file(path) < 0)
			errors++;
		free(path);
		free(names[i]);
	}
	free(names);
	return (errors ? -1 : 0);
}

/* replay_arg - a file or a directory */

static int
replay_arg(const char *arg)
{
	struct stat st;

	if (stat(arg, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", arg, strerror(errno));
		return (-1);
	}
	return (S_ISDIR(st.st_mode) ? replay_dir(arg) : replay_file(arg));
}

int
main(int argc, char **argv)
{
	static const uint8_t empty[1];
	const char *corpus = getenv("FUZZ_CORPUS") ? getenv("FUZZ_CORPUS") : FUZZ_CORPUS;
	int	errors = 0, i;
	struct stat st;

	replay_verbose = getenv("FUZZ_VERBOSE") != 0;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			if (replay_arg(argv[i]) < 0)
				errors++;
	} else {
		if (corpus == 0 || stat(corpus, &st) < 0 || !S_ISDIR(st.st_mode)) {
			printf("SKIP: no seed corpus %s\n", corpus ? corpus : "(none compiled in)");
			return (77);
		}
		if (replay_dir(corpus) < 0)
			errors++;
	}
	LLVMFuzzerTestOneInput(empty, 0);
	replay_count++;
	printf("%s: %d inputs replayed%s\n", argv[0], replay_count,
	       errors ? ", some could not be read" : "");
	return (errors ? 1 : 0);
}

/*++
/* NAME
/*	classify_bench 1
/* SUMMARY
/*	messages classified per second, on one core
/* SYNOPSIS
/*	classify_bench [-t seconds] [-n max-rounds] DIR
/* DESCRIPTION
/*	Loads every *.eml file under DIR into memory (at most 10000 files of
/*	at most 1 MB each), then classifies them all, round after round, in
/*	one thread until the time (default 3 s) or the number of rounds
/*	(default 1000) is used up. Prints the number of messages, the
/*	rounds, and messages per second of CPU time (what one core does)
/*	and of wall-clock time (lower when the machine is shared).
/* DIAGNOSTICS
/*	Exit status 1 when DIR holds no message.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "classify/classify.h"

#define MAX_FILES	10000
#define MAX_SIZE	(1024 * 1024)

typedef struct {
	char   *data;
	size_t	len;
} MSGFILE;

static MSGFILE files[MAX_FILES];
static size_t nfiles;
static size_t total_bytes;

/* load - one file into memory */

static void
load(const char *path)
{
	FILE   *fp;
	struct stat st;
	size_t	n;

	if (nfiles >= MAX_FILES || stat(path, &st) < 0 || st.st_size > MAX_SIZE)
		return;
	if ((fp = fopen(path, "r")) == 0)
		return;
	files[nfiles].data = mymalloc(st.st_size + 1);
	n = fread(files[nfiles].data, 1, st.st_size, fp);
	fclose(fp);
	files[nfiles].len = n;
	total_bytes += n;
	nfiles++;
}

/* walk - every *.eml below dir */

static void
walk(const char *dir, int depth)
{
	DIR    *dp;
	struct dirent *de;
	char   *path;
	struct stat st;
	size_t	len;

	if (depth > 4 || (dp = opendir(dir)) == 0)
		return;
	while ((de = readdir(dp)) != 0) {
		if (de->d_name[0] == '.')
			continue;
		path = myasprintf("%s/%s", dir, de->d_name);
		len = strlen(de->d_name);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			walk(path, depth + 1);
		else if (len > 4 && strcmp(de->d_name + len - 4, ".eml") == 0)
			load(path);
		myfree(path);
	}
	closedir(dp);
}

/* now - seconds on a clock */

static double
now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* main - load, classify round after round, report */

int
main(int argc, char **argv)
{
	double	seconds = 3.0;
	long	max_rounds = 1000;
	long	rounds = 0;
	size_t	done = 0;
	size_t	i;
	double	start, elapsed, cpu0, cpu;
	CLASSIFY_RESULT res;
	int	ch;

	msg_open("classify_bench", 1);
	while ((ch = getopt(argc, argv, "t:n:")) != -1) {
		switch (ch) {
		case 't':
			seconds = atof(optarg);
			break;
		case 'n':
			max_rounds = atol(optarg);
			break;
		default:
			msg_fatal("usage: classify_bench [-t seconds] [-n rounds] DIR");
		}
	}
	if (optind != argc - 1)
		msg_fatal("usage: classify_bench [-t seconds] [-n rounds] DIR");
	walk(argv[optind], 0);
	if (nfiles == 0)
		msg_fatal("no *.eml files under %s", argv[optind]);

	/* One round first, so that one-time initialisation is not timed. */
	classify_message(files[0].data, files[0].len, &res);
	classify_free(&res);

	start = now(CLOCK_MONOTONIC);
	cpu0 = now(CLOCK_PROCESS_CPUTIME_ID);
	do {
		for (i = 0; i < nfiles; i++) {
			classify_message(files[i].data, files[i].len, &res);
			classify_free(&res);
		}
		done += nfiles;
		rounds++;
	} while (rounds < max_rounds && now(CLOCK_MONOTONIC) - start < seconds);
	elapsed = now(CLOCK_MONOTONIC) - start;
	cpu = now(CLOCK_PROCESS_CPUTIME_ID) - cpu0;

	/*
	 * The CPU-time rate is what one core does; the wall-clock rate is
	 * lower when other work shares the machine.
	 */
	printf("classify: %zu messages (%.1f KB average), %ld rounds, %zu classified "
	       "in %.2f s CPU (%.2f s wall): %.0f messages/s per core "
	       "(%.0f/s wall clock)\n", nfiles, total_bytes / 1024.0 / nfiles,
	       rounds, done, cpu, elapsed, cpu > 0 ? done / cpu : 0,
	       elapsed > 0 ? done / elapsed : 0);
	for (i = 0; i < nfiles; i++)
		myfree(files[i].data);
	return (0);
}

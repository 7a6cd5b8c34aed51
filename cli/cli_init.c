/*++
/* NAME
/*	cli_init 1
/* SUMMARY
/*	postdrip init: a working configuration from the installed example
/* SYNOPSIS
/*	postdrip init [DIR]
/* DESCRIPTION
/*	Copies the example configuration that "make install" put under
/*	$(datadir)/postdrip/conf (postdrip.conf, workflows/, templates/,
/*	bounce-reasons when present) to DIR, by default the directory of the
/*	default postdrip.conf. A file that already exists is kept and named,
/*	so that init never overwrites an administrator's work; run it again
/*	after an upgrade to get the files new to the release.
/*
/*	The environment variable POSTDRIP_DATADIR names another source
/*	directory (the tests use it after "make install DESTDIR=...").
/* DIAGNOSTICS
/*	Exit 0 when every file was copied or kept; 1 on an error.
/*--*/
#include "pdconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#define INIT_DEPTH	4		/* conf/ is two levels deep */

/* init_copy - copy one file, not over an existing one */

static int
init_copy(const char *from, const char *to, mode_t mode)
{
	char	buf[8192];
	ssize_t	n;
	int	in, out, err = 0;

	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL, mode & 0644)) < 0) {
		if (errno == EEXIST) {
			printf("kept %s\n", to);
			return (0);
		}
		fprintf(stderr, "postdrip: init: %s: %s\n", to, strerror(errno));
		return (-1);
	}
	if ((in = open(from, O_RDONLY)) < 0) {
		fprintf(stderr, "postdrip: init: %s: %s\n", from, strerror(errno));
		close(out);
		return (-1);
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t) n) != n) {
			err = errno ? errno : EIO;
			break;
		}
	if (n < 0)
		err = errno;
	close(in);
	if (close(out) < 0 && err == 0)
		err = errno;
	if (err) {
		fprintf(stderr, "postdrip: init: %s: %s\n", to, strerror(err));
		return (-1);
	}
	printf("created %s\n", to);
	return (0);
}

/* init_tree - copy a directory tree, bounded in depth */

static int
init_tree(const char *from, const char *to, int depth)
{
	STRBUF	src = STRBUF_INIT, dst = STRBUF_INIT;
	struct dirent *de;
	struct stat st;
	DIR    *d;
	int	errors = 0;

	if (depth > INIT_DEPTH)
		return (0);
	if (mkdir(to, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "postdrip: init: %s: %s\n", to, strerror(errno));
		return (1);
	}
	if ((d = opendir(from)) == 0) {
		fprintf(stderr, "postdrip: init: %s: %s\n", from, strerror(errno));
		return (1);
	}
	while ((de = readdir(d)) != 0) {
		if (de->d_name[0] == '.')
			continue;
		strbuf_reset(&src);
		strbuf_reset(&dst);
		strbuf_printf(&src, "%s/%s", from, de->d_name);
		strbuf_printf(&dst, "%s/%s", to, de->d_name);
		if (stat(strbuf_str(&src), &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			errors += init_tree(strbuf_str(&src), strbuf_str(&dst), depth + 1);
		else if (S_ISREG(st.st_mode))
			errors += (init_copy(strbuf_str(&src), strbuf_str(&dst), st.st_mode) < 0);
	}
	closedir(d);
	strbuf_free(&src);
	strbuf_free(&dst);
	return (errors);
}

/* cli_init - postdrip init [DIR] */

int
cli_init(CLI *cli, int argc, char **argv)
{
	STRBUF	src = STRBUF_INIT;
	const char *dir = SYSCONFDIR "/postdrip", *data;
	int	errors;

	(void) cli;
	if (argc > 2 || (argc == 2 && argv[1][0] == '-'))
		return (fprintf(stderr, "usage: postdrip init [DIR]\n"), CLI_USAGE);
	if (argc == 2)
		dir = argv[1];
	if ((data = getenv("POSTDRIP_DATADIR")) == 0)
		data = PKGDATADIR;
	strbuf_printf(&src, "%s/conf", data);
	errors = init_tree(strbuf_str(&src), dir, 0);
	strbuf_free(&src);
	if (errors == 0)
		printf("postdrip: init: %s is ready; edit postdrip.conf, then run \"postdrip check\"\n", dir);
	return (errors ? CLI_ERROR : CLI_OK);
}

/*++
/* NAME
/*	usage 3
/* SUMMARY
/*	--help and --version for every program
/* SYNOPSIS
/*	#include "util/usage.h"
/*
/*	void	usage_std(argc, argv, prog, synopsis, options)
/* DESCRIPTION
/*	Every postdrip program answers "--help" (its synopsis and options
/*	on stdout) and "--version" ("PROGRAM (postdrip) VERSION") with exit
/*	status 0, in the same shape, as administrators expect of mature
/*	software; getopt() alone would answer "invalid option -- '-'".
/*
/*	usage_std() scans argv up to a "--" and exits 0 after printing when
/*	it finds either option; otherwise it returns and the program parses
/*	its options as before. "-c --help" is the config file "--help", not
/*	a request for help, so an argument of -c is skipped.
/* DIAGNOSTICS
/*	None.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/usage.h"

/* usage_version - one line, like "postconf mail_version" */

void
usage_version(const char *prog)
{
	printf("%s (%s) %s\n", prog, PACKAGE_NAME, PACKAGE_VERSION);
}

/* usage_help - the synopsis and the options */

void
usage_help(const char *synopsis, const char *options)
{
	printf("usage: %s\n", synopsis);
	if (options && *options)
		printf("\noptions:\n%s", options);
	printf("\n--help and --version print this text and the version.\n");
}

/* usage_std - answer --help and --version, or return */

void
usage_std(int argc, char **argv, const char *prog, const char *synopsis,
	          const char *options)
{
	int	i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return;
		if (strcmp(argv[i], "-c") == 0) {
			i++;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0) {
			usage_help(synopsis, options);
			exit(0);
		}
		if (strcmp(argv[i], "--version") == 0) {
			usage_version(prog);
			exit(0);
		}
	}
}

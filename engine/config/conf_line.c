/*++
/* NAME
/*	conf_line 3
/* SUMMARY
/*	the line of postdrip.conf that sets a setting
/* SYNOPSIS
/*	#include "config/conf_line.h"
/*
/*	int	conf_line(path, name)
/*	const char *path;
/*	const char *name;
/* DESCRIPTION
/*	conf_line() finds the line of the file path on which the setting
/*	name is given, so that a value which config_load() accepted but a
/*	later check refuses (an unknown default_timezone) can still be
/*	reported as "file:line: message". The last definition wins, as it
/*	does in config_load(). Continuation lines (those that start with
/*	white space) and comments never match.
/*
/*	The CONFIG API keeps values, not their lines; reading the file
/*	again is cheaper than carrying a line number for every setting, and
/*	it is only done to report an error.
/* DIAGNOSTICS
/*	conf_line() returns 0 when the file cannot be read or does not set
/*	name (the value is then its default). Lines longer than the buffer
/*	are read in pieces; only the first piece of a line can match.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>

#include "config/conf_line.h"

/* conf_line - line number of the last "name = value" in path, or 0 */

int
conf_line(const char *path, const char *name)
{
	FILE   *fp;
	char	buf[1024];
	size_t	len = strlen(name);
	int	lineno = 0, found = 0, at_start = 1;
	const char *p;

	if (path == 0 || (fp = fopen(path, "r")) == 0)
		return (0);
	while (fgets(buf, sizeof(buf), fp) != 0) {
		if (at_start) {
			lineno++;
			if (strncmp(buf, name, len) == 0) {
				for (p = buf + len; *p == ' ' || *p == '\t'; p++)
					 /* void */ ;
				if (*p == '=')
					found = lineno;
			}
		}
		at_start = strchr(buf, '\n') != 0;
	}
	(void) fclose(fp);
	return (found);
}

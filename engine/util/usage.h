#ifndef PD_USAGE_H
#define PD_USAGE_H

/*
 * usage - "--help" and "--version", the same shape in every program.
 *
 * usage_version() prints "PROGRAM (postdrip) VERSION" on stdout.
 * usage_help() prints "usage: SYNOPSIS", a blank line and the option lines
 * (each "  -x ARG      what it does") on stdout. usage_std() looks for
 * "--help" or "--version" among argv's options (before a "--") and, when it
 * finds one, prints and exits 0: a program calls it before its getopt().
 */
void	usage_version(const char *prog);
void	usage_help(const char *synopsis, const char *options);
void	usage_std(int argc, char **argv, const char *prog,
		          const char *synopsis, const char *options);

#endif

/*++
/* NAME
/*	testutil 3
/* SUMMARY
/*	helpers for unit tests
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/mymalloc.h"
#include "testutil.h"

char   *
test_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char   *dir = myasprintf("%s/pdtest.XXXXXX", tmp && *tmp ? tmp : "/tmp");

	if (mkdtemp(dir) == 0)
		msg_fatal("mkdtemp %s: %m", dir);
	return (dir);
}

void
test_rmdir(char *dir)
{
	char   *cmd = myasprintf("rm -rf '%s'", dir);

	if (system(cmd) != 0)
		msg_warn("cannot remove %s", dir);
	myfree(cmd);
	myfree(dir);
}

char   *
test_write(const char *dir, const char *name, const char *text)
{
	char   *path = myasprintf("%s/%s", dir, name);
	FILE   *fp = fopen(path, "w");

	if (fp == 0)
		msg_fatal("%s: %m", path);
	fputs(text, fp);
	fclose(fp);
	return (path);
}

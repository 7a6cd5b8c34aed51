/*++
/* NAME
/*	null_milter 1
/* SUMMARY
/*	a milter that does nothing, to compare postdrip-milter with
/* SYNOPSIS
/*	null_milter unix:/path | inet:port@host
/* DESCRIPTION
/*	null_milter accepts every message. It registers only the end of
/*	message callback, so libmilter asks Postfix for nothing else: this
/*	is the cheapest a milter can be, the baseline of
/*	bench/milter_bench.sh. It stops on SIGTERM.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <libmilter/mfapi.h>

/* null_eom - accept */

static sfsistat
null_eom(SMFICTX *ctx)
{
	(void) ctx;
	return (SMFIS_ACCEPT);
}

int
main(int argc, char **argv)
{
	struct smfiDesc desc;

	if (argc != 2) {
		fprintf(stderr, "usage: null_milter unix:/path | inet:port@host\n");
		return (2);
	}
	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = "null_milter";
	desc.xxfi_version = SMFI_VERSION;
	desc.xxfi_eom = null_eom;
	if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS
	    || smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "null_milter: cannot listen on %s\n", argv[1]);
		return (1);
	}
	if (strncmp(argv[1], "unix:", 5) == 0)
		(void) chmod(argv[1] + 5, 0666);
	return (smfi_main() == MI_SUCCESS ? 0 : 1);
}

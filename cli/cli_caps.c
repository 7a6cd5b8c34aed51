/*++
/* NAME
/*	cli_caps 3
/* SUMMARY
/*	the frequency-cap part of postdrip check
/* SYNOPSIS
/*	#include "cli.h"
/*
/*	int	cli_check_caps(cli, errs)
/* DESCRIPTION
/*	config_load() checks each setting's type; the syntax inside
/*	frequency_caps, frequency_caps_sender, domain_rate_limit and
/*	domain_rate_limit_domains is caps_create()'s to judge, and both
/*	postdrip-policyd and postdrip-engine would refuse to start on it.
/*	So "postdrip check" builds the rules once, as they will.
/* DIAGNOSTICS
/*	"file: setting: message" lines (the settings have no single line);
/*	returns the number of problems.
/*--*/
#include "pdconfig.h"

#include <string.h>

#include "caps/caps.h"
#include "cli.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

/* cli_check_caps - can the caps be built from these settings? */

int
cli_check_caps(CLI *cli, STRBUF *errs)
{
	const char *path = config_path(cli->cf) ? config_path(cli->cf) : "postdrip.conf";
	CAPS   *caps;
	char   *err, *line, *nl;
	int	n = 0;

	if ((caps = caps_create(cli->cf, &err)) != 0) {
		caps_free(caps);
		return (0);
	}
	for (line = err; line; line = nl ? nl + 1 : 0) {
		if ((nl = strchr(line, '\n')) != 0)
			*nl = 0;
		strbuf_printf(errs, "%s: %s\n", path, line);
		n++;
	}
	myfree(err);
	return (n);
}

/*++
/* NAME
/*	classify_rcpt 3
/* SUMMARY
/*	recipient rows of a classification result
/* SYNOPSIS
/*	#include "classify/classify_int.h"
/*
/*	CLASSIFY_RCPT *classify_add_rcpt(res, addr)
/*	CLASSIFY_RESULT *res;
/*	const char *addr;
/*
/*	CLASSIFY_RCPT *classify_find_rcpt(res, addr)
/*	CLASSIFY_RESULT *res;
/*	const char *addr;
/* DESCRIPTION
/*	classify_add_rcpt() appends a zeroed row for addr (copied in lower
/*	case, truncated to fit) and returns it; it returns null when the
/*	result already holds CLASSIFY_MAX_RCPT rows.
/*
/*	classify_find_rcpt() returns the row for addr, or null.
/* DIAGNOSTICS
/*	None.
/*--*/
#include "pdconfig.h"

#include <string.h>
#include <strings.h>
#include <ctype.h>

#include "util/mymalloc.h"
#include "classify/classify_int.h"

/* classify_add_rcpt - one more row */

CLASSIFY_RCPT *
classify_add_rcpt(CLASSIFY_RESULT *res, const char *addr)
{
	CLASSIFY_RCPT *rcpt;
	size_t	i;

	if (res->nrcpt >= CLASSIFY_MAX_RCPT)
		return (0);
	/* Grow in steps: most reports name one recipient, few more than 8. */
	if (res->nrcpt % 8 == 0)
		res->rcpt = myrealloc(res->rcpt, (res->nrcpt + 8) * sizeof(*rcpt));
	rcpt = res->rcpt + res->nrcpt++;
	memset(rcpt, 0, sizeof(*rcpt));
	for (i = 0; addr[i] && i + 1 < sizeof(rcpt->recipient); i++)
		rcpt->recipient[i] = tolower((unsigned char) addr[i]);
	rcpt->recipient[i] = 0;
	return (rcpt);
}

/* classify_find_rcpt - the row of one address */

CLASSIFY_RCPT *
classify_find_rcpt(CLASSIFY_RESULT *res, const char *addr)
{
	size_t	i;

	for (i = 0; i < res->nrcpt; i++)
		if (strcasecmp(res->rcpt[i].recipient, addr) == 0)
			return (res->rcpt + i);
	return (0);
}

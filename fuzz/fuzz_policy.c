/*++
/* NAME
/*	fuzz_policy 1
/* SUMMARY
/*	fuzz target: the policy request reader
/* SYNOPSIS
/*	LLVMFuzzerTestOneInput(data, size)
/* DESCRIPTION
/*	Feeds the input to policy_parse() twice, whole and in small pieces
/*	the way a socket delivers it, answering every complete request and
/*	going on with the next, and checks that both ways agree and that
/*	the reader never reports more than it was given. Small limits make
/*	every limit reachable with short inputs.
/*
/*	Including policyd_proto.h has fuzz/sources.sh link
/*	policyd/policyd_proto.c, which needs nothing but libc.
/*	Seeds: fuzz/corpus/policy/.
/*--*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../policyd/policyd_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_run - parse data in pieces of step bytes; count requests */

static int
fuzz_run(const uint8_t *data, size_t size, size_t step, const POLICY_LIMITS *lim,
	         size_t *done)
{
	char   *buf = malloc(size + 1);
	POLICY_REQ req;
	size_t	have = 0, start = 0, take;
	int	rc = POLICY_MORE, a;

	*done = 0;
	policy_reset(&req);
	while (have < size) {
		take = size - have < step ? size - have : step;
		memcpy(buf + have, data + have, take);
		have += take;
		while ((rc = policy_parse(buf + start, have - start, lim, &req)) == POLICY_DONE) {
			if (req.pos == 0 || req.pos > have - start)
				abort();
			for (a = 0; a < PA_COUNT; a++) {
				const char *v = policy_value(&req, buf + start, (POLICY_ATTR) a);

				if (req.off[a] != POLICY_ABSENT
				    && (req.off[a] + req.len[a] >= req.pos || strlen(v) != req.len[a]))
					abort();
			}
			(*done)++;
			start += req.pos;
			policy_reset(&req);
		}
		if (rc < 0)
			break;
		if (req.pos > have - start || req.nattr > lim->attr_limit)
			abort();
	}
	free(buf);
	return (rc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const POLICY_LIMITS lim = {64, 16, 512};
	size_t	whole, pieces;
	int	a, b;

	a = fuzz_run(data, size, size ? size : 1, &lim, &whole);
	b = fuzz_run(data, size, 3, &lim, &pieces);
	if ((a < 0) != (b < 0) || whole != pieces)
		abort();
	return (0);
}

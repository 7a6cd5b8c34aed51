/*++
/* NAME
/*	fuzz_lmtp 1
/* SUMMARY
/*	fuzz target: the LMTP protocol of postdrip-milter's receiver
/* SYNOPSIS
/*	LLVMFuzzerTestOneInput(data, size)
/* DESCRIPTION
/*	Feeds the input to lmtp_proto_input() as a client's bytes, whole
/*	and in pieces of 3 bytes, with callbacks that accept recipients on
/*	one domain and answer once per recipient after DATA, and checks
/*	that both ways give the same replies, that every reply line is a
/*	three-digit code, and that each DATA answered with 354 and ended
/*	gets exactly one reply per accepted recipient. Small limits make
/*	every bound reachable with short inputs.
/*
/*	Including milter_lmtp_proto.h has fuzz/sources.sh link
/*	milter/milter_lmtp_proto.c, which needs only the engine's util.
/*	Seeds: fuzz/corpus/lmtp/.
/*--*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../milter/milter_lmtp_proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fuzz_rcpt(void *ctx, LMTP_PROTO *p, const char *addr, int *kind, char *reply, size_t len)
{
	const char *at = strrchr(addr, '@');

	(void) ctx;
	(void) p;
	if (at && strcmp(at, "@b.test") == 0) {
		*kind = 1;
		return (1);
	}
	strncpy(reply, "550 5.1.1 no", len - 1);
	reply[len - 1] = 0;
	return (0);
}

static void
fuzz_data(void *ctx, LMTP_PROTO *p)
{
	size_t	i;

	(*(size_t *) ctx) += p->nrcpt;
	if (strbuf_len(&p->data) > p->lim.size_max)
		abort();
	for (i = 0; i < p->nrcpt; i++)
		lmtp_proto_reply(p, "250 2.0.0 <%s> ok", p->rcpt[i].addr);
}

/* fuzz_run - the replies to data fed in pieces of step bytes */

static char *
fuzz_run(const uint8_t *data, size_t size, size_t step, size_t *answered)
{
	static const LMTP_LIMITS lim = {512, 300, 3};
	LMTP_PROTO p;
	size_t	off, n;
	char   *out;

	*answered = 0;
	lmtp_proto_init(&p, "fuzz.test", &lim, fuzz_rcpt, fuzz_data, answered);
	for (off = 0; off < size; off += n) {
		n = size - off < step ? size - off : step;
		if (lmtp_proto_input(&p, (const char *) data + off, n) < 0)
			break;
		/* A pending line never outgrows its bound (command or data). */
		if (p.nrcpt > lim.rcpt_max
		    || strbuf_len(&p.line) > (lim.line_max > lim.size_max + 2 ?
					      lim.line_max : lim.size_max + 2))
			abort();
	}
	out = strbuf_steal(&p.out);
	lmtp_proto_free(&p);
	return (out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	a1, a2;
	char   *a = fuzz_run(data, size, size ? size : 1, &a1);
	char   *b = fuzz_run(data, size, 3, &a2);
	const char *l;

	if ((a == 0) != (b == 0) || (a && strcmp(a, b) != 0) || a1 != a2)
		abort();
	for (l = a; l && *l; l = strchr(l, '\n') + 1) {
		if (l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' || l[2] > '9'
		    || (l[3] != ' ' && l[3] != '-') || strchr(l, '\n') == 0)
			abort();
	}
	free(a);
	free(b);
	return (0);
}

/*++
/* NAME
/*	fuzz_tokens 1
/* SUMMARY
/*	fuzz target: token verification
/* SYNOPSIS
/*	LLVMFuzzerTestOneInput(data, size)
/* DESCRIPTION
/*	Tokens arrive from outside in VERP addresses, reply and unsubscribe
/*	addresses and URLs. The input is verified as a token text, with and
/*	without bound bytes; nothing of it may verify unless it is what
/*	tokens_sign() makes for the fields it decodes to (checked by
/*	signing those fields again and comparing).
/*--*/
#include "pdconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "token/tokens.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static TOKENS *fuzz_tk;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char secret[32] = "fuzz-secret-fuzz-secret-fuzz-se";
	char	again[TOKEN_TEXT_MAX];
	TOKEN	t;
	size_t	half = size / 2;

	if (fuzz_tk == 0)
		fuzz_tk = tokens_from_secret(7, secret, sizeof(secret));
	if (tokens_verify(fuzz_tk, (const char *) data, size, 0, 0, &t) == TOKENS_OK) {
		tokens_sign(fuzz_tk, &t, 0, 0, again);
		if (strlen(again) != size || strncasecmp(again, (const char *) data, size) != 0)
			abort();
	}
	if (tokens_verify(fuzz_tk, (const char *) data, half, data + half, size - half, &t) == TOKENS_OK) {
		tokens_sign(fuzz_tk, &t, data + half, size - half, again);
		if (strlen(again) != half || strncasecmp(again, (const char *) data, half) != 0)
			abort();
	}
	return (0);
}

/*
 * token_tool - for shell tests: verify a token with a key file.
 *
 *	token_tool KEYFILE TOKEN
 *
 * prints "kind contact message aux" and exits 0 when the token verifies,
 * exits 1 otherwise.
 */
#include <stdio.h>
#include <string.h>

#include "token/tokens.h"

int
main(int argc, char **argv)
{
	TOKENS *tk;
	TOKEN	t;
	char   *err = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: token_tool KEYFILE TOKEN\n");
		return (2);
	}
	if ((tk = tokens_load(argv[1], &err)) == 0) {
		fprintf(stderr, "token_tool: %s\n", err);
		return (2);
	}
	if (tokens_verify(tk, argv[2], strlen(argv[2]), 0, 0, &t) != TOKENS_OK) {
		tokens_free(tk);
		return (1);
	}
	printf("%d %llu %llu %u\n", (int) t.kind, (unsigned long long) t.contact,
	       (unsigned long long) t.message, (unsigned) t.aux);
	tokens_free(tk);
	return (0);
}

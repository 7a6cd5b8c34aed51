/*
 * fuzz_classify - libFuzzer target for the inbound message classifier.
 *
 * Any byte string is a possible inbound message: the classifier must not
 * crash, leak, read out of bounds or loop, and its result must stay within
 * its stated bounds. Seeds are in fuzz/corpus/classify/.
 */
#include "pdconfig.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify/classify.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	CLASSIFY_RESULT res;
	size_t	i;

	(void) classify_message((const char *) data, size, &res);
	if (res.nrcpt > CLASSIFY_MAX_RCPT || res.nreferences > CLASSIFY_MAX_REFS)
		abort();
	for (i = 0; i < res.nrcpt; i++) {
		/* Every string field is terminated within its array. */
		if (memchr(res.rcpt[i].recipient, 0, sizeof(res.rcpt[i].recipient)) == 0
		    || memchr(res.rcpt[i].status, 0, sizeof(res.rcpt[i].status)) == 0
		    || memchr(res.rcpt[i].reason, 0, sizeof(res.rcpt[i].reason)) == 0
		    || memchr(res.rcpt[i].diagnostic, 0, sizeof(res.rcpt[i].diagnostic)) == 0)
			abort();
	}
	if (classify_kind_name(res.kind) == 0)
		abort();
	classify_free(&res);
	return (0);
}

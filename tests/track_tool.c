/*
 * track_tool - for shell tests: tracker URLs and sent records.
 *
 *	track_tool url KEYFILE BASE open|unsub CONTACT MSGNO
 *	track_tool url KEYFILE BASE click CONTACT MSGNO LINKNO NAME URL
 *	track_tool sent DATADIR CONTACT MESSAGE-ID TIME
 *
 * "url" prints the URL that track(3) builds; "sent" records a marketing
 * message sent to CONTACT at TIME (seconds) and prints its msgno.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "token/track.h"

static int
sent_op(STORE_TXN *txn, void *ctx)
{
	STORE_SENT *s = ctx;

	s->msgno = 0;
	return (store_sent_put(txn, s));
}

int
main(int argc, char **argv)
{
	TOKENS *tk;
	STRBUF	sb = STRBUF_INIT;
	char   *err = 0;

	if (argc >= 7 && strcmp(argv[1], "url") == 0) {
		if ((tk = tokens_load(argv[2], &err)) == 0) {
			fprintf(stderr, "track_tool: %s\n", err);
			return (2);
		}
		if (strcmp(argv[4], "open") == 0)
			track_open_url(&sb, tk, argv[3], strtoull(argv[5], 0, 10), strtoull(argv[6], 0, 10));
		else if (strcmp(argv[4], "unsub") == 0)
			track_unsub_url(&sb, tk, argv[3], strtoull(argv[5], 0, 10), strtoull(argv[6], 0, 10));
		else if (strcmp(argv[4], "click") == 0 && argc == 10)
			track_click_url(&sb, tk, argv[3], strtoull(argv[5], 0, 10), strtoull(argv[6], 0, 10),
					(uint32_t) strtoul(argv[7], 0, 10), argv[8], argv[9]);
		else
			return (2);
		printf("%s\n", strbuf_str(&sb));
		strbuf_free(&sb);
		tokens_free(tk);
		return (0);
	}
	if (argc == 6 && strcmp(argv[1], "sent") == 0) {
		STORE  *st;
		STORE_SENT s;
		int	rc;

		if ((st = store_open(argv[2], 0, &err)) == 0) {
			fprintf(stderr, "track_tool: %s\n", err);
			return (2);
		}
		memset(&s, 0, sizeof(s));
		s.contact = strtoull(argv[3], 0, 10);
		snprintf(s.message_id, sizeof(s.message_id), "%s", argv[4]);
		snprintf(s.stream, sizeof(s.stream), "marketing");
		s.time = (time_t) strtoll(argv[5], 0, 10);
		rc = store_write(st, sent_op, &s);
		store_close(st);
		if (rc != STORE_OK)
			return (1);
		printf("%llu\n", (unsigned long long) s.msgno);
		return (0);
	}
	fprintf(stderr, "usage: track_tool url KEYFILE BASE KIND CONTACT MSGNO [LINKNO NAME URL]\n"
		"       track_tool sent DATADIR CONTACT MESSAGE-ID TIME\n");
	return (2);
}

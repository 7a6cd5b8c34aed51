/*
 * milter_fixture - set up what an end-to-end milter test starts from: a
 * contact (with an owner, optionally) and a message "sent" to it, as the
 * engine records them before injecting; prints the contact id, the sent
 * message number and the signed bounce, reply and unsubscribe addresses.
 *
 * usage: milter_fixture CONFIG ADDRESS MESSAGE-ID [OWNER]
 * output: CONTACT MSGNO BOUNCE-ADDRESS REPLY-ADDRESS UNSUBSCRIBE-ADDRESS
 */
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "config/config.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "store/store.h"
#include "token/tokens.h"
#include "token/verp.h"

typedef struct FIXTURE {
	const char *addr, *mid, *owner;
	uint64_t contact;
	STORE_SENT sent;
} FIXTURE;

static int
fixture_write(STORE_TXN *txn, void *ctx)
{
	FIXTURE *fx = ctx;
	json_t *rec;
	int	rc;

	if ((rc = store_contact_ensure(txn, fx->addr, clock_now(), &fx->contact, 0)) != STORE_OK)
		return (rc);
	if (fx->owner) {
		if ((rc = store_contact_get(txn, fx->contact, &rec)) != STORE_OK)
			return (rc);
		if (json_object_get(rec, "fields") == 0)
			json_object_set_new(rec, "fields", json_object());
		json_object_set_new(json_object_get(rec, "fields"), "owner", json_string(fx->owner));
		rc = store_contact_put(txn, rec, &fx->contact);
		json_decref(rec);
		if (rc != STORE_OK)
			return (rc);
	}
	memset(&fx->sent, 0, sizeof(fx->sent));
	snprintf(fx->sent.message_id, sizeof(fx->sent.message_id), "%s", fx->mid);
	fx->sent.contact = fx->contact;
	fx->sent.enrolment = fx->contact;	/* as the engine records its sends */
	snprintf(fx->sent.workflow, sizeof(fx->sent.workflow), "welcome");
	snprintf(fx->sent.step, sizeof(fx->sent.step), "1");
	snprintf(fx->sent.stream, sizeof(fx->sent.stream), "marketing");
	fx->sent.time = clock_now();
	return (store_sent_put(txn, &fx->sent));
}

int
main(int argc, char **argv)
{
	FIXTURE fx;
	CONFIG *cf;
	STORE  *st;
	TOKENS *tk;
	VERP	v;
	char   *err, a[3][ADDR_MAX + 1];
	int	rc;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: milter_fixture CONFIG ADDRESS MESSAGE-ID [OWNER]\n");
		return (2);
	}
	msg_open("milter_fixture", 1);
	if ((cf = config_load(argv[1], &err)) == 0)
		msg_fatal("%s", err);
	if ((tk = tokens_load(config_str(cf, "token_key_file"), &err)) == 0)
		msg_fatal("%s", err);
	if ((st = store_open(config_str(cf, "data_directory"), 0, &err)) == 0)
		msg_fatal("%s", err);
	memset(&fx, 0, sizeof(fx));
	fx.addr = argv[2];
	fx.mid = argv[3];
	fx.owner = argc == 5 ? argv[4] : 0;
	if ((rc = store_write(st, fixture_write, &fx)) != STORE_OK)
		msg_fatal("cannot record the fixture: %s", store_strerror(rc));
	verp_from_config(&v, cf);
	if (!verp_sign(&v, tk, VERP_BOUNCE, fx.contact, fx.sent.msgno, a[0])
	    || !verp_sign(&v, tk, VERP_REPLY, fx.contact, fx.sent.msgno, a[1])
	    || !verp_sign(&v, tk, VERP_UNSUBSCRIBE, fx.contact, fx.sent.msgno, a[2]))
		msg_fatal("cannot sign addresses");
	printf("%llu %llu %s %s %s\n", (unsigned long long) fx.contact,
	       (unsigned long long) fx.sent.msgno, a[0], a[1], a[2]);
	store_close(st);
	tokens_free(tk);
	config_unref(cf);
	return (0);
}

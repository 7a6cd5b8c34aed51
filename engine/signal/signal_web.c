/*++
/* NAME
/*	signal_web 3
/* SUMMARY
/*	what the HTTP tracker records in the store
/* SYNOPSIS
/*	#include "signal/signal_web.h"
/*
/*	int	signal_web_record(st, w)
/*	STORE	*st;
/*	WEB_SIG	*w;
/*
/*	int	signal_web_lookup(st, t, contact, sent, have_sent, sup, suppressed)
/* DESCRIPTION
/*	signal_web_record() ties a tracker request to a contact (by a
/*	verified token, or by address for the API and the opt-in form)
/*	and records it in one durable store_write(): the tracker answers
/*	only after it returns, so an acknowledged signal is never lost.
/*
/*	Events (type, then data keys beside those the tracker passes in
/*	w->data: user_agent, client, labels; and message_id, msgno,
/*	workflow, step and since_delivery of the message the token names):
/*	for opens and clicks the tracker passes the request's fields
/*	instead (user_agent, client, proxy, link, url, link_number), and the
/*	data objects are made here, in the writer, so that a request thread
/*	builds no JSON.
/* .IP "opened"
/*	via=pixel, or via=click for the open a click implies (recorded
/*	only when the message has no human open yet: a mark per message in
/*	STORE_DB_MISC, SIGWEB_OPENED_PREFIX msgno, says it has one, so
/*	that the check costs one lookup whatever the contact's history);
/*	machine=true|false.
/* .IP "clicked"
/*	link, url, machine. A click on the hidden honeypot link
/*	(w->honeypot) also makes the message's opens and clicks of the
/*	last w->honeypot_window seconds a machine's: their data gets
/*	machine=true, machine_reason=honeypot and relabelled (the time),
/*	in the same transaction (store_event_relabel()); the mark of a
/*	human open goes with them unless an older human open remains.
/* .IP "unsubscribed"
/*	via; suppresses the address (reason unsubscribed, source
/*	tracker), which is what postdrip-policyd reads for every marketing
/*	recipient. An address already suppressed keeps its first reason
/*	and nothing is recorded again, so a retried one-click POST is
/*	harmless.
/* .IP "resubscribed"
/*	Lifts a suppression whose reason is unsubscribed. A hard bounce,
/*	a complaint or a manual suppression is not the contact's to lift:
/*	the result is "refused" and nothing changes.
/* .IP "preferences_changed"
/*	lists (now), unsubscribed_lists: the contact's "lists" field loses
/*	or gains the lists named in w->fields.
/* .IP "subscribe_requested"
/*	The contact is created if needed and its "optin" field set to
/*	"pending" unless already "confirmed".
/* .IP "subscribed"
/*	via=double-opt-in, with the consent (time, client, user_agent)
/*	also kept in the contact's "consent" field; "optin" becomes
/*	"confirmed", and an unsubscribe suppression is lifted: the person
/*	asked again, in a way a scanner cannot.
/* .IP "TYPE"
/*	An events API event, as given (purchase is recorded as
/*	purchased, the word the workflows use).
/* .PP
/*	With an Idempotency-Key the first write records the key (in
/*	STORE_DB_MISC under SIGWEB_IDEM_PREFIX) in the same transaction as
/*	the event; a retry finds it and records nothing (w->duplicate).
/*
/*	An open or a click reads no more than it needs, being most of what
/*	the tracker records: that the token's contact exists (not its
/*	record), the sent message, and the mark of a first human open; its
/*	w->addr stays empty.
/*
/*	The write does every lookup before its first write, as store(3)
/*	requires, and resets its outputs on entry because the store may
/*	run it again after a failed commit.
/* DIAGNOSTICS
/*	None: the caller logs. STORE_RETRY means nothing was recorded.
/* SEE ALSO
/*	signal(3), store(3), postdrip-engine(8)
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "signal/signal_web.h"
#include "util/msg.h"
#include "util/mymalloc.h"

/* web_msg_data - the message a token names, into data */

static void
web_msg_data(WEB_SIG *w, json_t *data)
{
	if (!w->have_sent)
		return;
	json_object_set_new(data, "msgno", json_integer((json_int_t) w->sent.msgno));
	json_object_set_new(data, "message_id", json_string(w->sent.message_id));
	if (w->sent.workflow[0])
		json_object_set_new(data, "workflow", json_string(w->sent.workflow));
	if (w->sent.step[0])
		json_object_set_new(data, "step", json_string(w->sent.step));
	json_object_set_new(data, "since_delivery",
			    json_integer((json_int_t) (w->now - w->sent.time)));
}

/* web_opened_key - the mark of a message's first human open */

static size_t
web_opened_key(char *buf, size_t len, uint64_t msgno)
{
	return ((size_t) snprintf(buf, len, "%s%llu", SIGWEB_OPENED_PREFIX,
				  (unsigned long long) msgno));
}

/* web_list_set - add or drop name in a JSON array of strings */

static void
web_list_set(json_t *arr, const char *name, int present)
{
	size_t	i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (json_is_string(v) && strcasecmp(json_string_value(v), name) == 0) {
			if (!present)
				json_array_remove(arr, i);
			return;
		}
	}
	if (present)
		json_array_append_new(arr, json_string(name));
}

/* signal_web_lists - the contact's lists as an array in rec["lists"]:
 * taken from fields.lists ("a, b" text, as "postdrip contact add ...
 * lists=a,b" sets it) when rec has none, as workflow conditions read them */

json_t *
signal_web_lists(json_t *rec)
{
	json_t *a = json_object_get(rec, "lists"), *f;
	const char *s, *e, *t;

	if (json_is_array(a))
		return (a);
	a = json_array();
	f = json_object_get(json_object_get(rec, "fields"), "lists");
	if (json_is_array(f))
		json_array_extend(a, f);
	else if (json_is_string(f)) {
		for (s = json_string_value(f); *s; s = *e ? e + 1 : e) {
			while (*s == ' ')
				s++;
			e = s + strcspn(s, ",");
			for (t = e; t > s && t[-1] == ' '; t--)
				;
			if (t > s)
				json_array_append_new(a, json_stringn(s, t - s));
		}
	}
	json_object_set_new(rec, "lists", a);
	return (a);
}

/* web_array - rec[key] as an array (created when missing) */

static json_t *
web_array(json_t *rec, const char *key)
{
	json_t *a = json_object_get(rec, key);

	if (!json_is_array(a)) {
		a = json_array();
		json_object_set_new(rec, key, a);
	}
	return (a);
}

/* web_event - append the event of w with data */

static int
web_event(STORE_TXN *txn, WEB_SIG *w, const char *type, json_t *data)
{
	w->changed = 1;
	return (store_event_append(txn, w->contact, w->now, type, data, &w->seq));
}

/*
 * The honeypot: opens and clicks of one message recorded shortly before
 * the click on its hidden link were made by the same machine (a scanner
 * follows the links of a message in order, and the honeypot comes last).
 */
typedef struct WEB_RELABEL {
	uint64_t msgno;
	time_t	since;
	uint64_t seq[SIGWEB_RELABEL_MAX];
	int	n;
	int	opens;			/* human opens among them */
	int	older_open;		/* a human open before the window */
} WEB_RELABEL;

/* web_relabel_fn - collect the human opens and clicks of the message */

static int
web_relabel_fn(const STORE_EVENT *ev, void *ctx)
{
	WEB_RELABEL *rl = ctx;
	json_t *d = ev->data;
	int	open = strcmp(ev->type, "opened") == 0;

	if ((!open && strcmp(ev->type, "clicked") != 0) || d == 0
	    || json_is_true(json_object_get(d, "machine"))
	    || !json_is_integer(json_object_get(d, "msgno"))
	    || (uint64_t) json_integer_value(json_object_get(d, "msgno")) != rl->msgno)
		return (0);
	if (ev->time < rl->since) {
		rl->older_open |= open;
		return (0);
	}
	if (rl->n < SIGWEB_RELABEL_MAX) {
		rl->seq[rl->n++] = ev->seq;
		rl->opens += open;
	}
	return (0);
}

/* web_relabel - make the collected events a machine's */

static int
web_relabel(STORE_TXN *txn, WEB_SIG *w, const WEB_RELABEL *rl)
{
	STORE_EVENT ev;
	char	okey[sizeof(SIGWEB_OPENED_PREFIX) + 24];
	size_t	okey_len;
	int	i, rc;

	for (i = 0; i < rl->n; i++) {
		if ((rc = store_event_get(txn, rl->seq[i], &ev)) != STORE_OK)
			return (rc == STORE_NOTFOUND ? STORE_RETRY : rc);
		json_object_set_new(ev.data, "machine", json_true());
		json_object_set_new(ev.data, "machine_reason", json_string("honeypot"));
		json_object_set_new(ev.data, "relabelled", json_integer((json_int_t) w->now));
		rc = store_event_relabel(txn, &ev);
		store_event_free(&ev);
		if (rc != STORE_OK)
			return (rc);
		w->relabelled++;
	}

	/*
	 * The mark of a human open went with the opens relabelled, unless a
	 * human open older than the window remains: a later click of a
	 * person then counts as the message's open again.
	 */
	if (rl->opens && !rl->older_open) {
		okey_len = web_opened_key(okey, sizeof(okey), rl->msgno);
		rc = store_del(txn, STORE_DB_MISC, okey, okey_len);
		if (rc != STORE_OK && rc != STORE_NOTFOUND)
			return (rc);
	}
	return (STORE_OK);
}

/* web_data - a copy of w->data, or a new object */

static json_t *
web_data(WEB_SIG *w)
{
	return (w->data && json_is_object(w->data) ? json_deep_copy(w->data) : json_object());
}

/* web_hit_data - an open's or a click's data: the request's fields
 * (with link=0, those of the open that a click implies) */

static json_t *
web_hit_data(WEB_SIG *w, int link)
{
	json_t *data = web_data(w);

	if (w->user_agent)
		json_object_set_new(data, "user_agent",
				    json_stringn(w->user_agent, strnlen(w->user_agent, 512)));
	if (w->client)
		json_object_set_new(data, "client", json_string(w->client));
	if (w->proxy)
		json_object_set_new(data, "proxy", json_string(w->proxy));
	if (link && w->link)
		json_object_set_new(data, "link", json_string(w->link));
	if (link && w->url)
		json_object_set_new(data, "url", json_string(w->url));
	/* Links are numbered from 1 in each message. */
	if (link && w->link_number > 0)
		json_object_set_new(data, "link_number", json_integer(w->link_number));
	web_msg_data(w, data);
	json_object_set_new(data, "machine", json_boolean(w->labelled));
	if (w->label_reason)
		json_object_set_new(data, "machine_reason", json_string(w->label_reason));
	return (data);
}

int
signal_web_apply(STORE_TXN *txn, void *ctx)
{
	WEB_SIG *w = ctx;
	WEB_RELABEL *rl = 0;
	STORE_SUPPRESSION sup;
	char	idem[sizeof(SIGWEB_IDEM_PREFIX) + SIGWEB_IDEM_MAX];
	unsigned char ibuf[16];
	STORE_VAL val;
	json_t *rec = 0, *data = 0, *v;
	const char *email, *key;
	int	rc, sup_rc, created = 0;
	size_t	ilen = 0, okey_len;
	char	okey[sizeof(SIGWEB_OPENED_PREFIX) + 24];

	w->contact = 0;
	w->addr[0] = 0;
	w->have_sent = 0;
	w->duplicate = w->created = w->changed = 0;
	w->seq = 0;
	w->result = "recorded";
	w->labelled = 0;
	w->label_reason = 0;
	w->relabelled = 0;

	/* Idempotency: a key seen before means "done already". */
	if (w->idem_key && *w->idem_key) {
		ilen = snprintf(idem, sizeof(idem), "%s%.*s", SIGWEB_IDEM_PREFIX,
				SIGWEB_IDEM_MAX, w->idem_key);
		if ((rc = store_get(txn, STORE_DB_MISC, idem, ilen, &val)) == STORE_OK) {
			w->duplicate = 1;
			w->result = "duplicate";
			if (val.size >= 16) {
				w->contact = store_u64_get(val.data);
				w->seq = store_u64_get((const unsigned char *) val.data + 8);
			}
			return (STORE_OK);
		}
		if (rc != STORE_NOTFOUND)
			return (rc);
	}

	/* Who. */
	if (w->have_token && (w->kind == WEB_OPEN || w->kind == WEB_CLICK)) {
		/* The contact's record is not needed: that it exists is. */
		unsigned char ckey[8];

		w->contact = w->token.contact;
		store_u64_put(ckey, w->contact);
		if ((rc = store_get(txn, STORE_DB_CONTACT, ckey, sizeof(ckey), &val)) != STORE_OK)
			return (rc);
		if (w->token.message
		    && store_sent_get(txn, w->token.message, &w->sent) == STORE_OK
		    && w->sent.contact == w->contact)
			w->have_sent = 1;
	} else if (w->have_token) {
		w->contact = w->token.contact;
		if ((rc = store_contact_get(txn, w->contact, &rec)) != STORE_OK)
			return (rc);
		if (w->token.message
		    && store_sent_get(txn, w->token.message, &w->sent) == STORE_OK
		    && w->sent.contact == w->contact)
			w->have_sent = 1;
	} else if (w->address) {
		if (addr_normalize(w->address, w->addr) == 0)
			return (STORE_CONFIG);
		rc = store_contact_find(txn, w->addr, &w->contact);
		if (rc == STORE_OK) {
			if ((rc = store_contact_get(txn, w->contact, &rec)) != STORE_OK)
				return (rc);
		} else if (rc == STORE_NOTFOUND && w->kind != WEB_RESUB && w->kind != WEB_UNSUB
			   && w->kind != WEB_PREFS && w->kind != WEB_CONSENT) {
			created = 1;
		} else {
			return (rc);
		}
	} else {
		return (STORE_NOTFOUND);
	}
	if (rec && (email = json_string_value(json_object_get(rec, "email"))) != 0)
		snprintf(w->addr, sizeof(w->addr), "%s", email);
	/* Opens and clicks have no address here and need no suppression. */
	sup_rc = w->addr[0] ? store_suppress_get(txn, w->addr, &sup) : STORE_NOTFOUND;
	if (sup_rc != STORE_OK && sup_rc != STORE_NOTFOUND) {
		rc = sup_rc;
		goto out;
	}

	/* A new contact (API, opt-in form): made before its first event. */
	if (created) {
		if ((rc = store_contact_ensure(txn, w->addr, w->now, &w->contact, 0)) != STORE_OK)
			goto out;
		if ((rc = store_contact_get(txn, w->contact, &rec)) != STORE_OK)
			goto out;
		w->created = 1;
	}

	/* The timing rule needs the send time: it is applied here. */
	w->labelled = w->machine;
	w->label_reason = w->machine_reason;
	if (!w->labelled && w->have_sent && (w->kind == WEB_OPEN || w->kind == WEB_CLICK)) {
		long	since = (long) (w->now - w->sent.time);
		long	win = w->kind == WEB_OPEN ? w->open_window : w->click_window;

		if (since >= 0 && since < win) {
			w->labelled = 1;
			w->label_reason = w->kind == WEB_OPEN ? "open-timing" : "click-timing";
		}
	}
	/* A honeypot click: what it relabels is read before any write. */
	if (w->kind == WEB_CLICK && w->honeypot && w->have_sent && w->honeypot_window > 0) {
		rl = mycalloc(1, sizeof(*rl));
		rl->msgno = w->sent.msgno;
		rl->since = w->now - w->honeypot_window;
		if ((rc = store_timeline_walk_since(txn, w->contact, w->sent.time,
						    web_relabel_fn, rl)) != STORE_OK)
			goto out;
	}
	if (w->kind == WEB_OPEN || w->kind == WEB_CLICK) {
		data = web_hit_data(w, w->kind == WEB_CLICK);
	} else {
		data = web_data(w);
		web_msg_data(w, data);
	}
	switch (w->kind) {
	case WEB_OPEN:
		json_object_set_new(data, "via", json_string("pixel"));
		if ((rc = web_event(txn, w, "opened", data)) != STORE_OK)
			break;
		if (w->have_sent && !w->labelled) {
			okey_len = web_opened_key(okey, sizeof(okey), w->sent.msgno);
			rc = store_put(txn, STORE_DB_MISC, okey, okey_len, "", 0, 0);
		}
		break;
	case WEB_CLICK:
		if (w->have_sent && !w->labelled) {
			/* A click shows the message was read: an open, once. */
			okey_len = web_opened_key(okey, sizeof(okey), w->sent.msgno);
			rc = store_get(txn, STORE_DB_MISC, okey, okey_len, &val);
			if (rc == STORE_OK) {
				/* opened already */
			} else if (rc != STORE_NOTFOUND) {
				break;
			} else {
				json_t *od = web_hit_data(w, 0);

				json_object_set_new(od, "via", json_string("click"));
				rc = web_event(txn, w, "opened", od);
				json_decref(od);
				if (rc != STORE_OK)
					break;
				if ((rc = store_put(txn, STORE_DB_MISC, okey, okey_len, "", 0, 0)) != STORE_OK)
					break;
			}
		}
		rc = web_event(txn, w, "clicked", data);
		if (rc == STORE_OK && rl)
			rc = web_relabel(txn, w, rl);
		break;
	case WEB_UNSUB:
		if (sup_rc == STORE_OK) {
			w->result = "already suppressed";
			rc = STORE_OK;
			break;
		}
		if ((rc = store_suppress_put(txn, w->addr, "unsubscribed", "tracker", w->now)) != STORE_OK)
			break;
		rc = web_event(txn, w, "unsubscribed", data);
		w->result = "suppressed";
		break;
	case WEB_RESUB:
		if (sup_rc == STORE_NOTFOUND) {
			w->result = "not suppressed";
			rc = STORE_OK;
			break;
		}
		if (strcmp(sup.reason, "unsubscribed") != 0) {
			w->result = "refused";
			rc = STORE_OK;
			break;
		}
		if ((rc = store_suppress_del(txn, w->addr)) != STORE_OK)
			break;
		rc = web_event(txn, w, "resubscribed", data);
		w->result = "resubscribed";
		break;
	case WEB_PREFS:
		if (!json_is_object(w->fields)) {
			rc = STORE_CONFIG;
			break;
		} else {
			json_t *lists = signal_web_lists(rec);
			json_t *off = web_array(rec, "unsubscribed_lists");

			json_object_foreach(w->fields, key, v) {
				web_list_set(lists, key, json_is_true(v));
				web_list_set(off, key, !json_is_true(v));
			}
			json_object_set(data, "lists", lists);
			json_object_set(data, "unsubscribed_lists", off);
			if ((rc = store_contact_put(txn, rec, &w->contact)) != STORE_OK)
				break;
			rc = web_event(txn, w, "preferences_changed", data);
		}
		break;
	case WEB_SUBSCRIBE:
		v = json_object_get(rec, "optin");
		if (json_is_string(v) && strcmp(json_string_value(v), "confirmed") == 0
		    && sup_rc == STORE_NOTFOUND) {
			w->result = "already confirmed";
			rc = STORE_OK;
			break;
		}
		json_object_set_new(rec, "optin", json_string("pending"));
		if (w->fields && json_is_object(w->fields)) {
			json_t *f = json_object_get(rec, "fields");

			if (!json_is_object(f)) {
				f = json_object();
				json_object_set_new(rec, "fields", f);
			}
			json_object_update_missing(f, w->fields);
		}
		if ((rc = store_contact_put(txn, rec, &w->contact)) != STORE_OK)
			break;
		rc = web_event(txn, w, "subscribe_requested", data);
		w->result = "pending";
		break;
	case WEB_CONSENT:
		json_object_set_new(data, "via", json_string("double-opt-in"));
		json_object_set_new(rec, "optin", json_string("confirmed"));
		v = json_pack("{s:I}", "time", (json_int_t) w->now);
		if (w->data) {
			json_object_set(v, "client", json_object_get(w->data, "client") ?: json_null());
			json_object_set(v, "user_agent", json_object_get(w->data, "user_agent") ?: json_null());
		}
		json_object_set_new(rec, "consent", v);
		if ((rc = store_contact_put(txn, rec, &w->contact)) != STORE_OK)
			break;
		if (sup_rc == STORE_OK && strcmp(sup.reason, "unsubscribed") == 0
		    && (rc = store_suppress_del(txn, w->addr)) != STORE_OK)
			break;
		rc = web_event(txn, w, "subscribed", data);
		w->result = "confirmed";
		break;
	case WEB_CONTACT:
		rc = STORE_OK;
		if (w->fields && json_is_object(w->fields)) {
			json_t *f = json_object_get(rec, "fields");

			if (!json_is_object(f)) {
				f = json_object();
				json_object_set_new(rec, "fields", f);
			}

			/* A new contact is recorded as contact_created alone. */
			if (w->created)
				json_object_update(f, w->fields);
			else {
				json_t *via = json_pack("{s:O*}", "via", json_object_get(data, "via"));

				rc = store_contact_fields_set(txn, w->contact, w->now, f, w->fields, via);
				json_decref(via);
			}
			if (rc != STORE_OK)
				break;
		}
		if ((rc = store_contact_put(txn, rec, &w->contact)) != STORE_OK)
			break;
		w->changed = 1;
		w->result = w->created ? "created" : "updated";
		if (w->created)
			rc = web_event(txn, w, "contact_created", data);
		break;
	case WEB_EVENT:
		if (w->type == 0) {
			rc = STORE_CONFIG;
			break;
		}
		rc = web_event(txn, w, w->type, data);
		break;
	default:
		msg_panic("signal_web_apply: unknown kind %d", (int) w->kind);
	}
	if (rc == STORE_OK && ilen) {
		store_u64_put(ibuf, w->contact);
		store_u64_put(ibuf + 8, w->seq);
		rc = store_put(txn, STORE_DB_MISC, idem, ilen, ibuf, sizeof(ibuf), 0);
	}
out:
	if (rl)
		myfree(rl);
	if (data)
		json_decref(data);
	if (rec)
		json_decref(rec);
	return (rc);
}

int
signal_web_record(STORE *st, WEB_SIG *w)
{
	return (store_write(st, signal_web_apply, w));
}

int
signal_web_lookup(STORE *st, const TOKEN *t, json_t **contact, STORE_SENT *sent,
		          int *have_sent, STORE_SUPPRESSION *sup, int *suppressed)
{
	STORE_TXN *txn;
	json_t *rec = 0;
	const char *email;
	int	rc;

	*have_sent = 0;
	*suppressed = 0;
	if (contact)
		*contact = 0;
	if ((rc = store_rbegin(st, &txn)) != STORE_OK)
		return (rc);
	if ((rc = store_contact_get(txn, t->contact, &rec)) == STORE_OK) {
		if (t->message && store_sent_get(txn, t->message, sent) == STORE_OK
		    && sent->contact == t->contact)
			*have_sent = 1;
		email = json_string_value(json_object_get(rec, "email"));
		if (email && sup) {
			int	s = store_suppress_get(txn, email, sup);

			if (s == STORE_OK)
				*suppressed = 1;
			else if (s != STORE_NOTFOUND)
				rc = s;
		}
	}
	store_rend(txn);
	if (rc == STORE_OK && contact)
		*contact = rec;
	else if (rec)
		json_decref(rec);
	return (rc);
}

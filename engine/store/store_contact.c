/*++
/* NAME
/*	store_contact 3
/* SUMMARY
/*	contacts, their address index and their date index
/* SYNOPSIS
/*	#include "store/store.h"
/*
/*	int	store_contact_find(txn, addr, &id)
/*	int	store_contact_get(txn, id, &rec)
/*	int	store_contact_put(txn, rec, &id)
/*	int	store_contact_ensure(txn, addr, now, &id, &created)
/*
/*	int	store_contact_fields_set(txn, id, now, fields, values, extra)
/*
/*	int	store_contact_walk(txn, fn, ctx)
/* DESCRIPTION
/*	A contact is a JSON object stored under its id. CONTACT_ADDR maps the
/*	normalized address to the id. DATEIDX lets the scheduler find the
/*	contacts whose date field falls on a day without a scan: for every
/*	field whose value starts with YYYY-MM-DD there are two keys,
/*	"A" MMDD field NUL id (every year: birthdays, anniversaries) and
/*	"D" YYYYMMDD field NUL id (that date: trial_end, webinar_at).
/*	The record's "created" time is indexed the same way as the field
/*	"created".
/*
/*	store_contact_fields_set() sets values into fields, the "fields"
/*	object of contact id's record (the caller then puts the record),
/*	and appends a field_changed event {"field", "value", "old"} for
/*	each value that changes, with the members of extra (or null) added;
/*	a value equal to the one there records nothing. The CLI and the
/*	contacts API record a change alike, so that a workflow or a date
/*	trigger on a field sees it whoever made it.
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <string.h>

#include "util/addr.h"
#include "util/clock.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "store/store_int.h"

/* store_contact_fields_set - set fields, recording each change */

int
store_contact_fields_set(STORE_TXN *txn, uint64_t id, time_t now, json_t *fields,
			         json_t *values, json_t *extra)
{
	const char *key;
	json_t *v, *old, *ev;
	int	rc;

	json_object_foreach(values, key, v) {
		old = json_object_get(fields, key);
		if (old && json_equal(old, v))
			continue;
		ev = json_pack("{s:s, s:O}", "field", key, "value", v);
		if (old)
			json_object_set(ev, "old", old);
		if (extra)
			json_object_update(ev, extra);
		json_object_set(fields, key, v);
		rc = store_event_append(txn, id, now, "field_changed", ev, 0);
		json_decref(ev);
		if (rc != STORE_OK)
			return (rc);
	}
	return (STORE_OK);
}

/* store_contact_find - id of an address */

int
store_contact_find(STORE_TXN *txn, const char *addr, uint64_t *id)
{
	char	norm[ADDR_MAX + 1];
	MDB_val val;
	int	rc;

	if (addr_normalize(addr, norm) == 0)
		return (STORE_NOTFOUND);
	rc = store_mdb_get(txn, STORE_DB_CONTACT_ADDR, norm, strlen(norm), &val);
	if (rc == STORE_OK) {
		if (val.mv_size != 8)
			return (STORE_NOTFOUND);
		*id = store_u64_get(val.mv_data);
	}
	return (rc);
}

/* store_contact_get - the record of an id */

int
store_contact_get(STORE_TXN *txn, uint64_t id, json_t **rec)
{
	unsigned char key[8];
	MDB_val val;
	json_error_t jerr;
	int	rc;

	store_u64_put(key, id);
	if ((rc = store_mdb_get(txn, STORE_DB_CONTACT, key, 8, &val)) != STORE_OK)
		return (rc);
	*rec = json_loadb(val.mv_data, val.mv_size, 0, &jerr);
	if (*rec == 0 || !json_is_object(*rec)) {
		msg_warn("store: contact %llu: bad record: %s",
			 (unsigned long long) id, jerr.text);
		json_decref(*rec);
		return (STORE_RETRY);
	}
	return (STORE_OK);
}

int
store_contact_get_by_addr(STORE_TXN *txn, const char *addr, json_t **rec)
{
	uint64_t id;
	int	rc;

	if ((rc = store_contact_find(txn, addr, &id)) != STORE_OK)
		return (rc);
	return (store_contact_get(txn, id, rec));
}

/* store_dateidx_key - build a date index key; 0 if value is no date */

static size_t
store_dateidx_key(unsigned char *key, int annual, const char *field,
		          const char *value, uint64_t id)
{
	size_t	n = 0, flen = strlen(field);
	int	i;

	for (i = 0; i < 10; i++)
		if (value[i] == 0 || (i == 4 || i == 7 ? value[i] != '-'
				      : !isdigit((unsigned char) value[i])))
			return (0);
	if (flen > 200)
		return (0);
	key[n++] = annual ? 'A' : 'D';
	if (!annual) {
		memcpy(key + n, value, 4);
		n += 4;
	}
	memcpy(key + n, value + 5, 2);
	memcpy(key + n + 2, value + 8, 2);
	n += 4;
	memcpy(key + n, field, flen + 1);
	n += flen + 1;
	store_u64_put(key + n, id);
	return (n + 8);
}

/* store_dateidx_update - add (add=1) or remove a record's date keys */

static void
store_dateidx_update(STORE_TXN *txn, json_t *rec, uint64_t id, int add)
{
	unsigned char key[256];
	const char *field;
	json_t *fields, *v;
	char	created[CLOCK_ISO_LEN];
	size_t	n;
	int	annual;

	if ((v = json_object_get(rec, "created")) && json_is_integer(v)) {
		clock_format((time_t) json_integer_value(v), created);
		for (annual = 0; annual < 2; annual++)
			if ((n = store_dateidx_key(key, annual, "created", created, id)) != 0)
				(void) (add ? store_put(txn, STORE_DB_DATEIDX, key, n, "", 0, 0)
					: store_del(txn, STORE_DB_DATEIDX, key, n));
	}
	if ((fields = json_object_get(rec, "fields")) == 0)
		return;
	json_object_foreach(fields, field, v) {
		if (!json_is_string(v))
			continue;
		for (annual = 0; annual < 2; annual++) {
			n = store_dateidx_key(key, annual, field, json_string_value(v), id);
			if (n == 0)
				continue;
			if (add)
				(void) store_put(txn, STORE_DB_DATEIDX, key, n, "", 0, 0);
			else
				(void) store_del(txn, STORE_DB_DATEIDX, key, n);
		}
	}
}

/* store_contact_put - insert or replace a contact */

int
store_contact_put(STORE_TXN *txn, json_t *rec, uint64_t *idp)
{
	char	norm[ADDR_MAX + 1], oldnorm[ADDR_MAX + 1];
	unsigned char key[8], idbuf[8];
	json_t *old = 0, *idv, *email;
	uint64_t id, other;
	char   *text;
	int	rc;

	if (!json_is_object(rec) || (email = json_object_get(rec, "email")) == 0
	    || !json_is_string(email)
	    || addr_normalize(json_string_value(email), norm) == 0)
		return (STORE_CONFIG);
	idv = json_object_get(rec, "id");
	if (idv && json_is_integer(idv) && json_integer_value(idv) > 0) {
		/* Replace: the old record's indexes go. */
		id = (uint64_t) json_integer_value(idv);
		if ((rc = store_contact_get(txn, id, &old)) != STORE_OK)
			return (rc);
		rc = store_contact_find(txn, norm, &other);
		if (rc == STORE_OK && other != id) {
			json_decref(old);
			return (STORE_EXISTS);
		}
		if (rc == STORE_RETRY) {
			json_decref(old);
			return (rc);
		}
		store_dateidx_update(txn, old, id, 0);
		email = json_object_get(old, "email");
		if (json_is_string(email) && addr_normalize(json_string_value(email), oldnorm)
		    && strcmp(oldnorm, norm) != 0)
			(void) store_del(txn, STORE_DB_CONTACT_ADDR, oldnorm, strlen(oldnorm));
		json_decref(old);
	} else {
		rc = store_contact_find(txn, norm, &other);
		if (rc == STORE_OK)
			return (STORE_EXISTS);
		if (rc == STORE_RETRY)
			return (rc);
		id = store_next_id(txn, "contact");
	}
	json_object_set_new(rec, "id", json_integer((json_int_t) id));
	json_object_set_new(rec, "email", json_string(norm));
	text = json_dumps(rec, JSON_COMPACT);
	store_u64_put(key, id);
	store_u64_put(idbuf, id);
	(void) store_put(txn, STORE_DB_CONTACT, key, 8, text, strlen(text), 0);
	(void) store_put(txn, STORE_DB_CONTACT_ADDR, norm, strlen(norm), idbuf, 8, 0);
	store_dateidx_update(txn, rec, id, 1);
	free(text);
	if (idp)
		*idp = id;
	return (txn->failed ? STORE_RETRY : STORE_OK);
}

/* store_contact_ensure - find or create a contact for an address */

int
store_contact_ensure(STORE_TXN *txn, const char *addr, time_t now,
		             uint64_t *id, int *created)
{
	json_t *rec;
	int	rc;

	if (created)
		*created = 0;
	if ((rc = store_contact_find(txn, addr, id)) != STORE_NOTFOUND)
		return (rc);
	rec = json_pack("{s:s, s:I, s:{}, s:[], s:i}", "email", addr,
			"created", (json_int_t) now, "fields", "tags", "score", 0);
	rc = store_contact_put(txn, rec, id);
	json_decref(rec);
	if (rc == STORE_OK && created)
		*created = 1;
	return (rc);
}

/* store_contact_walk - every contact, in id order */

int
store_contact_walk(STORE_TXN *txn, int (*fn) (json_t *rec, void *ctx), void *ctx)
{
	MDB_cursor *cur;
	MDB_val key, val;
	json_error_t jerr;
	json_t *rec;
	int	rc, op, stop = 0;

	if ((rc = store_cursor(txn, STORE_DB_CONTACT, &cur)) != STORE_OK)
		return (rc);
	for (op = MDB_FIRST; stop == 0 && mdb_cursor_get(cur, &key, &val, op) == 0; op = MDB_NEXT) {
		if ((rec = json_loadb(val.mv_data, val.mv_size, 0, &jerr)) == 0
		    || !json_is_object(rec)) {
			msg_warn("store: contact %llu: bad record: %s",
				 key.mv_size == 8 ? (unsigned long long) store_u64_get(key.mv_data) : 0ULL,
				 rec ? "not an object" : jerr.text);
			json_decref(rec);
			continue;
		}
		stop = fn(rec, ctx);
		json_decref(rec);
	}
	mdb_cursor_close(cur);
	return (STORE_OK);
}

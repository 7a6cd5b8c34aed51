/*++
/* NAME
/*	store_sent 3
/* SUMMARY
/*	sent messages, by number and by Message-ID
/* DESCRIPTION
/*	SENT: msgno (8) -> JSON. SENT_MSGID: Message-ID -> msgno. Tokens
/*	carry the number (short); bounces and replies that lost the token
/*	still name the Message-ID. A Message-ID is recorded once: that is
/*	what makes a re-injected duplicate recognisable.
/*
/*	Every open and click of the tracker reads its sent record, so the
/*	record, the flat JSON object that store_sent_put() writes, is read
/*	by a scanner of that shape alone: string values without escapes and
/*	integers, in printable ASCII. Anything else (an escape, a byte
/*	outside ASCII, another kind of value) is left to jansson, which
/*	reads it as before.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

/* store_sent_strip - Message-ID without <> and white space */

static size_t
store_sent_strip(const char *in, char *out, size_t max)
{
	size_t	len;

	while (*in == ' ' || *in == '\t' || *in == '<')
		in++;
	len = strcspn(in, "> \t\r\n");
	if (len == 0 || len >= max)
		return (0);
	memcpy(out, in, len);
	out[len] = 0;
	return (len);
}

/* store_sent_field - a decoded value into s; key and value not terminated */

static void
store_sent_field(STORE_SENT *s, const char *key, size_t klen, const char *str,
		         size_t slen, long long num, int is_num)
{
	char   *dst = 0;
	size_t	max = 0;

#define KEY_IS(k) (klen == sizeof(k) - 1 && memcmp(key, k, klen) == 0)
	if (KEY_IS("message_id"))
		dst = s->message_id, max = sizeof(s->message_id);
	else if (KEY_IS("workflow"))
		dst = s->workflow, max = sizeof(s->workflow);
	else if (KEY_IS("step"))
		dst = s->step, max = sizeof(s->step);
	else if (KEY_IS("stream"))
		dst = s->stream, max = sizeof(s->stream);
	else if (is_num && KEY_IS("contact"))
		s->contact = (uint64_t) num;
	else if (is_num && KEY_IS("enrolment"))
		s->enrolment = (uint64_t) num;
	else if (is_num && KEY_IS("time"))
		s->time = (time_t) num;
#undef KEY_IS
	if (dst) {
		/* As jansson's reading did: a string, truncated; else "". */
		if (is_num)
			slen = 0;
		if (slen >= max)
			slen = max - 1;
		memcpy(dst, str, slen);
		dst[slen] = 0;
	}
}

/* store_sent_scan - the common shape; -1: leave it to jansson */

static int
store_sent_scan(const char *p, size_t len, STORE_SENT *s)
{
	const char *end = p + len, *key, *str;
	size_t	klen, slen;
	long long num;
	int	digits, neg;

	if (p == end || *p++ != '{')
		return (-1);
	if (p < end && *p == '}')
		return (p + 1 == end ? 0 : -1);
	for (;;) {
		if (p == end || *p++ != '"')
			return (-1);
		for (key = p; p < end && *p != '"'; p++)
			if (*p == '\\' || *p < 0x20 || *p > 0x7e)
				return (-1);
		if (p == end)
			return (-1);
		klen = p++ - key;
		if (p == end || *p++ != ':' || p == end)
			return (-1);
		if (*p == '"') {
			for (str = ++p; p < end && *p != '"'; p++)
				if (*p == '\\' || *p < 0x20 || *p > 0x7e)
					return (-1);
			if (p == end)
				return (-1);
			slen = p++ - str;
			store_sent_field(s, key, klen, str, slen, 0, 0);
		} else {
			neg = *p == '-';
			p += neg;
			for (num = 0, digits = 0; p < end && *p >= '0' && *p <= '9'; p++, digits++)
				num = num * 10 + (*p - '0');
			if (digits == 0 || digits > 18)
				return (-1);
			store_sent_field(s, key, klen, "", 0, neg ? -num : num, 1);
		}
		if (p == end)
			return (-1);
		if (*p == '}')
			return (p + 1 == end ? 0 : -1);
		if (*p++ != ',')
			return (-1);
	}
}

static int
store_sent_decode(uint64_t msgno, const MDB_val *val, STORE_SENT *s)
{
	json_t *j;
	json_error_t jerr;

	memset(s, 0, sizeof(*s));
	s->msgno = msgno;
	if (store_sent_scan(val->mv_data, val->mv_size, s) == 0)
		return (STORE_OK);
	if ((j = json_loadb(val->mv_data, val->mv_size, 0, &jerr)) == 0)
		return (STORE_RETRY);
	memset(s, 0, sizeof(*s));
	s->msgno = msgno;
	snprintf(s->message_id, sizeof(s->message_id), "%s",
		 json_string_value(json_object_get(j, "message_id")) ?: "");
	s->contact = (uint64_t) json_integer_value(json_object_get(j, "contact"));
	s->enrolment = (uint64_t) json_integer_value(json_object_get(j, "enrolment"));
	snprintf(s->workflow, sizeof(s->workflow), "%s",
		 json_string_value(json_object_get(j, "workflow")) ?: "");
	snprintf(s->step, sizeof(s->step), "%s",
		 json_string_value(json_object_get(j, "step")) ?: "");
	snprintf(s->stream, sizeof(s->stream), "%s",
		 json_string_value(json_object_get(j, "stream")) ?: "");
	s->time = (time_t) json_integer_value(json_object_get(j, "time"));
	json_decref(j);
	return (STORE_OK);
}

int
store_sent_put(STORE_TXN *txn, STORE_SENT *s)
{
	char	mid[sizeof(s->message_id)];
	unsigned char key[8];
	size_t	mlen;
	MDB_val val;
	json_t *j;
	char   *text;
	int	rc;

	if ((mlen = store_sent_strip(s->message_id, mid, sizeof(mid))) == 0)
		return (STORE_CONFIG);
	rc = store_mdb_get(txn, STORE_DB_SENT_MSGID, mid, mlen, &val);
	if (rc == STORE_OK)
		return (STORE_EXISTS);
	if (rc != STORE_NOTFOUND)
		return (rc);
	if (s->msgno == 0)
		s->msgno = store_next_id(txn, "sent");
	snprintf(s->message_id, sizeof(s->message_id), "%s", mid);
	j = json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:I}",
		      "message_id", mid, "contact", (json_int_t) s->contact,
		      "enrolment", (json_int_t) s->enrolment, "workflow", s->workflow,
		      "step", s->step, "stream", s->stream, "time", (json_int_t) s->time);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	store_u64_put(key, s->msgno);
	(void) store_put(txn, STORE_DB_SENT, key, 8, text, strlen(text), 0);
	(void) store_put(txn, STORE_DB_SENT_MSGID, mid, mlen, key, 8, 0);
	free(text);
	return (txn->failed ? STORE_RETRY : STORE_OK);
}

int
store_sent_get(STORE_TXN *txn, uint64_t msgno, STORE_SENT *s)
{
	unsigned char key[8];
	MDB_val val;
	int	rc;

	store_u64_put(key, msgno);
	if ((rc = store_mdb_get(txn, STORE_DB_SENT, key, 8, &val)) != STORE_OK)
		return (rc);
	return (store_sent_decode(msgno, &val, s));
}

int
store_sent_by_msgid(STORE_TXN *txn, const char *message_id, STORE_SENT *s)
{
	char	mid[sizeof(s->message_id)];
	size_t	mlen;
	MDB_val val;
	int	rc;

	if ((mlen = store_sent_strip(message_id, mid, sizeof(mid))) == 0)
		return (STORE_NOTFOUND);
	if ((rc = store_mdb_get(txn, STORE_DB_SENT_MSGID, mid, mlen, &val)) != STORE_OK)
		return (rc);
	if (val.mv_size != 8)
		return (STORE_RETRY);
	return (store_sent_get(txn, store_u64_get(val.mv_data), s));
}

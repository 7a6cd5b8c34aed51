/*++
/* NAME
/*	tracker_api 3
/* SUMMARY
/*	the events and contacts API
/* SYNOPSIS
/*	#include "tracker/tracker_int.h"
/*
/*	int	trk_keys_load(t, path, err)
/*
/*	MHD_RESULT trk_api(r, path)
/*
/*	MHD_RESULT trk_report(r, path)
/* DESCRIPTION
/*	POST /api/events and POST /api/contacts take a JSON object and
/*	answer JSON: 200 {"status": "recorded"|"duplicate", "contact": N,
/*	"event": SEQ} only after the commit; 400 {"error": ..., "field":
/*	NAME} naming the field that is wrong; 401 without a valid key; 503
/*	when the store cannot commit (retry with the same Idempotency-Key).
/*
/*	The key is "Authorization: Bearer SECRET". tracker_api_key_file
/*	holds one key a line, "NAME SECRET", or "NAME SECRET retired" for
/*	a key that is refused (and logged as such) while its callers are
/*	moved to a new one. Secrets are compared as SHA-256 digests with
/*	CRYPTO_memcmp(), in time that does not depend on where they
/*	differ; every key is compared, whichever matches.
/*
/*	An Idempotency-Key header (at most 200 bytes) makes a retried
/*	request count once: the key, scoped by the API key's name, is
/*	stored with the event in the same transaction.
/*
/*	Events: {"email": A, "type": T, "data": {...}} where T is one of
/*	purchase (recorded as purchased), cart_abandoned, page_visit,
/*	form_submitted, webinar_registered, webinar_attended, nps,
/*	crm_status, upgraded, or custom with "name" (lower-case letters,
/*	digits, _ - ., recorded as that name). nps needs data.score 0-10;
/*	crm_status needs data.status.
/*
/*	Contacts: {"email": A, "fields": {...}, "double_opt_in": bool}:
/*	creates or updates (an update records a field_changed event for
/*	each field it changes); with double_opt_in the contact is pending
/*	and gets a confirmation mail (as POST /subscribe).
/*
/*	GET /report answers the report of report(3) as one HTML page, GET
/*	/report.json as JSON (what "postdrip report --json" prints), with
/*	the same key; "workflow=NAME" and "since=DATE" (ISO 8601, or a
/*	duration back from now such as 30d) narrow it.
/* SEE ALSO
/*	tracker(3), signal_web(3)
/*--*/
#include "pdconfig.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "tracker/tracker_int.h"
#include "signal/signal_web.h"
#include "report/report.h"
#include "util/clock.h"
#include "util/msg.h"
#include "util/mymalloc.h"

int
trk_keys_load(TRACKER *t, const char *path, char **err)
{
	FILE   *fp;
	char	line[1024], name[128], secret[512], flag[32];
	int	n, lineno = 0;

	if ((fp = fopen(path, "r")) == 0) {
		*err = myasprintf("tracker_api_key_file %s: %m", path);
		return (-1);
	}
	while (fgets(line, sizeof(line), fp) != 0) {
		lineno++;
		if (line[strspn(line, " \t\r\n")] == 0 || line[strspn(line, " \t")] == '#')
			continue;
		flag[0] = 0;
		n = sscanf(line, "%127s %511s %31s", name, secret, flag);
		if (n < 2 || (n == 3 && strcmp(flag, "retired") != 0) || strlen(secret) < 16) {
			*err = myasprintf("%s:%d: expected \"NAME SECRET\" or \"NAME SECRET retired\","
					  " SECRET at least 16 characters", path, lineno);
			fclose(fp);
			return (-1);
		}
		t->keys = myrealloc(t->keys, (t->nkeys + 1) * sizeof(*t->keys));
		t->keys[t->nkeys].name = mystrdup(name);
		SHA256((unsigned char *) secret, strlen(secret), t->keys[t->nkeys].hash);
		t->keys[t->nkeys].retired = n == 3;
		t->nkeys++;
	}
	fclose(fp);
	return (0);
}

/* trk_api_key - the matching key, or 0 */

static const TRK_KEY *
trk_api_key(TRK_REQ *r)
{
	const char *auth = trk_header(r, "Authorization");
	unsigned char h[32];
	const TRK_KEY *found = 0;
	size_t	i;

	if (auth == 0 || strncasecmp(auth, "Bearer ", 7) != 0)
		return (0);
	auth += 7;
	SHA256((const unsigned char *) auth, strlen(auth), h);
	for (i = 0; i < r->t->nkeys; i++)
		if (CRYPTO_memcmp(h, r->t->keys[i].hash, 32) == 0)
			found = r->t->keys + i;
	return (found);
}

static const char *const trk_api_types[] = {
	"purchase", "cart_abandoned", "page_visit", "form_submitted",
	"webinar_registered", "webinar_attended", "nps", "crm_status",
	"upgraded", "custom", 0,
};

/* trk_name_ok - event names: short lower-case words */

static int
trk_name_ok(const char *s)
{
	size_t	n = 0;

	for (; *s; s++, n++)
		if (!(islower((unsigned char) *s) || isdigit((unsigned char) *s)
		      || *s == '_' || *s == '-' || *s == '.'))
			return (0);
	return (n > 0 && n < 48);
}

/* trk_bad - 400 naming the field */

static MHD_RESULT
trk_bad(TRK_REQ *r, const char *field, const char *why)
{
	if (msg_verbose)
		trk_log(r, "refused: api: %s: %s", field, why);
	return (trk_json(r, 400, "{s:s,s:s}", "error", why, "field", field));
}

MHD_RESULT
trk_api(TRK_REQ *r, const char *path)
{
	TRACKER *t = r->t;
	const TRK_KEY *key;
	json_error_t jerr;
	json_t *req, *v, *data;
	const char *email, *type, *idem, *ctype;
	char	idbuf[SIGWEB_IDEM_MAX + 1], typebuf[64];
	WEB_SIG	w;
	int	i, rc, events;
	MHD_RESULT ret;

	events = strcmp(path, "/api/events") == 0;
	if (!events && strcmp(path, "/api/contacts") != 0)
		return (trk_json(r, 404, "{s:s}", "error", "no such endpoint"));
	if ((key = trk_api_key(r)) == 0 || key->retired) {
		trk_log(r, "refused: api: %s", key ? "retired key" : "no valid API key");
		return (trk_json(r, 401, "{s:s}", "error", key ? "API key retired" : "API key required"));
	}
	if (!r->post)
		return (trk_answer(r, 405, "application/json", "{\"error\":\"use POST\"}", 20, "Allow", "POST"));
	ctype = trk_header(r, "Content-Type");
	if (ctype == 0 || strncasecmp(ctype, "application/json", 16) != 0)
		return (trk_json(r, 415, "{s:s}", "error", "Content-Type must be application/json"));
	idem = trk_header(r, "Idempotency-Key");
	if (idem && (strlen(idem) == 0 || strlen(idem) + strlen(key->name) + 1 > SIGWEB_IDEM_MAX))
		return (trk_bad(r, "Idempotency-Key", "empty or longer than 200 bytes"));
	req = json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == 0 || !json_is_object(req)) {
		if (req)
			json_decref(req);
		return (trk_json(r, 400, "{s:s,s:s,s:i}", "error", req ? "not a JSON object" : jerr.text,
				 "field", "", "position", req ? 0 : jerr.position));
	}
	memset(&w, 0, sizeof(w));
	w.now = clock_now();
	if ((email = json_string_value(json_object_get(req, "email"))) == 0) {
		ret = trk_bad(r, "email", "missing or not a string");
		goto out;
	}
	w.address = email;
	if ((data = json_object_get(req, "data")) != 0 && !json_is_object(data)) {
		ret = trk_bad(r, "data", "not an object");
		goto out;
	}
	if (events) {
		if ((type = json_string_value(json_object_get(req, "type"))) == 0) {
			ret = trk_bad(r, "type", "missing or not a string");
			goto out;
		}
		for (i = 0; trk_api_types[i] && strcmp(trk_api_types[i], type) != 0; i++)
			;
		if (trk_api_types[i] == 0) {
			ret = trk_bad(r, "type", "unknown event type");
			goto out;
		}
		if (strcmp(type, "custom") == 0) {
			type = json_string_value(json_object_get(req, "name"));
			if (type == 0 || !trk_name_ok(type)) {
				ret = trk_bad(r, "name", "custom events need a name of lower-case letters, digits, _ - .");
				goto out;
			}
		} else if (strcmp(type, "purchase") == 0) {
			type = "purchased";
		} else if (strcmp(type, "nps") == 0) {
			v = data ? json_object_get(data, "score") : 0;
			if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 10) {
				ret = trk_bad(r, "data.score", "nps needs an integer score 0-10");
				goto out;
			}
		} else if (strcmp(type, "crm_status") == 0) {
			if (!json_is_string(data ? json_object_get(data, "status") : 0)) {
				ret = trk_bad(r, "data.status", "crm_status needs a status string");
				goto out;
			}
		}
		snprintf(typebuf, sizeof(typebuf), "%s", type);
		w.kind = WEB_EVENT;
		w.type = typebuf;
	} else {
		if ((v = json_object_get(req, "fields")) != 0 && !json_is_object(v)) {
			ret = trk_bad(r, "fields", "not an object");
			goto out;
		}
		if ((v = json_object_get(req, "double_opt_in")) != 0 && !json_is_boolean(v)) {
			ret = trk_bad(r, "double_opt_in", "not true or false");
			goto out;
		}
		w.kind = json_is_true(v) ? WEB_SUBSCRIBE : WEB_CONTACT;
		w.fields = json_object_get(req, "fields");
	}
	w.data = data ? json_deep_copy(data) : json_object();
	json_object_set_new(w.data, "via", json_string("api"));
	json_object_set_new(w.data, "api_key", json_string(key->name));
	if (idem) {
		snprintf(idbuf, sizeof(idbuf), "%s:%s", key->name, idem);
		w.idem_key = idbuf;
	}
	rc = signal_web_record(t->st, &w);
	json_decref(w.data);
	if (rc == STORE_CONFIG) {
		ret = trk_bad(r, "email", "not an e-mail address");
		goto out;
	}
	if (rc != STORE_OK) {
		trk_log(r, "deferred: api: store: %s", store_strerror(rc));
		ret = trk_json(r, 503, "{s:s}", "error", "temporary failure, retry with the same Idempotency-Key");
		goto out;
	}
	if (w.changed && !w.duplicate)
		trk_count_event(t, events ? "api" : w.kind == WEB_SUBSCRIBE ? "subscribe_requested" : "api", 0);
	trk_log(r, "api: %s contact=%llu address=<%s> key=%s result=%s%s%s",
		events ? w.type : "contact", (unsigned long long) w.contact, w.addr,
		key->name, w.result, idem ? " idempotency_key=" : "", idem ? idem : "");
	if (w.kind == WEB_SUBSCRIBE && !w.duplicate && strcmp(w.result, "pending") == 0) {
		/* Share the form's path for the mail. */
		char	reply[INJECT_REPLY_MAX];
		int	st = trk_confirm_send(r, w.contact, w.addr, reply, sizeof(reply));

		if (st == INJECT_DEFER) {
			ret = trk_json(r, 503, "{s:s}", "error", "confirmation mail deferred; retry");
			goto out;
		}
	}
	ret = trk_json(r, 200, "{s:s,s:I,s:I,s:b}", "status", w.duplicate ? "duplicate" : w.result,
		       "contact", (json_int_t) w.contact, "event", (json_int_t) w.seq,
		       "created", w.created);
out:
	json_decref(req);
	return (ret);
}

/* trk_report - GET /report (HTML) or /report.json, behind an API key */

MHD_RESULT
trk_report(TRK_REQ *r, const char *path)
{
	const TRK_KEY *key;
	REPORT_OPTS o;
	WORKFLOW_SET *wfs;
	STRBUF	errs = STRBUF_INIT, out = STRBUF_INIT;
	const char *since;
	json_t *rep;
	char   *text;
	long	back;
	int	as_json = strcmp(path, "/report.json") == 0;
	MHD_RESULT ret;

	if ((key = trk_api_key(r)) == 0 || key->retired) {
		trk_log(r, "refused: report: %s", key ? "retired key" : "no valid API key");
		return (trk_json(r, 401, "{s:s}", "error", key ? "API key retired" : "API key required"));
	}
	if (r->post)
		return (trk_answer(r, 405, "application/json", "{\"error\":\"use GET\"}", 19, "Allow", "GET"));
	memset(&o, 0, sizeof(o));
	o.now = clock_now();
	o.workflow = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "workflow");
	if (o.workflow && *o.workflow == 0)
		o.workflow = 0;
	since = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "since");
	if (since && *since) {
		if (clock_parse(since, &o.since) == 0) {
			/* a date */
		} else if (clock_parse_duration(since, &back) == 0 && back > 0) {
			o.since = o.now - back;
		} else {
			return (trk_bad(r, "since", "not a date or a duration"));
		}
	}
	/* The step order and the goals; a report without them if need be. */
	wfs = workflow_load_dir(config_str(r->t->cf, "workflow_directory"), &errs);
	strbuf_free(&errs);
	o.wfs = wfs;
	if (report_build(r->t->st, &o, &rep) != STORE_OK) {
		if (wfs)
			workflow_set_free(wfs);
		trk_log(r, "report: cannot read the store");
		return (trk_json(r, 503, "{s:s}", "error", "store unavailable"));
	}
	if (wfs)
		workflow_set_free(wfs);
	trk_log(r, "report: key=%s workflow=%s format=%s", key->name,
		o.workflow ? o.workflow : "(all)", as_json ? "json" : "html");
	if (as_json) {
		text = json_dumps(rep, JSON_COMPACT | JSON_PRESERVE_ORDER);
		ret = trk_answer(r, 200, "application/json", text, strlen(text), 0, 0);
		free(text);
	} else {
		report_html(rep, &out);
		ret = trk_answer(r, 200, "text/html; charset=utf-8", strbuf_str(&out),
				 strbuf_len(&out), 0, 0);
		strbuf_free(&out);
	}
	json_decref(rep);
	return (ret);
}

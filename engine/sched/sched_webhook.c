/*++
/* NAME
/*	sched_webhook 3
/* SUMMARY
/*	webhook steps: an HTTP POST of JSON, retried with backoff
/* SYNOPSIS
/*	#include "sched/sched_int.h"
/*
/*	int	sched_step_webhook(s, txn, e, wf, st, contact)
/*
/*	int	sched_render_json(v, ctx, err)
/* DESCRIPTION
/*	The step POSTs a JSON body to the step's URL with libcurl: the
/*	step's body, whose strings are Mustache templates rendered against
/*	the same context as a message (contact, owner, tags, clicked, event),
/*	or by default {"contact": ..., "workflow": ..., "step": ...,
/*	"event": ...}. With a secret the request carries
/*	X-Postdrip-Signature: sha256=HEX, an HMAC-SHA256 of the body.
/*	Every request carries X-Postdrip-Delivery: ENROLMENT.N, the same
/*	for every attempt of one step of one enrolment (retries, and a
/*	repeat after a crash) and different for any other, so a receiver
/*	can drop what it has seen.
/*
/*	A 2xx answer records a "webhook" event and the enrolment goes on.
/*	Anything else (no answer within the step's timeout, 3xx, 4xx, 5xx)
/*	is retried after engine_retry_backoff, up to the step's retries;
/*	then "webhook_failed" is recorded and the enrolment goes on.
/*
/*	With save, a 2xx answer that is a JSON object sets contact fields
/*	from its keys (or a.b paths through its objects), in the same
/*	transaction as the step's outcome, with a field_changed event per
/*	change; a key the answer lacks (or holds null or an object) leaves
/*	its field alone and is named in the webhook event's "unanswered".
/*	An answer that is not JSON saves nothing ("not_saved") and the
/*	enrolment goes on: the workflow's next if decides on the fields as
/*	they are.
/*
/*	The answer body is read up to 4 kB; redirects are not followed.
/*
/*	sched_render_json() renders in place the strings of a JSON value
/*	that hold "{{" (a webhook's body, the values of a set step).
/* BUGS
/*	The request is made from the tick, after the round's messages are
/*	injected when the webhook is the job's first step (sched_run(3)),
/*	so a slow endpoint delays the other webhooks and the next round by
/*	up to the step's timeout. The POST happens
/*	before the step's outcome is committed: after a crash in between it
/*	is made again (at least once, unlike a send); X-Postdrip-Delivery
/*	lets the receiver tell. The read transaction of the job stays open
/*	during the request.
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/hmac.h>
#include <openssl/evp.h>

#include "sched/sched_int.h"
#include "message/template.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#define WEBHOOK_REPLY_MAX	4096

static pthread_once_t webhook_once = PTHREAD_ONCE_INIT;

/* webhook_init - libcurl's process-wide setup */

static void
webhook_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* webhook_sink - keep at most WEBHOOK_REPLY_MAX bytes of the answer */

static size_t
webhook_sink(char *data, size_t size, size_t n, void *ctx)
{
	STRBUF *sb = ctx;
	size_t	len = size * n;

	if (strbuf_len(sb) < WEBHOOK_REPLY_MAX)
		strbuf_append(sb, data, len < WEBHOOK_REPLY_MAX - strbuf_len(sb) ?
			      len : WEBHOOK_REPLY_MAX - strbuf_len(sb));
	return (len);
}

/* sched_render_json - render the strings of a JSON template in place */

int
sched_render_json(json_t *v, json_t *ctx, char **err)
{
	const char *key;
	json_t *item;
	size_t	i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, item)
			if (sched_render_json(item, ctx, err) < 0)
			return (-1);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (sched_render_json(item, ctx, err) < 0)
			return (-1);
	} else if (json_is_string(v) && strstr(json_string_value(v), "{{")) {
		TEMPLATE *t;
		STRBUF	out = STRBUF_INIT;

		if ((t = template_compile("webhook", json_string_value(v),
					  json_string_length(v), err)) == 0)
			return (-1);
		if (template_render(t, ctx, 0, 0, 0, &out, err) != TEMPLATE_OK) {
			template_free(t);
			strbuf_free(&out);
			return (-1);
		}
		template_free(t);
		json_string_setn(v, strbuf_str(&out), strbuf_len(&out));
		strbuf_free(&out);
	}
	return (0);
}

/* webhook_body - the JSON text to POST; NULL with *err */

static char *
webhook_body(SCHED *s, STORE_TXN *txn, const SCHED_ENROL *e, const WF_STEP *st,
	             json_t *rec, char **err)
{
	json_t *ctx = sched_context(s, txn, e, st, rec), *body;
	char   *text;

	if (st->body) {
		body = json_deep_copy(st->body);
		if (sched_render_json(body, ctx, err) < 0) {
			json_decref(body);
			json_decref(ctx);
			return (0);
		}
	} else {
		body = json_pack("{s:O, s:s, s:s}", "contact", json_object_get(ctx, "contact"),
				 "workflow", e->workflow, "step", st->id);
		if (json_object_get(ctx, "event"))
			json_object_set(body, "event", json_object_get(ctx, "event"));
	}
	text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(body);
	json_decref(ctx);
	return (text);
}

/* webhook_post - one request; the HTTP status, or 0 with errbuf */

static long
webhook_post(const SCHED_ENROL *e, const WF_STEP *st, const char *body,
	             STRBUF *reply, char *errbuf)
{
	CURL   *c;
	struct curl_slist *hdr = 0;
	long	status = 0;
	int	i;

	if ((c = curl_easy_init()) == 0) {
		snprintf(errbuf, CURL_ERROR_SIZE, "curl_easy_init failed");
		return (0);
	}
	*errbuf = 0;
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	{
		char	id[80];

		snprintf(id, sizeof(id), "X-Postdrip-Delivery: %llu.%u",
			 (unsigned long long) e->id, e->nsteps);
		hdr = curl_slist_append(hdr, id);
	}
	for (i = 0; i < st->nheaders; i++) {
		char   *h = myasprintf("%s: %s", st->headers[i].name, st->headers[i].value);

		hdr = curl_slist_append(hdr, h);
		myfree(h);
	}
	if (st->secret) {
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int maclen = 0;
		STRBUF	h = STRBUF_INIT;
		unsigned j;

		HMAC(EVP_sha256(), st->secret, (int) strlen(st->secret),
		     (const unsigned char *) body, strlen(body), mac, &maclen);
		strbuf_puts(&h, "X-Postdrip-Signature: sha256=");
		for (j = 0; j < maclen; j++)
			strbuf_printf(&h, "%02x", mac[j]);
		hdr = curl_slist_append(hdr, strbuf_str(&h));
		strbuf_free(&h);
	}
	curl_easy_setopt(c, CURLOPT_URL, st->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) strlen(body));
	curl_easy_setopt(c, CURLOPT_TIMEOUT, st->duration > 0 ? st->duration : 10L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "postdrip-engine");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, webhook_sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else if (*errbuf == 0)
		snprintf(errbuf, CURL_ERROR_SIZE, "request failed");
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return (status);
}

/* webhook_lookup - the value at a key or a.b path of the answer */

static json_t *
webhook_lookup(json_t *answer, const char *path)
{
	const char *dot;
	char	key[256];
	json_t *v = answer;

	while (v && json_is_object(v)) {
		if ((dot = strchr(path, '.')) == 0)
			return (json_object_get(v, path));
		if ((size_t) (dot - path) >= sizeof(key))
			return (0);
		memcpy(key, path, dot - path);
		key[dot - path] = 0;
		v = json_object_get(v, key);
		path = dot + 1;
	}
	return (0);
}

/* webhook_save - the fields to set from a 2xx answer (NULL: none), with
 * the names of the fields the answer did not give in *missing */

static json_t *
webhook_save(const WF_STEP *st, const STRBUF *reply, STRBUF *missing,
	             const char **why)
{
	json_t *answer, *values, *v, *key;
	json_error_t jerr;
	const char *field;

	*why = 0;
	if (strbuf_len(reply) >= WEBHOOK_REPLY_MAX) {
		*why = "answer over 4 kB";
		return (0);
	}
	if ((answer = json_loadb(strbuf_str(reply), strbuf_len(reply), JSON_REJECT_DUPLICATES,
				 &jerr)) == 0 || !json_is_object(answer)) {
		if (answer)
			json_decref(answer);
		*why = "answer is not a JSON object";
		return (0);
	}
	values = json_object();
	json_object_foreach(st->save, field, key) {
		v = webhook_lookup(answer, json_string_value(key));
		/* A datum the service does not have leaves the field alone;
		 * an object is not a field value. */
		if (v == 0 || json_is_null(v) || json_is_object(v)
		    || (json_is_string(v) && json_string_length(v) > 1000)) {
			strbuf_printf(missing, "%s%s", strbuf_len(missing) ? "," : "", field);
			continue;
		}
		json_object_set(values, field, v);
	}
	json_decref(answer);
	return (values);
}

/* sched_step_webhook - call the endpoint, record the result */

int
sched_step_webhook(SCHED *s, STORE_TXN *txn, SCHED_ENROL *e, const WORKFLOW *wf,
		           const WF_STEP *st, json_t *rec)
{
	char	errbuf[CURL_ERROR_SIZE], addr[ADDR_MAX + 1];
	char   *body, *err = 0;
	SCHED_TR tr, scratch;
	STRBUF	reply = STRBUF_INIT, missing = STRBUF_INIT;
	const char *why = 0;
	json_t *data;
	long	status = 0;

	pthread_once(&webhook_once, webhook_init);
	(void) sched_addr(0, e->contact, rec, addr);
	sched_tr_init(&tr, s, e);
	if ((body = webhook_body(s, txn, e, st, rec, &err)) == 0) {
		snprintf(errbuf, sizeof(errbuf), "body: %s", err ? err : "?");
		myfree(err);
	} else {
		status = webhook_post(e, st, body, &reply, errbuf);
		free(body);
	}
	if (status >= 200 && status < 300) {
		data = json_pack("{s:s, s:s, s:s, s:i}", "workflow", wf->name, "step",
				 st->id, "url", st->url, "status", (int) status);
		if (st->save && (tr.values = webhook_save(st, &reply, &missing, &why)) != 0) {
			tr.step = st;
			tr.contact_op = sched_op_set;
			/* Later steps of this run branch on what was saved. */
			sched_tr_init(&scratch, s, e);
			scratch.step = st;
			scratch.values = tr.values;
			(void) sched_op_set(&scratch, rec);
			scratch.values = 0;
			sched_tr_free(&scratch);
		}
		if (strbuf_len(&missing))
			json_object_set_new(data, "unanswered", json_string(strbuf_str(&missing)));
		if (why)
			json_object_set_new(data, "not_saved", json_string(why));
		sched_tr_event(&tr, "webhook", data);
		sched_log(s, why != 0, "webhook: contact=%llu address=<%s> workflow=%s step=%s url=%s status=%ld%s%s%s%s",
			  (unsigned long long) e->contact, addr, wf->name, st->id, st->url, status,
			  strbuf_len(&missing) ? " unanswered=" : "", strbuf_str(&missing),
			  why ? "; not saved: " : "", why ? why : "");
		strbuf_free(&reply);
		strbuf_free(&missing);
		sched_goto(s, &tr, wf, st->next);
		return (sched_commit(&tr, e));
	}
	strbuf_free(&reply);
	strbuf_free(&missing);
	if (status != 0)
		snprintf(errbuf, sizeof(errbuf), "HTTP status %ld", status);
	if (e->attempts < (uint32_t) (st->retries > 0 ? st->retries : 0)) {
		tr.after.attempts = e->attempts + 1;
		tr.due = s->now + sched_backoff(s, tr.after.attempts);
		sched_log(s, 1, "webhook deferred: contact=%llu address=<%s> workflow=%s step=%s url=%s: %s; "
			  "attempt %u", (unsigned long long) e->contact, addr, wf->name, st->id,
			  st->url, errbuf, tr.after.attempts);
		return (sched_commit(&tr, e) && 0);
	}
	sched_tr_event(&tr, "webhook_failed", json_pack("{s:s, s:s, s:s, s:s}", "workflow",
				wf->name, "step", st->id, "url", st->url, "error", errbuf));
	sched_log(s, 1, "webhook failed: contact=%llu address=<%s> workflow=%s step=%s url=%s: %s",
		  (unsigned long long) e->contact, addr, wf->name, st->id, st->url, errbuf);
	sched_goto(s, &tr, wf, st->next);
	return (sched_commit(&tr, e));
}

/*++
/* NAME
/*	sched_webhook 3
/* SUMMARY
/*	webhook steps: an HTTP POST of JSON, retried with backoff
/* SYNOPSIS
/*	#include "sched/sched_int.h"
/*
/*	int	sched_step_webhook(s, txn, e, wf, st, contact)
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
/*	The answer body is read up to 4 kB and not kept; redirects are not
/*	followed.
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

/* webhook_render - render the strings of a JSON template in place */

static int
webhook_render(json_t *v, json_t *ctx, char **err)
{
	const char *key;
	json_t *item;
	size_t	i;

	if (json_is_object(v)) {
		json_object_foreach(v, key, item)
			if (webhook_render(item, ctx, err) < 0)
			return (-1);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (webhook_render(item, ctx, err) < 0)
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
		if (webhook_render(body, ctx, err) < 0) {
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
	             char *errbuf)
{
	CURL   *c;
	struct curl_slist *hdr = 0;
	STRBUF	reply = STRBUF_INIT;
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
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else if (*errbuf == 0)
		snprintf(errbuf, CURL_ERROR_SIZE, "request failed");
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	strbuf_free(&reply);
	return (status);
}

/* sched_step_webhook - call the endpoint, record the result */

int
sched_step_webhook(SCHED *s, STORE_TXN *txn, SCHED_ENROL *e, const WORKFLOW *wf,
		           const WF_STEP *st, json_t *rec)
{
	char	errbuf[CURL_ERROR_SIZE], addr[ADDR_MAX + 1];
	char   *body, *err = 0;
	SCHED_TR tr;
	long	status = 0;

	pthread_once(&webhook_once, webhook_init);
	(void) sched_addr(0, e->contact, rec, addr);
	sched_tr_init(&tr, s, e);
	if ((body = webhook_body(s, txn, e, st, rec, &err)) == 0) {
		snprintf(errbuf, sizeof(errbuf), "body: %s", err ? err : "?");
		myfree(err);
	} else {
		status = webhook_post(e, st, body, errbuf);
		free(body);
	}
	if (status >= 200 && status < 300) {
		sched_tr_event(&tr, "webhook", json_pack("{s:s, s:s, s:s, s:i}", "workflow",
				 wf->name, "step", st->id, "url", st->url, "status", (int) status));
		sched_log(s, 0, "webhook: contact=%llu address=<%s> workflow=%s step=%s url=%s status=%ld",
			  (unsigned long long) e->contact, addr, wf->name, st->id, st->url, status);
		sched_goto(s, &tr, wf, st->next);
		return (sched_commit(&tr, e));
	}
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

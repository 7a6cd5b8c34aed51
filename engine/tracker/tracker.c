/*++
/* NAME
/*	tracker 3
/* SUMMARY
/*	the HTTP tracker and API of postdrip-engine
/* SYNOPSIS
/*	#include "tracker/tracker.h"
/*
/*	TRACKER *tracker_start(cf, st, tk, err)
/*
/*	void	tracker_stop(t)
/* DESCRIPTION
/*	tracker_start() serves tracker_listen with libmicrohttpd: epoll,
/*	tracker_threads threads, HTTP/1.1 keep-alive. The endpoints are
/*	described in postdrip-engine(8), TRACKER:
/* .IP "/o/TOKEN, /c/TOKEN"
/*	The open pixel and the click redirect. Both are labelled by
/*	tracker_bot(3) and recorded by signal_web(3) without waiting for
/*	the commit (the store's group commit makes them durable within
/*	a second): an answer never waits for a disk. HEAD is answered and
/*	never recorded. A click answers 302 to the signed URL only; a
/*	token that does not verify answers a plain 404 page.
/* .IP "/u/TOKEN, /subscribe, /confirm/TOKEN, /v"
/*	Pages and forms: tracker_pages(3).
/* .IP "/api/events, /api/contacts"
/*	tracker_api(3).
/* .IP "/healthz, /metrics"
/*	Liveness (a store read), and counters in Prometheus text format:
/*	the tracker's own (requests, events), the store's sizes, the jobs
/*	due now (store_stat_due()), and the bounces and complaints that the
/*	LMTP receiver and the milter tallied in the store (store_tally()).
/* .PP
/*	Bounds: libmicrohttpd refuses a request line and headers over
/*	tracker_header_limit (414 or 431); a body over tracker_body_limit
/*	is refused with 413 before it is read; tracker_idle_timeout closes
/*	idle and slow connections; tracker_max_connections bounds them
/*	all; tracker_rate_limit requests per second per client address
/*	(a token bucket of tracker_rate_burst) answer 429 beyond it.
/*
/*	The client address is the peer's, or, when the peer is one of
/*	tracker_trusted_proxies (or a unix-domain socket peer), the last
/*	X-Forwarded-For address that is not itself a trusted proxy.
/* DIAGNOSTICS
/*	One log line per recorded decision (unsubscribe, opt-in, refused
/*	API call, forged token); opens and clicks are counted in /metrics,
/*	not logged one by one, unless -v.
/* SEE ALSO
/*	postdrip-engine(8), tracker_bot(3), signal_web(3), track(3)
/*--*/
#include "pdconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tracker/tracker_int.h"
#include "signal/signal_web.h"
#include "store/store_stat.h"
#include "token/track.h"
#include "util/clock.h"
#include "message/template.h"
#include "util/msg.h"
#include "util/mymalloc.h"

/* A 1x1 transparent GIF89a: header, screen, 2-colour table, graphic
 * control extension (colour 0 transparent), image, LZW data, trailer. */
static const unsigned char trk_gif[43] = {
	'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0,
	0, 0, 0, 0xff, 0xff, 0xff,
	0x21, 0xf9, 4, 1, 0, 0, 0, 0,
	0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0,
	2, 2, 0x44, 1, 0, 0x3b,
};

static const int trk_codes[TRK_CODES] = {
	200, 202, 204, 302, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503,
};

static const char *const trk_ep_names[EP_COUNT] = {
	"open", "click", "unsubscribe", "subscribe", "confirm", "visit",
	"api_events", "api_contacts", "healthz", "metrics", "other",
};

static const char *const trk_ev_names[TRK_EVTYPES] = {
	"opened", "clicked", "unsubscribed", "resubscribed", "preferences_changed",
	"subscribe_requested", "subscribed", "page_visit", "api", 0,
};

/*
 * Counters the signal module keeps in the store (store_tally()), for the
 * signals the tracker does not see: bounces and complaints arrive by mail.
 * Entries of one metric are next to each other.
 */
static const struct {
	const char *name;		/* store_tally() name */
	const char *metric;
	const char *labels;
	const char *help;
}	trk_tallies[] = {
	{"bounced.hard", "postdrip_bounces_total", "{class=\"hard\"}",
	"Bounces tied to a recorded send, by class."},
	{"bounced.soft", "postdrip_bounces_total", "{class=\"soft\"}", 0},
	{"bounced.unclassified", "postdrip_bounces_total", "{class=\"unclassified\"}", 0},
	{"bounce_unverified", "postdrip_bounces_unverified_total", "",
	"Bounces that named no send of ours (recorded, changing nothing)."},
	{"delayed", "postdrip_delays_total", "", "Delay notifications (DSN action delayed)."},
	{"complained", "postdrip_complaints_total", "", "Complaints (ARF) tied to a recorded send."},
	{"complaint_unverified", "postdrip_complaints_unverified_total", "",
	"Complaints that named no send of ours."},
};

#define TRK_TALLIES ((int) (sizeof(trk_tallies) / sizeof(trk_tallies[0])))

/* trk_count_event - events by type and human/machine */

void
trk_count_event(TRACKER *t, const char *type, int machine)
{
	int	i;

	for (i = 0; i < TRK_EVTYPES && trk_ev_names[i]; i++)
		if (strcmp(trk_ev_names[i], type) == 0)
			break;
	if (i == TRK_EVTYPES || trk_ev_names[i] == 0)
		for (i = 0; trk_ev_names[i] && strcmp(trk_ev_names[i], "api") != 0; i++)
			;
	__atomic_fetch_add(&t->ev[i][machine ? 1 : 0], 1, __ATOMIC_RELAXED);
}

/* trk_header - a request header, or 0 */

const char *
trk_header(TRK_REQ *r, const char *name)
{
	return (MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name));
}

/* trk_html - HTML-escaped text */

void
trk_html(STRBUF *out, const char *s)
{
	template_html_escape(out, s, strlen(s));
}

/* trk_log - one line naming the client */

void
trk_log(TRK_REQ *r, const char *fmt,...)
{
	STRBUF	sb = STRBUF_INIT;
	va_list	ap;

	va_start(ap, fmt);
	strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	msg_info("%s client=%s", strbuf_str(&sb), r->client);
	strbuf_free(&sb);
}

/* trk_answer - queue an answer (body copied) */

MHD_RESULT
trk_answer(TRK_REQ *r, int code, const char *ctype, const char *body,
	           size_t len, const char *hdr, const char *val)
{
	struct MHD_Response *resp;
	MHD_RESULT ret;

	/* An empty body (a redirect) needs no copy. */
	resp = MHD_create_response_from_buffer(len, len ? (void *) body : (void *) "",
				len ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
	if (resp == 0)
		return (MHD_NO);
	if (ctype)
		MHD_add_response_header(resp, "Content-Type", ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (hdr)
		MHD_add_response_header(resp, hdr, val);
	r->code = code;
	ret = MHD_queue_response(r->conn, code, resp);
	MHD_destroy_response(resp);
	return (ret);
}

/* trk_page - a small HTML page; html is already escaped */

MHD_RESULT
trk_page(TRK_REQ *r, int code, const char *title, const char *html)
{
	STRBUF	sb = STRBUF_INIT;
	MHD_RESULT ret;

	strbuf_puts(&sb, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		    "<meta name=\"robots\" content=\"noindex\"><title>");
	trk_html(&sb, title);
	strbuf_puts(&sb, "</title><style>body{font-family:sans-serif;max-width:36em;"
		    "margin:3em auto;padding:0 1em;line-height:1.5}button{font-size:1em;"
		    "padding:.5em 1em;margin:.5em 0}fieldset{border:1px solid #ccc;margin:1em 0}"
		    "</style></head><body><h1>");
	trk_html(&sb, title);
	strbuf_puts(&sb, "</h1>\n");
	strbuf_puts(&sb, html);
	strbuf_puts(&sb, "\n</body></html>\n");
	ret = trk_answer(r, code, "text/html; charset=utf-8", sb.data, sb.len,
			 "X-Frame-Options", "DENY");
	strbuf_free(&sb);
	return (ret);
}

/* trk_json - a JSON answer from a json_pack format */

MHD_RESULT
trk_json(TRK_REQ *r, int code, const char *fmt,...)
{
	va_list	ap;
	json_t *j;
	char   *text;
	MHD_RESULT ret;

	va_start(ap, fmt);
	j = json_vpack_ex(0, 0, fmt, ap);
	va_end(ap);
	text = j ? json_dumps(j, JSON_COMPACT) : 0;
	ret = trk_answer(r, code, "application/json", text ? text : "{}",
			 text ? strlen(text) : 2, 0, 0);
	if (text)
		free(text);
	if (j)
		json_decref(j);
	return (ret);
}

/* trk_req_data - user agent and client, the data every event carries */

json_t *
trk_req_data(TRK_REQ *r)
{
	json_t *d = json_object();
	const char *ua = trk_header(r, "User-Agent");

	if (ua)
		json_object_set_new(d, "user_agent", json_stringn(ua, strnlen(ua, 512)));
	json_object_set_new(d, "client", json_string(r->client));
	return (d);
}

/* trk_client - the client address, X-Forwarded-For from trusted proxies */

static void
trk_client(TRK_REQ *r)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	const char *xff;
	char	buf[64];
	int	trusted = 0;
	unsigned char bin[16];
	const char *end, *start;

	strcpy(r->client, "unknown");
	r->have_client = 0;
	ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci ? ci->client_addr : 0;
	if (sa && sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, r->client,
			  sizeof(r->client));
	} else if (sa && sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, r->client,
			  sizeof(r->client));
		if (strncmp(r->client, "::ffff:", 7) == 0 && strchr(r->client + 7, '.'))
			memmove(r->client, r->client + 7, strlen(r->client + 7) + 1);
	} else {
		strcpy(r->client, "local");
		trusted = 1;
	}
	if (!trusted && bot_addr_parse(r->client, r->cbin) == 0) {
		r->have_client = 1;
		trusted = bot_nets_match(&r->t->proxies, r->cbin);
	}
	if (!trusted || (xff = trk_header(r, "X-Forwarded-For")) == 0)
		return;
	/* From the right: the first address that is not a trusted proxy. */
	end = xff + strlen(xff);
	while (end > xff) {
		for (start = end; start > xff && start[-1] != ','; start--)
			;
		while (start < end && (*start == ' ' || *start == '\t'))
			start++;
		if ((size_t) (end - start) < sizeof(buf) && end > start) {
			size_t	n = end - start;

			memcpy(buf, start, n);
			while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
				n--;
			buf[n] = 0;
			if (bot_addr_parse(buf, bin) < 0)
				return;		/* garbage: keep the peer */
			snprintf(r->client, sizeof(r->client), "%s", buf);
			memcpy(r->cbin, bin, 16);
			r->have_client = 1;
			if (!bot_nets_match(&r->t->proxies, bin))
				return;
		} else
			return;
		end = start > xff ? start - 1 : xff;
		while (end > xff && end[-1] != ',' && (end[-1] == ' '))
			end--;
	}
}

/* trk_rate_ok - token bucket per client */

static int
trk_rate_ok(TRACKER *t, TRK_REQ *r)
{
	struct timespec ts;
	TRK_RATE *slot;
	double	now;
	size_t	h = 0;
	int	i, ok;

	if (t->rate <= 0 || !r->have_client)
		return (1);
	for (i = 0; i < 16; i++)
		h = h * 131 + r->cbin[i];
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec + ts.tv_nsec / 1e9;
	pthread_mutex_lock(&t->rate_lock);
	slot = t->rates + h % TRK_RATE_SLOTS;
	if (memcmp(slot->client, r->cbin, 16) != 0 || slot->last == 0) {
		memcpy(slot->client, r->cbin, 16);
		slot->tokens = t->burst;
	} else {
		slot->tokens += (now - slot->last) * t->rate;
		if (slot->tokens > t->burst)
			slot->tokens = t->burst;
	}
	slot->last = now;
	if ((ok = slot->tokens >= 1))
		slot->tokens -= 1;
	pthread_mutex_unlock(&t->rate_lock);
	return (ok);
}

/*
 * Asynchronous recording of opens and clicks: one allocation per request,
 * the WEB_SIG and a copy of the strings it borrows (user agent, client,
 * link name and URL), freed after the commit. No JSON is built on the
 * request thread: signal_web(3) makes the event's data in the writer.
 */
typedef struct TRK_ASYNC {
	WEB_SIG	w;
	TRACKER *t;
	char	strings[1];		/* user agent, client, name, URL */
} TRK_ASYNC;

static void
trk_async_done(void *ctx, int status)
{
	TRK_ASYNC *a = ctx;

	if (status == STORE_OK && a->w.relabelled)
		msg_info("tracker: honeypot click: contact=%llu msgno=%llu: %d earlier opens "
			 "and clicks relabelled machine_reason=honeypot",
			 (unsigned long long) a->w.token.contact,
			 (unsigned long long) a->w.token.message, a->w.relabelled);
	if (status == STORE_OK && a->w.changed)
		trk_count_event(a->t, a->w.kind == WEB_OPEN ? "opened" : "clicked", a->w.labelled);
	else if (status != STORE_OK && status != STORE_NOTFOUND)
		msg_warn("tracker: %s not recorded: contact=%llu msgno=%llu: %s",
			 a->w.kind == WEB_OPEN ? "open" : "click",
			 (unsigned long long) a->w.token.contact,
			 (unsigned long long) a->w.token.message, store_strerror(status));
	myfree(a);
}

/* trk_strcpy - copy s (up to max bytes) to *p; advance *p */

static const char *
trk_strcpy(char **p, const char *s, size_t max)
{
	char   *d = *p;
	size_t	n = strnlen(s, max);

	memcpy(d, s, n);
	d[n] = 0;
	*p = d + n + 1;
	return (d);
}

/* trk_record_async - label and queue an open or a click */

static void
trk_record_async(TRK_REQ *r, const TOKEN *tok, const TRACK_REQ *tr)
{
	TRACKER *t = r->t;
	TRK_ASYNC *a;
	BOT_REQ br;
	BOT_LABEL bl;
	size_t	ua_len, name_len = 0, url_len = 0;
	char   *p;

	memset(&br, 0, sizeof(br));
	br.kind = tr->kind;
	br.user_agent = trk_header(r, "User-Agent");
	if ((br.purpose = trk_header(r, "Sec-Purpose")) == 0)
		br.purpose = trk_header(r, "Purpose");
	if ((br.have_client = r->have_client) != 0)
		memcpy(br.client, r->cbin, 16);
	br.message = tok->message;
	br.link = tok->aux;
	br.link_name = tr->kind == 'c' ? tr->name : 0;
	br.now = clock_now();
	bot_label(&t->bot, &br, &bl);

	/* The event keeps 512 bytes of the user agent (signal_web(3)). */
	ua_len = br.user_agent ? strnlen(br.user_agent, 512) : 0;
	if (tr->kind == 'c') {
		name_len = strlen(tr->name);
		url_len = strlen(tr->url);
	}
	a = mymalloc(offsetof(TRK_ASYNC, strings) + ua_len + 1 + strlen(r->client) + 1
		     + name_len + 1 + url_len + 1);
	memset(a, 0, offsetof(TRK_ASYNC, strings));
	p = a->strings;
	a->t = t;
	a->w.kind = tr->kind == 'o' ? WEB_OPEN : WEB_CLICK;
	a->w.have_token = 1;
	a->w.token = *tok;
	a->w.now = br.now;
	a->w.machine = bl.machine;
	a->w.machine_reason = bl.reason;
	a->w.open_window = t->open_window;
	a->w.click_window = t->click_window;
	a->w.honeypot = tr->kind == 'c' && t->bot.honeypot_link[0]
	    && strcasecmp(tr->name, t->bot.honeypot_link) == 0;
	a->w.honeypot_window = t->bot.honeypot_window;
	if (br.user_agent)
		a->w.user_agent = trk_strcpy(&p, br.user_agent, ua_len);
	a->w.client = trk_strcpy(&p, r->client, sizeof(r->client));
	a->w.proxy = bl.proxy;
	if (tr->kind == 'c') {
		a->w.link = trk_strcpy(&p, tr->name, name_len);
		a->w.url = trk_strcpy(&p, tr->url, url_len);
		a->w.link_number = tok->aux;
	}
	store_write_async(t->st, signal_web_apply, &a->w, trk_async_done, 0);
}

/* trk_track - /o/ and /c/ */

static MHD_RESULT
trk_track(TRK_REQ *r, const char *path)
{
	TRACKER *t = r->t;
	TRACK_REQ tr;
	TOKEN	tok;
	STRBUF	q = STRBUF_INIT;
	const char *l, *u;
	int	rc;
	MHD_RESULT ret;

	if (strcmp(r->method, "GET") != 0 && !r->head)
		return (trk_answer(r, 405, "text/plain", "method not allowed\n", 19, "Allow", "GET, HEAD"));
	if (path[1] == 'c') {
		/* The unescape callback leaves values raw: decoded by track(3). */
		l = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "l");
		u = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "u");
		if (l && u)
			strbuf_printf(&q, "l=%s&u=%s", l, u);
		else if (u)
			strbuf_printf(&q, "u=%s", u);	/* the name is the URL's */
	}
	rc = track_parse(path, strbuf_str(&q), &tr);
	strbuf_free(&q);
	if (rc < 0 || tr.kind == 0 || (rc = track_verify(t->tk, &tr, &tok)) != TOKENS_OK) {
		if (path[1] == 'o')	/* a pixel always draws */
			return (r->code = 200, MHD_queue_response(r->conn, 200, t->gif));
		if (msg_verbose || rc == TOKENS_NOKEY)
			trk_log(r, "refused: click: %s", rc == TOKENS_NOKEY ? "retired key" : "bad token");
		return (trk_page(r, 404, "Not found", "<p>This link is not valid.</p>"));
	}
	if (!r->head)
		trk_record_async(r, &tok, &tr);
	if (tr.kind == 'o') {
		r->code = 200;
		return (MHD_queue_response(r->conn, 200, t->gif));
	}
	if (config_bool(t->cf, "tracker_visit_cookie")) {
		struct MHD_Response *resp;
		char	cookie[TOKEN_TEXT_MAX + 128];

		/* The page-visit beacon's tie: see tracker_pages(3). */
		if ((resp = MHD_create_response_from_buffer(0, (void *) "", MHD_RESPMEM_PERSISTENT)) == 0)
			return (MHD_NO);
		MHD_add_response_header(resp, "Location", tr.url);
		MHD_add_response_header(resp, "Cache-Control", "no-store");
		MHD_add_response_header(resp, "Set-Cookie",
				  trk_visit_cookie(t, tok.contact, cookie, sizeof(cookie)));
		r->code = 302;
		ret = MHD_queue_response(r->conn, 302, resp);
		MHD_destroy_response(resp);
		return (ret);
	}
	ret = trk_answer(r, 302, "text/plain", "", 0, "Location", tr.url);
	return (ret);
}

/* trk_healthz - the store answers a read */

static MHD_RESULT
trk_healthz(TRK_REQ *r)
{
	STORE_TXN *txn;

	if (store_rbegin(r->t->st, &txn) != STORE_OK)
		return (trk_answer(r, 503, "text/plain", "store unavailable\n", 18, 0, 0));
	store_rend(txn);
	return (trk_answer(r, 200, "text/plain", "ok\n", 3, 0, 0));
}

/* trk_metrics - Prometheus text format */

static MHD_RESULT
trk_metrics(TRK_REQ *r)
{
	TRACKER *t = r->t;
	STRBUF	sb = STRBUF_INIT;
	STORE_TXN *txn;
	STORE_STAT ss;
	unsigned long v;
	int	i, j, have = 0;
	size_t	due = 0;
	uint64_t tally[TRK_TALLIES];
	MHD_RESULT ret;

	strbuf_puts(&sb, "# HELP postdrip_tracker_requests_total HTTP requests by endpoint and answer.\n"
		    "# TYPE postdrip_tracker_requests_total counter\n");
	for (i = 0; i < EP_COUNT; i++)
		for (j = 0; j < TRK_CODES; j++)
			if ((v = __atomic_load_n(&t->req[i][j], __ATOMIC_RELAXED)) != 0)
				strbuf_printf(&sb, "postdrip_tracker_requests_total{endpoint=\"%s\",code=\"%d\"} %lu\n",
					      trk_ep_names[i], trk_codes[j], v);
	strbuf_puts(&sb, "# HELP postdrip_tracker_events_total Events recorded by the tracker, by type and human or machine.\n"
		    "# TYPE postdrip_tracker_events_total counter\n");
	for (i = 0; i < TRK_EVTYPES && trk_ev_names[i]; i++)
		for (j = 0; j < 2; j++)
			strbuf_printf(&sb, "postdrip_tracker_events_total{type=\"%s\",source=\"%s\"} %lu\n",
				      trk_ev_names[i], j ? "machine" : "human",
				      __atomic_load_n(&t->ev[i][j], __ATOMIC_RELAXED));
	if (store_rbegin(t->st, &txn) == STORE_OK) {
		if ((have = store_stat(txn, &ss) == STORE_OK) != 0) {
			due = store_stat_due(txn, clock_now());
			for (i = 0; i < TRK_TALLIES; i++)
				tally[i] = store_tally_get(txn, trk_tallies[i].name);
		}
		store_rend(txn);
	}
	if (have)
		strbuf_printf(&sb,
			      "# HELP postdrip_sent_messages Messages recorded as sent.\n"
			      "# TYPE postdrip_sent_messages gauge\npostdrip_sent_messages %zu\n"
			      "# HELP postdrip_suppressed_addresses Addresses on the suppression list.\n"
			      "# TYPE postdrip_suppressed_addresses gauge\npostdrip_suppressed_addresses %zu\n"
			      "# HELP postdrip_contacts Contacts in the store.\n"
			      "# TYPE postdrip_contacts gauge\npostdrip_contacts %zu\n"
			      "# HELP postdrip_scheduled_jobs Jobs in the schedule (due or later).\n"
			      "# TYPE postdrip_scheduled_jobs gauge\npostdrip_scheduled_jobs %zu\n"
			      "# HELP postdrip_events_last Sequence number of the last event.\n"
			      "# TYPE postdrip_events_last counter\npostdrip_events_last %llu\n"
			      "# HELP postdrip_store_map_bytes Size of the LMDB map.\n"
			      "# TYPE postdrip_store_map_bytes gauge\npostdrip_store_map_bytes %zu\n"
			      "# HELP postdrip_store_used_bytes Bytes of the map in use.\n"
			      "# TYPE postdrip_store_used_bytes gauge\npostdrip_store_used_bytes %zu\n",
			      ss.sent, ss.suppressed, ss.contacts, ss.scheduled,
			      (unsigned long long) ss.events, ss.map_size, ss.used);
	if (have) {
		strbuf_printf(&sb, "# HELP postdrip_jobs_due Scheduled jobs whose time has come.\n"
			      "# TYPE postdrip_jobs_due gauge\npostdrip_jobs_due %zu\n", due);
		for (i = 0; i < TRK_TALLIES; i++) {
			if (i == 0 || strcmp(trk_tallies[i].metric, trk_tallies[i - 1].metric) != 0)
				strbuf_printf(&sb, "# HELP %s %s\n# TYPE %s counter\n",
					      trk_tallies[i].metric, trk_tallies[i].help,
					      trk_tallies[i].metric);
			strbuf_printf(&sb, "%s%s %llu\n", trk_tallies[i].metric,
				      trk_tallies[i].labels, (unsigned long long) tally[i]);
		}
	}
	strbuf_printf(&sb, "# HELP postdrip_store_up Whether the store answered.\n"
		      "# TYPE postdrip_store_up gauge\npostdrip_store_up %d\n", have);
	ret = trk_answer(r, 200, "text/plain; version=0.0.4", sb.data, sb.len, 0, 0);
	strbuf_free(&sb);
	return (ret);
}

/* trk_dispatch - the whole request is here */

static MHD_RESULT
trk_dispatch(TRK_REQ *r, const char *url)
{
	if (r->too_big) {
		trk_log(r, "refused: %.100s: body over tracker_body_limit", url);
		return (trk_answer(r, 413, "text/plain", "request body too large\n", 23, "Connection", "close"));
	}
	if (!trk_rate_ok(r->t, r)) {
		if (msg_verbose)
			trk_log(r, "refused: rate limit");
		return (trk_answer(r, 429, "text/plain", "too many requests\n", 18, "Retry-After", "1"));
	}
	if (url[0] == '/' && (url[1] == 'o' || url[1] == 'c') && url[2] == '/')
		return (trk_track(r, url));
	if (strncmp(url, "/u/", 3) == 0)
		return (trk_unsub(r, url + 3));
	if (strcmp(url, "/subscribe") == 0)
		return (trk_subscribe(r));
	if (strncmp(url, "/confirm/", 9) == 0)
		return (trk_confirm(r, url + 9));
	if (strcmp(url, "/v") == 0)
		return (trk_visit(r));
	if (strncmp(url, "/api/", 5) == 0)
		return (trk_api(r, url));
	if (strcmp(url, "/report") == 0 || strcmp(url, "/report.json") == 0)
		return (trk_report(r, url));
	if (strcmp(url, "/healthz") == 0)
		return (trk_healthz(r));
	if (strcmp(url, "/metrics") == 0)
		return (trk_metrics(r));
	return (trk_page(r, 404, "Not found", "<p>Nothing here.</p>"));
}

/* trk_endpoint - for /metrics */

static TRK_EP
trk_endpoint(const char *url)
{
	if (strncmp(url, "/o/", 3) == 0)
		return (EP_OPEN);
	if (strncmp(url, "/c/", 3) == 0)
		return (EP_CLICK);
	if (strncmp(url, "/u/", 3) == 0)
		return (EP_UNSUB);
	if (strcmp(url, "/subscribe") == 0)
		return (EP_SUBSCRIBE);
	if (strncmp(url, "/confirm/", 9) == 0)
		return (EP_CONFIRM);
	if (strcmp(url, "/v") == 0)
		return (EP_VISIT);
	if (strcmp(url, "/api/events") == 0)
		return (EP_API_EVENTS);
	if (strcmp(url, "/api/contacts") == 0)
		return (EP_API_CONTACTS);
	if (strcmp(url, "/healthz") == 0)
		return (EP_HEALTH);
	if (strcmp(url, "/metrics") == 0)
		return (EP_METRICS);
	return (EP_OTHER);
}

/* trk_handler - libmicrohttpd's access handler */

static MHD_RESULT
trk_handler(void *cls, struct MHD_Connection *conn, const char *url,
	            const char *method, const char *version, const char *data,
	            size_t *data_size, void **con_cls)
{
	TRACKER *t = cls;
	TRK_REQ *r = *con_cls;
	const char *cl;

	(void) version;
	if (r == 0) {
		r = mycalloc(1, sizeof(*r));
		r->t = t;
		r->conn = conn;
		r->method = method;
		r->head = strcmp(method, "HEAD") == 0;
		r->post = strcmp(method, "POST") == 0;
		r->ep = trk_endpoint(url);
		trk_client(r);
		*con_cls = r;
		cl = trk_header(r, "Content-Length");
		if (cl && strtoull(cl, 0, 10) > t->body_limit) {
			/* Answered now: the body is never read. */
			r->too_big = 1;
			trk_log(r, "refused: %s %.100s: body of %.20s bytes over tracker_body_limit",
				method, url, cl);
			return (trk_answer(r, 413, "text/plain", "request body too large\n", 23,
					   "Connection", "close"));
		}
		return (MHD_YES);
	}
	if (*data_size) {
		if (!r->too_big && r->body.len + *data_size <= t->body_limit)
			strbuf_append(&r->body, data, *data_size);
		else
			r->too_big = 1;
		*data_size = 0;
		return (MHD_YES);
	}
	return (trk_dispatch(r, url));
}

/* trk_completed - count and free */

static void
trk_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	              enum MHD_RequestTerminationCode toe)
{
	TRACKER *t = cls;
	TRK_REQ *r = *con_cls;
	int	j;

	(void) conn;
	(void) toe;
	if (r == 0)
		return;
	for (j = 0; j < TRK_CODES && trk_codes[j] != r->code; j++)
		;
	if (j < TRK_CODES)
		__atomic_fetch_add(&t->req[r->ep][j], 1, __ATOMIC_RELAXED);
	strbuf_free(&r->body);
	myfree(r);
	*con_cls = 0;
	/* libmicrohttpd's threads have no exit hook: drop the read
	 * transaction a page or /metrics may have cached in this one. */
	store_thread_end(t->st);
}

/* trk_unescape - leave values raw; track(3) and the forms decode them */

static size_t
trk_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void) cls;
	(void) c;
	return (strlen(s));
}

/* trk_mhd_log - libmicrohttpd's own complaints */

static void
trk_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	buf[512];

	(void) cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = 0;
	if (msg_verbose)
		msg_info("tracker: %s", buf);
}

TRACKER *
tracker_start(CONFIG *cf, STORE *st, TOKENS *tk, char **err)
{
	TRACKER *t;
	const char *spec = config_str(cf, "tracker_listen");
	char  **list, *e = 0;
	BOT_NET net;
	long	n, bad;
	const char *path;

	*err = 0;
	if (spec == 0 || *spec == 0)
		return (0);
	t = mycalloc(1, sizeof(*t));
	t->cf = config_ref(cf);
	t->st = st;
	t->tk = tk;
	t->started = time(0);
	t->base = config_str(cf, "tracker_url");
	bot_init(&t->bot);
	t->bot.multi_link_window = config_int(cf, "tracker_burst_window");
	t->bot.honeypot_window = config_int(cf, "tracker_honeypot_window");
	t->bot.honeypot_link = config_str(cf, "tracker_honeypot_link");
	t->open_window = config_int(cf, "tracker_open_window");
	t->click_window = config_int(cf, "tracker_click_window");
	t->body_limit = config_int(cf, "tracker_body_limit");
	t->rate = config_int(cf, "tracker_rate_limit");
	t->burst = config_int(cf, "tracker_rate_burst");
	t->rates = mycalloc(TRK_RATE_SLOTS, sizeof(*t->rates));
	pthread_mutex_init(&t->rate_lock, 0);
	pthread_mutex_init(&t->inj_lock, 0);
	for (list = config_list(cf, "tracker_trusted_proxies"); list && *list; list++) {
		if (bot_net_parse(*list, strlen(*list), &net) < 0) {
			*err = myasprintf("tracker_trusted_proxies: not an address or prefix: \"%s\"", *list);
			goto fail;
		}
		bot_nets_add(&t->proxies, &net);
	}
	path = config_str(cf, "tracker_apple_ranges_file");
	if (*path) {
		if ((n = bot_nets_load(&t->bot.apple, path, &bad)) < 0)
			msg_warn("tracker_apple_ranges_file %s: %m: Apple proxy opens are "
				 "labelled by user agent only", path);
		else
			msg_info("tracker: %ld Apple proxy ranges from %s%s", n, path,
				 bad ? " (some lines were not ranges)" : "");
	}
	path = config_str(cf, "tracker_api_key_file");
	if (*path && trk_keys_load(t, path, &e) < 0) {
		*err = e;
		goto fail;
	}
	t->inj = inject_create(config_str(cf, "inject_address"), 1,
			       (int) config_int(cf, "inject_timeout"),
			       config_str(cf, "message_id_domain"));
	t->gif = MHD_create_response_from_buffer(sizeof(trk_gif), (void *) trk_gif,
						 MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(t->gif, "Content-Type", "image/gif");
	MHD_add_response_header(t->gif, "Cache-Control", "no-cache, no-store, must-revalidate, private, max-age=0");
	MHD_add_response_header(t->gif, "Pragma", "no-cache");
	MHD_add_response_header(t->gif, "Expires", "0");

	if ((t->fd = config_socket_listen(spec, 0666, &e)) < 0) {
		*err = myasprintf("tracker_listen %s: %s", spec, e ? e : "cannot listen");
		if (e)
			myfree(e);
		goto fail;
	}
	t->mhd = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
				  0, 0, 0, trk_handler, t,
				  MHD_OPTION_LISTEN_SOCKET, t->fd,
			      MHD_OPTION_THREAD_POOL_SIZE, (unsigned) config_int(cf, "tracker_threads"),
		     MHD_OPTION_CONNECTION_LIMIT, (unsigned) config_int(cf, "tracker_max_connections"),
		  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) config_int(cf, "tracker_idle_timeout"),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) config_int(cf, "tracker_header_limit"),
				  MHD_OPTION_NOTIFY_COMPLETED, trk_completed, t,
				  MHD_OPTION_UNESCAPE_CALLBACK, trk_unescape, t,
				  MHD_OPTION_EXTERNAL_LOGGER, trk_mhd_log, t,
				  MHD_OPTION_END);
	if (t->mhd == 0) {
		*err = myasprintf("tracker_listen %s: libmicrohttpd did not start", spec);
		close(t->fd);
		goto fail;
	}
	msg_info("tracker: listening on %s, %lld threads", spec,
		 config_int(cf, "tracker_threads"));
	return (t);

fail:
	tracker_stop(t);
	return (0);
}

void
tracker_stop(TRACKER *t)
{
	size_t	i;

	if (t == 0)
		return;
	if (t->mhd) {
		MHD_stop_daemon(t->mhd);
		close(t->fd);
	}
	/* Opens and clicks queued: committed before the store closes. */
	store_flush(t->st);
	if (t->gif)
		MHD_destroy_response(t->gif);
	if (t->inj)
		inject_free(t->inj);
	for (i = 0; i < t->nkeys; i++)
		myfree(t->keys[i].name);
	if (t->keys)
		myfree(t->keys);
	bot_free(&t->bot);
	bot_nets_free(&t->proxies);
	pthread_mutex_destroy(&t->rate_lock);
	pthread_mutex_destroy(&t->inj_lock);
	myfree(t->rates);
	config_unref(t->cf);
	myfree(t);
}

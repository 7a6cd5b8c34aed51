/*++
/* NAME
/*	tracker_pages 3
/* SUMMARY
/*	unsubscribe, preference and opt-in pages; the page-visit beacon
/* SYNOPSIS
/*	#include "tracker/tracker_int.h"
/*
/*	MHD_RESULT trk_unsub(r, token)
/*	MHD_RESULT trk_subscribe(r)
/*	MHD_RESULT trk_confirm(r, token)
/*	MHD_RESULT trk_visit(r)
/* DESCRIPTION
/*	A GET never changes anything: link scanners follow every GET in
/*	the mail they inspect. Each page shows a form whose button POSTs,
/*	with a CSRF token (a tokens(3) token bound to the page's own
/*	token) that a form on another site cannot know.
/*
/*	POST /u/TOKEN with List-Unsubscribe=One-Click (RFC 8058), as
/*	application/x-www-form-urlencoded or multipart/form-data, needs no
/*	CSRF token or cookie: the token in the URL is the proof. It
/*	suppresses the address and answers 200 without a redirect, only
/*	after the commit; a store failure answers 503 so that the mail
/*	provider tries again. The page's own forms (action=unsubscribe,
/*	resubscribe, preferences) need the CSRF token.
/*
/*	GET /subscribe shows a form; POST /subscribe (email, optional
/*	list) records the request (the contact is "pending" and gets no
/*	workflow marketing) and sends a confirmation mail on the
/*	transactional stream through inject_address. Its link,
/*	/confirm/TOKEN, shows a page whose button POSTs; that POST records
/*	the consent and the "subscribed" event that starts welcome flows.
/*
/*	GET /v?p=URL is the page-visit beacon a website embeds as an
/*	image: it records page_visit for the contact whose click brought
/*	the visitor, known from the first-party cookie the click redirect
/*	set (when the tracker is on the site's domain). Without the
/*	cookie it draws the pixel and records nothing.
/* SEE ALSO
/*	tracker(3), signal_web(3), RFC 8058
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tracker/tracker_int.h"
#include "signal/signal_web.h"
#include "token/track.h"
#include "token/verp.h"
#include "util/clock.h"
#include "util/msg.h"
#include "util/mymalloc.h"

#define TRK_AUX_CONFIRM	1
#define TRK_AUX_VISIT	2
#define TRK_AUX_CSRF	3

/* trk_aux_sign - a TOKEN_API token for a purpose, bound to bind */

static char *
trk_aux_sign(TRACKER *t, uint64_t contact, uint64_t message, uint32_t aux,
	             const char *bind, char *buf)
{
	TOKEN	tok;

	memset(&tok, 0, sizeof(tok));
	tok.kind = TOKEN_API;
	tok.contact = contact;
	tok.message = message;
	tok.aux = aux;
	return (tokens_sign(t->tk, &tok, bind, strlen(bind), buf));
}

/* trk_aux_verify - the same, checked; TOKENS_OK with *tok */

static int
trk_aux_verify(TRACKER *t, const char *text, uint32_t aux, const char *bind, TOKEN *tok)
{
	int	rc;

	if (text == 0 || strlen(text) >= TOKEN_TEXT_MAX)
		return (TOKENS_BAD);
	rc = tokens_verify(t->tk, text, strlen(text), bind, strlen(bind), tok);
	if (rc == TOKENS_OK && (tok->kind != TOKEN_API || tok->aux != aux))
		return (TOKENS_BAD);
	return (rc);
}

/* trk_csrf_ok - the form's csrf field, bound to the page token */

static int
trk_csrf_ok(TRK_REQ *r, const char *page_token, const TOKEN *page)
{
	char	csrf[TOKEN_TEXT_MAX], bind[TOKEN_TEXT_MAX + 8];
	TOKEN	tok;

	if (trk_form_get(trk_header(r, "Content-Type"), r->body.data, r->body.len,
			 "csrf", csrf, sizeof(csrf) - 1) < 0)
		return (0);
	snprintf(bind, sizeof(bind), "csrf\n%s", page_token);
	return (trk_aux_verify(r->t, csrf, TRK_AUX_CSRF, bind, &tok) == TOKENS_OK
		&& tok.contact == page->contact);
}

/* trk_csrf_field - the hidden input */

static void
trk_csrf_field(TRK_REQ *r, STRBUF *sb, const char *page_token, const TOKEN *page)
{
	char	csrf[TOKEN_TEXT_MAX], bind[TOKEN_TEXT_MAX + 8];

	snprintf(bind, sizeof(bind), "csrf\n%s", page_token);
	strbuf_printf(sb, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
		      trk_aux_sign(r->t, page->contact, page->message, TRK_AUX_CSRF, bind, csrf));
}

/* trk_store_trouble - 503 with Retry-After */

static MHD_RESULT
trk_store_trouble(TRK_REQ *r, int rc)
{
	trk_log(r, "deferred: store: %s", store_strerror(rc));
	return (trk_answer(r, 503, "text/plain", "temporary failure, try again later\n", 35,
			   "Retry-After", "60"));
}

/* trk_prefs_html - the page for a contact */

static MHD_RESULT
trk_unsub_page(TRK_REQ *r, const char *token, const TOKEN *tok, json_t *rec,
	               int suppressed, const char *notice)
{
	STRBUF	sb = STRBUF_INIT;
	const char *email = json_string_value(json_object_get(rec, "email"));
	json_t *lists = signal_web_lists(rec), *off = json_object_get(rec, "unsubscribed_lists");
	json_t *v;
	size_t	i;
	MHD_RESULT ret;
	int	any = 0;

	if (notice) {
		strbuf_puts(&sb, "<p id=\"notice\"><strong>");
		trk_html(&sb, notice);
		strbuf_puts(&sb, "</strong></p>\n");
	}
	strbuf_puts(&sb, "<p>Address: <b id=\"address\">");
	trk_html(&sb, email ? email : "");
	strbuf_puts(&sb, "</b></p>\n");
	if (suppressed) {
		strbuf_puts(&sb, "<p id=\"state\">You receive no marketing mail from us.</p>\n"
			    "<form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"resubscribe\">");
		trk_csrf_field(r, &sb, token, tok);
		strbuf_puts(&sb, "<button type=\"submit\" id=\"resubscribe\">Subscribe again</button></form>\n");
	} else {
		strbuf_puts(&sb, "<p id=\"state\">You are subscribed to our marketing mail.</p>\n"
			    "<form method=\"post\"><input type=\"hidden\" name=\"action\" value=\"unsubscribe\">");
		trk_csrf_field(r, &sb, token, tok);
		strbuf_puts(&sb, "<button type=\"submit\" id=\"unsubscribe\">Unsubscribe from all marketing mail</button></form>\n");
		strbuf_puts(&sb, "<form method=\"post\"><fieldset><legend>Or choose your lists</legend>"
			    "<input type=\"hidden\" name=\"action\" value=\"preferences\">");
		trk_csrf_field(r, &sb, token, tok);
		json_array_foreach(json_is_array(lists) ? lists : 0, i, v) {
			if (!json_is_string(v))
				continue;
			strbuf_puts(&sb, "<label><input type=\"checkbox\" checked name=\"list:");
			trk_html(&sb, json_string_value(v));
			strbuf_puts(&sb, "\" value=\"on\"> ");
			trk_html(&sb, json_string_value(v));
			strbuf_puts(&sb, "</label><br>");
			any = 1;
		}
		json_array_foreach(json_is_array(off) ? off : 0, i, v) {
			if (!json_is_string(v))
				continue;
			strbuf_puts(&sb, "<label><input type=\"checkbox\" name=\"list:");
			trk_html(&sb, json_string_value(v));
			strbuf_puts(&sb, "\" value=\"on\"> ");
			trk_html(&sb, json_string_value(v));
			strbuf_puts(&sb, "</label><br>");
			any = 1;
		}
		if (!any)
			strbuf_puts(&sb, "<p>You are on no particular list.</p>");
		strbuf_puts(&sb, "<button type=\"submit\" id=\"save\">Save my lists</button></fieldset></form>\n");
	}
	ret = trk_page(r, 200, "Your mail preferences", sb.data);
	strbuf_free(&sb);
	return (ret);
}

/* trk_prefs_fields - {"list": bool} from the checkboxes */

static json_t *
trk_prefs_fields(TRK_REQ *r, json_t *rec)
{
	json_t *f = json_object(), *v;
	const char *names[] = {"lists", "unsubscribed_lists", 0};
	char	field[200], val[8];
	size_t	i;
	int	k;

	(void) signal_web_lists(rec);

	for (k = 0; names[k]; k++) {
		json_array_foreach(json_is_array(json_object_get(rec, names[k])) ?
				   json_object_get(rec, names[k]) : 0, i, v) {
			if (!json_is_string(v) || strlen(json_string_value(v)) > 150)
				continue;
			snprintf(field, sizeof(field), "list:%s", json_string_value(v));
			json_object_set_new(f, json_string_value(v),
			 json_boolean(trk_form_get(trk_header(r, "Content-Type"), r->body.data,
					  r->body.len, field, val, sizeof(val) - 1) >= 0));
		}
	}
	return (f);
}

MHD_RESULT
trk_unsub(TRK_REQ *r, const char *token)
{
	TRACKER *t = r->t;
	TRACK_REQ tr;
	TOKEN	tok;
	STORE_SENT sent;
	STORE_SUPPRESSION sup;
	WEB_SIG	w;
	json_t *rec = 0;
	char	path[TOKEN_TEXT_MAX + 4], val[64];
	const char *ctype = trk_header(r, "Content-Type");
	const char *notice = 0;
	int	rc, have_sent, suppressed;
	MHD_RESULT ret;

	snprintf(path, sizeof(path), "/u/%.*s", TOKEN_TEXT_MAX - 1, token);
	if (track_parse(path, 0, &tr) < 0 || tr.kind != 'u'
	    || (rc = track_verify(t->tk, &tr, &tok)) != TOKENS_OK) {
		trk_log(r, "refused: unsubscribe: bad token");
		return (trk_page(r, 404, "Not found", "<p>This link is not valid.</p>"));
	}
	if (!r->post && strcmp(r->method, "GET") != 0 && !r->head)
		return (trk_answer(r, 405, "text/plain", "method not allowed\n", 19, "Allow", "GET, HEAD, POST"));
	memset(&w, 0, sizeof(w));
	w.have_token = 1;
	w.token = tok;
	w.now = clock_now();
	if (r->post) {
		if (trk_form_get(ctype, r->body.data, r->body.len, "List-Unsubscribe", val, sizeof(val) - 1) >= 0) {
			if (strcmp(val, "One-Click") != 0)
				return (trk_answer(r, 400, "text/plain", "List-Unsubscribe must be One-Click\n", 35, 0, 0));
			w.kind = WEB_UNSUB;
			w.data = trk_req_data(r);
			json_object_set_new(w.data, "via", json_string("one-click"));
			rc = signal_web_record(t->st, &w);
			json_decref(w.data);
			if (rc == STORE_NOTFOUND)
				return (trk_page(r, 404, "Not found", "<p>This link is not valid.</p>"));
			if (rc != STORE_OK)
				return (trk_store_trouble(r, rc));
			if (w.changed)
				trk_count_event(t, "unsubscribed", 0);
			trk_log(r, "unsubscribed: via=one-click contact=%llu address=<%s> msgno=%llu result=%s",
				(unsigned long long) w.contact, w.addr,
				(unsigned long long) tok.message, w.result);
			return (trk_answer(r, 200, "text/plain", "unsubscribed\n", 13, 0, 0));
		}
		if (!trk_csrf_ok(r, tr.token, &tok)) {
			trk_log(r, "refused: unsubscribe page: bad or missing CSRF token");
			return (trk_page(r, 403, "Forbidden", "<p>This form has expired. Please open the link from your mail again.</p>"));
		}
		if (trk_form_get(ctype, r->body.data, r->body.len, "action", val, sizeof(val) - 1) < 0)
			val[0] = 0;
		if (strcmp(val, "unsubscribe") == 0) {
			w.kind = WEB_UNSUB;
			notice = "You are unsubscribed.";
		} else if (strcmp(val, "resubscribe") == 0) {
			w.kind = WEB_RESUB;
			notice = "You are subscribed again.";
		} else if (strcmp(val, "preferences") == 0) {
			w.kind = WEB_PREFS;
			notice = "Your lists are saved.";
		} else
			return (trk_answer(r, 400, "text/plain", "unknown action\n", 15, 0, 0));
	}
	if ((rc = signal_web_lookup(t->st, &tok, &rec, &sent, &have_sent, &sup, &suppressed)) != STORE_OK) {
		if (rc == STORE_NOTFOUND)
			return (trk_page(r, 404, "Not found", "<p>This link is not valid.</p>"));
		return (trk_store_trouble(r, rc));
	}
	if (r->post) {
		w.data = trk_req_data(r);
		json_object_set_new(w.data, "via", json_string("page"));
		if (w.kind == WEB_PREFS)
			w.fields = trk_prefs_fields(r, rec);
		rc = signal_web_record(t->st, &w);
		json_decref(w.data);
		if (w.fields)
			json_decref(w.fields);
		json_decref(rec);
		rec = 0;
		if (rc != STORE_OK)
			return (trk_store_trouble(r, rc));
		if (w.changed)
			trk_count_event(t, w.kind == WEB_UNSUB ? "unsubscribed" : w.kind == WEB_RESUB ?
					"resubscribed" : "preferences_changed", 0);
		trk_log(r, "%s: via=page contact=%llu address=<%s> result=%s",
			w.kind == WEB_UNSUB ? "unsubscribed" : w.kind == WEB_RESUB ?
			"resubscribed" : "preferences", (unsigned long long) w.contact, w.addr, w.result);
		if (w.kind == WEB_RESUB && strcmp(w.result, "refused") == 0)
			notice = "This address cannot be subscribed again from here; please contact us.";
		/* Show the page as it is now. */
		if ((rc = signal_web_lookup(t->st, &tok, &rec, &sent, &have_sent, &sup, &suppressed)) != STORE_OK)
			return (trk_store_trouble(r, rc));
	}
	ret = trk_unsub_page(r, tr.token, &tok, rec, suppressed, notice);
	json_decref(rec);
	return (ret);
}

/* trk_confirm_mail - the confirmation message, on the transactional stream */

int
trk_confirm_send(TRK_REQ *r, uint64_t contact, const char *addr, char *reply, size_t rmax)
{
	TRACKER *t = r->t;
	STRBUF	msg = STRBUF_INIT;
	char	tokbuf[TOKEN_TEXT_MAX], vtok[TOKEN_TEXT_MAX], sender[ADDR_MAX + 1];
	char	date[64];
	VERP	vp;
	INJECT_MSG m;
	time_t	now = clock_now();
	struct tm tm;
	const char *base = t->base;
	size_t	blen = strlen(base);

	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	trk_aux_sign(t, contact, 0, TRK_AUX_CONFIRM, "confirm", tokbuf);
	verp_from_config(&vp, t->cf);
	verp_sign(&vp, t->tk, VERP_BOUNCE_TX, contact, 0, vtok);
	if (verp_format(&vp, VERP_BOUNCE_TX, vtok, sender) == 0)
		snprintf(sender, sizeof(sender), "%s", config_str(t->cf, "engine_from_address"));
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	strbuf_printf(&msg, "From: %s\nTo: <%s>\nSubject: Please confirm your subscription\n"
		      "Date: %s\nMessage-ID: <confirm.%llu.%lld@%s>\nMIME-Version: 1.0\n"
		      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n"
		      "Auto-Submitted: auto-generated\n\n"
		      "Someone, probably you, asked to receive our mail at %s.\n\n"
		      "To confirm, open this link and press the button on the page:\n\n"
		      "%.*s/confirm/%s\n\n"
		      "If you did not ask, ignore this message: you will get nothing more.\n",
		      config_str(t->cf, "engine_from_address"), addr, date,
		      (unsigned long long) contact, (long long) now,
		      config_str(t->cf, "message_id_domain"), addr, (int) blen, base, tokbuf);
	memset(&m, 0, sizeof(m));
	m.sender = sender;
	m.rcpt = addr;
	m.data = msg.data;
	m.len = msg.len;
	pthread_mutex_lock(&t->inj_lock);
	(void) inject_batch(t->inj, &m, 1);
	pthread_mutex_unlock(&t->inj_lock);
	strbuf_free(&msg);
	snprintf(reply, rmax, "%s", m.reply);
	return (m.status);
}

MHD_RESULT
trk_subscribe(TRK_REQ *r)
{
	TRACKER *t = r->t;
	const char *ctype = trk_header(r, "Content-Type");
	char	email[ADDR_MAX + 1], list[128], reply[INJECT_REPLY_MAX];
	WEB_SIG	w;
	int	rc, st;

	if (!r->post) {
		if (strcmp(r->method, "GET") != 0 && !r->head)
			return (trk_answer(r, 405, "text/plain", "method not allowed\n", 19, "Allow", "GET, HEAD, POST"));
		return (trk_page(r, 200, "Subscribe",
				 "<form method=\"post\"><label>E-mail address "
				 "<input type=\"email\" name=\"email\" id=\"email\" required></label> "
				 "<button type=\"submit\" id=\"subscribe\">Subscribe</button></form>"));
	}
	if (trk_form_get(ctype, r->body.data, r->body.len, "email", email, sizeof(email) - 1) < 0)
		return (trk_page(r, 400, "Bad request", "<p>Please give an e-mail address.</p>"));
	if (trk_form_get(ctype, r->body.data, r->body.len, "list", list, sizeof(list) - 1) < 0)
		list[0] = 0;
	memset(&w, 0, sizeof(w));
	w.kind = WEB_SUBSCRIBE;
	w.address = email;
	w.now = clock_now();
	w.data = trk_req_data(r);
	if (list[0])
		json_object_set_new(w.data, "list", json_string(list));
	rc = signal_web_record(t->st, &w);
	json_decref(w.data);
	if (rc == STORE_CONFIG) {
		trk_log(r, "refused: subscribe: not an address");
		return (trk_page(r, 400, "Bad request", "<p>That is not an e-mail address.</p>"));
	}
	if (rc != STORE_OK)
		return (trk_store_trouble(r, rc));
	if (strcmp(w.result, "pending") == 0) {
		trk_count_event(t, "subscribe_requested", 0);
		st = trk_confirm_send(r, w.contact, w.addr, reply, sizeof(reply));
		trk_log(r, "subscribe: contact=%llu address=<%s> confirmation=%s (%s)",
			(unsigned long long) w.contact, w.addr,
			st == INJECT_OK ? "sent" : st == INJECT_REJECT ? "rejected" : "deferred", reply);
		if (st == INJECT_DEFER)
			return (trk_answer(r, 503, "text/plain", "temporary failure, try again later\n", 35,
					   "Retry-After", "60"));
	} else
		trk_log(r, "subscribe: contact=%llu address=<%s> result=%s",
			(unsigned long long) w.contact, w.addr, w.result);
	/* The same answer whether or not the address was known. */
	return (trk_page(r, 200, "Check your mail",
		 "<p id=\"notice\">We have sent you a message: open its link to confirm.</p>"));
}

MHD_RESULT
trk_confirm(TRK_REQ *r, const char *token)
{
	TRACKER *t = r->t;
	TOKEN	tok;
	STRBUF	sb = STRBUF_INIT;
	WEB_SIG	w;
	char	csrf[TOKEN_TEXT_MAX], bind[TOKEN_TEXT_MAX + 8];
	int	rc;
	MHD_RESULT ret;

	if ((rc = trk_aux_verify(t, token, TRK_AUX_CONFIRM, "confirm", &tok)) != TOKENS_OK) {
		trk_log(r, "refused: confirm: %s", rc == TOKENS_NOKEY ? "retired key" : "bad token");
		return (trk_page(r, 404, "Not found", "<p>This link is not valid.</p>"));
	}
	if (!r->post) {
		if (strcmp(r->method, "GET") != 0 && !r->head)
			return (trk_answer(r, 405, "text/plain", "method not allowed\n", 19, "Allow", "GET, HEAD, POST"));
		strbuf_puts(&sb, "<p>Press the button to confirm your subscription.</p>"
			    "<form method=\"post\">");
		trk_csrf_field(r, &sb, token, &tok);
		strbuf_puts(&sb, "<button type=\"submit\" id=\"confirm\">Confirm my subscription</button></form>");
		ret = trk_page(r, 200, "Confirm your subscription", sb.data);
		strbuf_free(&sb);
		return (ret);
	}
	snprintf(bind, sizeof(bind), "csrf\n%s", token);
	if (!trk_csrf_ok(r, token, &tok)) {
		(void) csrf;
		trk_log(r, "refused: confirm: bad or missing CSRF token");
		return (trk_page(r, 403, "Forbidden", "<p>This form has expired. Please open the link from your mail again.</p>"));
	}
	memset(&w, 0, sizeof(w));
	w.kind = WEB_CONSENT;
	w.have_token = 1;
	w.token = tok;
	w.token.message = 0;
	w.now = clock_now();
	w.data = trk_req_data(r);
	rc = signal_web_record(t->st, &w);
	json_decref(w.data);
	if (rc == STORE_NOTFOUND)
		return (trk_page(r, 404, "Not found", "<p>This link is not valid.</p>"));
	if (rc != STORE_OK)
		return (trk_store_trouble(r, rc));
	trk_count_event(t, "subscribed", 0);
	trk_log(r, "subscribed: via=double-opt-in contact=%llu address=<%s>",
		(unsigned long long) w.contact, w.addr);
	return (trk_page(r, 200, "Subscribed", "<p id=\"notice\">Thank you: your subscription is confirmed.</p>"));
}

/* trk_cookie - a cookie's value from the Cookie header */

static int
trk_cookie(TRK_REQ *r, const char *name, char *buf, size_t max)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);

	if (v == 0 || strlen(v) >= max)
		return (-1);
	strcpy(buf, v);
	return (0);
}

MHD_RESULT
trk_visit(TRK_REQ *r)
{
	TRACKER *t = r->t;
	char	vtok[TOKEN_TEXT_MAX], page[TRACK_URL_MAX + 1];
	const char *p = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "p");
	TOKEN	tok;
	WEB_SIG	w;
	BOT_REQ br;
	BOT_LABEL bl;
	int	rc;

	r->code = 200;
	if (r->head || p == 0 || track_decode(p, strlen(p), page, TRACK_URL_MAX, 1) < 0
	    || trk_cookie(r, "pd_v", vtok, sizeof(vtok)) < 0
	    || trk_aux_verify(t, vtok, TRK_AUX_VISIT, "visit", &tok) != TOKENS_OK)
		return (MHD_queue_response(r->conn, 200, t->gif));
	memset(&br, 0, sizeof(br));
	br.kind = 'o';
	br.user_agent = trk_header(r, "User-Agent");
	if ((br.purpose = trk_header(r, "Sec-Purpose")) == 0)
		br.purpose = trk_header(r, "Purpose");
	bot_label(&t->bot, &br, &bl);
	memset(&w, 0, sizeof(w));
	w.kind = WEB_EVENT;
	w.type = "page_visit";
	w.have_token = 1;
	w.token = tok;
	w.token.message = 0;
	w.now = clock_now();
	w.data = trk_req_data(r);
	json_object_set_new(w.data, "url", json_string(page));
	json_object_set_new(w.data, "via", json_string("beacon"));
	if (bl.machine) {
		/* A scanner loading the site is no visit. */
		json_decref(w.data);
		return (MHD_queue_response(r->conn, 200, t->gif));
	}
	rc = signal_web_record(t->st, &w);
	json_decref(w.data);
	if (rc == STORE_OK)
		trk_count_event(t, "page_visit", 0);
	else if (rc != STORE_NOTFOUND)
		msg_warn("tracker: page visit not recorded: %s", store_strerror(rc));
	return (MHD_queue_response(r->conn, 200, t->gif));
}

/* trk_visit_cookie - Set-Cookie value for a click's contact */

char   *
trk_visit_cookie(TRACKER *t, uint64_t contact, char *buf, size_t max)
{
	char	tokbuf[TOKEN_TEXT_MAX];

	snprintf(buf, max, "pd_v=%s; Max-Age=2592000; Path=/; HttpOnly; SameSite=Lax%s",
		 trk_aux_sign(t, contact, 0, TRK_AUX_VISIT, "visit", tokbuf),
		 strncasecmp(t->base, "https:", 6) == 0 ? "; Secure" : "");
	return (buf);
}

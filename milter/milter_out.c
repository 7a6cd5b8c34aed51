/*++
/* NAME
/*	milter_out 3
/* SUMMARY
/*	postdrip-milter's changes to outbound marketing mail
/* SYNOPSIS
/*	#include "milter.h"
/*
/*	int	milter_out_list_unsub_mode(value)
/*	const char *value;
/*
/*	void	milter_out_header(msg, name, value)
/*	MILTER_MSG *msg;
/*	const char *name;
/*	const char *value;
/*
/*	void	milter_out_apply(ctx, conn, msg, qid, contact, msgno,
/*				engine_mail, log)
/*	SMFICTX	*ctx;
/*	MILTER_CONN *conn;
/*	MILTER_MSG *msg;
/*	const char *qid;
/*	uint64_t contact;
/*	uint64_t msgno;
/*	int	engine_mail;
/*	STRBUF	*log;
/* DESCRIPTION
/*	Once a marketing send is recorded (milter_eom(3), signal_sent()),
/*	milter_out_apply() makes the message carry its signals back to
/*	postdrip, for mail from any sender on the server:
/* .IP \(bu
/*	The X-Postdrip-Workflow and X-Postdrip-Step fields, which only
/*	name the send for the record, are removed.
/* .IP \(bu
/*	The envelope sender becomes bounces+TOKEN@bounce_domain (verp(3)),
/*	signed for (contact, message), so that a bounce comes back to the
/*	LMTP receiver tied exactly. Not for the engine's mail, which has
/*	one already.
/* .IP \(bu
/*	List-Unsubscribe: <tracker_url/u/TOKEN>,
/*	<mailto:unsubscribe+TOKEN@bounce_domain> and List-Unsubscribe-Post:
/*	List-Unsubscribe=One-Click (RFC 8058). A sender's own
/*	List-Unsubscribe is kept after ours (milter_list_unsubscribe =
/*	add, the default), left alone with ours not added (keep), or
/*	removed (replace). A Feedback-ID (workflow:step:stream:
/*	feedback_id_sender) is added unless the message has one.
/* .IP \(bu
/*	Links and opens: rewrite_message() with tracker URLs of track(3)
/*	(contact, message, link number, name and URL) and, in each HTML
/*	part with links, the hidden honeypot link named
/*	tracker_honeypot_link (empty: none) that postdrip-engine's tracker
/*	uses to tell a link scanner from a person, then
/*	smfi_replacebody() and, when the rewriter changed the top-level
/*	Content-Transfer-Encoding, that field. Not done, and the reason
/*	logged, for a message over rewrite_max_size, one whose header was
/*	over milter_header_limit, one with a DKIM signature of a domain
/*	that is not in dkim_signing_domains (our signer, after this
/*	milter, signs those again; another domain's signature would
/*	break), and what rewrite(3) leaves alone.
/* .PP
/*	milter_out_header() notes, for each header field, what the above
/*	needs to know (how many of each field to remove, the sender's own
/*	List-Unsubscribe).
/*
/*	A message with several recipients is tracked per message: its
/*	tokens name no contact (contact 0), and a click or an open is
/*	recorded for the message alone.
/* DIAGNOSTICS
/*	What was done is appended to log (for the caller's one line);
/*	libmilter refusals with msg_warn().
/* SEE ALSO
/*	milter_eom(3), rewrite(3), track(3), verp(3), postdrip-tracking(7)
/*--*/
#include "pdconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "message/rewrite.h"
#include "token/track.h"
#include "util/msg.h"
#include "util/mymalloc.h"
#include "milter.h"

/* Per message: what the rewriter's callbacks sign. */
typedef struct OUT_CTX {
	const TOKENS *tk;
	const char *base;
	uint64_t contact;
	uint64_t msgno;
} OUT_CTX;

#define OUT_HDR_SAVE_MAX	2048	/* the sender's List-Unsubscribe kept */

/* milter_out_list_unsub_mode - setting value to MILTER_LU_*; -1: bad */

int
milter_out_list_unsub_mode(const char *value)
{
	if (strcasecmp(value, "add") == 0)
		return (MILTER_LU_ADD);
	if (strcasecmp(value, "keep") == 0)
		return (MILTER_LU_KEEP);
	if (strcasecmp(value, "replace") == 0)
		return (MILTER_LU_REPLACE);
	return (-1);
}

/* milter_out_header - note what the outbound changes need */

void
milter_out_header(MILTER_MSG *msg, const char *name, const char *value)
{
	if (strcasecmp(name, "X-Postdrip-Workflow") == 0)
		msg->nworkflow_hdr++;
	else if (strcasecmp(name, "X-Postdrip-Step") == 0)
		msg->nstep_hdr++;
	else if (strcasecmp(name, "List-Unsubscribe") == 0) {
		if (msg->nlu_hdr++ == 0 && strlen(value) < OUT_HDR_SAVE_MAX)
			msg->sender_lu = mystrdup(value + strspn(value, " \t"));
	} else if (strcasecmp(name, "List-Unsubscribe-Post") == 0)
		msg->nlup_hdr++;
	else if (strcasecmp(name, "Feedback-ID") == 0)
		msg->have_feedback_id = 1;
}

/* out_link - the rewriter's link callback */

static char *
out_link(void *ctx, const char *url, const char *name, int number)
{
	OUT_CTX *oc = ctx;
	STRBUF	sb = STRBUF_INIT;

	if (!track_url_ok(url) || strlen(url) > TRACK_URL_MAX)
		return (0);
	track_click_url(&sb, oc->tk, oc->base, oc->contact, oc->msgno,
			(uint32_t) number, name, url);
	return (strbuf_steal(&sb));
}

/* out_pixel - the rewriter's pixel callback */

static char *
out_pixel(void *ctx)
{
	OUT_CTX *oc = ctx;
	STRBUF	sb = STRBUF_INIT;

	track_open_url(&sb, oc->tk, oc->base, oc->contact, oc->msgno);
	return (strbuf_steal(&sb));
}

/* out_delete - remove every field of that name */

static void
out_delete(SMFICTX *ctx, const char *qid, const char *name, int count)
{
	int	i;

	/* From the last, so that the indexes of the others do not move. */
	for (i = count; i > 0; i--)
		if (smfi_chgheader(ctx, (char *) name, i, 0) != MI_SUCCESS)
			msg_warn("%s: cannot remove header %s", qid, name);
}

/* out_fbl_field - one Feedback-ID field; "-" when empty */

static void
out_fbl_field(STRBUF *sb, const char *value)
{
	const char *p;

	if (value == 0 || *value == 0) {
		strbuf_putc(sb, '-');
		return;
	}
	/* Feedback-ID fields are separated by ':'; keep them printable. */
	for (p = value; *p && p - value < 64; p++)
		strbuf_putc(sb, (*p == ':' || *p <= ' ' || *p > '~') ? '_' : *p);
}

/* out_headers - VERP, List-Unsubscribe, Feedback-ID */

static void
out_headers(SMFICTX *ctx, const MILTER_SET *set, MILTER_MSG *msg, const char *qid,
	            uint64_t contact, uint64_t msgno, int engine_mail, STRBUF *log)
{
	char	addr[ADDR_MAX + 1], env[ADDR_MAX + 3];
	STRBUF	lu = STRBUF_INIT;
	int	ours;

	if (!engine_mail && set->tk && set->verp.domain[0]) {
		if (verp_sign(&set->verp, set->tk, VERP_BOUNCE, contact, msgno, addr) == 0) {
			strbuf_puts(log, " verp=too-long");
		} else {
			snprintf(env, sizeof(env), "<%s>", addr);
			if (smfi_chgfrom(ctx, env, 0) != MI_SUCCESS)
				msg_warn("%s: cannot change the envelope sender to %s", qid, env);
			else
				strbuf_printf(log, " verp=<%s>", addr);
		}
	}
	/* The engine's mail carries its own List-Unsubscribe (compose(3)). */
	ours = !engine_mail && set->tk && *set->tracker_url
		&& !(set->list_unsub == MILTER_LU_KEEP && msg->nlu_hdr > 0);
	if (ours) {
		strbuf_puts(&lu, "<");
		track_unsub_url(&lu, set->tk, set->tracker_url, contact, msgno);
		strbuf_puts(&lu, ">");
		if (set->verp.domain[0]
		    && verp_sign(&set->verp, set->tk, VERP_UNSUBSCRIBE, contact, msgno, addr))
			strbuf_printf(&lu, ",\r\n\t<mailto:%s>", addr);
		if (set->list_unsub == MILTER_LU_ADD && msg->sender_lu && *msg->sender_lu)
			strbuf_printf(&lu, ",\r\n\t%s", msg->sender_lu);
		out_delete(ctx, qid, "List-Unsubscribe", msg->nlu_hdr);
		out_delete(ctx, qid, "List-Unsubscribe-Post", msg->nlup_hdr);
		if (smfi_addheader(ctx, "List-Unsubscribe", strbuf_str(&lu)) != MI_SUCCESS
		    || smfi_addheader(ctx, "List-Unsubscribe-Post",
				      "List-Unsubscribe=One-Click") != MI_SUCCESS)
			msg_warn("%s: cannot add List-Unsubscribe", qid);
		else
			strbuf_printf(log, " list-unsubscribe=%s", msg->nlu_hdr == 0 ? "added" :
				 set->list_unsub == MILTER_LU_ADD ? "merged" : "replaced");
	} else if (!engine_mail) {
		strbuf_printf(log, " list-unsubscribe=%s", msg->nlu_hdr ? "sender's" :
			      "none(no tracker_url or keys)");
	}
	strbuf_reset(&lu);
	if (*set->feedback_id && !msg->have_feedback_id) {
		out_fbl_field(&lu, msg->workflow);
		strbuf_putc(&lu, ':');
		out_fbl_field(&lu, msg->step);
		strbuf_putc(&lu, ':');
		out_fbl_field(&lu, msg->stream);
		strbuf_putc(&lu, ':');
		out_fbl_field(&lu, set->feedback_id);
		if (smfi_addheader(ctx, "Feedback-ID", strbuf_str(&lu)) != MI_SUCCESS)
			msg_warn("%s: cannot add Feedback-ID", qid);
	}
	strbuf_free(&lu);
}

/* out_rewrite - links and opens */

static void
out_rewrite(SMFICTX *ctx, const MILTER_SET *set, MILTER_MSG *msg, const char *qid,
	            uint64_t contact, uint64_t msgno, STRBUF *log)
{
	REWRITE_OPTS o;
	REWRITE_RESULT res;
	OUT_CTX oc;
	STRBUF	out = STRBUF_INIT;
	const char *eol, *cte, *p, *end;
	const MILTER_TRACK *tr = MILTER_TRACKS(set, msg->stream);
	int	st;

	if (!MILTER_TRACKS_ANY(tr)) {
		strbuf_printf(log, " rewrite=off(%strack_* = no)", tr == set->track ? "" : "transactional_");
		return;
	}
	if (set->tk == 0 || *set->tracker_url == 0) {
		strbuf_puts(log, " rewrite=off(no tracker_url or keys)");
		return;
	}
	if (!msg->out_body)
		return;
	if (msg->out_over) {
		strbuf_printf(log, " rewrite=too-big(over rewrite_max_size %zu)", set->rewrite_max);
		return;
	}
	if (msg->header_over) {
		strbuf_puts(log, " rewrite=skipped(header over milter_header_limit)");
		return;
	}
	memset(&o, 0, sizeof(o));
	o.track_links = tr->links;
	o.track_opens = tr->opens;
	o.track_text_links = tr->text_links;
	o.max_size = set->rewrite_max;
	o.exclude_domains = (const char *const *) set->exclude_domains;
	o.tracker_url = set->tracker_url;
	o.signing_domains = (const char *const *) set->dkim_domains;
	o.honeypot_name = set->honeypot_link;
	o.honeypot_url = set->tracker_url;
	o.link_url = out_link;
	o.pixel_url = out_pixel;
	oc.tk = set->tk;
	oc.base = set->tracker_url;
	oc.contact = contact;
	oc.msgno = msgno;
	o.ctx = &oc;
	memset(&res, 0, sizeof(res));
	st = rewrite_message(strbuf_str(&msg->text), strbuf_len(&msg->text), &o, &out, &res);
	strbuf_printf(log, " rewrite=%s", rewrite_strstatus(st));
	if (st != REWRITE_OK) {
		if (res.detail[0])
			strbuf_printf(log, "(%s)", res.detail);
		strbuf_free(&out);
		return;
	}
	if (smfi_replacebody(ctx, (unsigned char *) strbuf_str(&out) + res.body_offset,
			     (int) (strbuf_len(&out) - res.body_offset)) != MI_SUCCESS) {
		msg_warn("%s: cannot replace the body; links are not tracked", qid);
		strbuf_puts(log, "(body not replaced)");
		strbuf_free(&out);
		return;
	}
	strbuf_printf(log, " links=%d pixels=%d parts=%d", res.links, res.pixels, res.parts);
	if (res.honeypots)
		strbuf_printf(log, " honeypots=%d", res.honeypots);
	if (res.header_changed) {
		/* Only Content-Transfer-Encoding changes at the top: its new value. */
		cte = 0;
		end = strbuf_str(&out) + res.body_offset;
		for (p = strbuf_str(&out); p < end; p = eol + 1) {
			if ((eol = memchr(p, '\n', end - p)) == 0)
				break;
			if (strncasecmp(p, "Content-Transfer-Encoding:", 26) == 0) {
				cte = p + 26;
				break;
			}
		}
		if (cte) {
			STRBUF	v = STRBUF_INIT;

			cte += strspn(cte, " \t");
			strbuf_append(&v, cte, strcspn(cte, "\r\n"));
			if (smfi_chgheader(ctx, "Content-Transfer-Encoding", 1,
					   (char *) strbuf_str(&v)) != MI_SUCCESS)
				msg_warn("%s: cannot change Content-Transfer-Encoding", qid);
			strbuf_free(&v);
		}
	}
	strbuf_free(&out);
}

/* milter_out_apply - the changes to a recorded marketing send */

void
milter_out_apply(SMFICTX *ctx, MILTER_CONN *conn, MILTER_MSG *msg,
		         const char *qid, uint64_t contact, uint64_t msgno,
		         int engine_mail, STRBUF *log)
{
	const MILTER_SET *set = conn->set;

	out_delete(ctx, qid, "X-Postdrip-Workflow", msg->nworkflow_hdr);
	out_delete(ctx, qid, "X-Postdrip-Step", msg->nstep_hdr);
	out_headers(ctx, set, msg, qid, contact, msgno, engine_mail, log);
	out_rewrite(ctx, set, msg, qid, contact, msgno, log);
}

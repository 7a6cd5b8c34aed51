/*++
/* NAME
/*	classify_json 3
/* SUMMARY
/*	bounce and complaint notices sent as JSON by sending services
/* SYNOPSIS
/*	#include "classify/classify_int.h"
/*
/*	int	classify_json(ctx)
/*	CLASSIFY_CTX *ctx;
/* DESCRIPTION
/*	Some sending services (Amazon SES through SNS e-mail subscriptions)
/*	report bounces and complaints as a JSON object in the text of a
/*	message: "notificationType" Bounce, Complaint or Delivery, with
/*	bouncedRecipients or complainedRecipients holding emailAddress,
/*	status, action and diagnosticCode.
/*
/*	classify_json() recognises such a notice in the report text and
/*	adds its rows; it returns 1 when it did, 0 when the text is not
/*	such a notice.
/*
/*	The object is scanned, not parsed: mail gateways fold long lines
/*	("!" and a line break inside strings), which a strict JSON parser
/*	refuses, and only a few string members are needed.
/* DIAGNOSTICS
/*	None: a notice that cannot be read is not one.
/*--*/
#include "pdconfig.h"

#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <stdio.h>

#include "util/mymalloc.h"
#include "classify/classify_int.h"

/* unfold - drop line folds, and the "!" some gateways add before them */

static size_t
unfold(char *dst, const char *src, size_t len)
{
	size_t	i, o;

	for (i = o = 0; i < len; i++) {
		if (src[i] == '!' && i + 2 < len && src[i + 1] == '\n' && src[i + 2] == ' ') {
			i += 2;
			continue;
		}
		if (src[i] == '\r')
			continue;
		if (src[i] == '\n' && i + 1 < len && src[i + 1] == ' ') {
			i += 1;
			continue;
		}
		dst[o++] = src[i];
	}
	dst[o] = 0;
	return (o);
}

/* member - the string value of "name" between from and end */

static int
member(const char *from, const char *end, const char *name, char *buf,
	       size_t size)
{
	char	key[64];
	const char *cp;
	const char *q;
	size_t	o = 0;

	buf[0] = 0;
	snprintf(key, sizeof(key), "\"%s\"", name);
	if ((cp = classify_icase(from, end - from, key)) == 0)
		return (0);
	for (cp += strlen(key); cp < end && (*cp == ' ' || *cp == ':'); cp++)
		 /* void */ ;
	if (cp >= end || *cp != '"')
		return (0);
	for (q = cp + 1; q < end && *q != '"' && o + 1 < size; q++) {
		if (*q == '\\' && q + 1 < end)
			q++;
		buf[o++] = *q;
	}
	buf[o] = 0;
	return (1);
}

/* classify_json - a JSON delivery notice */

int
classify_json(CLASSIFY_CTX *ctx)
{
	CLASSIFY_RESULT *res = ctx->res;
	char   *text;
	size_t	len;
	const char *end;
	const char *mail;
	const char *cp;
	char	type[32];
	char	buf[512];
	int	complaint;

	if (ctx->low == 0 || strstr(ctx->low, "\"notificationtype\"") == 0)
		return (0);
	text = mymalloc(ctx->text.len + 1);
	len = unfold(text, strbuf_str(&ctx->text), ctx->text.len);
	end = text + len;
	if (!member(text, end, "notificationType", type, sizeof(type))) {
		myfree(text);
		return (0);
	}
	complaint = strcasecmp(type, "Complaint") == 0;
	if (strcasecmp(type, "Bounce") != 0 && !complaint
	    && strcasecmp(type, "Delivery") != 0) {
		myfree(text);
		return (0);
	}
	/* The recipients come before the "mail" object that describes the
	 * original; its addresses are not failures. */
	if ((mail = classify_icase(text, len, "\"mail\"")) == 0)
		mail = end;
	if (member(mail, end, "messageId", buf, sizeof(buf)))
		classify_copy(res->orig_message_id, sizeof(res->orig_message_id), buf);
	if (member(mail, end, "source", buf, sizeof(buf)))
		classify_first_addr(buf, res->orig_return_path,
				    sizeof(res->orig_return_path));
	if (complaint) {
		res->kind = CLASSIFY_COMPLAINT;
		if (member(text, mail, "complaintFeedbackType", buf, sizeof(buf)))
			classify_copy(res->feedback_type, sizeof(res->feedback_type), buf);
		else
			classify_copy(res->feedback_type, sizeof(res->feedback_type), "abuse");
	} else {
		res->kind = strcasecmp(type, "Bounce") == 0 ?
			CLASSIFY_BOUNCE : CLASSIFY_OTHER;
	}
	for (cp = text; (cp = classify_icase(cp, mail - cp, "\"emailAddress\"")) != 0;) {
		const char *obj_end = memchr(cp, '}', mail - cp);
		CLASSIFY_RCPT *rcpt;
		char	addr[256];

		if (obj_end == 0)
			obj_end = mail;
		if (!member(cp, obj_end, "emailAddress", buf, sizeof(buf))
		    || !classify_first_addr(buf, addr, sizeof(addr))
		    || classify_find_rcpt(res, addr)
		    || (rcpt = classify_add_rcpt(res, addr)) == 0) {
			cp = obj_end;
			continue;
		}
		if (complaint) {
			classify_copy(rcpt->reason, sizeof(rcpt->reason), "feedback");
			rcpt->class = CLASSIFY_NONE;
		} else if (res->kind == CLASSIFY_OTHER) {
			classify_copy(rcpt->reason, sizeof(rcpt->reason), "delivered");
			rcpt->class = CLASSIFY_NONE;
		} else {
			if (member(cp, obj_end, "status", buf, sizeof(buf)))
				classify_find_status(buf, rcpt->status, sizeof(rcpt->status));
			if (member(cp, obj_end, "action", buf, sizeof(buf)))
				classify_copy(rcpt->action, sizeof(rcpt->action), buf);
			if (member(cp, obj_end, "diagnosticCode", buf, sizeof(buf)))
				classify_oneline(rcpt->diagnostic, sizeof(rcpt->diagnostic),
						 buf, strlen(buf));
			classify_reason(rcpt, 0, 0, 0);
		}
		cp = obj_end;
	}
	myfree(text);
	return (1);
}

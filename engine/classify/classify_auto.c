/*++
/* NAME
/*	classify_auto 3
/* SUMMARY
/*	auto-replies, feedback reports and read receipts
/* SYNOPSIS
/*	#include "classify/classify_int.h"
/*
/*	int	classify_autoreply(ctx)
/*	CLASSIFY_CTX *ctx;
/*
/*	int	classify_arf(ctx)
/*	CLASSIFY_CTX *ctx;
/*
/*	int	classify_mdn(ctx)
/*	CLASSIFY_CTX *ctx;
/* DESCRIPTION
/*	classify_autoreply() is true for a message sent by a program in
/*	answer to another one (RFC 3834): Auto-Submitted other than "no",
/*	X-Autoreply and its relatives, Precedence bulk, junk or
/*	auto_reply, or a subject in the wording of vacation notices in
/*	several languages. It adds one row for the auto-replying address
/*	(the author), reason "vacation". When the text says that the
/*	person has left or moved ("I have left the company", "no longer
/*	with", "my new address", in a few languages) and names an address
/*	within the next LEFT_REACH bytes of its own text (not the quoted
/*	original) that is neither the author's nor on the domain the
/*	auto-reply was sent to (the reply+TOKEN@ address is ours), it sets
/*	new_address: a suggestion for a person to check, never a change by
/*	itself.
/*
/*	classify_arf() is true for a feedback report (RFC 5965): a
/*	message/feedback-report part, or a multipart/report of that type.
/*	It adds a row for the complaining recipient (Original-Rcpt-To, or
/*	the To of the original message), reason "feedback", and sets the
/*	feedback type and the original's Message-ID.
/*
/*	classify_mdn() is true for a message disposition notification
/*	(RFC 8098); it sets the disposition (displayed, deleted, ...) and
/*	adds a row for the recipient that read the message.
/* DIAGNOSTICS
/*	None.
/* SEE ALSO
/*	RFC 3834, RFC 5965, RFC 8098
/*--*/
#include "pdconfig.h"

#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <stdio.h>

#include "classify/classify_int.h"

 /*
  * Vacation and auto-reply subjects, lower case (UTF-8 for the languages
  * that need it). A subject is matched by substring, so each entry must be
  * specific enough not to catch a person's own words.
  */
static const char *const auto_subjects[] = {
	"out of office", "out of the office", "out-of-office", "auto reply",
	"autoreply", "auto-reply", "auto response", "autoresponse",
	"auto-response", "automatic reply", "automatic response",
	"automated reply", "automated response", "vacation reply",
	"on vacation", "on holiday", "away from the office", "away from my",
	"i am away", "i'm away", "absence notice", "autosvar",
	"automatische antwort", "abwesenheitsnotiz", "abwesenheit",
	"außer haus", "ausser haus", "nicht im büro",
	"réponse automatique", "reponse automatique", "absence du bureau",
	"absent du bureau", "message d'absence",
	"respuesta automática", "respuesta automatica", "fuera de la oficina",
	"fuera de oficina", "risposta automatica", "fuori sede",
	"fuori ufficio", "resposta automática", "resposta automatica",
	"ausente do escritório", "fora do escritório",
	"automatisch antwoord", "afwezigheidsmelding", "niet aanwezig",
	"frånvaro", "fraværende", "automaattinen vastaus",
	"automatyczna odpowiedź", "nieobecność", "automatická odpověď",
	"автоответ", "автоматический ответ", "отсутствую",
	"自動応答", "自動返信", "不在", "自动回复", "自動回覆", "자동 응답",
	0,
};

/* utf8_lower_latin - fold the accented capitals a subject may use */

static void
utf8_lower_latin(char *s)
{
	unsigned char *cp;

	/* Latin-1 Supplement capitals U+00C0..U+00DE are 0xC3 0x80..0x9E. */
	for (cp = (unsigned char *) s; *cp; cp++)
		if (cp[0] == 0xC3 && cp[1] >= 0x80 && cp[1] <= 0x9E && cp[1] != 0x97)
			cp[1] += 0x20;
}

#define LEFT_REACH	400	/* bytes after the phrase where the address may be */

 /*
  * Wording of "this person has left or moved; write to ...", lower case.
  * Each names a departure, not an absence: "out of office until Monday,
  * write to my colleague" is no new address for the contact.
  */
static const char *const left_phrases[] = {
	"no longer with", "no longer work", "no longer at ", "no longer employed",
	"has left the", "have left the", "has left our", "have left our",
	"i have left", "i've left", "i left the",
	"left the company", "left the organisation", "left the organization",
	"is no longer", "am no longer", "my new address", "my new e-mail",
	"my new email", "new email address", "new e-mail address",
	"this address is no longer", "this mailbox is no longer",
	"ne fait plus partie", "a quitté", "ai quitté", "nicht mehr bei",
	"nicht mehr im unternehmen", "hat das unternehmen verlassen",
	"habe das unternehmen verlassen", "ya no trabaja", "ya no forma parte",
	"non lavora più", "niet meer werkzaam", 0,
};

/* autoreply_new_address - an address the text offers instead of the author's */

static void
autoreply_new_address(CLASSIFY_CTX *ctx)
{
	CLASSIFY_RESULT *res = ctx->res;
	const char *const *cpp;
	const char *low = ctx->low, *text = strbuf_str(&ctx->text);
	const char *hit = 0, *p, *end, *start;
	size_t	len, tlen = ctx->text_cut ? ctx->text_cut : ctx->text.len;
	const char *todom = strrchr(ctx->to, '@'), *at;
	char	buf[256];

	if (low == 0 || tlen == 0)
		return;
	for (cpp = left_phrases; *cpp; cpp++)
		if ((p = classify_icase(low, tlen, *cpp)) != 0 && (hit == 0 || p < hit))
			hit = p;
	if (hit == 0)
		return;
	p = text + (hit - low);
	end = p + LEFT_REACH < text + tlen ? p + LEFT_REACH : text + tlen;
	while (p < end && classify_find_addr(p, end, &start, &len) != 0) {
		p = start + len;
		if (!classify_addr_copy(buf, sizeof(buf), start, len))
			continue;
		/* Not the author, nor an address of ours (a reply token). */
		if (strcmp(buf, res->from) == 0 || (todom && (at = strrchr(buf, '@')) != 0
						     && strcmp(at, todom) == 0))
			continue;
		classify_copy(res->new_address, sizeof(res->new_address), buf);
		return;
	}
}

/* classify_autoreply - RFC 3834 and vacation signs */

int
classify_autoreply(CLASSIFY_CTX *ctx)
{
	CLASSIFY_RESULT *res = ctx->res;
	char	subj[256];
	const char *const *cpp;
	int	autom = 0;
	CLASSIFY_RCPT *rcpt;

	if (ctx->auto_submitted[0] && strncasecmp(ctx->auto_submitted, "no", 2) != 0)
		autom = 1;
	else if (ctx->x_autoreply)
		autom = 1;
	else if (strcasecmp(ctx->precedence, "bulk") == 0
		 || strcasecmp(ctx->precedence, "junk") == 0
		 || strcasecmp(ctx->precedence, "auto_reply") == 0) {
		/* A newsletter is bulk too; a list header tells them apart. */
		if (!ctx->list_header)
			autom = 1;
	}
	if (!autom) {
		str_lower_copy(subj, sizeof(subj), res->subject);
		utf8_lower_latin(subj);
		for (cpp = auto_subjects; *cpp; cpp++)
			if (strstr(subj, *cpp)) {
				autom = 1;
				break;
			}
	}
	if (!autom)
		return (0);
	if (res->from[0] && (rcpt = classify_add_rcpt(res, res->from)) != 0) {
		classify_copy(rcpt->reason, sizeof(rcpt->reason), "vacation");
		rcpt->class = CLASSIFY_NONE;
	}
	autoreply_new_address(ctx);
	return (1);
}

/* classify_arf - feedback report */

int
classify_arf(CLASSIFY_CTX *ctx)
{
	CLASSIFY_RESULT *res = ctx->res;
	const char *f;
	char	buf[512];
	char	addr[256];
	CLASSIFY_RCPT *rcpt;
	const char *cp;
	const char *start;
	const char *fend;
	size_t	alen;
	int	n = 0;

	/*
	 * An unsubscribe request a mail client sends on the user's behalf is
	 * an opt-out report from that user.
	 */
	if (ctx->unsubscribe_request && ctx->arf.len == 0 && res->from[0]) {
		classify_copy(res->feedback_type, sizeof(res->feedback_type), "opt-out");
		if ((rcpt = classify_add_rcpt(res, res->from)) != 0)
			classify_copy(rcpt->reason, sizeof(rcpt->reason), "feedback");
		return (1);
	}
	if (ctx->arf.len == 0 && strcasecmp(ctx->report_type, "feedback-report") != 0) {
		/*
		 * Microsoft's junk mail reporting program sends the reported
		 * message with the complaining address in a header of its own.
		 */
		if (ctx->orig.len == 0)
			return (0);
		classify_copy_field(ctx->orig.data, "X-HmXmrOriginalRecipient", buf,
				    sizeof(buf));
		if (!classify_first_addr(buf, addr, sizeof(addr)))
			return (0);
		classify_copy(res->feedback_type, sizeof(res->feedback_type), "abuse");
		if ((rcpt = classify_add_rcpt(res, addr)) != 0)
			classify_copy(rcpt->reason, sizeof(rcpt->reason), "feedback");
		return (1);
	}
	f = strbuf_str(&ctx->arf);
	classify_copy_field(f, "Feedback-Type", buf, sizeof(buf));
	classify_copy(res->feedback_type, sizeof(res->feedback_type), buf[0] ? buf : "abuse");
	res->feedback_type[strcspn(res->feedback_type, " ;")] = 0;
	for (cp = res->feedback_type; *cp; cp++)
		if (isupper((unsigned char) *cp))
			res->feedback_type[cp - res->feedback_type] = tolower((unsigned char) *cp);
	classify_copy_field(f, "Original-Envelope-Id", buf, sizeof(buf));
	classify_copy_field(f, "Original-Mail-From", buf, sizeof(buf));
	classify_first_addr(buf, res->orig_return_path, sizeof(res->orig_return_path));

	/* Each Original-Rcpt-To names one complaining recipient. */
	fend = f + strlen(f);
	for (cp = f; (cp = classify_icase(cp, fend - cp, "Original-Rcpt-To")) != 0;
	     cp += 16) {
		size_t	len;
		const char *val = classify_field(cp, "Original-Rcpt-To", &len);

		if (val == 0 || val != cp + 16 + strspn(cp + 16, ": \t"))
			continue;
		if (classify_find_addr(val, val + len, &start, &alen)
		    && classify_addr_copy(addr, sizeof(addr), start, alen)
		    && !classify_find_rcpt(res, addr)
		    && (rcpt = classify_add_rcpt(res, addr)) != 0) {
			classify_copy(rcpt->reason, sizeof(rcpt->reason), "feedback");
			n++;
		}
	}
	if (n == 0) {
		/*
		 * The To of the reported message, or, when the report hides it,
		 * a row without an address: the complaint is still a fact about
		 * the message.
		 */
		addr[0] = 0;
		if (ctx->orig.len > 0) {
			classify_copy_field(ctx->orig.data, "To", buf, sizeof(buf));
			classify_first_addr(buf, addr, sizeof(addr));
		}
		if ((rcpt = classify_add_rcpt(res, addr)) != 0)
			classify_copy(rcpt->reason, sizeof(rcpt->reason), "feedback");
	}
	return (1);
}

/* classify_mdn - disposition notification */

int
classify_mdn(CLASSIFY_CTX *ctx)
{
	CLASSIFY_RESULT *res = ctx->res;
	const char *f;
	const char *semi;
	char	buf[512];
	char	addr[256];
	CLASSIFY_RCPT *rcpt;

	if (ctx->mdn.len == 0
	    && strcasecmp(ctx->report_type, "disposition-notification") != 0)
		return (0);
	f = strbuf_str(&ctx->mdn);
	classify_copy_field(f, "Disposition", buf, sizeof(buf));
	/* "manual-action/MDN-sent-manually; displayed/..." */
	semi = strchr(buf, ';');
	classify_copy(res->mdn_disposition, sizeof(res->mdn_disposition), semi ? semi + 1 + strspn(semi + 1, " ") : buf);
	res->mdn_disposition[strcspn(res->mdn_disposition, " /;")] = 0;
	classify_copy_field(f, "Original-Message-ID", buf, sizeof(buf));
	if (buf[0])
		classify_strip_id(res->orig_message_id, sizeof(res->orig_message_id), buf);
	classify_copy_field(f, "Final-Recipient", buf, sizeof(buf));
	if (!classify_first_addr(buf, addr, sizeof(addr)))
		classify_copy(addr, sizeof(addr), res->from);
	if (addr[0] && (rcpt = classify_add_rcpt(res, addr)) != 0) {
		classify_copy(rcpt->reason, sizeof(rcpt->reason), res->mdn_disposition[0] ? res->mdn_disposition : "displayed");
		rcpt->class = CLASSIFY_NONE;
	}
	return (1);
}

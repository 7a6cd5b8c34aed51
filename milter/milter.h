#ifndef PD_MILTER_H
#define PD_MILTER_H

/*
 * milter - postdrip-milter's process state and per-connection and
 * per-message contexts (milter.c), shared with the end-of-message
 * decisions (milter_eom.c).
 */
#include <pthread.h>
#include <stddef.h>
#include <time.h>
#include <libmilter/mfapi.h>

#include "util/addr.h"
#include "caps/stream.h"
#include "config/config.h"
#include "store/store.h"
#include "util/strbuf.h"
#include "token/tokens.h"
#include "token/verp.h"
#include "signal/signal.h"
#include "signal/spf.h"

/*
 * Settings, as loaded: immutable and reference counted. SIGHUP builds a new
 * set; each connection keeps the one it started with until it closes.
 */
typedef struct MILTER_KEYS {
	int	refs;			/* under milter_global.set_mu */
	TOKENS *tk;
} MILTER_KEYS;

/* Link and open tracking of one stream. */
typedef struct MILTER_TRACK {
	int	links;			/* HTML href */
	int	opens;			/* the pixel */
	int	text_links;		/* bare URLs in text/plain */
} MILTER_TRACK;

#define MILTER_TRACKS(set, stream) \
	(&(set)->track[(stream) != 0 && strcmp((stream), "transactional") == 0])
#define MILTER_TRACKS_ANY(tr)	((tr)->links || (tr)->opens || (tr)->text_links)

typedef struct MILTER_SET {
	int	refs;			/* under milter_global.set_mu */
	CONFIG *cf;
	VERP	verp;
	MILTER_KEYS *keys;		/* shared with later sets when the key
					 * file cannot be read again */
	TOKENS *tk;			/* keys->tk; NULL: no token ties */
	int	spf_check;		/* spf_check */
	STREAM_RULES *stream;		/* stream(3): marketing or not */
	size_t	header_limit;
	size_t	body_limit;
	size_t	rcpt_limit;
	SIG_PARAMS params;
	int	lmtp;			/* lmtp_listen set: the bounce domain is
					 * the LMTP receiver's */
	/* Outbound marketing mail (milter_out.c). */
	const char *tracker_url;	/* "" : no tracker URLs at all */
	MILTER_TRACK track[2];		/* [0] marketing, [1] transactional */
	size_t	rewrite_max;		/* rewrite_max_size; 0: no limit */
	char  **exclude_domains;	/* tracking_exclude_domains */
	char  **dkim_domains;		/* dkim_signing_domains */
	const char *honeypot_link;	/* tracker_honeypot_link; "": none */
	int	list_unsub;		/* MILTER_LU_* */
	int	create_contacts;	/* milter_create_contacts */
	const char *feedback_id;	/* feedback_id_sender; "": no header */
} MILTER_SET;

#define MILTER_LU_ADD		0	/* ours first, the sender's after */
#define MILTER_LU_KEEP		1	/* the sender's alone, when it has one */
#define MILTER_LU_REPLACE	2	/* ours alone */

/* Process-wide. */
typedef struct MILTER_GLOBAL {
	const char *config_path;
	pthread_mutex_t set_mu;
	MILTER_SET *set;		/* current settings */
	SIGNAL_SPF *spf;		/* NULL: libspf2 unusable */
	/* The store is opened on first use and again after a failure; its
	 * settings (data_directory, store_*) are those read at start. */
	CONFIG *store_cf;
	pthread_mutex_t st_mu;
	STORE  *st;
	time_t	st_next_try;
	/* A clean stop (under st_mu): asked by SIGTERM/SIGINT, then done. */
	int	stopping;
	int	listener_done;
	int	listen_fd;		/* libmilter's, to wake it; -1 unknown */
} MILTER_GLOBAL;

extern MILTER_GLOBAL milter_global;

typedef struct MILTER_RCPT {
	char   *raw;			/* as given to RCPT TO (for delrcpt) */
	char	addr[ADDR_MAX + 1];	/* normalized, "" if not an address */
	VERP_KIND kind;
} MILTER_RCPT;

#define MILTER_MSGID_MAX	256
#define MILTER_REFS_MAX		4096	/* In-Reply-To + References text kept */

typedef struct MILTER_MSG {
	char	queue_id[32];
	char	mail_from[ADDR_MAX + 1];	/* normalized, "" for <> */
	int	null_sender;
	char	sasl_username[256];	/* {auth_authen} at MAIL FROM, or "" */
	MILTER_RCPT *rcpt;
	size_t	nrcpt;
	size_t	rcpt_dropped;		/* beyond milter_recipient_limit */
	size_t	nbounce_domain;		/* recipients on the bounce domain */
	STRBUF	text;			/* the message: headers, then body */
	size_t	header_bytes;
	size_t	body_bytes;
	int	header_over;		/* headers beyond the limit were dropped */
	int	body_over;		/* body beyond the limit was dropped */
	int	headers_done;		/* milter_headers_done() ran */
	int	need_body;		/* decided there */
	char	message_id[MILTER_MSGID_MAX];	/* without <>, "" if none */
	STRBUF	refs;			/* In-Reply-To and References values */
	char	workflow[64];		/* X-Postdrip-Workflow */
	char	step[64];		/* X-Postdrip-Step */
	int	lmtp_skip;		/* for or from the LMTP receiver */
	/* Outbound (milter_out.c). */
	const char *stream;		/* a send to record: its stream; else 0 */
	int	nworkflow_hdr;		/* X-Postdrip-Workflow fields */
	int	nstep_hdr;		/* X-Postdrip-Step fields */
	int	nlu_hdr;		/* List-Unsubscribe fields */
	int	nlup_hdr;		/* List-Unsubscribe-Post fields */
	int	have_feedback_id;
	char   *sender_lu;		/* the sender's first List-Unsubscribe */
	int	out_body;		/* the body is kept for the rewriter */
	int	out_over;		/* ... and it was over rewrite_max_size */
} MILTER_MSG;

typedef struct MILTER_CONN {
	MILTER_SET *set;		/* settings of this connection */
	unsigned long proto;		/* negotiated SMFIP_* flags */
	char	client_addr[64];
	char	client_name[256];
	char	helo[256];
	MILTER_MSG *msg;
} MILTER_CONN;

/* milter.c */
STORE  *milter_store(void);
void	milter_store_failed(void);
const char *milter_queue_id(SMFICTX *ctx, MILTER_MSG *msg);
MILTER_SET *milter_set_current(void);
void	milter_set_release(MILTER_SET *set);

/* milter_lmtp.c */
int	milter_lmtp_mark_ok(const MILTER_SET *set, const char *value);

/* milter_eom.c */
const char *milter_eom_send_stream(const MILTER_SET *set, const MILTER_MSG *msg,
				           const char *client_addr);
int	milter_eom_refs_ours(MILTER_MSG *msg);
sfsistat milter_eom(SMFICTX *ctx, MILTER_CONN *conn, MILTER_MSG *msg);

/* milter_out.c */
int	milter_out_list_unsub_mode(const char *value);
void	milter_out_header(MILTER_MSG *msg, const char *name, const char *value);
void	milter_out_apply(SMFICTX *ctx, MILTER_CONN *conn, MILTER_MSG *msg,
			         const char *qid, uint64_t contact, uint64_t msgno,
			         int engine_mail, STRBUF *log);

#endif

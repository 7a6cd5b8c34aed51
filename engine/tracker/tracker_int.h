#ifndef PD_TRACKER_INT_H
#define PD_TRACKER_INT_H

/*
 * tracker_int - what the tracker's files share: the server, one request.
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <microhttpd.h>
#include <jansson.h>

#include "tracker/tracker.h"
#include "tracker/tracker_bot.h"
#include "sched/inject.h"
#include "util/strbuf.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_RESULT;
#else
typedef enum MHD_Result MHD_RESULT;
#endif

/* Endpoints and answers counted by /metrics. */
typedef enum {
	EP_OPEN, EP_CLICK, EP_UNSUB, EP_SUBSCRIBE, EP_CONFIRM, EP_VISIT,
	EP_API_EVENTS, EP_API_CONTACTS, EP_HEALTH, EP_METRICS, EP_OTHER, EP_COUNT
} TRK_EP;

#define TRK_CODES	16		/* answer codes counted, see tracker.c */
#define TRK_EVTYPES	16		/* event types counted */
#define TRK_RATE_SLOTS	4096

typedef struct TRK_RATE {
	unsigned char client[16];
	double	tokens;
	double	last;
} TRK_RATE;

typedef struct TRK_KEY {
	char   *name;
	unsigned char hash[32];		/* SHA-256 of the secret */
	int	retired;
} TRK_KEY;

struct TRACKER {
	CONFIG *cf;
	STORE  *st;
	TOKENS *tk;
	struct MHD_Daemon *mhd;
	int	fd;
	const char *base;		/* tracker_url */
	BOT	bot;
	BOT_NETS proxies;		/* tracker_trusted_proxies */
	TRK_KEY *keys;
	size_t	nkeys;
	INJECT *inj;
	pthread_mutex_t inj_lock;
	size_t	body_limit;
	long	open_window, click_window;
	double	rate, burst;
	pthread_mutex_t rate_lock;
	TRK_RATE *rates;
	struct MHD_Response *gif;
	unsigned long req[EP_COUNT][TRK_CODES];
	unsigned long ev[TRK_EVTYPES][2];
	time_t	started;
};

/* One request, from its first callback to its completion. */
typedef struct TRK_REQ {
	TRACKER *t;
	struct MHD_Connection *conn;
	const char *method;
	int	head, post;
	TRK_EP	ep;
	STRBUF	body;
	int	too_big;
	char	client[64];		/* text, after X-Forwarded-For */
	unsigned char cbin[16];
	int	have_client;
	int	code;			/* answer, for /metrics */
} TRK_REQ;

/* tracker.c */
MHD_RESULT trk_answer(TRK_REQ *r, int code, const char *ctype,
		              const char *body, size_t len, const char *hdr, const char *val);
MHD_RESULT trk_page(TRK_REQ *r, int code, const char *title, const char *html);
MHD_RESULT trk_json(TRK_REQ *r, int code, const char *fmt,...);
const char *trk_header(TRK_REQ *r, const char *name);
void	trk_html(STRBUF *out, const char *s);
void	trk_count_event(TRACKER *t, const char *type, int machine);
void	trk_log(TRK_REQ *r, const char *fmt,...) __attribute__((format(printf, 2, 3)));
json_t *trk_req_data(TRK_REQ *r);

/* tracker_form.c */
/* The value of field name in a urlencoded or multipart/form-data body,
 * decoded into buf (max bytes): its length, or -1 when absent or bad. */
long	trk_form_get(const char *ctype, const char *body, size_t len,
		             const char *name, char *buf, size_t max);

/* tracker_pages.c */
MHD_RESULT trk_unsub(TRK_REQ *r, const char *token);
MHD_RESULT trk_subscribe(TRK_REQ *r);
MHD_RESULT trk_confirm(TRK_REQ *r, const char *token);
MHD_RESULT trk_visit(TRK_REQ *r);
int	trk_confirm_send(TRK_REQ *r, uint64_t contact, const char *addr,
			         char *reply, size_t rmax);
char   *trk_visit_cookie(TRACKER *t, uint64_t contact, char *buf, size_t max);

/* tracker_api.c */
int	trk_keys_load(TRACKER *t, const char *path, char **err);
MHD_RESULT trk_api(TRK_REQ *r, const char *path);
MHD_RESULT trk_report(TRK_REQ *r, const char *path);

#endif

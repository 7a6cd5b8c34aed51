#ifndef PD_TRACKER_BOT_H
#define PD_TRACKER_BOT_H

/*
 * tracker_bot - machine opens and scanner clicks: labelled, never refused.
 */
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <pthread.h>

typedef struct BOT_NET {
	unsigned char addr[16];		/* IPv4 as ::ffff:a.b.c.d */
	int	bits;			/* prefix length over the 16 bytes */
} BOT_NET;

typedef struct BOT_NETS {
	BOT_NET *net;
	size_t	n, cap;
} BOT_NETS;

/* Parse "a.b.c.d/n" or "x::y/n" (no /n: a host) into 16 bytes. 0 or -1. */
int	bot_net_parse(const char *text, size_t len, BOT_NET *net);
/* Text address to 16 bytes: 0 or -1. */
int	bot_addr_parse(const char *text, unsigned char addr[16]);
void	bot_nets_add(BOT_NETS *nets, const BOT_NET *net);
int	bot_nets_match(const BOT_NETS *nets, const unsigned char addr[16]);
/* A list file: one prefix per line, first comma- or space-separated field
 * (Apple's egress-ip-ranges.csv as published); '#' comments. Returns the
 * number of prefixes added, or -1 when the file cannot be read. Lines that
 * are no prefix are counted in *bad. */
long	bot_nets_load(BOT_NETS *nets, const char *path, long *bad);
void	bot_nets_free(BOT_NETS *nets);

#define BOT_RECENT_SLOTS	8192

typedef struct BOT_RECENT {
	uint64_t message;
	unsigned char client[16];
	uint32_t link;
	time_t	when;
} BOT_RECENT;

typedef struct BOT {
	BOT_NETS apple;			/* iCloud Private Relay egress */
	BOT_NETS eop;			/* Microsoft EOP */
	long	multi_link_window;	/* two links, one source */
	long	honeypot_window;
	const char *honeypot_link;	/* link name of the honeypot, or "" */
	pthread_mutex_t lock;
	BOT_RECENT recent[BOT_RECENT_SLOTS];	/* last click per (message, client) */
	BOT_RECENT honey[BOT_RECENT_SLOTS];	/* last honeypot click per message */
} BOT;

typedef struct BOT_REQ {
	int	kind;			/* 'o' open, 'c' click */
	const char *user_agent;		/* 0 when absent */
	const char *purpose;		/* Sec-Purpose or Purpose, or 0 */
	unsigned char client[16];
	int	have_client;
	uint64_t message;
	uint32_t link;			/* click: link number */
	const char *link_name;		/* click: link name */
	time_t	now;
} BOT_REQ;

typedef struct BOT_LABEL {
	int	machine;		/* not a person */
	const char *reason;		/* rule name (see postdrip-engine(8)) */
	const char *proxy;		/* human but through this image proxy */
} BOT_LABEL;

void	bot_init(BOT *b);
void	bot_free(BOT *b);
/* Label a request (remembers clicks for the burst and honeypot rules). */
void	bot_label(BOT *b, const BOT_REQ *r, BOT_LABEL *l);

#endif

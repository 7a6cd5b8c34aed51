/*++
/* NAME
/*	spf 3
/* SUMMARY
/*	SPF of the inbound connection
/* SYNOPSIS
/*	#include "signal/spf.h"
/*
/*	SIGNAL_SPF *spf_create()
/*
/*	SIGNAL_SPF *spf_create_zone(records)
/*	const char *const *records;
/*
/*	SIGNAL_SPF *spf_create_file(path, err)
/*	const char *path;
/*	char	**err;
/*
/*	const char *spf_check(spf, client_addr, helo, mail_from)
/* DESCRIPTION
/*	spf_check() asks libspf2 whether client_addr may send mail
/*	for the MAIL FROM domain (or the HELO name, for the null sender),
/*	and returns the result's RFC 7208 name.
/*
/*	Without DNS the answer is "temperror" or "none", never "fail": a
/*	reply is called forged only on a published policy that says so.
/*	libspf2 itself answers "pass" for a loopback client.
/*
/*	spf_create_zone() replaces DNS by a fixed list of TXT
/*	records ("domain record"), so that tests can publish a policy
/*	without a name server; spf_create_file() reads them from a
/*	file, one a line (# comments), at most 1000 lines of 1022 bytes.
/* BUGS
/*	Checks are serialized by a mutex: libspf2's server object is not
/*	documented as thread-safe. They run only for replies and mailed
/*	unsubscribes, which are rare; a slow resolver delays those only.
/* DIAGNOSTICS
/*	None; an unusable request (bad client address) gives "none".
/*--*/
#include "pdconfig.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

#include "util/mymalloc.h"
#include "signal/spf.h"

struct SIGNAL_SPF {
	SPF_server_t *server;
	SPF_dns_server_t *dns;		/* ours to free, when not the server's */
	pthread_mutex_t mu;
};

/* spf_wrap - common part of the constructors */

static SIGNAL_SPF *
spf_wrap(SPF_server_t *server, SPF_dns_server_t *dns)
{
	SIGNAL_SPF *spf;

	if (server == 0) {
		if (dns)
			SPF_dns_free(dns);
		return (0);
	}
	spf = mymalloc(sizeof(*spf));
	spf->server = server;
	spf->dns = dns;
	pthread_mutex_init(&spf->mu, 0);
	return (spf);
}

/* spf_create - with the system resolver */

SIGNAL_SPF *
spf_create(void)
{
	return (spf_wrap(SPF_server_new(SPF_DNS_CACHE, 0), 0));
}

/* spf_create_zone - with fixed records */

SIGNAL_SPF *
spf_create_zone(const char *const *records)
{
	SPF_dns_server_t *dns;
	const char *sp;
	char   *dom;

	if ((dns = SPF_dns_zone_new(0, "postdrip", 0)) == 0)
		return (0);
	for (; records && *records; records++) {
		if ((sp = strchr(*records, ' ')) == 0)
			continue;
		dom = mystrndup(*records, sp - *records);
		(void) SPF_dns_zone_add_str(dns, dom, ns_t_txt, NETDB_SUCCESS, sp + 1);
		myfree(dom);
	}
	return (spf_wrap(SPF_server_new_dns(dns, 0), dns));
}

/* spf_create_file - with fixed records from a file */

#define SIGNAL_SPF_FILE_MAX	1000	/* records: a test file, not a zone */

SIGNAL_SPF *
spf_create_file(const char *path, char **err)
{
	SIGNAL_SPF *spf = 0;
	FILE   *fp;
	char	line[1024], *nl;
	char   *recs[SIGNAL_SPF_FILE_MAX + 1];
	int	n = 0, lineno = 0, i;

	*err = 0;
	if ((fp = fopen(path, "r")) == 0) {
		*err = myasprintf("%s: %m", path);
		return (0);
	}
	while (fgets(line, sizeof(line), fp) != 0) {
		lineno++;
		if ((nl = strchr(line, '\n')) == 0 && !feof(fp)) {
			*err = myasprintf("%s:%d: line longer than %d bytes",
					  path, lineno, (int) sizeof(line) - 2);
			break;
		}
		if (nl)
			*nl = 0;
		if (line[0] == 0 || line[0] == '#')
			continue;
		if (strchr(line, ' ') == 0) {
			*err = myasprintf("%s:%d: want \"domain record\"", path, lineno);
			break;
		}
		if (n == SIGNAL_SPF_FILE_MAX) {
			*err = myasprintf("%s:%d: more than %d records", path, lineno,
					  SIGNAL_SPF_FILE_MAX);
			break;
		}
		recs[n++] = mystrdup(line);
	}
	recs[n] = 0;
	if (ferror(fp) && *err == 0)
		*err = myasprintf("%s: read error: %m", path);
	(void) fclose(fp);
	if (*err == 0 && (spf = spf_create_zone((const char *const *) recs)) == 0)
		*err = myasprintf("%s: libspf2 cannot be initialized", path);
	for (i = 0; i < n; i++)
		myfree(recs[i]);
	return (spf);
}

/* spf_free - release */

void
spf_free(SIGNAL_SPF *spf)
{
	if (spf == 0)
		return;
	SPF_server_free(spf->server);
	if (spf->dns)
		SPF_dns_free(spf->dns);
	pthread_mutex_destroy(&spf->mu);
	myfree(spf);
}

/* spf_name - RFC 7208 result names */

static const char *
spf_name(SPF_result_t result)
{
	switch (result) {
	case SPF_RESULT_PASS:
		return ("pass");
	case SPF_RESULT_FAIL:
		return ("fail");
	case SPF_RESULT_SOFTFAIL:
		return ("softfail");
	case SPF_RESULT_NEUTRAL:
		return ("neutral");
	case SPF_RESULT_TEMPERROR:
		return ("temperror");
	case SPF_RESULT_PERMERROR:
		return ("permerror");
	default:
		return ("none");
	}
}

/* spf_check - the result for one connection and sender */

const char *
spf_check(SIGNAL_SPF *spf, const char *client_addr,
		         const char *helo, const char *mail_from)
{
	SPF_request_t *req;
	SPF_response_t *resp = 0;
	const char *result = "none";
	int	bad;

	if (spf == 0 || client_addr == 0 || *client_addr == 0)
		return (result);
	pthread_mutex_lock(&spf->mu);
	if ((req = SPF_request_new(spf->server)) != 0) {
		if (strchr(client_addr, ':'))
			bad = SPF_request_set_ipv6_str(req, client_addr) != SPF_E_SUCCESS;
		else
			bad = SPF_request_set_ipv4_str(req, client_addr) != SPF_E_SUCCESS;
		if (helo && *helo)
			(void) SPF_request_set_helo_dom(req, helo);
		if (mail_from && *mail_from)
			bad |= SPF_request_set_env_from(req, mail_from) != 0;
		else if (helo == 0 || *helo == 0)
			bad = 1;
		if (!bad) {
			(void) SPF_request_query_mailfrom(req, &resp);
			if (resp)
				result = spf_name(SPF_response_result(resp));
		}
		if (resp)
			SPF_response_free(resp);
		SPF_request_free(req);
	}
	pthread_mutex_unlock(&spf->mu);
	return (result);
}

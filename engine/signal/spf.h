#ifndef PD_SIGNAL_SPF_H
#define PD_SIGNAL_SPF_H

/*
 * spf - SPF (RFC 7208) of the inbound connection, with libspf2.
 */
typedef struct SIGNAL_SPF SIGNAL_SPF;

/* With the system resolver (and libspf2's cache). NULL if libspf2 fails. */
SIGNAL_SPF *spf_create(void);
/* With a fixed zone instead of DNS: lines "domain TXT-text" (tests). */
SIGNAL_SPF *spf_create_zone(const char *const *records);
SIGNAL_SPF *spf_create_file(const char *path, char **err);
void	spf_free(SIGNAL_SPF *spf);

/* The result's name: pass, fail, softfail, neutral, none, temperror,
 * permerror. mail_from may be empty (the null sender: HELO is checked). */
const char *spf_check(SIGNAL_SPF *spf, const char *client_addr,
			             const char *helo, const char *mail_from);

#endif

#ifndef PD_MILTER_SPF_H
#define PD_MILTER_SPF_H

/*
 * milter_spf - SPF (RFC 7208) of the inbound connection, with libspf2.
 */
typedef struct MILTER_SPF MILTER_SPF;

/* With the system resolver (and libspf2's cache). NULL if libspf2 fails. */
MILTER_SPF *milter_spf_create(void);
/* With a fixed zone instead of DNS: lines "domain TXT-text" (tests). */
MILTER_SPF *milter_spf_create_zone(const char *const *records);
MILTER_SPF *milter_spf_create_file(const char *path, char **err);
void	milter_spf_free(MILTER_SPF *spf);

/* The result's name: pass, fail, softfail, neutral, none, temperror,
 * permerror. mail_from may be empty (the null sender: HELO is checked). */
const char *milter_spf_check(MILTER_SPF *spf, const char *client_addr,
			             const char *helo, const char *mail_from);

#endif

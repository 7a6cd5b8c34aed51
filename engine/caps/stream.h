#ifndef PD_STREAM_H
#define PD_STREAM_H

/*
 * stream - which stream (marketing or transactional) a message is, and
 * which list: one decision for postdrip-policyd and postdrip-milter.
 */
#include "config/config.h"
#include "token/tokens.h"

typedef struct STREAM_RULES STREAM_RULES;

#define STREAM_TRANSACTIONAL	0
#define STREAM_MARKETING	1

/* Compile marketing_senders, marketing_sasl_users, marketing_clients,
 * marketing_lists and the VERP settings. NULL with *err (every problem,
 * one a line; the caller frees it). cf must outlive the result. */
STREAM_RULES *stream_rules_create(const CONFIG *cf, char **err);
void	stream_rules_free(STREAM_RULES *r);

/*
 * The stream of a message from its envelope: sender as given to MAIL FROM
 * ("" for the null sender), SASL login and client address ("" or NULL when
 * unknown). tk: verify the engine's VERP return paths (NULL: their form is
 * enough). *rule (may be NULL) names the setting that made it marketing.
 */
int	stream_decide(const STREAM_RULES *r, const TOKENS *tk, const char *sender,
		              const char *sasl_username, const char *client_address,
		              const char **rule);

/* The list a message of this envelope sender belongs to (marketing_lists),
 * or NULL. The result lives as long as r. */
const char *stream_list(const STREAM_RULES *r, const char *sender);

const char *stream_name(int stream);

#endif

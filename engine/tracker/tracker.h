#ifndef PD_TRACKER_H
#define PD_TRACKER_H

/*
 * tracker - the HTTP tracker and API, run by postdrip-engine in its own
 * threads (libmicrohttpd) when tracker_listen is set.
 */
#include "config/config.h"
#include "store/store.h"
#include "token/tokens.h"

typedef struct TRACKER TRACKER;

/* Start serving tracker_listen. NULL with *err = 0 when tracker_listen is
 * empty; NULL with *err (caller frees) when it cannot start. cf, st and tk
 * must outlive the tracker (it takes a reference on cf). */
TRACKER *tracker_start(CONFIG *cf, STORE *st, TOKENS *tk, char **err);
/* Stop: no new requests; those under way finish. */
void	tracker_stop(TRACKER *t);

#endif

#ifndef PD_REPORT_H
#define PD_REPORT_H

/*
 * report - counts and rates per workflow and step, computed from the
 * events in the store (report.c), and their HTML page (report_html.c).
 */
#include <time.h>
#include <jansson.h>

#include "store/store.h"
#include "util/strbuf.h"
#include "workflow/workflow.h"

#define REPORT_GMAIL_LIMIT	0.003	/* Gmail's complaint-rate line */
#define REPORT_COMPLAINT_AIM	0.001	/* what a sender should stay under */
#define REPORT_DAYS_MAX		400	/* days drawn in the daily chart */

typedef struct REPORT_OPTS {
	const char *workflow;		/* only this one (NULL: all) */
	time_t	since;			/* events at or after (0: all) */
	time_t	now;			/* the report's time */
	const WORKFLOW_SET *wfs;	/* step order and goals (may be NULL) */
} REPORT_OPTS;

/* The report as JSON (*out, the caller's): STORE_OK or STORE_RETRY. */
int	report_build(STORE *st, const REPORT_OPTS *opts, json_t **out);

/* One self-contained HTML page of a report_build() result. */
void	report_html(const json_t *rep, STRBUF *out);

/* Human-readable text of a report_build() result. */
void	report_text(const json_t *rep, STRBUF *out);

#endif

#ifndef PD_WORKFLOW_INT_H
#define PD_WORKFLOW_INT_H

/*
 * workflow_int - what the workflow_*.c files share and nobody else sees.
 */
#include <pthread.h>

#include "util/tzone.h"
#include "workflow/workflow.h"
#include "workflow/ynode.h"

#define WF_ZONE_CACHE_MAX 1024		/* distinct zones kept per set */

struct WORKFLOW_SET {
	int	nwf;
	WORKFLOW **wf;
	int	nseg;
	WF_SEGMENT **seg;
	int	nfiles;
	char  **files;			/* WF_POS.file points here */
	char   *default_tz;		/* workflow_set_timezone(), or "UTC" */
	/* Zones loaded on demand, by name; never unloaded before the set. */
	pthread_mutex_t zone_lock;
	int	nzones;
	TZONE **zones;
};

/* The parser's state for one file. */
typedef struct WF_PARSER {
	WORKFLOW_SET *set;
	const char *file;		/* owned by set->files */
	STRBUF *errs;
	int	nerr;
} WF_PARSER;

/* workflow_parse.c */
void	wf_error(WF_PARSER *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void	wf_warning(WF_PARSER *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void	wf_parse_text(WF_PARSER *p, const char *text, size_t len);
void	wf_link_set(WORKFLOW_SET *set, STRBUF *errs, int *nerr);
const char *wf_set_file(WORKFLOW_SET *set, const char *name);

/* workflow.c */
WORKFLOW_SET *wf_set_new(void);
void	wf_cond_free(WF_COND *c);
void	wf_workflow_free(WORKFLOW *wf);
WORKFLOW_SET *wf_load_dir(const char *dir, STRBUF *errs, int *nerr);

/* workflow_time.c */
const TZONE *wf_zone(const WORKFLOW_SET *set, const char *name);
int	wf_parse_hhmm(const char *text, int *minutes);

#endif

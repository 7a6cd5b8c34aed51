/*++
/* NAME
/*	workflow_check 3
/* SUMMARY
/*	check workflow files and the templates they name
/* SYNOPSIS
/*	#include "workflow/workflow.h"
/*
/*	int	workflow_check_dir(dir, template_dir, errs)
/* DESCRIPTION
/*	workflow_check_dir() loads every workflow file of dir as
/*	workflow_load_dir() does and, when template_dir is not NULL,
/*	checks that each send and notify step names a template that
/*	exists there: a file NAME.tmpl (postdrip-template(5)).
/*	It is what "postdrip check" runs; the engine runs the same loader,
/*	so what passes the check loads.
/* DIAGNOSTICS
/*	"file:line: message" lines in errs; the result is the number of
/*	errors. Warnings ("file:line: warning: ...") are not counted.
/*--*/
#include "pdconfig.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "util/mymalloc.h"
#include "workflow/workflow_int.h"

/* wf_template_exists - is there a template file NAME.tmpl in dir */

static int
wf_template_exists(const char *dir, const char *name)
{
	struct stat st;
	char   *path;
	int	found;

	/* Names are checked by the parser: no '/', so no path games here. */
	path = myasprintf("%s/%s.tmpl", dir, name);
	found = (stat(path, &st) == 0 && S_ISREG(st.st_mode));
	myfree(path);
	return (found);
}

/* workflow_check_dir - load and check; the number of errors */

int
workflow_check_dir(const char *dir, const char *template_dir, STRBUF *errs)
{
	WORKFLOW_SET *set;
	const WF_STEP *s;
	struct stat st;
	int	nerr, i, j;

	set = wf_load_dir(dir, errs, &nerr);
	if (template_dir && stat(template_dir, &st) < 0 && set->nwf > 0) {
		strbuf_printf(errs, "%s:0: cannot open template directory: %s\n",
			      template_dir, strerror(errno));
		nerr++;
		template_dir = 0;
	}
	for (i = 0; template_dir && i < set->nwf; i++) {
		for (j = 0; j < set->wf[i]->nsteps; j++) {
			s = set->wf[i]->steps + j;
			if (s->template == 0 || wf_template_exists(template_dir, s->template))
				continue;
			strbuf_printf(errs, "%s:%d: %s: no template \"%s\" (%s.tmpl) in %s\n",
				      s->pos.file, s->pos.line, workflow_step_kind_name(s->kind),
				      s->template, s->template, template_dir);
			nerr++;
		}
	}
	workflow_set_free(set);
	return (nerr);
}

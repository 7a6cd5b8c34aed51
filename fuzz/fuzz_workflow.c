/*++
/* NAME
/*	fuzz_workflow 1
/* SUMMARY
/*	libFuzzer target: a workflow file
/* SYNOPSIS
/*	make fuzz; fuzz/fuzz_workflow fuzz/corpus/workflow
/* DESCRIPTION
/*	Parses the input as one workflow file. When it loads, the result
/*	is also exercised: every condition against a fixed contact, the
/*	send window, date triggers and waits, and its text (workflow_show),
/*	so that whatever the parser accepts is something the scheduler can
/*	run without harm.
/*
/*	tests/fuzz_workflow_replay runs the corpus without libFuzzer in
/*	"make check".
/*--*/
#include "pdconfig.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/strbuf.h"
#include "workflow/workflow.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * XXX libfyaml 0.7.12 loses a 1 kB buffer when it formats the text of
 * some multi-line quoted scalars (fy_atom_format_text). It is not ours to
 * fix, and it is bounded by the file's size; the leak checker is told so.
 */

/* __lsan_default_suppressions - what the leak checker is to overlook */

const char *
__lsan_default_suppressions(void)
{
	return ("leak:libfyaml.so\n");
}

/* fuzz_has_event - a history in which only clicks on "pricing" happened */

static int
fuzz_has_event(void *ctx, const char *type, const char *key, const char *value,
	               time_t since)
{
	return (strcmp(type, "clicked") == 0 && (key == 0 || strcmp(value, "pricing") == 0));
}

/* fuzz_exercise - run what the scheduler would run */

static void
fuzz_exercise(const WORKFLOW_SET *set)
{
	json_t *contact;
	WF_FACTS f;
	const WORKFLOW *wf;
	STRBUF	text = STRBUF_INIT;
	int	i, j;

	contact = json_pack("{s:I, s:s, s:i, s:[s], s:{s:s, s:s, s:s, s:i}}",
			    "id", (json_int_t) 1, "email", "a@example.com", "score", 42,
			    "tags", "vip", "fields", "birthday", "1990-02-29",
			    "timezone", "Europe/Paris", "trial_end", "2026-04-10T12:00:00Z",
			    "n", 7);
	memset(&f, 0, sizeof(f));
	f.contact = contact;
	f.has_event = fuzz_has_event;
	f.now = 1772355600;
	f.since = f.now - 86400;
	f.set = set;
	for (i = 0; i < workflow_count(set); i++) {
		wf = workflow_at(set, i);
		workflow_show_trigger(wf, &text);
		workflow_show_steps(wf, &text);
		if (wf->audience)
			workflow_show_cond(wf->audience, &text);
		(void) workflow_audience_eval(wf, &f);
		(void) workflow_exit_eval(wf, &f);
		(void) workflow_exit_match(wf, "bounced", contact);
		(void) workflow_trigger_match(wf, "clicked", json_object_get(contact, "fields"));
		(void) workflow_trigger_next(wf, contact, f.now);
		(void) workflow_send_window(wf, workflow_contact_tz(wf, contact), f.now);
		for (j = 0; j < wf->nsteps; j++) {
			const WF_STEP *s = wf->steps + j;

			if (s->cond)
				(void) workflow_cond_eval(s->cond, &f);
			if (s->kind == WF_STEP_WAIT_UNTIL)
				(void) workflow_wait_until(wf, s, contact);
			if (workflow_step_find(wf, s->id) != j)
				__builtin_trap();
		}
	}
	for (i = 0; i < workflow_segment_count(set); i++)
		(void) workflow_segment_eval(workflow_segment_at(set, i), &f);
	json_decref(contact);
	strbuf_free(&text);
}

/* LLVMFuzzerTestOneInput - one input */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *set;

	set = workflow_load_string("fuzz.yaml", (const char *) data, size, &errs);
	if (set) {
		fuzz_exercise(set);
		workflow_set_free(set);
	}
	strbuf_free(&errs);
	return (0);
}

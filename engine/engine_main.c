/*++
/* NAME
/*	postdrip-engine 8
/* SUMMARY
/*	run postdrip workflows: triggers, schedule, sends
/* SYNOPSIS
/*	postdrip-engine [-c FILE] [-f] [-v] [--once]
/* DESCRIPTION
/*	postdrip-engine runs the workflows of workflow_directory over the
/*	store in data_directory: it follows the events that every postdrip
/*	program records, enrols contacts when a trigger fires, runs each
/*	enrolment's steps when they are due, and injects the messages of
/*	send and notify steps into Postfix by SMTP at inject_address. See
/*	sched(3) for what a tick does and how a send survives a crash.
/*
/*	Options:
/* .IP "-c FILE"
/*	The configuration file (default: $POSTDRIP_CONFIG, else
/*	/etc/postdrip/postdrip.conf).
/* .IP -f
/*	Stay in the foreground and log to stderr as well as syslog.
/* .IP --once
/*	Do everything that is due at now (POSTDRIP_NOW when set) and exit:
/*	a test or a demo walks a long workflow by running it at successive
/*	times. Logs to stderr.
/* .IP -v
/*	More logging.
/* .PP
/*	Without --once the engine ticks every second. SIGHUP reloads the
/*	configuration and the workflows (a broken new set is refused and
/*	the old one kept; the keys and mail_owner stay as at start);
/*	SIGTERM and SIGINT stop it after the round under way, with every
/*	recorded step committed.
/*
/*	One tick at a time per store: each tick holds an exclusive lock on
/*	engine.lock in data_directory, so a "postdrip-engine --once" run
/*	beside the daemon (or a second daemon) waits for the tick under way
/*	and then runs its own, instead of working the same jobs at the same
/*	time. It logs once when it has to wait.
/* SECURITY
/*	With mail_owner set and started as root, the engine reads the key
/*	file, then takes that user's identity for good before it opens the
/*	store.
/* DIAGNOSTICS
/*	One log line per decision (enrolled, sent, deferred, refused,
/*	exited, ...). Exit status 0; 1 on a configuration, key or store
/*	error at start, or when --once could not finish for store trouble.
/* SEE ALSO
/*	postdrip(1), postdrip.conf(5), postdrip-workflow(5)
/*--*/
#include "pdconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <stdarg.h>
#include <sys/file.h>
#include <unistd.h>

#include "sched/scheduler.h"
#include "util/clock.h"
#include "config/config.h"
#include "classify/classify.h"
#include "util/daemon.h"
#include "util/msg.h"
#include "util/usage.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "token/tokens.h"
#include "tracker/tracker.h"
#include "workflow/workflow.h"

static volatile sig_atomic_t engine_stop;
static volatile sig_atomic_t engine_reload;

/* engine_signal - note the request; the loop acts on it between ticks */

static void
engine_signal(int sig)
{
	if (sig == SIGHUP)
		engine_reload = 1;
	else
		engine_stop = 1;
}

/* engine_log - the scheduler's decisions go to the log */

static void PD_PRINTF(3, 4)
engine_log(void *ctx, int warn, const char *fmt,...)
{
	va_list	ap;

	va_start(ap, fmt);
	msg_vprintf(warn ? LOG_WARNING : LOG_INFO, fmt, ap);
	va_end(ap);
}

/* engine_usage - how to call us */

static void
engine_usage(void)
{
	fprintf(stderr, "usage: postdrip-engine [-c FILE] [-f] [-v] [--once] (--help for more)\n");
	exit(2);
}

/* engine_workflows - load and check the workflow set; NULL with a log */

static WORKFLOW_SET *
engine_workflows(CONFIG *cf)
{
	STRBUF	errs = STRBUF_INIT;
	WORKFLOW_SET *wfs;
	char   *line, *next;

	wfs = workflow_load_dir(config_str(cf, "workflow_directory"), &errs);
	for (line = errs.data; line && *line; line = next) {
		if ((next = strchr(line, '\n')) != 0)
			*next++ = 0;
		if (*line)
			msg_warn("%s", line);
	}
	strbuf_free(&errs);
	if (wfs && workflow_count(wfs) == 0
	    && access(config_str(cf, "workflow_directory"), F_OK) < 0 && errno == ENOENT)
		msg_warn("%s:%d: workflow_directory %s does not exist: no workflows to run",
			 config_path(cf), config_line(cf, "workflow_directory"),
			 config_str(cf, "workflow_directory"));
	if (wfs && workflow_set_timezone(wfs, config_str(cf, "default_timezone")) < 0) {
		msg_warn("%s:%d: default_timezone: unknown time zone \"%s\": using UTC",
			 config_path(cf), config_line(cf, "default_timezone"),
			 config_str(cf, "default_timezone"));
		(void) workflow_set_timezone(wfs, "UTC");
	}
	return (wfs);
}

/* engine_stats - one line per tick that did something */

static void
engine_stats(const SCHED_STATS *st)
{
	if (st->events || st->jobs || st->enrolled)
		msg_info("tick: events=%zu enrolled=%zu jobs=%zu steps=%zu sent=%zu "
			 "deferred=%zu refused=%zu ended=%zu", st->events, st->enrolled,
			 st->jobs, st->steps, st->sent, st->deferred, st->refused, st->ended);
}

/* engine_lock_open - the store's tick lock (data_directory/engine.lock) */

static int
engine_lock_open(CONFIG *cf)
{
	STRBUF	path = STRBUF_INIT;
	int	fd;

	/* Read-only is enough for flock(), and 0644 lets a daemon running as
	 * mail_owner use the file that a root --once run created. */
	strbuf_printf(&path, "%s/engine.lock", config_str(cf, "data_directory"));
	if ((fd = open(strbuf_str(&path), O_RDONLY | O_CREAT | O_CLOEXEC, 0644)) < 0)
		msg_warn("cannot open %s: %m; ticks are not locked against another "
			 "postdrip-engine on this store", strbuf_str(&path));
	strbuf_free(&path);
	return (fd);
}

/* engine_lock - one tick at a time on a store, across processes */

static void
engine_lock(int fd)
{
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0)
		return;
	if (errno != EWOULDBLOCK && errno != EINTR)
		msg_fatal("engine.lock: %m");
	msg_info("another postdrip-engine is working on this store (engine.lock): "
		 "waiting for its tick to end");
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			msg_fatal("engine.lock: %m");
}

static void
engine_unlock(int fd)
{
	if (fd >= 0)
		(void) flock(fd, LOCK_UN);
}

int
main(int argc, char **argv)
{
	const char *path = getenv("POSTDRIP_CONFIG");
	int	foreground = 0, once = 0, verbose = 0, i, rc, lockfd;
	CONFIG *cf, *ncf;
	WORKFLOW_SET *wfs, *nwfs;
	TOKENS *tk;
	STORE  *st;
	SCHED  *s;
	SCHED_STATS stats;
	TRACKER *trk = 0;
	struct sigaction sa;
	char   *err = 0;
	size_t	nretimed;

	if (path == 0)
		path = CONFIG_DEFAULT_PATH;
	usage_std(argc, argv, "postdrip-engine", "postdrip-engine [-c FILE] [-f] [-v] [--once]",
		  "  -c FILE     the configuration (default " CONFIG_DEFAULT_PATH
		  ", or $POSTDRIP_CONFIG)\n"
		  "  -f          stay in the foreground, log to stderr as well\n"
		  "  -v          more logging (repeat for more)\n"
		  "  --once      run the work due now (POSTDRIP_NOW when set) and exit\n");
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "-f") == 0)
			foreground = 1;
		else if (strcmp(argv[i], "-v") == 0)
			verbose++;
		else if (strcmp(argv[i], "--once") == 0)
			once = 1;
		else
			engine_usage();
	}
	msg_verbose_set(verbose);
	if ((cf = config_load(path, &err)) == 0)
		msg_fatal("%s", err);
	if (classify_reasons_config(cf, &err) < 0)
		msg_fatal("%s", err);
	if ((tk = tokens_load(config_str(cf, "token_key_file"), &err)) == 0)
		msg_fatal("%s", err);
	if ((wfs = engine_workflows(cf)) == 0)
		msg_fatal("workflow errors in %s", config_str(cf, "workflow_directory"));

	/* The LMDB environment is opened in the process that uses it, after
	 * the keys are read and privileges are dropped. */
	if (!once && !foreground)
		daemon_detach();
	msg_open("postdrip-engine", once || foreground);
	daemon_drop_privileges(config_str(cf, "mail_owner"));

	if ((st = store_open_config(cf, 0, &err)) == 0)
		msg_fatal("cannot open the store: %s", err);

	s = sched_create(st, cf, wfs, tk);
	sched_set_log(s, engine_log, 0);
	sched_set_stop(s, &engine_stop);
	lockfd = engine_lock_open(cf);

	if (once) {
		memset(&stats, 0, sizeof(stats));
		engine_lock(lockfd);
		rc = sched_tick(s, clock_now(), &stats);
		engine_unlock(lockfd);
		engine_stats(&stats);
		sched_free(s);
		store_close(st);
		workflow_set_free(wfs);
		tokens_free(tk);
		config_unref(cf);
		if (rc != STORE_OK)
			msg_warn("stopped early: %s; the rest is done on the next run",
				 store_strerror(rc));
		return (rc == STORE_OK ? 0 : 1);
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = engine_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, 0);
	sigaction(SIGTERM, &sa, 0);
	sigaction(SIGINT, &sa, 0);
	signal(SIGPIPE, SIG_IGN);
	/* The HTTP tracker serves in its own threads until we stop. */
	if ((trk = tracker_start(cf, st, tk, &err)) == 0 && err)
		msg_fatal("%s", err);
	msg_info("started: %d workflows, store %s, injecting to %s",
		 workflow_count(wfs), config_str(cf, "data_directory"),
		 config_str(cf, "inject_address"));

	while (!engine_stop) {
		struct timespec ts;
		time_t	now;

		if (engine_reload) {
			engine_reload = 0;
			if ((ncf = config_load(path, &err)) == 0) {
				msg_warn("reload refused: %s", err);
				myfree(err);
			} else if ((nwfs = engine_workflows(ncf)) == 0) {
				msg_warn("reload refused: workflow errors in %s",
					 config_str(ncf, "workflow_directory"));
				config_unref(ncf);
			} else if (classify_reasons_config(ncf, &err) < 0) {
				msg_warn("reload refused: %s", err);
				myfree(err);
				workflow_set_free(nwfs);
				config_unref(ncf);
			} else {
				/* The tick is not running: nothing uses the old set. */
				sched_reload(s, ncf, nwfs);
				workflow_set_free(wfs);
				config_unref(cf);
				cf = ncf;
				wfs = nwfs;
				msg_info("reloaded: %d workflows", workflow_count(wfs));
				if ((rc = sched_retime(s, clock_now(), &nretimed)) != STORE_OK)
					msg_warn("reload: queued jobs keep their times: %s",
						 store_strerror(rc));
				else
					msg_info("reload: %zu queued job%s re-timed", nretimed,
						 nretimed == 1 ? "" : "s");
			}
		}
		memset(&stats, 0, sizeof(stats));
		engine_lock(lockfd);
		now = clock_now();
		rc = sched_tick(s, now, &stats);
		engine_unlock(lockfd);
		if (rc != STORE_OK)
			msg_warn("tick: %s; trying again", store_strerror(rc));
		engine_stats(&stats);
		/* Sleep to the next second; a signal cuts it short. */
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec = 0;
		ts.tv_nsec = 1000000000L - ts.tv_nsec;
		(void) nanosleep(&ts, 0);
	}
	msg_info("stopping");
	tracker_stop(trk);
	sched_free(s);
	store_close(st);
	workflow_set_free(wfs);
	tokens_free(tk);
	config_unref(cf);
	return (0);
}

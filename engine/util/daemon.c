/*++
/* NAME
/*	daemon 3
/* SUMMARY
/*	detach and drop privileges
/* SYNOPSIS
/*	#include "util/daemon.h"
/*
/*	void	daemon_detach(void)
/*	void	daemon_drop_privileges(user)
/* DESCRIPTION
/*	daemon_detach() forks; the parent exits 0, the child starts a new
/*	session, changes to / and points stdin, stdout and stderr at
/*	/dev/null.
/*
/*	daemon_drop_privileges() takes the identity of mail_owner after the
/*	sockets are bound and the keys read, as Postfix's master does with
/*	its children: one group (no supplementary groups), real, effective
/*	and saved ids all changed, and a check that root cannot be had back.
/*	Started as root with mail_owner empty, it keeps root and warns.
/* DIAGNOSTICS
/*	Every failure is fatal: a daemon that meant to drop root and could
/*	not must not go on as root.
/*--*/
#include "pdconfig.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include "util/daemon.h"
#include "util/msg.h"

/* daemon_detach - background, new session */

void
daemon_detach(void)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) < 0)
		msg_fatal("fork: %m");
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		msg_fatal("setsid: %m");
	if (chdir("/") < 0)
		msg_fatal("chdir /: %m");
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		(void) dup2(fd, 0);
		(void) dup2(fd, 1);
		(void) dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/* daemon_drop_privileges - become mail_owner for good */

void
daemon_drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	if (user == 0 || *user == 0) {
		/* Allowed (a test, a container), but never silently. */
		msg_warn("running as root: mail_owner is empty, so root privileges are "
			 "kept; set mail_owner (e.g. postfix) in postdrip.conf");
		return;
	}
	if ((pw = getpwnam(user)) == 0)
		msg_fatal("mail_owner %s: no such user", user);
	if (pw->pw_uid == 0)
		msg_fatal("mail_owner %s: must not be root", user);
	if (setgroups(1, &pw->pw_gid) < 0)
		msg_fatal("setgroups %ld: %m", (long) pw->pw_gid);
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0)
		msg_fatal("setresgid %ld: %m", (long) pw->pw_gid);
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		msg_fatal("setresuid %ld: %m", (long) pw->pw_uid);
	if (setuid(0) == 0 || seteuid(0) == 0)
		msg_fatal("root privileges could not be dropped");
}

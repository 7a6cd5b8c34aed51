#ifndef PD_DAEMON_H
#define PD_DAEMON_H

/*
 * daemon - what every postdrip daemon does at start: detach, and give up
 * root for good once its sockets and keys are open.
 */

/* Fork into the background: new session, cwd /, stdio on /dev/null. */
void	daemon_detach(void);

/* Become user for good (setgroups, setresgid, setresuid; no way back).
 * Nothing when user is empty or we are not root. Fatal on any failure, and
 * when user is root. */
void	daemon_drop_privileges(const char *user);

#endif

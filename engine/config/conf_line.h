#ifndef PD_CONF_LINE_H
#define PD_CONF_LINE_H

/*
 * conf_line - the line of postdrip.conf that sets a setting (0: none), for
 * "file:line: message" reports of values refused after loading.
 */
int	conf_line(const char *path, const char *name);

#endif

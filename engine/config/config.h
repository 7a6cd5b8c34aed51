#ifndef PD_CONFIG_H
#define PD_CONFIG_H

/*
 * config - postdrip.conf, main.cf style.
 *
 * "name = value" lines; '#' comments; a line that starts with white space
 * continues the previous one. Values may refer to other settings as $name or
 * ${name}; $config_directory is the directory of the file that was loaded.
 *
 * Every setting has one entry in the table config_params[] (config_params.c):
 * its name, type, default and bounds. Unknown names and bad values are
 * errors reported as "file:line: message". A loaded CONFIG is immutable and
 * reference counted, so a reload builds a new one while connections keep
 * using theirs.
 */
#include <stddef.h>

typedef enum {
	CONF_STR,			/* free text */
	CONF_INT,			/* integer within [min, max] */
	CONF_BOOL,			/* yes/no, true/false, on/off, 1/0 */
	CONF_TIME,			/* duration, see clock_parse_duration(); seconds */
	CONF_SIZE,			/* bytes, with optional k/m/g suffix */
	CONF_LIST,			/* comma- or space-separated list */
	CONF_SOCKET,			/* inet:host:port or unix:/path, or empty */
} CONF_TYPE;

typedef struct CONF_PARAM {
	const char *name;
	CONF_TYPE type;
	const char *def;		/* default value, as text */
	long long min, max;		/* bounds for INT/TIME/SIZE (0, 0: none) */
	const char *doc;		/* one line for config -d and the man page */
} CONF_PARAM;

extern const CONF_PARAM config_params[];	/* terminated by name == 0 */

typedef struct CONFIG CONFIG;

/* Fixed, like Postfix's /etc/postfix: not moved by ./configure --prefix. */
#define CONFIG_DEFAULT_PATH "/etc/postdrip/postdrip.conf"

/* Load a file; NULL on error with *err set to "file:line: message" lines
 * (caller frees). A missing file at the default path is not an error:
 * all defaults apply. */
CONFIG *config_load(const char *path, char **err);
CONFIG *config_defaults(void);
CONFIG *config_ref(CONFIG *cf);
void	config_unref(CONFIG *cf);
const char *config_path(const CONFIG *cf);

/* Accessors; an unknown name is a bug (msg_panic). Strings stay valid for
 * the life of the CONFIG. */
const char *config_str(const CONFIG *cf, const char *name);
long long config_int(const CONFIG *cf, const char *name);	/* INT, TIME, SIZE */
int	config_bool(const CONFIG *cf, const char *name);
/* LIST: a null-terminated array, valid for the life of the CONFIG. */
char  **config_list(const CONFIG *cf, const char *name);
/* Is the value the default (not set in the file)? */
int	config_is_default(const CONFIG *cf, const char *name);
/* The line of config_path() that set it; 0 for a default. */
int	config_line(const CONFIG *cf, const char *name);

/* Socket notation: inet:HOST:PORT, inet:PORT, unix:/path, [host]:port.
 * Returns a listening/connected fd or -1 with errno; *err explains. */
int	config_socket_listen(const char *spec, int mode, char **err);
int	config_socket_connect(const char *spec, char **err);

#endif

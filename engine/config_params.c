/*++
/* NAME
/*	config_params 3
/* SUMMARY
/*	every postdrip.conf setting, with its default and bounds
/* DESCRIPTION
/*	The one table of settings. "postdrip config -d" prints it and
/*	postdrip.conf(5) documents it; config_load() refuses names that are
/*	not here. Defaults fail safe.
/*--*/
#include "pdconfig.h"

#include "config.h"

#define K 1024LL
#define M (1024LL * 1024)
#define G (1024LL * 1024 * 1024)
#define DAY 86400LL

const CONF_PARAM config_params[] = {
	/* Where things are. */
	{"config_directory", CONF_STR, "/etc/postdrip", 0, 0,
	"directory of the loaded postdrip.conf (set automatically)"},
	{"data_directory", CONF_STR, "/var/lib/postdrip", 0, 0,
	"directory of the LMDB environment shared by all programs"},
	{"token_key_file", CONF_STR, "$config_directory/keys", 0, 0,
	"file of HMAC keys for tokens (mode 0600, made by postdrip keygen)"},
	{"workflow_directory", CONF_STR, "$config_directory/workflows", 0, 0,
	"directory of workflow files"},
	{"template_directory", CONF_STR, "$config_directory/templates", 0, 0,
	"directory of message templates"},
	{"default_timezone", CONF_STR, "UTC", 0, 0,
	"IANA time zone of send windows for contacts and workflows without one"},

	/* Store. */
	{"store_map_size", CONF_SIZE, "1g", 1 * M, 1024 * G,
	"initial size of the LMDB map (a sparse file; grows on demand)"},
	{"store_map_max", CONF_SIZE, "64g", 1 * M, 1024 * G,
	"largest size the LMDB map may grow to"},
	{"store_queue_max", CONF_INT, "65536", 16, 10000000,
	"write operations queued per process before writers wait"},

	/* Mail streams. */
	{"marketing_senders", CONF_LIST, "", 0, 0,
	"envelope-sender patterns (*@news.example.com, @example.com) whose mail is the marketing stream"},
	{"marketing_sasl_users", CONF_LIST, "", 0, 0,
	"SASL login names whose mail is the marketing stream"},
	{"marketing_clients", CONF_LIST, "", 0, 0,
	"client addresses or networks (192.0.2.0/24) whose mail is the marketing stream"},

	/* Sockets, in Postfix's notation. */
	{"policyd_listen", CONF_SOCKET, "inet:127.0.0.1:10040", 0, 0,
	"socket of postdrip-policyd (check_policy_service)"},
	{"milter_listen", CONF_SOCKET, "unix:/run/postdrip/milter.sock", 0, 0,
	"socket of postdrip-milter (smtpd_milters)"},
	{"tracker_listen", CONF_SOCKET, "inet:127.0.0.1:10080", 0, 0,
	"socket of the HTTP tracker in postdrip-engine"},
	{"inject_address", CONF_STR, "127.0.0.1:10025", 0, 0,
	"host:port of the Postfix smtpd that postdrip-engine injects into"},

	/* Identity of postdrip's own mail. */
	{"bounce_domain", CONF_STR, "bounce.example.com", 0, 0,
	"domain of VERP return paths and reply/unsubscribe addresses"},
	{"tracker_url", CONF_STR, "https://track.example.com", 0, 0,
	"public base URL of the HTTP tracker"},

	/* Templates: bounds on what one template may be and produce. */
	{"template_size_limit", CONF_SIZE, "256k", 1 * K, 16 * M,
	"largest template or partial file"},
	{"template_depth_limit", CONF_INT, "32", 1, 256,
	"deepest nesting of Mustache sections in a template"},
	{"template_partial_depth_limit", CONF_INT, "16", 0, 64,
	"deepest nesting of partials within partials while rendering"},
	{"template_output_limit", CONF_SIZE, "4m", 4 * K, 256 * M,
	"largest rendered part (subject, text or HTML body) of a message"},

	/* Privileges. */
	{"mail_owner", CONF_STR, "", 0, 0,
	"user the daemons run as after binding their sockets (empty: do not change)"},

	{0},
};

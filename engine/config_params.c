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

	/* Addresses on the bounce domain (verp(3)): PREFIX+TOKEN@bounce_domain. */
	{"verp_prefix", CONF_STR, "bounces", 0, 0,
	"local part before +TOKEN in VERP return paths (bounces+TOKEN@bounce_domain)"},
	{"reply_address_prefix", CONF_STR, "reply", 0, 0,
	"local-part prefix of reply addresses (reply+TOKEN@bounce_domain)"},
	{"unsubscribe_address_prefix", CONF_STR, "unsubscribe", 0, 0,
	"local-part prefix of List-Unsubscribe mailto addresses (unsubscribe+TOKEN@bounce_domain)"},

	/* What inbound signals do. */
	{"soft_bounce_limit", CONF_INT, "5", 1, 1000,
	"soft bounces within soft_bounce_window that suppress an address"},
	{"soft_bounce_window", CONF_TIME, "30d", 3600, 366 * DAY,
	"period over which soft bounces are counted"},
	{"reply_forward_owner", CONF_BOOL, "no", 0, 0,
	"postdrip-milter adds the contact's owner (field owner) as a recipient of a genuine reply"},

	/* postdrip-milter. */
	{"milter_header_limit", CONF_SIZE, "256k", 4 * K, 16 * M,
	"header bytes of one message that postdrip-milter keeps; more are not examined"},
	{"milter_body_limit", CONF_SIZE, "1m", 0, 256 * M,
	"body bytes of a bounce, report or reply that postdrip-milter keeps for classification"},
	{"milter_recipient_limit", CONF_INT, "1000", 1, 100000,
	"envelope recipients of one message that postdrip-milter examines"},
	{"milter_spf_check", CONF_BOOL, "yes", 0, 0,
	"check SPF (client IP, HELO, MAIL FROM) before counting a reply or a mailed unsubscribe"},

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

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

#include "config/config.h"

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
	{"bounce_reasons_file", CONF_STR, "$config_directory/bounce-reasons", 0, 0,
	"phrase vocabulary of bounce reasons (bounce-reasons(5)); when the default file is missing, the compiled-in copy is used"},
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
	{"marketing_lists", CONF_STR, "", 0, 0,
	"the list of a message by its envelope sender, \"PATTERN LIST\" entries separated by ; (*@news.example.com news); a recipient who left that list on the preference page is refused its mail"},
	{"swap_bangpath", CONF_BOOL, "yes", 0, 0,
	"as Postfix's main.cf: site!user@local routes to user@site, so its suppression applies"},
	{"allow_percent_hack", CONF_BOOL, "yes", 0, 0,
	"as Postfix's main.cf: user%site@local routes to user@site, so its suppression applies"},

	/* Sockets, in Postfix's notation. */
	{"policyd_listen", CONF_SOCKET, "inet:127.0.0.1:10040", 0, 0,
	"socket of postdrip-policyd (check_policy_service)"},
	{"milter_listen", CONF_SOCKET, "unix:/run/postdrip/milter.sock", 0, 0,
	"socket of postdrip-milter (smtpd_milters)"},
	{"tracker_listen", CONF_SOCKET, "", 0, 0,
	"socket of the HTTP tracker in postdrip-engine, e.g. inet:127.0.0.1:10080 (empty: no tracker)"},
	{"inject_address", CONF_STR, "127.0.0.1:10025", 0, 0,
	"host:port of the Postfix smtpd that postdrip-engine injects into"},

	/* Identity of postdrip's own mail. */
	{"bounce_domain", CONF_STR, "bounce.example.com", 0, 0,
	"domain of VERP return paths and reply/unsubscribe addresses"},
	{"tracker_url", CONF_STR, "https://track.example.com", 0, 0,
	"public base URL of the HTTP tracker"},
	{"postfix_config_directory", CONF_STR, "", 0, 0,
	"Postfix's configuration directory; when set, postdrip check reads its queue_directory and the chroot column of smtp/inet with postconf to check milter_listen and lmtp_listen"},

	/* postdrip-engine: the HTTP tracker. */
	{"tracker_threads", CONF_INT, "2", 1, 256,
	"threads of the HTTP tracker (one epoll loop each)"},
	{"tracker_max_connections", CONF_INT, "1000", 1, 100000,
	"HTTP connections the tracker holds at once"},
	{"tracker_idle_timeout", CONF_TIME, "30s", 1, 3600,
	"an HTTP connection idle or slow this long is closed"},
	{"tracker_header_limit", CONF_SIZE, "16k", 4 * K, 1 * M,
	"bytes of request line and headers (and per-connection buffer) of an HTTP request"},
	{"tracker_body_limit", CONF_SIZE, "64k", 1 * K, 16 * M,
	"bytes of an HTTP request body; larger ones get 413"},
	{"tracker_rate_limit", CONF_INT, "100", 0, 1000000,
	"HTTP requests per second per client address (0: no limit); more get 429"},
	{"tracker_rate_burst", CONF_INT, "500", 1, 10000000,
	"requests a client may make at once before tracker_rate_limit applies"},
	{"tracker_trusted_proxies", CONF_LIST, "", 0, 0,
	"addresses or prefixes whose X-Forwarded-For the tracker believes"},
	{"tracker_api_key_file", CONF_STR, "", 0, 0,
	"file of events API keys, NAME SECRET [retired] a line (empty: no API)"},
	{"tracker_apple_ranges_file", CONF_STR, "", 0, 0,
	"file of iCloud Private Relay egress prefixes (Apple's egress-ip-ranges.csv)"},
	{"tracker_open_window", CONF_TIME, "60s", 0, DAY,
	"an open this soon after the send is a machine's"},
	{"tracker_click_window", CONF_TIME, "30s", 0, DAY,
	"a click this soon after the send is a scanner's"},
	{"tracker_burst_window", CONF_TIME, "5s", 0, 3600,
	"a second link of one message clicked from one client this soon is a scanner's"},
	{"tracker_honeypot_link", CONF_STR, "postdrip-honeypot", 0, 0,
	"name of the hidden link the rewriter adds; a click on it is a scanner's"},
	{"tracker_honeypot_window", CONF_TIME, "10s", 0, 3600,
	"clicks of a message this soon after its honeypot click are a scanner's"},
	{"tracker_visit_cookie", CONF_BOOL, "no", 0, 0,
	"a click sets a first-party cookie that ties later page-visit beacons to the contact"},

	/* postdrip-engine: scheduler and injection. */
	{"message_id_domain", CONF_STR, "$bounce_domain", 0, 0,
	"domain of the Message-IDs the engine gives its messages"},
	{"engine_from_address", CONF_STR, "noreply@$bounce_domain", 0, 0,
	"From of engine mail whose template has none, and of notifications"},
	{"engine_batch_size", CONF_INT, "1000", 1, 1000000,
	"events and due jobs the engine reads per round (bounds its memory)"},
	{"engine_retry_backoff", CONF_LIST, "5m, 15m, 1h, 4h", 0, 0,
	"delays before retrying a deferred send or failed webhook (the last repeats)"},
	{"engine_retry_limit", CONF_TIME, "5d", 60, 365LL * 86400,
	"how long a deferred send is retried before it is given up"},
	{"engine_trigger_window", CONF_TIME, "1d", 1, 3650LL * 86400,
	"events older than this fire no event trigger (a new engine does not replay history)"},
	{"inject_connections", CONF_INT, "4", 1, 64,
	"SMTP connections the engine injects over in parallel"},
	{"inject_timeout", CONF_TIME, "60s", 1, 3600,
	"timeout of each SMTP read or write when injecting"},
	{"inject_idle_timeout", CONF_TIME, "5s", 0, 3600,
	"an injection connection idle this long is closed with QUIT (0: kept until the server closes it)"},

	/* Addresses on the bounce domain (verp(3)): PREFIX+TOKEN@bounce_domain. */
	{"verp_prefix", CONF_STR, "bounces", 0, 0,
	"local part before +TOKEN in VERP return paths (bounces+TOKEN@bounce_domain)"},
	{"verp_transactional_prefix", CONF_STR, "txbounces", 0, 0,
	"local part before +TOKEN in the return path of the engine's transactional mail (not marketing at the policy daemon)"},
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
	{"spf_check", CONF_BOOL, "yes", 0, 0,
	"check SPF (client IP, HELO, MAIL FROM) before counting a reply or a mailed unsubscribe"},

	/* The LMTP receiver for the bounce domain, in postdrip-milter. */
	{"lmtp_listen", CONF_SOCKET, "", 0, 0,
	"socket of postdrip-milter's LMTP receiver for the bounce domain (transport_maps lmtp:); empty: no receiver, the milter consumes bounce-domain mail"},
	{"lmtp_message_size_limit", CONF_SIZE, "10m", 4 * K, 1 * G,
	"largest message the LMTP receiver accepts (SIZE); a larger one gets 552 5.3.4"},
	{"lmtp_line_limit", CONF_INT, "4096", 512, 1048576,
	"longest LMTP command line in bytes; a longer one gets 500 5.5.2"},
	{"lmtp_recipient_limit", CONF_INT, "100", 1, 10000,
	"recipients of one LMTP transaction; more get 452 4.5.3 and Postfix sends them again"},
	{"lmtp_idle_timeout", CONF_TIME, "300s", 1, 3600,
	"close an LMTP connection that sends nothing for this long"},
	{"lmtp_max_connections", CONF_INT, "64", 1, 4096,
	"LMTP connections served at once; more wait in the listen queue"},
	{"lmtp_feedback_addresses", CONF_LIST, "fbl@$bounce_domain", 0, 0,
	"addresses on the bounce domain that receive feedback-loop (ARF) reports"},
	{"reply_routing_streams", CONF_LIST, "", 0, 0,
	"streams (marketing, transactional) whose engine mail carries Reply-To: reply+TOKEN@bounce_domain, so that replies pass the LMTP receiver"},
	{"reply_forward_address", CONF_STR, "postmaster", 0, 0,
	"where the LMTP receiver forwards a reply whose contact has no owner and whose send recorded no Reply-To/From"},
	{"autoreply_forward_address", CONF_STR, "", 0, 0,
	"where the LMTP receiver forwards auto-replies to reply addresses (empty: recorded, not forwarded)"},
	/* Link and open tracking of outbound marketing mail (postdrip-tracking(7)). */
	{"track_links", CONF_BOOL, "yes", 0, 0,
	"rewrite the http(s) links of HTML parts of marketing mail to tracker_url/c/ redirects"},
	{"track_opens", CONF_BOOL, "yes", 0, 0,
	"add a 1x1 open pixel (tracker_url/o/) before </body> of each HTML part of marketing mail"},
	{"track_text_links", CONF_BOOL, "no", 0, 0,
	"also rewrite bare http(s) URLs in text/plain parts (they stay readable when off)"},
	{"transactional_track_links", CONF_BOOL, "$track_links", 0, 0,
	"the same for the engine's transactional mail (receipts, confirmations on the transactional stream)"},
	{"transactional_track_opens", CONF_BOOL, "$track_opens", 0, 0,
	"the open pixel in the engine's transactional mail"},
	{"transactional_track_text_links", CONF_BOOL, "$track_text_links", 0, 0,
	"bare http(s) URLs of text/plain parts of the engine's transactional mail"},
	{"tracking_exclude_domains", CONF_LIST, "", 0, 0,
	"link domains never tracked, each with its subdomains (example.com covers www.example.com)"},
	{"rewrite_max_size", CONF_SIZE, "4m", 0, 256 * M,
	"larger messages are sent without link or open tracking (0: no limit)"},
	{"dkim_signing_domains", CONF_LIST, "", 0, 0,
	"DKIM d= domains signed after postdrip-milter (our own): a message already signed by one of them is still rewritten; one signed by any other domain is not"},
	{"milter_list_unsubscribe", CONF_STR, "add", 0, 0,
	"a marketing sender's own List-Unsubscribe: add (ours first, theirs after), keep (theirs alone, ours not added) or replace (ours alone)"},
	{"milter_create_contacts", CONF_BOOL, "yes", 0, 0,
	"the recipient of a marketing send who is not a contact yet becomes one"},
	{"feedback_id_sender", CONF_STR, "postdrip", 0, 0,
	"last field of the Feedback-ID header added to marketing mail (workflow:step:stream:THIS); empty: no header"},
	{"policyd_one_marketing_recipient", CONF_BOOL, "yes", 0, 0,
	"answer the second and later marketing recipients of a transaction with 452 4.5.3, so that each message carries one contact"},

	/* Templates: bounds on what one template may be and produce. */
	{"template_size_limit", CONF_SIZE, "256k", 1 * K, 16 * M,
	"largest template or partial file"},
	{"template_depth_limit", CONF_INT, "32", 1, 256,
	"deepest nesting of Mustache sections in a template"},
	{"template_partial_depth_limit", CONF_INT, "16", 0, 64,
	"deepest nesting of partials within partials while rendering"},
	{"template_output_limit", CONF_SIZE, "4m", 4 * K, 256 * M,
	"largest rendered part (subject, text or HTML body) of a message"},

	/* Frequency caps and domain rates (engine/caps.h), marketing stream. */
	{"frequency_caps", CONF_LIST, "", 0, 0,
	"per-recipient caps on all marketing mail, N/DURATION rolling windows (1/1d, 3/7d)"},
	{"frequency_caps_sender", CONF_STR, "", 0, 0,
	"per-sender caps: entries \"PATTERN N/DURATION...\" separated by ';' (*@news.example.com 2/1d)"},
	{"frequency_cap_action", CONF_STR, "defer", 0, 0,
	"over a frequency cap: defer (450 4.7.1), reject (550 5.7.1), hold, discard, FILTER transport:dest, REDIRECT addr"},
	{"domain_rate_limit", CONF_STR, "", 0, 0,
	"marketing recipients per recipient domain, N/DURATION (100/1m; empty: no limit)"},
	{"domain_rate_limit_domains", CONF_STR, "", 0, 0,
	"per-domain overrides: entries \"DOMAIN N/DURATION|none\" separated by ';', first match wins"},
	{"domain_rate_action", CONF_STR, "defer", 0, 0,
	"over a domain rate: defer, reject, hold, discard, FILTER transport:dest, REDIRECT addr"},

	/* postdrip-policyd. */
	{"policyd_line_limit", CONF_INT, "4096", 128, 1048576,
	"longest policy request line in bytes; a longer one closes the connection"},
	{"policyd_attr_limit", CONF_INT, "200", 8, 100000,
	"most attributes in one policy request"},
	{"policyd_request_limit", CONF_SIZE, "64k", 1024, 16 * M,
	"largest policy request in bytes"},
	{"policyd_request_timeout", CONF_TIME, "30s", 1, 3600,
	"time from the first byte of a policy request to its end; slower clients are closed"},
	{"policyd_idle_timeout", CONF_TIME, "330s", 1, DAY,
	"close a policy client connection idle this long (above Postfix's smtpd_policy_service_max_idle)"},
	{"policyd_max_connections", CONF_INT, "1000", 1, 100000,
	"most policy client connections at once; more are closed at once"},
	{"policyd_threads", CONF_INT, "0", 0, 64,
	"event loops of postdrip-policyd, each serving the connections it accepted; 0: one per CPU"},
	{"policyd_store_fail_action", CONF_STR, "451 4.3.0 Temporary lookup failure", 0, 0,
	"answer when the store cannot be read: a 4xx/5xx reply, DEFER_IF_PERMIT, DEFER, REJECT or HOLD"},
	{"policyd_count_stage", CONF_STR, "end-of-message", 0, 0,
	"when sends are counted: end-of-message (only accepted mail; needs smtpd_end_of_data_restrictions) or rcpt"},
	{"policyd_pending_limit", CONF_INT, "1000", 1, 100000,
	"recipients of one message remembered between RCPT and END-OF-MESSAGE"},
	{"policyd_inflight_timeout", CONF_TIME, "10s", 0, DAY,
	"a message passed at RCPT counts against frequency_caps of others to its recipients this long (0: not at all)"},

	/* Privileges. */
	{"mail_owner", CONF_STR, "", 0, 0,
	"user the daemons run as after binding their sockets (empty: do not change)"},

	{0},
};

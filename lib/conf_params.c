/* conf_params.c: the table of every main.cf parameter (see conf_params.h).
 *
 * Grouped by the part of the suite that reads them; the lookup index is
 * built at first use (lib/conf_value.c), so the order here is free. Names
 * and defaults follow Postfix where the meaning is the same; where Postern
 * differs (user names, paths, defaults that Postfix only gets at a higher
 * compatibility level) the comment says so. Every parameter here must also
 * be documented in doc/postern.cf.5 (t/cli/conf.t checks). */
#include "config.h"

#include <limits.h>

#include "conf_params.h"

#ifndef SBINDIR
#define SBINDIR "/usr/sbin"
#endif
#ifndef DAEMONDIR
#define DAEMONDIR "/usr/libexec/postern"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif

#define MAXI INT_MAX
#define MAXS LLONG_MAX
#define DAY (24 * 3600)

/* One line per parameter; these shapes cover the table. The table is laid
 * out by hand, one parameter a line, so clang-format leaves it alone. */
/* clang-format off */
#define P_STR(n, d) {.name = n, .type = CONF_STR, .def = d}
#define P_CHOICE(n, d, c) {.name = n, .type = CONF_STR, .def = d, .choices = c}
#define P_LIST(n, d) {.name = n, .type = CONF_LIST, .def = d}
#define P_BOOL(n, d) {.name = n, .type = CONF_BOOL, .def = d}
#define P_INT(n, d, lo, hi)                                                    \
	{.name = n, .type = CONF_INT, .def = d, .min = lo, .max = hi}
#define P_SIZE(n, d, lo, hi)                                                   \
	{.name = n, .type = CONF_SIZE, .def = d, .min = lo, .max = hi}
#define P_TIME(n, d, u, lo, hi)                                                \
	{.name = n, .type = CONF_TIME, .def = d, .unit = u, .min = lo, .max = hi}

static const char *const facilities[] = {
	"mail",	  "daemon", "user",   "local0", "local1", "local2",
	"local3", "local4", "local5", "local6", "local7", NULL};
static const char *const db_types[] = {"hash", "btree", "lmdb", NULL};
static const char *const net_styles[] = {"host", "subnet", "class", NULL};
static const char *const protocols[] = {"all", "ipv4", "ipv6", NULL};
static const char *const smtpd_tls_levels[] = {"", "none", "may", "encrypt",
					       NULL};
static const char *const smtp_tls_levels[] = {
	"",	 "none",	"may",	  "encrypt", "dane",
	"dane-only", "fingerprint", "verify", "secure",	 NULL};
static const char *const notify[] = {"bounce",	"2bounce",  "data",
				     "delay",	"policy",   "protocol",
				     "resource", "software", NULL};

static const char *const quota_actions[] = {"defer", "bounce", NULL};

static const struct conf_param builtin_params[] = {
	/* Installation and identity of the suite. */
	P_INT("compatibility_level", "1", 1, CONF_COMPAT_LEVEL_MAX),
	{.name = "config_directory", .type = CONF_STR,
	 .dynamic = CONF_DYN_CONFIG_DIR},
	P_STR("queue_directory", LOCALSTATEDIR "/spool/postern"),
	P_STR("data_directory", LOCALSTATEDIR "/lib/postern"),
	P_STR("daemon_directory", DAEMONDIR),
	P_STR("command_directory", SBINDIR),
	/* Our own system users: sharing Postfix's "postfix"/"postdrop" would
	 * give two mail systems each other's files. */
	P_STR("mail_owner", "postern"),
	P_STR("setgid_group", "postern-drop"),
	P_STR("mail_store", LOCALSTATEDIR "/vmail"),
	P_STR("mail_store_owner", "postern-mail"),
	P_STR("users_table", "texthash:$config_directory/users"),
	/* The auth daemon's memory of successful logins (auth/cache.c). */
	P_INT("auth_cache_size", "1000", 0, 1000000),
	P_TIME("auth_cache_ttl", "1h", 's', 0, MAXI),
	P_STR("mail_name", "Postern"),
	P_STR("mail_version", PACKAGE_VERSION),
	P_STR("syslog_name", "postern"),
	P_CHOICE("syslog_facility", "mail", facilities),
	P_STR("maillog_file", ""),
	P_CHOICE("default_database_type", "hash", db_types),

	/* Host and domain identity, address classes, routing. */
	{.name = "myhostname", .type = CONF_STR, .dynamic = CONF_DYN_HOSTNAME},
	{.name = "mydomain", .type = CONF_STR, .dynamic = CONF_DYN_DOMAIN},
	P_STR("myorigin", "$myhostname"),
	P_LIST("mydestination", "$myhostname, localhost.$mydomain, localhost"),
	/* Postfix derives mynetworks from mynetworks_style; a fixed loopback
	 * list is the safe equivalent of its "host" style. */
	P_LIST("mynetworks", "127.0.0.1/32 [::1]/128"),
	P_CHOICE("mynetworks_style", "host", net_styles),
	P_LIST("inet_interfaces", "all"),
	{.name = "inet_protocols", .type = CONF_LIST, .def = "all",
	 .choices = protocols},
	P_STR("relayhost", ""),
	P_LIST("relay_domains", ""),
	P_LIST("alias_maps", "$default_database_type:/etc/aliases"),
	P_LIST("alias_database", "$default_database_type:/etc/aliases"),
	P_LIST("transport_maps", ""),
	P_LIST("virtual_alias_maps", ""),
	P_LIST("virtual_alias_domains", "$virtual_alias_maps"),
	P_STR("recipient_delimiter", ""),
	P_STR("default_transport", "smtp"),
	P_STR("local_transport", "local:$myhostname"),
	/* Postfix uses a separate "relay" clone of smtp; we have one client. */
	P_STR("relay_transport", "smtp"),
	P_BOOL("soft_bounce", "no"),

	/* Limits on what enters the queue. */
	P_SIZE("message_size_limit", "10240000", 0, MAXS),
	P_INT("line_length_limit", "2048", 1, MAXI),
	P_SIZE("header_size_limit", "102400", 1, MAXS),
	P_INT("hopcount_limit", "50", 1, MAXI),

	/* smtpd: the SMTP server. */
	P_STR("smtpd_banner", "$myhostname ESMTP $mail_name"),
	P_TIME("smtpd_timeout", "300s", 's', 1, MAXI),
	P_INT("smtpd_recipient_limit", "1000", 1, MAXI),
	P_INT("smtpd_soft_error_limit", "10", 0, MAXI),
	P_INT("smtpd_hard_error_limit", "20", 1, MAXI),
	P_TIME("smtpd_error_sleep_time", "1s", 's', 0, MAXI),
	P_INT("smtpd_junk_command_limit", "100", 1, MAXI),
	P_INT("smtpd_client_connection_count_limit", "50", 0, MAXI),
	P_BOOL("smtpd_helo_required", "no"),
	P_BOOL("smtpd_peername_lookup", "yes"),
	P_LIST("smtpd_client_event_limit_exceptions", "$mynetworks"),
	P_BOOL("smtpd_forbid_bare_newline", "yes"),
	P_LIST("smtpd_forbid_bare_newline_exclusions", "$mynetworks"),
	P_BOOL("disable_vrfy_command", "no"),
	/* Which local-domain recipients exist: the users table (asked of
	 * the auth daemon) and the alias tables; empty accepts any. */
	P_LIST("local_recipient_maps", "$users_table $alias_maps"),
	P_LIST("smtpd_client_restrictions", ""),
	P_LIST("smtpd_helo_restrictions", ""),
	P_LIST("smtpd_sender_restrictions", ""),
	P_LIST("smtpd_relay_restrictions", "permit_mynetworks, "
					   "permit_sasl_authenticated, "
					   "defer_unauth_destination"),
	P_LIST("smtpd_recipient_restrictions", ""),
	P_LIST("smtpd_data_restrictions", ""),
	/* ETRN (RFC 1985): who may ask (empty: anyone, as in Postfix), and
	 * for which destinations (459 for the others). */
	P_LIST("smtpd_etrn_restrictions", ""),
	P_LIST("fast_flush_domains", "$relay_domains"),
	P_LIST("smtpd_sender_login_maps", ""),
	P_BOOL("smtpd_delay_reject", "yes"),
	P_BOOL("smtpd_reject_unlisted_recipient", "yes"),
	P_BOOL("smtpd_reject_unlisted_sender", "no"),
	P_STR("smtpd_tls_cert_file", ""),
	P_STR("smtpd_tls_key_file", "$smtpd_tls_cert_file"),
	P_CHOICE("smtpd_tls_security_level", "", smtpd_tls_levels),
	P_BOOL("smtpd_tls_auth_only", "no"),
	P_BOOL("smtpd_tls_wrappermode", "no"),
	P_INT("smtpd_tls_loglevel", "0", 0, 4),
	P_BOOL("smtpd_sasl_auth_enable", "no"),
	P_STR("smtpd_sasl_path", "private/auth"),

	/* smtp: the SMTP/LMTP client. */
	P_INT("smtp_tcp_port", "25", 1, 65535),
	P_INT("lmtp_tcp_port", "24", 1, 65535),
	P_TIME("smtp_connect_timeout", "30s", 's', 0, MAXI),
	P_TIME("smtp_helo_timeout", "300s", 's', 1, MAXI),
	P_TIME("smtp_mail_timeout", "300s", 's', 1, MAXI),
	P_TIME("smtp_rcpt_timeout", "300s", 's', 1, MAXI),
	P_TIME("smtp_data_init_timeout", "120s", 's', 1, MAXI),
	P_TIME("smtp_data_xfer_timeout", "180s", 's', 1, MAXI),
	P_TIME("smtp_data_done_timeout", "600s", 's', 1, MAXI),
	P_TIME("smtp_quit_timeout", "300s", 's', 1, MAXI),
	P_STR("smtp_helo_name", "$myhostname"),
	P_INT("smtp_line_length_limit", "998", 0, MAXI),
	P_CHOICE("smtp_tls_security_level", "", smtp_tls_levels),
	P_STR("smtp_tls_CAfile", ""),
	P_STR("smtp_tls_CApath", ""),
	P_LIST("smtp_tls_policy_maps", ""),
	P_INT("smtp_tls_loglevel", "0", 0, 4),
	P_LIST("dns_servers", ""),
	P_TIME("smtp_connection_cache_time_limit", "2s", 's', 1, 600),
	P_INT("smtp_connection_reuse_count_limit", "0", 0, MAXI),
	P_TIME("smtp_connection_reuse_time_limit", "300s", 's', 1, MAXI),
	P_TIME("smtp_rset_timeout", "20s", 's', 1, MAXI),
	P_BOOL("disable_mime_output_conversion", "no"),

	/* qmgr: scheduling, retries, notifications. */
	P_INT("qmgr_message_active_limit", "20000", 1, MAXI),
	P_INT("qmgr_message_recipient_limit", "20000", 1, MAXI),
	P_INT("initial_destination_concurrency", "5", 1, MAXI),
	P_INT("default_destination_concurrency_limit", "20", 1, MAXI),
	P_INT("default_destination_recipient_limit", "50", 1, MAXI),
	P_INT("local_destination_concurrency_limit", "2", 1, MAXI),
	P_INT("local_destination_recipient_limit", "1", 1, MAXI),
	P_TIME("transport_retry_time", "60s", 's', 1, MAXI),
	/* preemption: a small message does not wait behind a big one */
	P_INT("default_delivery_slot_cost", "5", 0, MAXI),
	P_INT("default_delivery_slot_loan", "3", 0, MAXI),
	P_INT("default_delivery_slot_discount", "50", 0, 100),
	P_INT("default_minimum_delivery_slots", "3", 0, MAXI),
	P_INT("destination_concurrency_failed_cohort_limit", "1", 0, MAXI),
	P_TIME("queue_run_delay", "300s", 's', 1, MAXI),
	P_TIME("minimal_backoff_time", "300s", 's', 1, MAXI),
	P_TIME("maximal_backoff_time", "4000s", 's', 1, MAXI),
	P_TIME("maximal_queue_lifetime", "5d", 'd', 0, 100 * DAY),
	P_TIME("bounce_queue_lifetime", "5d", 'd', 0, 100 * DAY),
	P_TIME("delay_warning_time", "0h", 'h', 0, MAXI),
	P_SIZE("bounce_size_limit", "50000", 1, MAXS),
	{.name = "notify_classes", .type = CONF_LIST,
	 .def = "resource, software", .choices = notify},
	P_STR("2bounce_notice_recipient", "postmaster"),
	P_STR("bounce_notice_recipient", "postmaster"),
	P_STR("delay_notice_recipient", "postmaster"),
	P_STR("error_notice_recipient", "postmaster"),

	/* local and pipe: delivery to mailboxes, files and commands.
	 * mailbox_size_limit is Postfix's name, applied to the whole Maildir
	 * (so no limit by default: Postfix applies it to single files there);
	 * over quota defers (4.2.2) unless mailbox_quota_action = bounce. */
	P_TIME("command_time_limit", "1000s", 's', 1, 86400),
	P_SIZE("mailbox_size_limit", "0", 0, MAXS),
	P_CHOICE("mailbox_quota_action", "defer", quota_actions),

	/* lmtpd: the LMTP server in front of the mail store. */
	P_TIME("lmtpd_timeout", "300s", 's', 1, MAXI),
	P_INT("lmtpd_recipient_limit", "1000", 1, 10000),
	P_STR("lmtpd_temp_directory", "/tmp"),

	/* master and the server skeleton. */
	P_INT("default_process_limit", "100", 1, 100000),
	P_INT("max_use", "100", 1, MAXI),
	P_TIME("max_idle", "100s", 's', 1, MAXI),
	P_TIME("service_throttle_time", "60s", 's', 1, MAXI),
	P_TIME("ipc_timeout", "3600s", 's', 1, MAXI),
	P_TIME("daemon_timeout", "18000s", 's', 1, MAXI),
	P_TIME("in_flow_delay", "1s", 's', 0, 10),

	/* imapd. RFC 9051 5.4: the autologout timer is at least 30 minutes
	 * for an authenticated client. */
	P_TIME("imapd_idle_timeout", "30m", 's', 1, MAXI),
	P_TIME("imapd_login_timeout", "60s", 's', 1, MAXI),
	P_BOOL("imapd_tls_auth_only", "yes"),
	P_BOOL("imapd_tls_wrappermode", "no"),
	P_SIZE("imapd_max_line_length", "65536", 1024, 100 * 1024 * 1024),
	P_SIZE("imapd_literal_size_limit", "$message_size_limit", 0, MAXS),
	P_STR("imapd_tls_cert_file", "$smtpd_tls_cert_file"),
	P_STR("imapd_tls_key_file", "$smtpd_tls_key_file"),
	P_STR("imapd_greeting", "$mail_name ready."),
	P_INT("imapd_user_connection_limit", "10", 0, MAXI),

	/* pop3d. RFC 1939 3: the inactivity timer is at least 10 minutes. */
	P_TIME("pop3d_timeout", "10m", 's', 1, MAXI),
	P_BOOL("pop3d_tls_auth_only", "yes"),
	P_BOOL("pop3d_tls_wrappermode", "no"),
	P_SIZE("pop3d_max_line_length", "1024", 512, 65536),
	P_STR("pop3d_tls_cert_file", "$smtpd_tls_cert_file"),
	P_STR("pop3d_tls_key_file", "$smtpd_tls_key_file"),
	P_STR("pop3d_greeting", "$mail_name ready."),
};

/* clang-format on */

const struct conf_param *conf_params_builtin(size_t *count_r)
{
	*count_r = sizeof(builtin_params) / sizeof(builtin_params[0]);
	return builtin_params;
}

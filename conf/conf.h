/*
 * conf: imi.conf, loaded once into an immutable struct and passed down.
 *
 * The file is a GKeyFile in the home directory ("imi.conf").  Every setting
 * lives in one table (conf.c) with its group, key, default and meaning;
 * docs/imi.conf.5 is checked against that table by make check.  A missing
 * file means "all defaults" (the embedded default).  An unknown key or a
 * value of the wrong type is an error: a typo must not silently fall back.
 */
#ifndef IMI_CONF_H
#define IMI_CONF_H

#include <stdint.h>

struct imi_conf {
	char *home;               /* the home directory, absolute */
	char *datadir;            /* question sets, catalogs, policies */
	/* [service] */
	char *service_domain;     /* our mail domain: replies go to imi+TOKEN@this */
	char *service_local;      /* local part of the service address */
	char *service_name;       /* display name on outgoing mail */
	char *language_default;   /* catalog used when a recipient has none */
	/* [limits]: bounds on everything read from the network */
	int64_t max_message_bytes;
	int max_mime_depth;
	int max_mime_parts;
	int64_t max_header_bytes;
	int max_recipients;
	/* [outbound] */
	char *smtp_relay;         /* host:port; empty: write the outbox Maildir */
	char *smtp_user;          /* AUTH user, empty for none */
	char *smtp_password_file; /* file holding the AUTH password */
	int smtp_starttls;        /* 1: require STARTTLS to the relay */
	char *outbox_maildir;     /* embedded default: home/outbox */
	char *inbox_maildir;      /* embedded default: home/inbox */
	char *dkim_selector;      /* selector for signing outgoing mail */
	char *dkim_key;           /* private key file (PEM), relative to home */
	char *dkim_domain;        /* d= of our signatures; default service_domain */
	/* [inbound] */
	char *dns_server;         /* ip[:port] for DKIM/SPF lookups; empty: resolv.conf */
	char *trusted_authserv_id; /* Authentication-Results we trust (poller) */
	int token_lifetime_days;  /* validity of reply tokens */
	int signature_max_age_days; /* DKIM t= older than this is a replay */
	int milter_pass_on;       /* 1: a stored message also goes on through the MTA */
	/* [policy] */
	char *retention_policy;   /* name of a file in policies/rules */
};

/* Loads home/imi.conf (absent: defaults).  *conf_r is freed with
 * conf_free. */
int conf_load(const char *home, struct imi_conf **conf_r, char **error_r);
void conf_free(struct imi_conf **conf);

/* For the documentation check and `imi config`: the table, one entry per
 * setting. */
struct conf_setting {
	const char *group;
	const char *key;
	const char *default_value;
	const char *meaning;
};
const struct conf_setting *conf_settings(unsigned *count_r);

/* Path of a file under the home directory (g_free). */
char *conf_home_path(const struct imi_conf *conf, const char *name);

#endif

/*
 * conf.h - pcmdsd.conf: the server's settings, each with a safe default.
 *
 * A "key = value" file (common/kv.c). An unknown key or a bad value stops
 * start-up with the file name and line number. Relative paths are taken
 * from the directory of the configuration file, so a directory made by
 * pcmdsd init can be moved as a whole.
 */
#ifndef PCMDS_CONF_H
#define PCMDS_CONF_H

#include <limits.h>
#include <stddef.h>

#include "err.h"
#include "proxy.h"

struct conf {
	char	 path[PATH_MAX];	/* the file read */
	char	 listen[256];		/* host:port, [v6]:port */
	char	 healthz_listen[256];	/* optional plain-HTTP loopback /healthz */
	char	 cert[PATH_MAX];	/* certificate chain, PEM */
	char	 key[PATH_MAX];		/* private key, PEM */
	char	 database[PATH_MAX];	/* SQLite file, or postgresql:// URI */
	char	 export_database[PATH_MAX];	/* exports read here: a replica */
	char	 places[PATH_MAX];	/* places CSV loaded at first start */
	char	 secret_file[PATH_MAX];	/* server secret (secret.h), 0600 */
	char	 user[64];		/* drop privileges to this user */
	size_t	 max_body;		/* bytes of a request body */
	size_t	 max_inflated;		/* bytes after gzip inflation */
	size_t	 max_headers;		/* bytes of request headers */
	int	 max_batch;		/* records in one POST */
	int	 max_connections;
	int	 max_connections_per_address;	/* open at once from one client */
	int	 idle_timeout;		/* s: keep-alive connection idle */
	int	 request_timeout;	/* s: to receive a whole request */
	int	 shutdown_grace;	/* s: finish in-flight work on SIGTERM */
	int	 token_days;		/* device token lifetime */
	int	 code_days;		/* enrolment code lifetime */
	int	 session_hours;		/* dashboard session lifetime */
	int	 rate_per_token;	/* requests per second per token */
	int	 auth_failures;		/* per client address per minute */
	int	 auth_failures_global;	/* failed codes, whole server, a minute */
	struct proxy_allow proxy;	/* proxy_from: who sends PROXY headers */
	int	 metrics_public;	/* /metrics from anywhere, not loopback */
	int	 log_requests;
	int	 suppress_threshold;	/* smallest count shown to place leads */
	int	 audit_head_minutes;	/* the audit head to the log, so often */
	/* dashboard sign-in through an OpenID Connect provider (oidc.h) */
	char	 oidc_issuer[512];	/* "": not offered */
	char	 oidc_client_id[256];
	char	 oidc_client_secret_file[PATH_MAX];
	char	 oidc_redirect_uri[512];	/* https://.../login/oidc/callback */
	char	 oidc_ca_file[PATH_MAX];	/* "": the system's CAs */
	char	 oidc_name[128];	/* the provider, as people know it */
	int	 oidc_timeout;		/* s: each request to the provider */
	int	 oidc_leeway;		/* s: clock difference allowed */
	int	 db_workers;		/* PostgreSQL: threads, a connection each */
	int	 catchup_timeout;	/* s: a query naming a watermark waits */
	int	 cache_size;		/* MiB: the store's page cache */
};

/* The path the provider sends people back to (oidc_redirect_uri's). */
#define CONF_OIDC_CALLBACK	"/login/oidc/callback"

void	 conf_defaults(struct conf *);
/* Reads path over the defaults; problems are added to errs. */
pc_rc	 conf_load(struct conf *, const char *path, struct err_list *);
/* The same from text (what names it in messages). */
pc_rc	 conf_parse(struct conf *, const char *text, size_t len,
	    const char *what, struct err_list *);
/* The text of a default configuration for a data directory (init). */
pc_rc	 conf_template(char *out, size_t len, const char *listen,
	    const char *database);

#endif

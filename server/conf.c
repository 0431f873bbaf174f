/*
 * conf.c - parsing and checking pcmdsd.conf.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "kv.h"

void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1:8443");
	c->max_body = 4 * 1024 * 1024;
	c->max_inflated = 16 * 1024 * 1024;
	c->max_headers = 16 * 1024;
	c->max_batch = 2000;
	c->max_connections = 1024;
	c->max_connections_per_address = 64;
	c->idle_timeout = 15;
	c->request_timeout = 30;
	c->shutdown_grace = 10;
	c->token_days = 365;
	c->code_days = 7;
	c->session_hours = 8;
	c->rate_per_token = 50;
	c->auth_failures = 10;
	c->auth_failures_global = 100;
	c->log_requests = 1;
	c->suppress_threshold = 8;
	c->audit_head_minutes = 15;
	snprintf(c->oidc_name, sizeof(c->oidc_name), "your organisation's "
	    "account");
	c->oidc_timeout = 10;
	c->oidc_leeway = 60;
	c->db_workers = 8;
	c->catchup_timeout = 10;
	c->cache_size = 16;
}

struct conf_int {
	const char	*name;
	size_t		 off;
	long		 min, max;
	int		 is_size;	/* size_t rather than int */
};

#define CI(f, lo, hi)	{#f, offsetof(struct conf, f), lo, hi, 0}
#define CS(f, lo, hi)	{#f, offsetof(struct conf, f), lo, hi, 1}

static const struct conf_int ints[] = {
	CS(max_body, 1024, 1L << 30),
	CS(max_inflated, 1024, 1L << 31),
	CS(max_headers, 1024, 1 << 20),
	CI(max_batch, 1, 100000),
	CI(max_connections, 4, 1000000),
	CI(max_connections_per_address, 1, 1000000),
	CI(idle_timeout, 1, 3600),
	CI(request_timeout, 1, 3600),
	CI(shutdown_grace, 0, 600),
	CI(token_days, 1, 3650),
	CI(code_days, 1, 90),
	CI(session_hours, 1, 168),
	CI(rate_per_token, 1, 100000),
	CI(auth_failures, 1, 100000),
	CI(auth_failures_global, 1, 1000000),
	CI(suppress_threshold, 1, 100),
	CI(audit_head_minutes, 1, 1440),
	CI(oidc_timeout, 1, 120),
	CI(oidc_leeway, 0, 600),
	CI(db_workers, 1, 256),
	CI(catchup_timeout, 1, 300),
	CI(cache_size, 1, 65536),
};

struct conf_str {
	const char	*name;
	size_t		 off;
	size_t		 len;
	int		 is_path;
};

#define CP(f)	{#f, offsetof(struct conf, f), sizeof(((struct conf *)0)->f), 1}
#define CT(f)	{#f, offsetof(struct conf, f), sizeof(((struct conf *)0)->f), 0}

static const struct conf_str strs[] = {
	CT(listen), CT(healthz_listen), CP(cert), CP(key), CP(database),
	CP(places), CP(secret_file), CT(user), CT(export_database),
	CT(oidc_issuer), CT(oidc_client_id), CP(oidc_client_secret_file),
	CT(oidc_redirect_uri), CP(oidc_ca_file), CT(oidc_name),
};

static int
parse_bool(const char *v)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0)
		return 1;
	if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0)
		return 0;
	return -1;
}

static pc_rc
set_int(struct conf *c, const struct conf_int *ci, const char *v,
    struct err_list *errs)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < ci->min ||
	    n > ci->max) {
		err_add(errs, E_RANGE, ci->name, "%s must be a whole number from "
		    "%ld to %ld; got \"%s\"", ci->name, ci->min, ci->max, v);
		return PC_EINVAL;
	}
	if (ci->is_size)
		*(size_t *)((char *)c + ci->off) = (size_t)n;
	else
		*(int *)((char *)c + ci->off) = (int)n;
	return PC_OK;
}

static pc_rc
set_str(struct conf *c, const struct conf_str *cs, const char *v,
    struct err_list *errs)
{
	char *dst = (char *)c + cs->off, dir[PATH_MAX];
	int n;

	/* a URI (database = postgresql://...) is not a path */
	if (cs->is_path && v[0] != '/' && v[0] != '\0' &&
	    strstr(v, "://") == NULL) {
		snprintf(dir, sizeof(dir), "%s", c->path);
		n = snprintf(dst, cs->len, "%s/%s", dirname(dir), v);
	} else
		n = snprintf(dst, cs->len, "%s", v);
	if (n < 0 || (size_t)n >= cs->len) {
		err_add(errs, E_LENGTH, cs->name, "%s is too long", cs->name);
		return PC_EINVAL;
	}
	return PC_OK;
}

static pc_rc
conf_set(void *arg, const char *key, const char *v, struct err_list *errs)
{
	struct conf *c = arg;
	size_t i;
	int b;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (strcmp(ints[i].name, key) == 0)
			return set_int(c, &ints[i], v, errs);
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strcmp(strs[i].name, key) == 0)
			return set_str(c, &strs[i], v, errs);
	if (strcmp(key, "proxy_from") == 0)
		return proxy_allow_parse(&c->proxy, v, errs);
	if (strcmp(key, "metrics") == 0 || strcmp(key, "log_requests") == 0) {
		if (strcmp(key, "metrics") == 0) {
			if (strcmp(v, "local") && strcmp(v, "public")) {
				err_add(errs, E_ENUM, key, "metrics must be local "
				    "or public; got \"%s\"", v);
				return PC_EINVAL;
			}
			c->metrics_public = strcmp(v, "public") == 0;
			return PC_OK;
		}
		if ((b = parse_bool(v)) < 0) {
			err_add(errs, E_TYPE, key, "%s must be yes or no; got "
			    "\"%s\"", key, v);
			return PC_EINVAL;
		}
		c->log_requests = b;
		return PC_OK;
	}
	err_add(errs, E_UNKNOWN_FIELD, key, "unknown setting %s (see "
	    "pcmdsd.conf(5))", key);
	return PC_EINVAL;
}

/* An https:// address with a host, and no fragment or spaces. */
static int
https_url(const char *u)
{
	return strncmp(u, "https://", 8) == 0 && u[8] != '\0' && u[8] != '/' &&
	    strpbrk(u, "# \t") == NULL;
}

static pc_rc
oidc_check(const struct conf *c, const char *what, struct err_list *errs)
{
	const char *cb = CONF_OIDC_CALLBACK, *r = c->oidc_redirect_uri;
	size_t n = strlen(r), k = strlen(cb);

	if (c->oidc_issuer[0] == '\0') {
		if (c->oidc_client_id[0] || c->oidc_client_secret_file[0] ||
		    c->oidc_redirect_uri[0]) {
			err_add(errs, E_REQUIRED, "oidc_issuer", "%s sets oidc_ "
			    "settings without oidc_issuer, the provider to sign "
			    "in with", what);
			return PC_EINVAL;
		}
		return PC_OK;
	}
	if (!https_url(c->oidc_issuer)) {
		err_add(errs, E_FORMAT, "oidc_issuer", "oidc_issuer must be the "
		    "provider's https:// address (its issuer); got \"%s\"",
		    c->oidc_issuer);
		return PC_EINVAL;
	}
	if (c->oidc_client_id[0] == '\0' || c->oidc_client_secret_file[0] ==
	    '\0') {
		err_add(errs, E_REQUIRED, "oidc_client_id", "%s sets oidc_issuer: "
		    "it needs oidc_client_id and oidc_client_secret_file too (as "
		    "the provider registered this server)", what);
		return PC_EINVAL;
	}
	if (!https_url(r) || strchr(r, '?') != NULL || n <= k ||
	    strcmp(r + n - k, cb) != 0) {
		err_add(errs, E_FORMAT, "oidc_redirect_uri", "oidc_redirect_uri "
		    "must be this server's https:// address followed by %s, as "
		    "registered with the provider; got \"%s\"", cb, r);
		return PC_EINVAL;
	}
	return PC_OK;
}

static pc_rc
conf_check(struct conf *c, const char *what, struct err_list *errs)
{
	if (c->database[0] == '\0' || c->cert[0] == '\0' || c->key[0] == '\0') {
		err_add(errs, E_REQUIRED, what, "%s must set database, cert and "
		    "key", what);
		return PC_EINVAL;
	}
	if (c->max_inflated < c->max_body)
		c->max_inflated = c->max_body;
	return oidc_check(c, what, errs);
}

pc_rc
conf_parse(struct conf *c, const char *text, size_t len, const char *what,
    struct err_list *errs)
{
	pc_rc rc;

	if ((rc = kv_parse(text, len, what, conf_set, c, errs)) != PC_OK)
		return rc;
	return conf_check(c, what, errs);
}

pc_rc
conf_load(struct conf *c, const char *path, struct err_list *errs)
{
	pc_rc rc;

	/* absolute, so that paths relative to it stay right after chdir */
	if (realpath(path, c->path) == NULL)
		snprintf(c->path, sizeof(c->path), "%s", path);
	if ((rc = kv_parse_file(path, conf_set, c, errs)) != PC_OK)
		return rc;
	return conf_check(c, path, errs);
}

pc_rc
conf_template(char *out, size_t len, const char *listen, const char *database)
{
	int n = snprintf(out, len,
	    "# pcmdsd configuration (see pcmdsd.conf(5)).\n"
	    "# Relative paths are taken from this file's directory.\n"
	    "\n"
	    "# Address to serve HTTPS on. Use 0.0.0.0:8443 or [::]:8443 to\n"
	    "# serve other hosts.\n"
	    "listen = %s\n"
	    "cert = server.pem\n"
	    "key = server.key\n"
	    "database = %s\n"
	    "places = places.csv\n"
	    "# The server secret (made by pcmdsd init, mode 0600): keys the\n"
	    "# evaluators' pseudonyms and the audit chain. Back it up apart\n"
	    "# from the database; without it neither can be checked or joined.\n"
	    "secret_file = secret.key\n"
	    "\n"
	    "# When started as root, drop privileges to this user after "
	    "binding.\n"
	    "# user = pcmds\n"
	    "\n"
	    "# Limits (the defaults shown).\n"
	    "# max_body = 4194304\n"
	    "# max_inflated = 16777216\n"
	    "# max_headers = 16384\n"
	    "# max_batch = 2000\n"
	    "# max_connections = 1024\n"
	    "# Connections open at once from one client address. Behind a load\n"
	    "# balancer, list it in proxy_from so that clients are told apart.\n"
	    "# max_connections_per_address = 64\n"
	    "# idle_timeout = 15\n"
	    "# request_timeout = 30\n"
	    "# rate_per_token = 50\n"
	    "# auth_failures = 10\n"
	    "# auth_failures_global = 100\n"
	    "\n"
	    "# The database's page cache, in MiB, of each of the server's\n"
	    "# connections to it (SQLite): more keeps more of a large store\n"
	    "# in the server's memory, less keeps the server small (the\n"
	    "# operating system caches the file as well).\n"
	    "# cache_size = 16\n"
	    "\n"
	    "# Load balancers (HAProxy send-proxy-v2) whose connections start\n"
	    "# with a PROXY protocol v2 header naming the client; no other\n"
	    "# address may send one, and these must.\n"
	    "# proxy_from = 10.0.0.5, 10.0.0.6\n"
	    "\n"
	    "# A PostgreSQL database instead, shared by several pcmdsd behind\n"
	    "# a load balancer (see the README's operations guide):\n"
	    "# database = postgresql://pcmds@db.example.nhs.uk/pcmds?"
	    "sslmode=verify-full\n"
	    "# export_database = postgresql://pcmds@replica.example.nhs.uk/"
	    "pcmds\n"
	    "# db_workers = 8\n"
	    "# catchup_timeout = 10\n"
	    "\n"
	    "# Credentials.\n"
	    "# token_days = 365\n"
	    "# code_days = 7\n"
	    "# session_hours = 8\n"
	    "\n"
	    "# Dashboard sign-in through the organisation's OpenID Connect\n"
	    "# provider (NHS Care Identity Service 2, Microsoft Entra ID),\n"
	    "# beside passwords and one-time codes. Register this server with\n"
	    "# the provider as a confidential client; see pcmdsd.conf(5).\n"
	    "# oidc_issuer = https://login.microsoftonline.com/TENANT/v2.0\n"
	    "# oidc_client_id = ...\n"
	    "# oidc_client_secret_file = oidc-client.secret\n"
	    "# oidc_redirect_uri = https://HOST:8443" CONF_OIDC_CALLBACK "\n"
	    "# oidc_name = NHS Care Identity Service 2\n", listen, database);

	return n < 0 || (size_t)n >= len ? PC_ELIMIT : PC_OK;
}

/*
 * api.c - routes, and the small endpoints (/healthz, /metrics).
 *
 * Unknown paths are 404 and known paths with another method 405, both
 * as JSON, so a client always gets an answer it can parse.
 */
#include <stdio.h>
#include <string.h>

#include "api_places.h"
#include "follow.h"
#include "pool.h"
#include "srv.h"
#include "version.h"
#include "web.h"

struct route {
	const char	*path;		/* exact, or a prefix ending in '/' */
	int		 prefix;
	const char	*methods;	/* for the Allow header */
	void		(*on_get)(struct http_req *);
	void		(*on_post)(struct http_req *);
	const char	*doc;		/* the path in docs/openapi.yaml */
	int		 db;		/* reads or writes the database */
};

static void api_metrics(struct http_req *);

static const struct route routes[] = {
	{"/healthz", 0, "GET, HEAD", api_healthz, NULL, NULL, 0},
	{"/metrics", 0, "GET", api_metrics, NULL, NULL, 0},
	{"/v1/enrol", 0, "POST", NULL, api_enrol, NULL, 1},
	{"/v1/records", 0, "POST", NULL, api_records, NULL, 1},
	{"/v1/places", 0, "GET", api_places, NULL, NULL, 1},
	{"/v1/places/", 1, "GET", api_impact, NULL,
	    "/v1/places/{code}/impact", 1},
	/* never reached: the entry above serves them (by their last part) */
	{"/v1/places/", 1, "GET", api_impact, NULL,
	    "/v1/places/{code}/months", 1},
	{"/v1/places/", 1, "GET", api_impact, NULL,
	    "/v1/places/{code}/assets", 1},
	{"/v1/commitments", 0, "GET", api_commitments, NULL, NULL, 1},
	{"/v1/export", 0, "GET", api_export, NULL, NULL, 1},
	{"/v1/assets", 0, "GET", api_assets, NULL, NULL, 1},
	{"/dashboard", 0, "GET", web_dashboard, NULL, NULL, 1},
	{"/dashboard.css", 0, "GET", web_css, NULL, NULL, 0},
	{"/login", 0, "GET, POST", web_login, web_login, NULL, 1},
	{"/login/password", 0, "POST", NULL, web_login_password, NULL, 1},
	/* on the loop: the request is held while the provider answers */
	{"/login/oidc", 0, "POST", NULL, web_oidc_start, NULL, 0},
	{"/login/oidc/callback", 0, "GET", web_oidc_callback, NULL, NULL, 0},
	{"/password", 0, "GET, POST", web_password, web_password, NULL, 1},
	{"/logout", 0, "POST", NULL, web_logout, NULL, 1},
	{"/", 0, "GET", web_root, NULL, NULL, 0},
};
#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

size_t
api_routes(const char **paths, const char **methods, size_t max)
{
	size_t i, n = NROUTES;

	for (i = 0; i < n && i < max; i++) {
		paths[i] = routes[i].doc ? routes[i].doc : routes[i].path;
		methods[i] = routes[i].methods;
	}
	return n;
}

static const struct route *
route_of(const struct http_req *hr)
{
	size_t i;

	for (i = 0; i < NROUTES; i++)
		if (routes[i].prefix ? strncmp(hr->path, routes[i].path,
		    strlen(routes[i].path)) == 0 : strcmp(hr->path,
		    routes[i].path) == 0)
			return &routes[i];
	return NULL;
}

int
api_needs_store(const struct http_req *hr)
{
	const struct route *r = route_of(hr);

	return r != NULL && r->db;
}

int
api_is_batch(const struct http_req *hr)
{
	const struct route *r = route_of(hr);

	return r != NULL && r->on_post == api_records &&
	    hr->method == EVHTTP_REQ_POST;
}

void
api_dispatch(struct http_req *hr)
{
	const struct route *r;

	if ((r = route_of(hr)) != NULL) {
		if (r->on_get != NULL && (hr->method == EVHTTP_REQ_GET ||
		    hr->method == EVHTTP_REQ_HEAD)) {
			r->on_get(hr);
			return;
		}
		if (r->on_post != NULL && hr->method == EVHTTP_REQ_POST) {
			r->on_post(hr);
			return;
		}
		http_add_header(hr, "Allow", r->methods);
		http_reply_error(hr, 405, "E_METHOD", "%s is not allowed on %s; "
		    "use %s", http_method_name(hr->method), r->path,
		    r->methods);
		return;
	}
	http_reply_error(hr, 404, "E_NOT_FOUND", "there is nothing at %s",
	    hr->path);
}

void
api_healthz(struct http_req *hr)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "status", hr->srv->draining ? "stopping" :
	    "ok");
	cJSON_AddStringToObject(o, "version", PCMDS_VERSION);
	http_reply_json(hr, hr->srv->draining ? 503 : 200, o);
}

static void
api_metrics(struct http_req *hr)
{
	struct buf b;

	if (!hr->loopback && !hr->srv->conf->metrics_public) {
		http_reply_error(hr, 403, "E_ROLE", "/metrics is served to the "
		    "local host only (metrics = public to change that)");
		return;
	}
	pthread_mutex_lock(&hr->srv->metrics.mu);
	hr->srv->metrics.connections = hr->srv->nconns;
	/* SQLite: the batches waiting for a writer, and being written */
	if (hr->srv->pool != NULL || hr->srv->wpool != NULL)
		pool_load(hr->srv->pool != NULL ? hr->srv->pool :
		    hr->srv->wpool, &hr->srv->metrics.db_queued,
		    &hr->srv->metrics.db_running);
	if (hr->srv->follow != NULL)
		follow_counts(hr->srv->follow, &hr->srv->metrics.catchups,
		    &hr->srv->metrics.catchup_facts);
	pthread_mutex_unlock(&hr->srv->metrics.mu);
	buf_init(&b, 0);
	if (metrics_render(&hr->srv->metrics, &b) != PC_OK ||
	    buf_failed(&b) != PC_OK)
		http_reply_error(hr, 500, "E_SYSTEM", "out of memory");
	else
		http_reply_body(hr, 200, "text/plain; version=0.0.4; "
		    "charset=utf-8", buf_str(&b), b.len);
	buf_free(&b);
}

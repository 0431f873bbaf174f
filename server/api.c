/*
 * api.c - routes, and the small endpoints (/healthz, /metrics).
 *
 * Unknown paths are 404 and known paths with another method 405, both
 * as JSON, so a client always gets an answer it can parse.
 */
#include <stdio.h>
#include <string.h>

#include "api_places.h"
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
};

static void api_metrics(struct http_req *);

static const struct route routes[] = {
	{"/healthz", 0, "GET, HEAD", api_healthz, NULL, NULL},
	{"/metrics", 0, "GET", api_metrics, NULL, NULL},
	{"/v1/enrol", 0, "POST", NULL, api_enrol, NULL},
	{"/v1/records", 0, "POST", NULL, api_records, NULL},
	{"/v1/places", 0, "GET", api_places, NULL, NULL},
	{"/v1/places/", 1, "GET", api_impact, NULL,
	    "/v1/places/{code}/impact"},
	/* never reached: the entry above serves them (by their last part) */
	{"/v1/places/", 1, "GET", api_impact, NULL,
	    "/v1/places/{code}/months"},
	{"/v1/places/", 1, "GET", api_impact, NULL,
	    "/v1/places/{code}/assets"},
	{"/v1/commitments", 0, "GET", api_commitments, NULL, NULL},
	{"/v1/export", 0, "GET", api_export, NULL, NULL},
	{"/v1/assets", 0, "GET", api_assets, NULL, NULL},
	{"/dashboard", 0, "GET", web_dashboard, NULL, NULL},
	{"/dashboard.css", 0, "GET", web_css, NULL, NULL},
	{"/login", 0, "GET, POST", web_login, web_login, NULL},
	{"/login/password", 0, "POST", NULL, web_login_password, NULL},
	{"/password", 0, "GET, POST", web_password, web_password, NULL},
	{"/logout", 0, "POST", NULL, web_logout, NULL},
	{"/", 0, "GET", web_root, NULL, NULL},
};

size_t
api_routes(const char **paths, const char **methods, size_t max)
{
	size_t i, n = sizeof(routes) / sizeof(routes[0]);

	for (i = 0; i < n && i < max; i++) {
		paths[i] = routes[i].doc ? routes[i].doc : routes[i].path;
		methods[i] = routes[i].methods;
	}
	return n;
}

void
api_dispatch(struct http_req *hr)
{
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];

		if (r->prefix ? strncmp(hr->path, r->path, strlen(r->path)) :
		    strcmp(hr->path, r->path))
			continue;
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
	hr->srv->metrics.connections = hr->srv->nconns;
	buf_init(&b, 0);
	if (metrics_render(&hr->srv->metrics, &b) != PC_OK ||
	    buf_failed(&b) != PC_OK)
		http_reply_error(hr, 500, "E_SYSTEM", "out of memory");
	else
		http_reply_body(hr, 200, "text/plain; version=0.0.4; "
		    "charset=utf-8", buf_str(&b), b.len);
	buf_free(&b);
}

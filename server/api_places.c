/*
 * api_places.c - GET /v1/places, GET /v1/places/{code}/impact.
 *
 * Place leads see their own place in detail and every place's headline;
 * evaluators see every place. Disclosure control is on for everyone
 * unless an evaluator asks suppress=false, which is audited.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "agg.h"
#include "api_places.h"
#include "audit.h"
#include "date.h"
#include "impact.h"

static int
parse_day(struct http_req *hr, const char *name, int32_t *out)
{
	const char *v = http_query(hr, name);

	if (v == NULL || v[0] == '\0')
		return 0;
	if (date_parse(v, out) != 0) {
		http_reply_error(hr, 400, "E_DATE", "%s must be a date written "
		    "YYYY-MM-DD; got \"%s\"", name, v);
		return -1;
	}
	return 0;
}

int
api_params(struct http_req *hr, struct impact_req *q, int *csv)
{
	const char *sup = http_query(hr, "suppress");
	const char *fmt = http_query(hr, "format");
	const char *by = http_query(hr, "group_by");
	char actor[32];

	memset(q, 0, sizeof(*q));
	q->place = -1;
	q->from = INT32_MIN;
	q->to = INT32_MAX;
	q->sdc.on = 1;
	q->sdc.threshold = hr->srv->conf->suppress_threshold;
	if (parse_day(hr, "from", &q->from) != 0 ||
	    parse_day(hr, "to", &q->to) != 0)
		return -1;
	if (q->from > q->to) {
		http_reply_error(hr, 400, "E_DATE", "from is after to");
		return -1;
	}
	if (by != NULL && by[0] != '\0' &&
	    (q->group_by = agg_dim_parse(by)) == DIM_N) {
		http_reply_error(hr, 400, "E_ENUM", "group_by must be source, "
		    "reason, service, ethnic_group, imd_quintile, age_band, "
		    "gender, carer, learning_disability, autism or homeless; "
		    "got \"%s\"", by);
		return -1;
	}
	if (fmt != NULL && strcmp(fmt, "json") != 0 && strcmp(fmt, "csv")) {
		http_reply_error(hr, 400, "E_ENUM", "format must be json or csv; "
		    "got \"%s\"", fmt);
		return -1;
	}
	*csv = fmt != NULL && strcmp(fmt, "csv") == 0;
	if (sup == NULL || strcmp(sup, "true") == 0)
		return 0;
	if (strcmp(sup, "false") != 0) {
		http_reply_error(hr, 400, "E_ENUM", "suppress must be true or "
		    "false");
		return -1;
	}
	if (hr->auth.user.role != ROLE_EVALUATOR) {
		http_reply_error(hr, 403, "E_ROLE", "only evaluators may see "
		    "figures without disclosure control");
		return -1;
	}
	snprintf(actor, sizeof(actor), "user:%lld", (long long)
	    hr->auth.user.id);
	if (audit_log_now(hr->srv->store, actor, "aggregates.unsuppressed",
	    hr->path, "ok") != PC_OK) {
		http_reply_error(hr, 503, "E_SYSTEM", "cannot audit the request; "
		    "refused");
		return -1;
	}
	q->sdc.on = 0;
	return 0;
}

void
api_answer(struct http_req *hr, cJSON *doc, int csv)
{
	struct buf b;

	if (doc == NULL) {
		http_reply_error(hr, 503, "E_SYSTEM", "out of memory");
		return;
	}
	if (!csv) {
		http_reply_json(hr, 200, doc);
		return;
	}
	buf_init(&b, 0);
	impact_csv(doc, &b);
	cJSON_Delete(doc);
	if (buf_failed(&b) != PC_OK) {	/* never a table cut short */
		http_reply_error(hr, 503, "E_SYSTEM", "out of memory");
		buf_free(&b);
		return;
	}
	http_add_header(hr, "Content-Disposition", "attachment; "
	    "filename=\"pcmds-impact.csv\"");
	http_reply_body(hr, 200, "text/csv; charset=utf-8", buf_str(&b), b.len);
	buf_free(&b);
}

void
api_places(struct http_req *hr)
{
	struct impact_req q;
	int csv;

	if (!auth_require(hr, AUTH_PLACE_LEAD | AUTH_EVALUATOR | AUTH_SESSION) ||
	    api_params(hr, &q, &csv) != 0)
		return;
	api_answer(hr, impact_places_json(hr->srv->agg, &q), csv);
}

void
api_impact(struct http_req *hr)
{
	char code[REC_PLACE_MAX + 2];
	const char *rest = hr->path + strlen("/v1/places/");
	size_t n = strcspn(rest, "/");
	struct impact_req q;
	int csv;

	if (n == 0 || n > REC_PLACE_MAX || strcmp(rest + n, "/impact") != 0) {
		http_reply_error(hr, 404, "E_NOT_FOUND", "there is nothing at %s; "
		    "try /v1/places/{code}/impact", hr->path);
		return;
	}
	snprintf(code, sizeof(code), "%.*s", (int)n, rest);
	if (!auth_require(hr, AUTH_PLACE_LEAD | AUTH_EVALUATOR | AUTH_SESSION) ||
	    api_params(hr, &q, &csv) != 0)
		return;
	if (strcasecmp(code, "ALL") != 0 &&
	    (q.place = agg_place_index(hr->srv->agg, code)) < 0) {
		http_reply_error(hr, 404, "E_PLACE", "no place has code %s", code);
		return;
	}
	if (hr->auth.user.role == ROLE_PLACE_LEAD && q.place >= 0 &&
	    strcmp(hr->auth.user.place, code) != 0) {
		http_reply_error(hr, 403, "E_ROLE", "a place lead sees the detail "
		    "of their own place (%s); /v1/places has every place's "
		    "headline", hr->auth.user.place);
		return;
	}
	api_answer(hr, impact_json(hr->srv->agg, &q), csv);
}

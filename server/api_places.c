/*
 * api_places.c - GET /v1/places, GET /v1/places/{code}/impact, /months
 * and /assets (take-up per community asset, takeup.h).
 *
 * Place leads see their own place in detail and every place's headline;
 * evaluators see every place. Disclosure control is on for everyone
 * unless an evaluator asks suppress=false, which is audited. Under
 * control a period is whole, completed calendar months: a range that
 * starts or ends inside a month, or reaches into the month still running,
 * is refused with a sentence saying what to ask instead (day-level
 * windows, differenced or added up, would give back the counts that
 * suppression and rounding hide); without "to" the figures end with the
 * last completed month, and the document says so. Unsuppressed figures
 * keep day precision.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agg.h"
#include "api_places.h"
#include "audit.h"
#include "date.h"
#include "impact.h"
#include "jout.h"
#include "takeup.h"
#include "web.h"

/*
 * A request refused: as JSON for the API, as an HTML page naming the
 * reason for the dashboard (html set). Returns -1.
 */
static int
refuse(struct http_req *hr, int html, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
refuse(struct http_req *hr, int html, int status, const char *code,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (html)
		web_problem(hr, status, msg);
	else
		http_reply_error(hr, status, code, "%s", msg);
	return -1;
}

/* group_by and format, checked; *csv set. */
static int
parse_shape(struct http_req *hr, struct impact_req *q, int *csv, int html)
{
	const char *fmt = http_query(hr, "format");
	const char *by = http_query(hr, "group_by");

	if (by != NULL && by[0] != '\0' &&
	    (q->group_by = agg_dim_parse(by)) == DIM_N) {
		char list[400];
		size_t off = 0;
		int d;

		for (d = 1; d < DIM_N && off < sizeof(list); d++)
			off += (size_t)snprintf(list + off, sizeof(list) - off,
			    "%s%s", d == 1 ? "" : d == DIM_N - 1 ? " or " : ", ",
			    agg_dims[d].name);
		refuse(hr, html, 400, "E_ENUM", "group_by must be %s; got "
		    "\"%s\"", list, by);
		return -1;
	}
	if (fmt != NULL && strcmp(fmt, "json") != 0 && strcmp(fmt, "csv")) {
		refuse(hr, html, 400, "E_ENUM", "format must be json or csv; "
		    "got \"%s\"", fmt);
		return -1;
	}
	*csv = fmt != NULL && strcmp(fmt, "csv") == 0;
	return 0;
}

/* suppress=true|false: *off set when an evaluator turns control off. */
static int
parse_suppress(struct http_req *hr, int *off, int html)
{
	const char *sup = http_query(hr, "suppress");

	*off = 0;
	if (sup == NULL || strcmp(sup, "true") == 0)
		return 0;
	if (strcmp(sup, "false") != 0) {
		refuse(hr, html, 400, "E_ENUM", "suppress must be true or "
		    "false");
		return -1;
	}
	if (hr->auth.user.role != ROLE_EVALUATOR) {
		refuse(hr, html, 403, "E_ROLE", "only evaluators may see "
		    "figures without disclosure control");
		return -1;
	}
	*off = 1;
	return 0;
}

static int
audit_unsuppressed(struct http_req *hr)
{
	char actor[32], what[HTTP_ESC_LEN(sizeof(hr->path))];

	snprintf(actor, sizeof(actor), "user:%lld", (long long)
	    hr->auth.user.id);
	http_escape(hr->path, what, sizeof(what));	/* client text */
	if (audit_log_now(hr->store, actor, "aggregates.unsuppressed",
	    what, "ok") != PC_OK) {
		http_reply_error(hr, 503, "E_SYSTEM", "cannot audit the request; "
		    "refused");
		return -1;
	}
	return 0;
}

/*
 * watermark=N (from an ingest answer, perhaps another server's): the
 * figures wait until they include that commit, up to catchup_timeout.
 */
static int
wait_watermark(struct http_req *hr)
{
	const char *w = http_query(hr, "watermark");
	char s[16];

	if (w == NULL)
		return 0;
	if (w[0] == '\0' || strlen(w) > 20 || strspn(w, "0123456789") !=
	    strlen(w)) {
		http_reply_error(hr, 400, "E_FORMAT", "watermark is the number "
		    "an ingest answer gave; got \"%.40s\"", w);
		return -1;
	}
	if (srv_caught_up(hr->srv, w))
		return 0;
	snprintf(s, sizeof(s), "%d", hr->srv->conf->catchup_timeout);
	http_add_header(hr, "Retry-After", s);
	http_reply_error(hr, 503, "E_CATCHING_UP", "this server has not yet "
	    "caught up with watermark %s after %s seconds; ask again", w, s);
	return -1;
}

static void
defaults(struct http_req *hr, struct impact_req *q)
{
	memset(q, 0, sizeof(*q));
	q->place = -1;
	q->from = INT32_MIN;
	q->to = INT32_MAX;
	q->sdc.on = 1;
	q->sdc.threshold = hr->srv->conf->suppress_threshold;
}

int
api_params(struct http_req *hr, struct impact_req *q, int *csv)
{
	int off;

	defaults(hr, q);
	if (http_query_days(hr, &q->from, &q->to) != 0)
		return -1;
	if (parse_shape(hr, q, csv, 0) != 0 || parse_suppress(hr, &off, 0) != 0)
		return -1;
	if (off && audit_unsuppressed(hr) != 0)
		return -1;
	q->sdc.on = !off;
	return 0;
}

/* Last day of the month of day d. */
static int32_t
month_end(int32_t d)
{
	int y, m, dd;

	date_to_ymd(d, &y, &m, &dd);
	return date_from_ymd(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) - 1;
}

static int32_t
month_start(int32_t d)
{
	int y, m, dd;

	date_to_ymd(d, &y, &m, &dd);
	return date_from_ymd(y, m, 1);
}

/*
 * from or to as a day (YYYY-MM-DD) or a month (YYYY-MM: its first day for
 * from, its last for to). 0 when absent (out unchanged), 1 when read.
 */
static int
parse_when(struct http_req *hr, const char *name, int end, int32_t *out, int html)
{
	const char *v = http_query(hr, name);
	char day[DATE_LEN + 3];
	int32_t d;

	if (v == NULL || v[0] == '\0')
		return 0;
	if (strlen(v) == 7) {
		snprintf(day, sizeof(day), "%s-01", v);
		if (date_parse(day, &d) == 0) {
			*out = end ? month_end(d) : d;
			return 1;
		}
	} else if (date_parse(v, out) == 0)
		return 1;
	refuse(hr, html, 400, "E_DATE", "%s must be a month written "
	    "YYYY-MM or a date written YYYY-MM-DD; got \"%s\"", name, v);
	return -1;
}

static void
month_text(int32_t d, char out[8])
{
	char s[DATE_LEN];

	date_format(d, s);
	snprintf(out, 8, "%.7s", s);
}

/*
 * Under disclosure control: whole months, none of them still running. The
 * sentence names the range to ask for instead.
 */
static int
check_months(struct http_req *hr, struct impact_req *q, int has_to, int html)
{
	int32_t current = month_start(date_today(time(NULL)));
	char m[8], last[8];

	month_text(current - 1, last);
	if (q->from != INT32_MIN && q->from != month_start(q->from)) {
		month_text(q->from, m);
		refuse(hr, html, 400, "E_PERIOD", "under disclosure control "
		    "figures cover whole calendar months, so from is a month "
		    "(YYYY-MM) or its first day; for the month of that day ask "
		    "from=%s", m);
		return -1;
	}
	if (!has_to) {
		q->to = current - 1;
		q->to_defaulted = 1;
	} else if (q->to != month_end(q->to)) {
		month_text(q->to, m);
		refuse(hr, html, 400, "E_PERIOD", "under disclosure control "
		    "figures cover whole calendar months, so to is a month "
		    "(YYYY-MM) or its last day; for the month of that day ask "
		    "to=%s", m);
		return -1;
	}
	if (q->to >= current) {
		month_text(q->to, m);
		refuse(hr, html, 400, "E_PERIOD", "%s is not over yet: under "
		    "disclosure control figures end with a completed month, at "
		    "the latest to=%s", m, last);
		return -1;
	}
	if (q->from > q->to && q->to_defaulted) {
		/* no to was given: the from is what is not over yet */
		month_text(q->from, m);
		refuse(hr, html, 400, "E_PERIOD", "%s is not over yet: under "
		    "disclosure control figures end with a completed month, so "
		    "from is at the latest from=%s", m, last);
		return -1;
	}
	if (q->from > q->to) {
		refuse(hr, html, 400, "E_PERIOD", "from is after to (the last "
		    "completed month is %s)", last);
		return -1;
	}
	return 0;
}

int
api_figures_params(struct http_req *hr, struct impact_req *q, int *csv,
    int dashboard)
{
	int off, has_to;

	defaults(hr, q);
	/* control decides what a period may be: read it first */
	if (parse_suppress(hr, &off, dashboard) != 0)
		return -1;
	if (off && dashboard) {
		refuse(hr, dashboard, 400, "E_ENUM", "the dashboard always shows "
		    "figures under disclosure control; unsuppressed figures come "
		    "from pcmds report --unsuppressed or the API");
		return -1;
	}
	if (parse_when(hr, "from", 0, &q->from, dashboard) < 0 ||
	    (has_to = parse_when(hr, "to", 1, &q->to, dashboard)) < 0)
		return -1;
	if (off && q->from > q->to) {
		refuse(hr, dashboard, 400, "E_DATE", "from is after to");
		return -1;
	}
	if (!off && check_months(hr, q, has_to, dashboard) != 0)
		return -1;
	if (parse_shape(hr, q, csv, dashboard) != 0 || wait_watermark(hr) != 0)
		return -1;
	if (off && audit_unsuppressed(hr) != 0)
		return -1;
	q->sdc.on = !off;
	return 0;
}

void
api_answer(struct http_req *hr, cJSON *doc, int csv)
{
	struct buf b;
	char *text;

	if (doc == NULL) {
		http_reply_error(hr, 503, "E_SYSTEM", "out of memory");
		return;
	}
	if (!csv) {
		/* every double in its shortest round-trip form */
		text = jout_print(doc, 0);
		cJSON_Delete(doc);
		if (text == NULL) {
			http_reply_error(hr, 503, "E_SYSTEM", "out of memory");
			return;
		}
		http_reply_body(hr, 200, "application/json; charset=utf-8", text,
		    strlen(text));
		cJSON_free(text);	/* jout_print's */
		return;
	}
	buf_init(&b, 0);
	if (impact_csv(doc, &b) != PC_OK) {
		cJSON_Delete(doc);
		buf_free(&b);
		http_reply_error(hr, 503, "E_SYSTEM", "out of memory");
		return;
	}
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
	    api_figures_params(hr, &q, &csv, 0) != 0)
		return;
	api_answer(hr, impact_places_json(hr->srv->agg, &q), csv);
}

void
api_commitments(struct http_req *hr)
{
	struct impact_req q;
	int csv;

	if (!auth_require(hr, AUTH_PLACE_LEAD | AUTH_EVALUATOR | AUTH_SESSION) ||
	    api_figures_params(hr, &q, &csv, 0) != 0)
		return;
	api_answer(hr, impact_commitments_json(hr->srv->agg, &q), csv);
}

/* The month-by-month series of a place (or ALL). */
static void
months(struct http_req *hr, struct impact_req *q, int csv)
{
	int too_long;
	cJSON *doc = impact_months_json(hr->srv->agg, q, &too_long);

	if (doc == NULL && too_long) {
		http_reply_error(hr, 400, "E_PERIOD", "a monthly series covers at "
		    "most %d months; ask for a shorter range with from and to",
		    IMPACT_MONTHS_MAX);
		return;
	}
	api_answer(hr, doc, csv);
}

/* Take-up per community asset of one place. */
static void
takeup(struct http_req *hr, struct impact_req *q, int csv)
{
	pc_rc rc;
	cJSON *doc = takeup_json(hr->srv->agg, hr->store, q, &rc);

	if (doc == NULL && rc != PC_ENOMEM) {
		http_reply_error(hr, 503, "E_SYSTEM", "cannot read the support "
		    "records (%s); try again", pc_strerror(rc));
		return;
	}
	api_answer(hr, doc, csv);
}

void
api_impact(struct http_req *hr)
{
	char code[REC_PLACE_MAX + 2];
	const char *rest = hr->path + strlen("/v1/places/");
	size_t n = strcspn(rest, "/");
	struct impact_req q;
	int csv, series = strcmp(rest + n, "/months") == 0;
	int assets = strcmp(rest + n, "/assets") == 0;

	if (n == 0 || n > REC_PLACE_MAX || (!series && !assets &&
	    strcmp(rest + n, "/impact") != 0)) {
		http_reply_error(hr, 404, "E_NOT_FOUND", "there is nothing at %s; "
		    "try /v1/places/{code}/impact, /v1/places/{code}/months or "
		    "/v1/places/{code}/assets", hr->path);
		return;
	}
	snprintf(code, sizeof(code), "%.*s", (int)n, rest);
	if (!auth_require(hr, AUTH_PLACE_LEAD | AUTH_EVALUATOR | AUTH_SESSION) ||
	    api_figures_params(hr, &q, &csv, 0) != 0)
		return;
	if (strcasecmp(code, "ALL") != 0 &&
	    (q.place = agg_place_find(hr->srv->agg, code)) < 0) {
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
	if (assets && q.place < 0) {
		http_reply_error(hr, 404, "E_PLACE", "each place has a directory "
		    "of community assets of its own: ask for a place's code, not "
		    "ALL");
		return;
	}
	if (assets && q.group_by != DIM_NONE) {
		http_reply_error(hr, 400, "E_ENUM", "group_by does not apply to "
		    "take-up per asset: its rows are the place's assets");
		return;
	}
	if (series)
		months(hr, &q, csv);
	else if (assets)
		takeup(hr, &q, csv);
	else
		api_answer(hr, impact_json(hr->srv->agg, &q), csv);
}

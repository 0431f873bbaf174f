/*
 * web.c - the dashboard for place leads and evaluators, and its login.
 *
 * Server-rendered HTML with inline SVG charts: nothing to run in the
 * browser, every chart has a text alternative and a table of the same
 * figures, and a strict Content-Security-Policy allows nothing but our
 * own stylesheet and forms. Figures always go through disclosure control.
 *
 * Login takes a one-time code (from pcmdsd user add or user code), typed
 * into a form posted from our own page (never a link), and sets a new
 * session cookie: __Host- prefixed, Secure, HttpOnly, SameSite=Strict.
 * Sessions are stored, like tokens, only as SHA-256.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api_places.h"
#include "audit.h"
#include "date.h"
#include "failpoint.h"
#include "log.h"
#include "version.h"
#include "web.h"

#define CSP "default-src 'none'; style-src 'self'; img-src 'self'; " \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static const char css[] =
	"body{font:16px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1b;"
	"background:#f4f5f7}\n"
	"header,main{max-width:1100px;margin:0 auto;padding:0 1rem}\n"
	"header{padding-top:1rem}h1{font-size:1.6rem;margin:.3rem 0}\n"
	"h2{font-size:1.25rem;margin-top:2rem;border-bottom:2px solid #005eb8}\n"
	"h3{font-size:1.05rem}\n"
	".who{color:#425563}.who form{display:inline}\n"
	".note{background:#fff9c4;padding:.5rem .8rem;border-left:4px solid "
	"#ffb81c}\n"
	"figure{margin:1rem 0;background:#fff;padding:.6rem;border-radius:4px}\n"
	"figure svg{max-width:760px;display:block}\n"
	"figcaption{font-size:.9rem;color:#425563}\n"
	"table{border-collapse:collapse;background:#fff;margin:.5rem 0 1rem;"
	"font-size:.92rem}\n"
	"th,td{border:1px solid #d8dde0;padding:.25rem .5rem;text-align:right}\n"
	"th:first-child,td:first-child{text-align:left}\n"
	"caption{text-align:left;font-weight:600;padding:.3rem 0}\n"
	".bar{fill:#005eb8}.bar.all{fill:#768692}.axis{stroke:#425563}\n"
	".zero{stroke:#da291c;stroke-dasharray:4 3}.ci{stroke:#1d1d1b;"
	"stroke-width:2}.pt{fill:#005eb8}\n"
	".q0{fill:#003087}.q1{fill:#005eb8}.q2{fill:#41b6e6}.q3{fill:#a4d7f0}"
	".q4{fill:#e8edee}.q5{fill:#bbbbbb}\n"
	"text{font:12px system-ui,sans-serif;fill:#1d1d1b}\n"
	".muted{fill:#768692}\n"
	"form.period label{margin-right:.6rem}\n"
	"button,input{font:inherit}\n";

static void
esc(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		switch (*s) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, *s);
		}
}

static void
page_headers(struct http_req *hr)
{
	http_add_header(hr, "Content-Security-Policy", CSP);
	http_add_header(hr, "X-Frame-Options", "DENY");
	http_add_header(hr, "Referrer-Policy", "no-referrer");
}

/*
 * Sends a page around body. The appends above went unchecked, and a
 * failed one is sticky (buf.h): one check here, and a page that could
 * not be made whole is a 500, never a page with holes in it.
 */
static void
page(struct http_req *hr, int status, const char *title,
    const struct buf *body)
{
	static const char failed[] = "<!DOCTYPE html>\n<html lang=\"en\">"
	    "<head><meta charset=\"utf-8\"><title>Error - pcmds</title></head>"
	    "<body><p>The page could not be made (the server is short of "
	    "memory); nothing of it was shown. Reload it in a moment.</p>"
	    "</body></html>\n";
	struct buf b;

	buf_init(&b, FAILPOINT_HIT("web-page-limit") ? 64 : 0);
	buf_adds(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
	    "charset=\"utf-8\"><meta name=\"viewport\" content=\"width="
	    "device-width, initial-scale=1\"><title>");
	esc(&b, title);
	buf_adds(&b, " - pcmds</title><link rel=\"stylesheet\" "
	    "href=\"/dashboard.css\"></head>\n<body>");
	buf_add(&b, buf_str(body), body->len);
	buf_adds(&b, "</body></html>\n");
	page_headers(hr);
	if (buf_failed(body) != PC_OK || buf_failed(&b) != PC_OK) {
		log_warnx("web: %s page not sent: %s", title,
		    pc_strerror(buf_failed(body) != PC_OK ? buf_failed(body) :
		    buf_failed(&b)));
		http_reply_body(hr, 500, "text/html; charset=utf-8", failed,
		    sizeof(failed) - 1);
	} else
		http_reply_body(hr, status, "text/html; charset=utf-8",
		    buf_str(&b), b.len);
	buf_free(&b);
}

static void
redirect(struct http_req *hr, const char *to)
{
	http_add_header(hr, "Location", to);
	page_headers(hr);
	http_reply_body(hr, 303, "text/html; charset=utf-8", "", 0);
}

void
web_root(struct http_req *hr)
{
	redirect(hr, "/dashboard");
}

void
web_css(struct http_req *hr)
{
	http_add_header(hr, "Cache-Control", "max-age=3600");
	http_reply_body(hr, 200, "text/css; charset=utf-8", css,
	    sizeof(css) - 1);
}

static void
login_form(struct http_req *hr, int status, const char *problem)
{
	struct buf b;

	buf_init(&b, 0);
	buf_adds(&b, "<main><h1>Sign in to the pcmds dashboard</h1>");
	if (problem != NULL) {
		buf_adds(&b, "<p class=\"note\" role=\"alert\">");
		esc(&b, problem);
		buf_adds(&b, "</p>");
	}
	buf_adds(&b, "<form method=\"post\" action=\"/login\"><p><label "
	    "for=\"code\">One-time code from your administrator</label><br>"
	    "<input id=\"code\" name=\"code\" autocomplete=\"one-time-code\" "
	    "required pattern=\"[A-Za-z0-9 -]{12,20}\"></p><p><button "
	    "type=\"submit\">Sign in</button></p></form></main>");
	page(hr, status, "Sign in", &b);
	buf_free(&b);
}

/* The code from a form body code=... (never from the URL). */
static int
login_code(struct http_req *hr, char *out, size_t len)
{
	struct evkeyvalq form;
	const char *c;
	struct evbuffer *in = evhttp_request_get_input_buffer(hr->req);
	char body[256];
	size_t n = evbuffer_get_length(in);

	if (n == 0 || n >= sizeof(body))
		return 0;
	evbuffer_copyout(in, body, n);
	body[n] = '\0';
	TAILQ_INIT(&form);
	if (evhttp_parse_query_str(body, &form) == 0 &&
	    (c = evhttp_find_header(&form, "code")) != NULL)
		snprintf(out, len, "%s", c);
	else
		out[0] = '\0';
	evhttp_clear_headers(&form);
	return out[0] != '\0';
}

/*
 * A sign-in or sign-out form posted from our own pages, not another
 * site's (login CSRF). Sec-Fetch-Site, which no page can set, must say
 * same-origin; a browser too old to send it must send an Origin that is
 * this server (our pages' Referrer-Policy: no-referrer makes browsers
 * send "Origin: null", so Sec-Fetch-Site comes first). Clients that send
 * neither are not browsers that another site's page could drive.
 */
static int
same_origin(struct http_req *hr)
{
	const char *site = http_header(hr, "Sec-Fetch-Site");
	const char *origin = http_header(hr, "Origin");
	const char *host = http_header(hr, "Host");

	if (site != NULL)
		return strcmp(site, "same-origin") == 0;
	if (origin == NULL)
		return 1;
	return host != NULL && strncmp(origin, "https://", 8) == 0 &&
	    strcmp(origin + 8, host) == 0;
}

/* Inside a transaction: code -> user -> session (a new id every time). */
static int
start_session(struct http_req *hr, const uint8_t chash[SEC_SHA256_LEN],
    char token[44])
{
	struct store *st = hr->srv->store;
	int64_t now = (int64_t)srv_now(), user;
	uint8_t thash[SEC_SHA256_LEN];
	struct store_user u;
	enum auth_limit which;
	char actor[32], old[64];
	pc_rc rc;

	rc = store_cred_take_code(st, chash, now, &user);
	if (rc == PC_ENOTFOUND || rc == PC_EAUTH) {
		store_rollback(st);
		if (auth_failed(hr, 1, "login.fail", "bad code", &which) > 0)
			login_form(hr, 429, which == AUTH_GLOBAL ? "Too many "
			    "failed sign-in attempts on this server; wait a "
			    "minute and try again." : "Too many failed attempts; "
			    "wait a minute and try again.");
		else
			login_form(hr, 401, "That code is not valid: it may be "
			    "mistyped, expired or already used. Ask your "
			    "administrator for a new one.");
		return 0;
	}
	if (rc != PC_OK || store_user_get(st, user, &u) != PC_OK)
		goto fail;
	if (u.role == ROLE_LINK_WORKER) {
		store_rollback(st);
		login_form(hr, 403, "The dashboard is for place leads and "
		    "evaluators; link workers use the pcmds client.");
		return 0;
	}
	/* a session the browser already had ends here (no fixation) */
	if (auth_cookie(hr, AUTH_COOKIE, old, sizeof(old))) {
		sec_sha256(old, strlen(old), thash);
		if (store_cred_revoke(st, thash) != PC_OK)
			goto fail;
	}
	snprintf(actor, sizeof(actor), "user:%lld", (long long)u.id);
	if (auth_new_token(token, thash) != PC_OK ||
	    store_cred_add(st, thash, u.id, CRED_SESSION, "", now +
	    hr->srv->conf->session_hours * 3600L, now) != PC_OK ||
	    audit_log(st, now, actor, "login", "dashboard", "ok") != PC_OK ||
	    store_commit(st) != PC_OK)
		goto fail;
	hr->auth.user = u;
	hr->authed = 1;
	return 1;
fail:
	store_rollback(st);
	login_form(hr, 503, "The server could not sign you in; try again.");
	return 0;
}

void
web_login(struct http_req *hr)
{
	uint8_t chash[SEC_SHA256_LEN];
	char code[64], token[44], cookie[160];
	enum auth_limit which;

	if (hr->method != EVHTTP_REQ_POST) {
		/* a code in a link would sit in histories and proxy logs */
		login_form(hr, 200, http_query(hr, "code") != NULL ? "Sign-in "
		    "codes are not taken from links: type the code below." :
		    NULL);
		return;
	}
	if (!same_origin(hr)) {
		login_form(hr, 403, "This sign-in did not come from this "
		    "server's own page; open the dashboard's address yourself "
		    "and sign in there.");
		return;
	}
	if (auth_blocked(hr, &which) > 0) {
		login_form(hr, 429, which == AUTH_GLOBAL ? "Too many failed "
		    "sign-in attempts on this server; wait a minute and try "
		    "again." : "Too many failed attempts; wait a minute and try "
		    "again.");
		return;
	}
	if (!login_code(hr, code, sizeof(code))) {
		login_form(hr, 400, "Type the one-time code from your "
		    "administrator.");
		return;
	}
	if (auth_code_hash(code, chash) != 0) {
		(void)auth_failed(hr, 1, "login.fail", "malformed code", NULL);
		login_form(hr, 401, "A code looks like ABCD-EFGH-JKMN.");
		return;
	}
	if (store_begin(hr->srv->store) != PC_OK) {
		login_form(hr, 503, "The server is busy; try again.");
		return;
	}
	if (!start_session(hr, chash, token))
		return;
	snprintf(cookie, sizeof(cookie), AUTH_COOKIE "=%s; Path=/; Secure; "
	    "HttpOnly; SameSite=Strict; Max-Age=%d", token,
	    hr->srv->conf->session_hours * 3600);
	sec_wipe(token, sizeof(token));
	http_add_header(hr, "Set-Cookie", cookie);
	redirect(hr, "/dashboard");
}

void
web_logout(struct http_req *hr)
{
	uint8_t hash[SEC_SHA256_LEN];
	char tok[64];

	if (!same_origin(hr)) {
		login_form(hr, 403, "This sign-out did not come from this "
		    "server's own page.");
		return;
	}
	if (auth_cookie(hr, AUTH_COOKIE, tok, sizeof(tok))) {
		sec_sha256(tok, strlen(tok), hash);
		(void)store_cred_revoke(hr->srv->store, hash);
	}
	http_add_header(hr, "Set-Cookie", AUTH_COOKIE "=; Path=/; Secure; "
	    "HttpOnly; SameSite=Strict; Max-Age=0");
	redirect(hr, "/login");
}

/* -- figures to HTML ----------------------------------------------------- */

static double
num(const cJSON *v)
{
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A published value as table text: number, "suppressed", "withheld". */
static void
val(struct buf *b, const cJSON *v, int decimals)
{
	if (cJSON_IsNumber(v) && decimals == 4 && v->valuedouble < 0.0001)
		buf_adds(b, "&lt;0.0001");	/* p-values */
	else if (cJSON_IsNumber(v))
		buf_addf(b, "%.*f", decimals, v->valuedouble);
	else if (cJSON_IsString(v))
		esc(b, v->valuestring);
	else
		buf_adds(b, "&ndash;");
}

static const cJSON *
get(const cJSON *o, const char *path)
{
	char key[64];
	const char *dot;

	while (o != NULL && (dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = cJSON_GetObjectItem(o, key);
		path = dot + 1;
	}
	return o ? cJSON_GetObjectItem(o, path) : NULL;
}

static const char *
name_of(const cJSON *h)
{
	const char *n = cJSON_GetStringValue(get(h, "scope.name"));

	return n ? n : "?";
}

/* Row i of a by-place table or chart: each place, then all places. */
static const cJSON *
row_at(const cJSON *places, const cJSON *all, int i)
{
	return i < cJSON_GetArraySize(places) ? cJSON_GetArrayItem(places, i) :
	    all;
}

/* One statistic of one ONS4 measure: ons4.FIELD.STAT. */
static const cJSON *
measure(const cJSON *h, const char *field, const char *stat)
{
	char path[96];

	snprintf(path, sizeof(path), "ons4.%s.%s", field, stat);
	return get(h, path);
}

/* Chart: referrals per 1,000 residents, a bar per place. */
static void
chart_reach(struct buf *b, const cJSON *places, const cJSON *all)
{
	double max = 0, v;
	int n = cJSON_GetArraySize(places) + 1, i, y;

	for (i = 0; i < n; i++)
		if ((v = num(get(row_at(places, all, i),
		    "per_1000_residents"))) > max)
			max = v;
	if (max <= 0)
		max = 1;
	buf_addf(b, "<figure><svg role=\"img\" aria-labelledby=\"reach-t "
	    "reach-d\" viewBox=\"0 0 640 %d\" width=\"100%%\"><title "
	    "id=\"reach-t\">Referrals per 1,000 residents by place</title>"
	    "<desc id=\"reach-d\">Horizontal bars, one per place and one for "
	    "all places; the table below gives the figures.</desc>",
	    n * 26 + 10);
	for (i = 0; i < n; i++) {
		const cJSON *h = row_at(places, all, i);
		int total = i == n - 1;

		y = 5 + 26 * i;
		v = num(get(h, "per_1000_residents"));
		buf_addf(b, "<text x=\"0\" y=\"%d\">", y + 15);
		esc(b, name_of(h));
		buf_adds(b, "</text>");
		if (isnan(v) && !total)
			buf_addf(b, "<text class=\"muted\" x=\"185\" y=\"%d\">"
			    "suppressed (too few)</text>", y + 15);
		else if (!isnan(v))
			buf_addf(b, "<rect class=\"bar%s\" x=\"180\" y=\"%d\" "
			    "width=\"%.1f\" height=\"20\"/><text x=\"%.1f\" "
			    "y=\"%d\">%.2f</text>", total ? " all" : "", y,
			    400 * v / max, 185 + 400 * v / max, y + 15, v);
	}
	buf_adds(b, "</svg><figcaption>Referrals in the period per 1,000 "
	    "usual residents (Census 2021).</figcaption></figure>");
}

static void
table_reach(struct buf *b, const cJSON *places, const cJSON *all)
{
	const cJSON *h;
	int i;

	buf_adds(b, "<table><caption>Reach by place</caption><thead><tr><th "
	    "scope=\"col\">Place</th><th scope=\"col\">Population</th><th "
	    "scope=\"col\">Referrals</th><th scope=\"col\">People</th><th "
	    "scope=\"col\">Per 1,000</th><th scope=\"col\">Declined %</th><th "
	    "scope=\"col\">Median days to first contact</th></tr></thead>"
	    "<tbody>");
	for (i = 0; i <= cJSON_GetArraySize(places); i++) {
		h = row_at(places, all, i);
		buf_adds(b, "<tr><th scope=\"row\">");
		esc(b, name_of(h));
		buf_adds(b, "</th><td>");
		val(b, get(h, "scope.population"), 0);
		buf_adds(b, "</td><td>");
		val(b, get(h, "referrals"), 0);
		buf_adds(b, "</td><td>");
		val(b, get(h, "people"), 0);
		buf_adds(b, "</td><td>");
		val(b, get(h, "per_1000_residents"), 2);
		buf_adds(b, "</td><td>");
		val(b, get(h, "declined_pct"), 1);
		buf_adds(b, "</td><td>");
		val(b, get(h, "median_days_to_first_contact"), 1);
		buf_adds(b, "</td></tr>");
	}
	buf_adds(b, "</tbody></table>");
}

/* Chart: mean change with 95% CI whiskers, a row per place. */
static void
chart_ons4(struct buf *b, const cJSON *places, const cJSON *all, int m)
{
	const char *f = ons4_measures[m].field;
	double lo = -1, hi = 1, x0, scale;
	int n = cJSON_GetArraySize(places) + 1, i = 0, y;

	for (i = 0; i < n; i++) {
		const cJSON *p = row_at(places, all, i);
		double a = num(measure(p, f, "ci95_low"));
		double z = num(measure(p, f, "ci95_high"));

		if (!isnan(a) && a < lo)
			lo = floor(a);
		if (!isnan(z) && z > hi)
			hi = ceil(z);
	}
	scale = 380 / (hi - lo);
	x0 = 200 + (0 - lo) * scale;
	buf_addf(b, "<figure><svg role=\"img\" aria-labelledby=\"o%d-t o%d-d\" "
	    "viewBox=\"0 0 640 %d\" width=\"100%%\"><title id=\"o%d-t\">%s: "
	    "mean change from baseline, with 95%% confidence interval</title>"
	    "<desc id=\"o%d-d\">A point and whisker per place; the dashed line "
	    "is no change. %s The table below gives the figures.</desc>", m, m,
	    n * 24 + 30, m, ons4_measures[m].label, m,
	    ons4_measures[m].lower_better ? "For anxiety a fall (left) is an "
	    "improvement." : "A rise (right) is an improvement.");
	buf_addf(b, "<line class=\"zero\" x1=\"%.1f\" x2=\"%.1f\" y1=\"0\" "
	    "y2=\"%d\"/><text class=\"muted\" x=\"200\" y=\"%d\">%.0f</text>"
	    "<text class=\"muted\" x=\"565\" y=\"%d\">%+.0f</text>", x0, x0,
	    n * 24, n * 24 + 20, lo, n * 24 + 20, hi);
	for (i = 0; i < n; i++) {
		const cJSON *p = row_at(places, all, i);
		double mc = num(measure(p, f, "mean_change"));
		double a = num(measure(p, f, "ci95_low"));
		double z = num(measure(p, f, "ci95_high"));

		y = 4 + 24 * i;
		buf_addf(b, "<text x=\"0\" y=\"%d\">", y + 14);
		esc(b, name_of(p));
		buf_adds(b, "</text>");
		if (isnan(mc)) {
			buf_addf(b, "<text class=\"muted\" x=\"205\" y=\"%d\">"
			    "withheld (too few pairs)</text>", y + 14);
			continue;
		}
		if (!isnan(a) && !isnan(z))
			buf_addf(b, "<line class=\"ci\" x1=\"%.1f\" x2=\"%.1f\" "
			    "y1=\"%d\" y2=\"%d\"/>", 200 + (a - lo) * scale,
			    200 + (z - lo) * scale, y + 10, y + 10);
		buf_addf(b, "<circle class=\"pt\" cx=\"%.1f\" cy=\"%d\" r=\"5\"/>",
		    200 + (mc - lo) * scale, y + 10);
	}
	buf_adds(b, "</svg></figure>");
}

static void
table_ons4(struct buf *b, const cJSON *places, const cJSON *all)
{
	static const char *const cols[] = {"n", "mean_baseline",
	    "mean_followup", "mean_change", "ci95_low", "ci95_high",
	    "t_test_p", "wilcoxon_p", "cohens_dz", "improved_pct",
	    "left_worst_band_pct"};
	/* as published under disclosure control: means to 0.1, p as bands */
	static const int dec[] = {0, 1, 1, 1, 1, 1, 4, 4, 2, 1, 1};
	const cJSON *h;
	int m, k;

	for (m = 0; m < ONS4_N; m++) {
		buf_adds(b, "<table><caption>");
		esc(b, ons4_measures[m].label);
		buf_adds(b, ": paired change, baseline to latest review or final"
		    "</caption><thead><tr><th scope=\"col\">Place</th><th>Pairs"
		    "</th><th>Pairs as % of consented</th><th>Mean baseline</th><th>Mean follow-up</th><th>Mean "
		    "change</th><th>95% CI low</th><th>95% CI high</th><th>p "
		    "(t-test)</th><th>p (Wilcoxon)</th><th>Cohen's dz</th><th>"
		    "Improved %</th><th>Left worst band %</th></tr></thead>"
		    "<tbody>");
		for (k = 0; k <= cJSON_GetArraySize(places); k++) {
			size_t c;

			h = row_at(places, all, k);
			buf_adds(b, "<tr><th scope=\"row\">");
			esc(b, name_of(h));
			buf_adds(b, "</th>");
			for (c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
				buf_adds(b, "<td>");
				val(b, measure(h, ons4_measures[m].field,
				    cols[c]), dec[c]);
				buf_adds(b, "</td>");
				if (c > 0)
					continue;
				/* the pairs' share, beside every result */
				buf_adds(b, "<td>");
				val(b, get(h, "ons4.pairs_pct_of_consented"), 1);
				buf_adds(b, "</td>");
			}
			buf_adds(b, "</tr>");
		}
		buf_adds(b, "</tbody></table>");
	}
}

/* Stacked bars: the share of referrals in each group, per place. */
static void
chart_mix(struct buf *b, const cJSON *places, const cJSON *all,
    const char *key, const struct codelist *l, const char *title, int id)
{
	const cJSON *h;
	int n = cJSON_GetArraySize(places) + 1, i, y;
	size_t g;

	buf_addf(b, "<figure><svg role=\"img\" aria-labelledby=\"m%d-t m%d-d\" "
	    "viewBox=\"0 0 640 %d\" width=\"100%%\"><title id=\"m%d-t\">%s of "
	    "the people referred, by place</title><desc id=\"m%d-d\">A bar per "
	    "place split by group, as a share of referrals whose counts can "
	    "be shown; the table below gives the counts.</desc>", id, id,
	    n * 24 + 30, id, title, id);
	for (i = 0; i < n; i++) {
		const cJSON *p = row_at(places, all, i);
		const cJSON *mix = get(p, key);
		double total = 0, x = 200;

		y = 4 + 24 * i;
		buf_addf(b, "<text x=\"0\" y=\"%d\">", y + 14);
		esc(b, name_of(p));
		buf_adds(b, "</text>");
		for (g = 0; g < l->n; g++)
			if (!isnan(num(cJSON_GetObjectItem(mix, l->v[g].code))))
				total += num(cJSON_GetObjectItem(mix,
				    l->v[g].code));
		if (total <= 0) {
			buf_addf(b, "<text class=\"muted\" x=\"205\" y=\"%d\">"
			    "too few to show</text>", y + 14);
			continue;
		}
		for (g = 0; g < l->n; g++) {
			double v = num(cJSON_GetObjectItem(mix, l->v[g].code));

			if (isnan(v) || v <= 0)
				continue;
			buf_addf(b, "<rect class=\"q%zu\" x=\"%.1f\" y=\"%d\" "
			    "width=\"%.1f\" height=\"18\"><title>", g % 6, x, y,
			    400 * v / total);
			esc(b, l->v[g].label);
			buf_addf(b, ": %.0f%%</title></rect>", 100 * v / total);
			x += 400 * v / total;
		}
	}
	buf_addf(b, "<text class=\"muted\" x=\"200\" y=\"%d\">0%%</text><text "
	    "class=\"muted\" x=\"585\" y=\"%d\">100%%</text></svg>"
	    "<figcaption>Legend:", n * 24 + 20, n * 24 + 20);
	for (g = 0; g < l->n; g++) {
		buf_addf(b, " <svg width=\"12\" height=\"12\" aria-hidden=\"true\">"
		    "<rect class=\"q%zu\" width=\"12\" height=\"12\"/></svg> ",
		    g % 6);
		esc(b, l->v[g].label);
	}
	buf_adds(b, "</figcaption></figure>");
	buf_adds(b, "<table><caption>");
	esc(b, title);
	buf_adds(b, ": referrals</caption><thead><tr><th scope=\"col\">Place"
	    "</th>");
	for (g = 0; g < l->n; g++) {
		buf_adds(b, "<th scope=\"col\">");
		esc(b, l->v[g].label);
		buf_adds(b, "</th>");
	}
	buf_adds(b, "</tr></thead><tbody>");
	cJSON_ArrayForEach(h, places) {
		buf_adds(b, "<tr><th scope=\"row\">");
		esc(b, name_of(h));
		buf_adds(b, "</th>");
		for (g = 0; g < l->n; g++) {
			buf_adds(b, "<td>");
			val(b, cJSON_GetObjectItem(get(h, key), l->v[g].code), 0);
			buf_adds(b, "</td>");
		}
		buf_adds(b, "</tr>");
	}
	buf_adds(b, "</tbody></table>");
}

/* The detail of one place: breakdown tables. */
static void
detail(struct buf *b, const cJSON *doc)
{
	static const struct {
		const char		*key;
		const char		*title;
		const struct codelist	*l;
	} parts[] = {
		{"reach.by_source", "Source of referral", &codes_source},
		{"reach.by_reason", "Reasons for referral", &codes_reason},
		{"reach.by_service", "Service", &codes_service},
		{"reach.by_age_band", "Age band", &codes_age_band},
		{"reach.by_gender", "Gender", &codes_gender},
		{"reach.closed_by_reason", "Closure reason", &codes_closure},
		{"reach.support.offered", "Support offered", &codes_support},
		{"reach.support.taken_up", "Support taken up", &codes_support},
	};
	size_t i, g;

	buf_adds(b, "<h2 id=\"detail\">");
	esc(b, name_of(doc));
	buf_adds(b, ": detail</h2>");
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const cJSON *o = get(doc, parts[i].key);

		buf_adds(b, "<table><caption>");
		esc(b, parts[i].title);
		buf_adds(b, "</caption><thead><tr><th scope=\"col\">Group</th><th "
		    "scope=\"col\">Referrals</th></tr></thead><tbody>");
		for (g = 0; g < parts[i].l->n; g++) {
			buf_adds(b, "<tr><th scope=\"row\">");
			esc(b, parts[i].l->v[g].label);
			buf_adds(b, "</th><td>");
			val(b, cJSON_GetObjectItem(o, parts[i].l->v[g].code), 0);
			buf_adds(b, "</td></tr>");
		}
		buf_adds(b, "</tbody></table>");
	}
}

static void
period_form(struct buf *b, struct http_req *hr)
{
	const char *from = http_query(hr, "from"), *to = http_query(hr, "to");
	char today[DATE_LEN], last[8];
	int y, m, d;

	/* whole months, none still running: nothing finer is published */
	date_to_ymd(date_today(time(NULL)), &y, &m, &d);
	date_format(date_from_ymd(y, m, 1) - 1, today);
	snprintf(last, sizeof(last), "%.7s", today);
	buf_addf(b, "<form class=\"period\" method=\"get\" action=\"/dashboard"
	    "\"><label>From month <input type=\"month\" name=\"from\" "
	    "max=\"%s\" value=\"", last);
	esc(b, from ? from : "");
	buf_addf(b, "\"></label><label>To month <input type=\"month\" "
	    "name=\"to\" max=\"%s\" value=\"", last);
	esc(b, to ? to : "");
	buf_adds(b, "\"></label><button type=\"submit\">Show</button> "
	    "<span class=\"who\">Whole months, up to the last completed one"
	    "</span></form>");
}

void
web_dashboard(struct http_req *hr)
{
	struct impact_req q;
	struct buf b;
	cJSON *doc, *one = NULL;
	const cJSON *places, *all;
	int csv, m;

	if (http_header(hr, "Cookie") == NULL &&
	    http_header(hr, "Authorization") == NULL) {
		redirect(hr, "/login");
		return;
	}
	if (!auth_require(hr, AUTH_PLACE_LEAD | AUTH_EVALUATOR | AUTH_SESSION) ||
	    api_figures_params(hr, &q, &csv, 1) != 0)
		return;	/* the dashboard is always under disclosure control */
	if ((doc = impact_places_json(hr->srv->agg, &q)) == NULL) {
		http_reply_error(hr, 503, "E_SYSTEM", "out of memory");
		return;
	}
	if (hr->auth.user.role == ROLE_PLACE_LEAD) {
		q.place = agg_place_index(hr->srv->agg, hr->auth.user.place);
		one = q.place >= 0 ? impact_json(hr->srv->agg, &q) : NULL;
	}
	places = cJSON_GetObjectItem(doc, "places");
	all = cJSON_GetObjectItem(doc, "all");
	buf_init(&b, 0);
	buf_adds(&b, "<header><h1>Social prescribing: impact per place</h1>"
	    "<p class=\"who\">Signed in as ");
	esc(&b, hr->auth.user.name);
	buf_adds(&b, " (");
	esc(&b, store_role_name(hr->auth.user.role));
	if (hr->auth.user.place[0]) {
		buf_adds(&b, ", ");
		esc(&b, hr->auth.user.place);
	}
	buf_adds(&b, ") <form method=\"post\" action=\"/logout\"><button "
	    "type=\"submit\">Sign out</button></form></p>");
	period_form(&b, hr);
	buf_adds(&b, "<p class=\"note\">Disclosure control: every count carries "
	    "a small fixed noise (the cell key method: at most 3, the same "
	    "for the same people every time), then counts of 1 to 7 show as "
	    "&ldquo;suppressed&rdquo; and the others are rounded to the "
	    "nearest 5; percentages and rates come from those counts; means "
	    "are to 0.1 and p-values in bands; figures about suppressed "
	    "groups are &ldquo;withheld&rdquo;. Periods are whole completed "
	    "months. ONS4 change is before and after, without a comparison "
	    "group: it does not show what would have happened without social "
	    "prescribing.</p></header><main><h2 id=\"reach\">Reach</h2>");
	chart_reach(&b, places, all);
	table_reach(&b, places, all);
	buf_adds(&b, "<h2 id=\"ons4\">ONS4 wellbeing change</h2><p>People who "
	    "consented to evaluation, with a baseline and a later review or "
	    "final assessment.</p>");
	for (m = 0; m < ONS4_N; m++) {
		buf_adds(&b, "<h3>");
		esc(&b, ons4_measures[m].label);
		buf_adds(&b, "</h3>");
		chart_ons4(&b, places, all, m);
	}
	table_ons4(&b, places, all);
	buf_adds(&b, "<h2 id=\"who\">Who is reached</h2>");
	chart_mix(&b, places, all, "by_imd_quintile", &codes_imd_quintile,
	    "Deprivation (IMD quintile of home area)", 1);
	chart_mix(&b, places, all, "by_ethnic_group", &codes_ethnic_group,
	    "Ethnic group", 2);
	if (one != NULL)
		detail(&b, one);
	buf_addf(&b, "<p class=\"who\">pcmds %s &middot; figures generated ",
	    PCMDS_VERSION);
	esc(&b, cJSON_GetStringValue(cJSON_GetObjectItem(doc, "generated_at")));
	buf_adds(&b, "</p></main>");
	page(hr, 200, "Impact per place", &b);
	buf_free(&b);
	cJSON_Delete(doc);
	cJSON_Delete(one);
}

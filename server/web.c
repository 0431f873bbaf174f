/*
 * web.c - the dashboard's frame and its sign-in (the page of figures
 * itself is dash.c).
 *
 * Server-rendered HTML: nothing to run in the browser, and a strict
 * Content-Security-Policy allows nothing but our own stylesheet and
 * forms.
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
#include "oidc.h"
#include "version.h"
#include "web.h"

#define CSP "default-src 'none'; style-src 'self'; img-src 'self'; " \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


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
    const struct buf *body, const char *refresh)
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
	buf_adds(&b, " - pcmds</title>");
	if (refresh != NULL) {
		/* at once, and from this site: the Strict cookie goes along */
		buf_adds(&b, "<meta http-equiv=\"refresh\" content=\"0; url=");
		esc(&b, refresh);
		buf_adds(&b, "\">");
	}
	buf_adds(&b, "<link rel=\"stylesheet\" href=\"/dashboard.css\"></head>"
	    "\n<body>");
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
	http_reply_body(hr, 200, "text/css; charset=utf-8", dash_css,
	    strlen(dash_css));
}

static void
login_form(struct http_req *hr, int status, const char *problem)
{
	struct buf b;

	buf_init(&b, 0);
	buf_adds(&b, "<main id=\"main\"><h1>Sign in to the pcmds dashboard"
	    "</h1>");
	if (problem != NULL) {
		buf_adds(&b, "<p class=\"note\" role=\"alert\">");
		esc(&b, problem);
		buf_adds(&b, "</p>");
	}
	if (hr->srv->oidc != NULL) {
		buf_adds(&b, "<h2>With ");
		esc(&b, oidc_name(hr->srv->oidc));
		buf_adds(&b, "</h2><form class=\"login\" method=\"post\" "
		    "action=\"/login/oidc\"><p><button type=\"submit\">Sign in "
		    "with ");
		esc(&b, oidc_name(hr->srv->oidc));
		buf_adds(&b, "</button></p></form>");
	}
	buf_adds(&b, "<h2>With your password</h2><form class=\"login\" "
	    "method=\"post\" action=\"/login/password\"><p><label for=\"user\">"
	    "User number</label><br><input id=\"user\" name=\"user\" "
	    "inputmode=\"numeric\" autocomplete=\"username\" required></p>"
	    "<p><label for=\"password\">Password</label><br><input "
	    "id=\"password\" name=\"password\" type=\"password\" "
	    "autocomplete=\"current-password\" required></p><p><button "
	    "type=\"submit\">Sign in</button></p></form>"
	    "<h2>With a one-time code</h2><p>The first time, or after a reset: "
	    "<a href=\"/password\">set a password with your code</a>, or sign "
	    "in with the code alone.</p>");
	buf_adds(&b, "<form method=\"post\" action=\"/login\" class=\"login\">"
	    "<p><label for=\"code\">One-time code from your administrator"
	    "</label><br><input id=\"code\" name=\"code\" "
	    "autocomplete=\"one-time-code\" required pattern=\"[A-Za-z0-9 -]"
	    "{12,20}\"></p><p><button type=\"submit\">Sign in with the code"
	    "</button></p></form></main>");
	page(hr, status, "Sign in", &b, NULL);
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

int
web_session_start(struct http_req *hr, const struct store_user *u,
    const char *how)
{
	struct store *st = hr->store;
	int64_t now = (int64_t)srv_now();
	uint8_t thash[SEC_SHA256_LEN];
	char token[44], cookie[160], actor[32], old[64];

	/* a session the browser already had ends here (no fixation) */
	if (auth_cookie(hr, AUTH_COOKIE, old, sizeof(old))) {
		sec_sha256(old, strlen(old), thash);
		if (store_cred_revoke(st, thash) != PC_OK) {
			store_rollback(st);
			return 0;
		}
	}
	snprintf(actor, sizeof(actor), "user:%lld", (long long)u->id);
	if (auth_new_token(token, thash) != PC_OK ||
	    store_cred_add(st, thash, u->id, CRED_SESSION, "", now +
	    hr->srv->conf->session_hours * 3600L, now) != PC_OK ||
	    audit_log(st, now, actor, how, "dashboard", "ok") != PC_OK ||
	    store_commit(st) != PC_OK) {
		store_rollback(st);
		sec_wipe(token, sizeof(token));
		return 0;
	}
	snprintf(cookie, sizeof(cookie), AUTH_COOKIE "=%s; Path=/; Secure; "
	    "HttpOnly; SameSite=Strict; Max-Age=%d", token,
	    hr->srv->conf->session_hours * 3600);
	sec_wipe(token, sizeof(token));
	http_add_header(hr, "Set-Cookie", cookie);
	hr->auth.user = *u;
	hr->authed = 1;
	return 1;
}

/* Inside a transaction: code -> user -> session (a new id every time). */
static int
start_session(struct http_req *hr, const uint8_t chash[SEC_SHA256_LEN])
{
	struct store *st = hr->store;
	int64_t now = (int64_t)srv_now(), user;
	struct store_user u;
	enum auth_limit which;
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
	if (web_session_start(hr, &u, "login"))
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
	char code[64];
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
	if (store_begin(hr->store) != PC_OK) {
		login_form(hr, 503, "The server is busy; try again.");
		return;
	}
	if (!start_session(hr, chash))
		return;
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
		(void)store_cred_revoke(hr->store, hash);
	}
	http_add_header(hr, "Set-Cookie", AUTH_COOKIE "=; Path=/; Secure; "
	    "HttpOnly; SameSite=Strict; Max-Age=0");
	redirect(hr, "/login");
}

/* -- for the dashboard's pages (dash.c) -------------------------------- */

void
web_esc(struct buf *b, const char *s)
{
	esc(b, s);
}

void
web_page(struct http_req *hr, int status, const char *title,
    const struct buf *body)
{
	page(hr, status, title, body, NULL);
}

void
web_page_then(struct http_req *hr, int status, const char *title,
    const struct buf *body, const char *to)
{
	page(hr, status, title, body, to);
}

void
web_redirect(struct http_req *hr, const char *to)
{
	redirect(hr, to);
}

int
web_same_origin(struct http_req *hr)
{
	return same_origin(hr);
}

void
web_login_problem(struct http_req *hr, int status, const char *why)
{
	login_form(hr, status, why);
}

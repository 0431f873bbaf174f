/*
 * web_oidc.c - dashboard sign-in through the organisation's OpenID
 * Connect provider (oidc.h): the button's POST /login/oidc sends the
 * browser to the provider with a new sign-in; the provider sends it back
 * to GET /login/oidc/callback with a code, which is exchanged off the
 * event loop while the browser's request is held (srv_hold), and the
 * linked user's session starts (web_session_start). That completion
 * (finding the linked user, the refusals' audit, the session) reads and
 * writes the database, so it runs as a job (srv_submit): on PostgreSQL
 * on a database worker, its answer kept and sent by the loop, as for
 * any request that needs the database; on SQLite where it is. So do the
 * check of the address's failed attempts, whose buckets are in the
 * store (the gate, before anything else), and the refusals made before
 * the provider is asked (no sign-in in progress, another's state, the
 * provider's own refusal), each of which writes an audit entry: on the
 * loop, a database slow to answer would stall every other request.
 *
 * The sign-in's cookie is SameSite=Lax, as it must come along on the
 * provider's redirect back; the session's stays Strict, so the callback
 * answers with a page that goes on to the dashboard itself rather than
 * with a redirect (which, following the provider's, would lose it).
 *
 * Every refusal is a page saying what happened and what to do, and an
 * audit entry, and counts as a failed attempt from the address
 * (auth_failed): anyone may start sign-ins, so without the limit anyone
 * could make this server write audit entries and call the provider
 * without end. Past the limit the address is refused (429) before
 * anything is tried, and refusals are not audited, as for codes.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "auth.h"
#include "conn.h"
#include "jwt.h"
#include "log.h"
#include "oidc.h"
#include "pool.h"
#include "web.h"

#define CODE_MAX	2048	/* bytes of an authorisation code */

#define CLEAR_FLOW	OIDC_COOKIE "=; Path=/; Secure; HttpOnly; " \
	"SameSite=Lax; Max-Age=0"

/* What a held request's completion does. */
enum outcome {
	EXCHANGED,		/* the provider answered the code's exchange */
	REFUSED,		/* refused before: not this browser's answer */
	PROVIDER_REFUSED	/* refused before: the provider said no */
};

/* A request answered later, once the provider or the database has. */
struct held {
	struct http_req		 hr;		/* a copy; its query is empty */
	struct evhttp_connection *evcon;
	int			 gone;		/* the browser's connection closed */
	int			 had_conn;	/* hr.conn was set when held */
	int			 blocked;	/* the gate's: past the limit */
	void			(*then)(struct held *);	/* past the gate */
	char			 code[CODE_MAX + 1];
	struct oidc_flow	 flow;
	/* the outcome, for the completion's job */
	struct pool_job		 job;
	enum outcome		 outcome;
	pc_rc			 rc;		/* EXCHANGED's */
	int			 status;	/* REFUSED's */
	char			 sub[JWT_SUB_MAX];
	char			 why[600];	/* for the audit */
	char			 what[900];	/* for the page (refusals) */
};

static void
page(struct http_req *hr, int status, const char *what, const char *todo)
{
	struct buf b;

	buf_init(&b, 0);
	buf_adds(&b, "<main id=\"main\"><h1>You are not signed in</h1><p "
	    "class=\"note\" role=\"alert\">");
	web_esc(&b, what);
	buf_adds(&b, "</p><p>");
	web_esc(&b, todo);
	buf_adds(&b, "</p><p><a href=\"/login\">Back to sign-in</a></p></main>");
	web_page(hr, status, "Sign-in did not work", &b);
	buf_free(&b);
}

/* A refusal after the attempt was made: counted, and audited. */
static void
audit_refusal(struct http_req *hr, const char *why)
{
	char out[HTTP_ESC_LEN(400)];

	http_escape(why, out, sizeof(out));
	(void)auth_failed(hr, 0, "login.oidc.fail", out, NULL);
}

static int
too_many(struct http_req *hr)
{
	enum auth_limit which;

	if (auth_blocked(hr, &which) <= 0)
		return 0;
	page(hr, 429, "Too many failed sign-in attempts came from this "
	    "address.", "Wait a minute, then start again from the sign-in "
	    "page.");
	return 1;
}

/* A refusal of an answer that is not this browser's: counted, audited. */
static void
refuse_counted(struct http_req *hr, int status, const char *why,
    const char *what)
{
	if (auth_failed(hr, 0, "login.oidc.fail", why, NULL) > 0)
		page(hr, 429, "Too many failed sign-in attempts came from this "
		    "address.", "Wait a minute, then start again from the "
		    "sign-in page.");
	else
		page(hr, status, what, "Start again from the sign-in page.");
}

static struct held *
hold(struct http_req *hr)
{
	struct held *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	http_req_move(&h->hr, hr);	/* the original is freed after us */
	h->had_conn = hr->conn != NULL;
	h->evcon = evhttp_request_get_connection(hr->req);
	srv_hold(hr);
	return h;
}

static void
on_gone(struct evhttp_connection *evcon, void *arg)
{
	struct held *h = arg;

	(void)evcon;
	h->gone = 1;
}

static void
watch(struct held *h)
{
	evhttp_connection_set_closecb(h->evcon, on_gone, h);
}

/* Frees h; with answered, after the answer its handler would have done. */
static void
let_go(struct held *h, int answered)
{
	struct server *srv = h->hr.srv;

	if (answered) {
		metrics_request(&srv->metrics, h->hr.status);
		http_req_log(&h->hr);
		srv_release(srv, h->hr.conn);
	}
	sec_wipe(&h->flow, sizeof(h->flow));
	http_req_free(&h->hr);
	free(h);
}

/*
 * Before a held request is answered (or let go): NULL when it cannot
 * be, the browser having gone or the server stopping (h freed).
 */
static struct http_req *
resume(struct held *h, const struct oidc_result *r)
{
	if (!h->gone)
		evhttp_connection_set_closecb(h->evcon, NULL, NULL);
	if (h->gone || (r != NULL && r->stopping)) {
		if (h->gone)
			log_info("oidc: the browser at %s left before its "
			    "sign-in ended", h->hr.peer);
		let_go(h, 0);
		return NULL;
	}
	return &h->hr;
}

/* -- jobs: the parts that read or write the database ------------------ */

static struct held *
held_of(struct pool_job *j)
{
	return (struct held *)((char *)j - offsetof(struct held, job));
}

/* Runs work (on a worker on PostgreSQL), then done on the loop. */
static void
submit(struct held *h, void (*work)(struct pool_job *, struct store *),
    void (*done)(struct pool_job *))
{
	struct http_req *hr = &h->hr;

	h->job.work = work;
	h->job.done = done;
	if (hr->srv->pool != NULL) {
		/* kept by the worker, sent by answer() */
		hr->deferred = 1;
		if (hr->conn != NULL)
			conn_inflight(hr->conn, hr);
	}
	srv_submit(hr->srv, &h->job);
}

/* On the loop: the answer a job made goes out, and h is freed. */
static void
answer(struct held *h)
{
	struct http_req *hr = &h->hr;

	if (hr->conn != NULL)
		conn_inflight(hr->conn, NULL);
	if (hr->deferred) {
		if (hr->status == 0)
			http_reply_error(hr, 500, "E_SYSTEM", "no answer");
		http_send_deferred(hr);
	}
	let_go(h, 1);
}

/*
 * The gate: an address past its limit of failed attempts is refused
 * before anything is tried. The buckets are in the store (shared by the
 * servers on one database), so the check is a job too.
 */
static void
gate_work(struct pool_job *j, struct store *st)
{
	struct held *h = held_of(j);
	struct store *loop = h->hr.store;

	h->hr.store = st;
	h->blocked = too_many(&h->hr);
	h->hr.store = loop;
}

static void
gate_done(struct pool_job *j)
{
	struct held *h = held_of(j);
	struct http_req *hr = &h->hr;

	/* past the limit, or the browser left while the job ran */
	if (h->blocked || (h->had_conn && hr->conn == NULL)) {
		answer(h);
		return;
	}
	if (hr->conn != NULL)
		conn_inflight(hr->conn, NULL);
	hr->deferred = 0;
	h->then(h);
}

/* Holds the request, and goes on with then(h) past the gate. */
static void
gate(struct http_req *hr, void (*then)(struct held *))
{
	struct held *h;

	if ((h = hold(hr)) == NULL) {
		page(hr, 503, "The server is short of memory.", "Try again in "
		    "a moment.");
		return;
	}
	h->then = then;
	submit(h, gate_work, gate_done);
}

static void
provider_down(struct http_req *hr, const char *why)
{
	char what[600];

	audit_refusal(hr, why);
	snprintf(what, sizeof(what), "The server could not reach %s to sign "
	    "you in: %s.", oidc_name(hr->srv->oidc), why);
	page(hr, 503, what, "Try again in a few minutes, or sign in with your "
	    "password. If it keeps happening, tell your administrator.");
}

/* -- POST /login/oidc --------------------------------------------------- */

static void
send_to_provider(struct http_req *hr)
{
	char cookie[OIDC_COOKIE_LEN], set[OIDC_COOKIE_LEN + 96];
	struct buf url;

	buf_init(&url, 4096);
	if (oidc_begin(hr->srv->oidc, (int64_t)srv_now(), cookie, &url) !=
	    PC_OK) {
		buf_free(&url);
		page(hr, 503, "The server could not start the sign-in.",
		    "Try again in a moment.");
		return;
	}
	snprintf(set, sizeof(set), OIDC_COOKIE "=%s; Path=/; Secure; HttpOnly; "
	    "SameSite=Lax; Max-Age=%d", cookie, OIDC_FLOW_SECONDS);
	sec_wipe(cookie, sizeof(cookie));
	http_add_header(hr, "Set-Cookie", set);
	web_redirect(hr, buf_str(&url));
	buf_free(&url);
}

static void
on_ready_start(void *arg, const struct oidc_result *r)
{
	struct held *h = arg;
	struct http_req *hr = resume(h, r);

	if (hr == NULL)
		return;
	if (r->rc == PC_OK)
		send_to_provider(hr);
	else
		provider_down(hr, r->why);
	let_go(h, 1);
}

static int
configured(struct http_req *hr)
{
	if (hr->srv->oidc != NULL)
		return 1;
	page(hr, 404, "Signing in with an organisation's account is not set up "
	    "on this server.", "Sign in with your password or a one-time code "
	    "from your administrator.");
	return 0;
}

static void
start_gated(struct held *h)
{
	struct http_req *hr = &h->hr;

	if (oidc_ready(hr->srv->oidc)) {
		send_to_provider(hr);
		let_go(h, 1);
		return;
	}
	/* the provider's address is not known yet: ask, then send */
	if (oidc_when_ready(hr->srv->oidc, on_ready_start, h) != PC_OK) {
		page(hr, 503, "The server is short of memory.", "Try again in "
		    "a moment.");
		let_go(h, 1);
		return;
	}
	watch(h);
}

void
web_oidc_start(struct http_req *hr)
{
	if (!configured(hr))
		return;
	if (!web_same_origin(hr)) {
		page(hr, 403, "This sign-in did not come from this server's "
		    "own page.", "Open the dashboard's address yourself and "
		    "sign in there.");
		return;
	}
	gate(hr, start_gated);
}

/* -- GET /login/oidc/callback ------------------------------------------- */

static void
signed_in(struct http_req *hr, const char *sub)
{
	struct store *st = hr->store;
	struct oidc *o = hr->srv->oidc;
	struct store_user u;
	char what[700], why[400], esub[HTTP_ESC_LEN(JWT_SUB_MAX)];
	int64_t id = 0;
	pc_rc rc;
	struct buf b;

	http_escape(sub, esub, sizeof(esub));
	rc = store_oidc_find(st, oidc_issuer(o), sub, &id);
	if (rc == PC_OK)
		rc = store_user_get(st, id, &u);
	if (rc == PC_ENOTFOUND) {
		snprintf(why, sizeof(why), "subject %s is linked to no user", esub);
		audit_refusal(hr, why);
		snprintf(what, sizeof(what), "You signed in at %s, but that account "
		    "is not linked to a pcmds user. Its identifier is %s.",
		    oidc_name(o), esub);
		page(hr, 403, what, "Ask your administrator to link it to your "
		    "pcmds user: they run pcmdsd user link, with your user "
		    "number and --oidc-subject followed by that identifier.");
		return;
	}
	if (rc != PC_OK) {
		page(hr, 503, "The server could not read its users.", "Try "
		    "again in a moment.");
		return;
	}
	if (u.revoked || u.role == ROLE_LINK_WORKER) {
		snprintf(why, sizeof(why), "subject %s is user %lld, %s", esub,
		    (long long)u.id, u.revoked ? "revoked" : "a link worker");
		audit_refusal(hr, why);
		snprintf(what, sizeof(what), u.revoked ? "You signed in at %s, "
		    "but your pcmds access has been revoked." : "You signed in at %s, "
		    "but the dashboard is for place leads and evaluators.",
		    oidc_name(o));
		page(hr, 403, what, u.revoked ? "Ask your administrator if you "
		    "should still have access." : "Link workers use the pcmds "
		    "client.");
		return;
	}
	if (store_begin(st) != PC_OK || !web_session_start(hr, &u,
	    "login.oidc")) {
		page(hr, 503, "The server could not start your session.", "Try "
		    "again in a moment.");
		return;
	}
	buf_init(&b, 0);
	buf_adds(&b, "<main id=\"main\"><h1>You are signed in</h1><p>Signed in "
	    "as ");
	web_esc(&b, u.name);
	buf_adds(&b, ". The dashboard opens now.</p><p><a href=\"/dashboard\">"
	    "Go to the dashboard</a></p></main>");
	web_page_then(hr, 200, "Signed in", &b, "/dashboard");
	buf_free(&b);
}

/* On a worker (PostgreSQL) or here (SQLite): the sign-in's outcome. */
static void
complete_work(struct pool_job *j, struct store *st)
{
	struct held *h = held_of(j);
	struct http_req *hr = &h->hr;
	const char *name = oidc_name(hr->srv->oidc);
	char what[700];

	hr->store = st;
	if (h->outcome == REFUSED) {
		refuse_counted(hr, h->status, h->why, h->what);
		return;
	}
	if (h->outcome == PROVIDER_REFUSED) {
		audit_refusal(hr, h->why);
		page(hr, 401, h->what, "Try again. If it keeps refusing, your "
		    "account there may not be allowed to use pcmds: ask your "
		    "administrator.");
		return;
	}
	switch (h->rc) {
	case PC_OK:
		signed_in(hr, h->sub);
		break;
	case PC_EINVAL:
		audit_refusal(hr, h->why);
		snprintf(what, sizeof(what), "%s did not accept this sign-in: %s.",
		    name, h->why);
		page(hr, 401, what, "Start again from the sign-in page.");
		break;
	case PC_EAUTH:
		audit_refusal(hr, h->why);
		snprintf(what, sizeof(what), "The answer from %s could not be "
		    "trusted, so you are not signed in: %s.", name, h->why);
		page(hr, 401, what, "Tell your administrator (this was "
		    "recorded), and sign in with your password meanwhile.");
		break;
	default:
		provider_down(hr, h->why);
	}
}

static void
complete_done(struct pool_job *j)
{
	answer(held_of(j));
}

/* The held request's completion, as a job; h is freed once answered. */
static void
complete(struct held *h)
{
	submit(h, complete_work, complete_done);
}

static void
on_exchanged(void *arg, const struct oidc_result *r)
{
	struct held *h = arg;
	struct http_req *hr = resume(h, r);

	if (hr == NULL)
		return;
	h->outcome = EXCHANGED;
	h->rc = r->rc;
	snprintf(h->sub, sizeof(h->sub), "%s", r->rc == PC_OK && r->sub ?
	    r->sub : "");
	snprintf(h->why, sizeof(h->why), "%s", r->why ? r->why : "");
	complete(h);
}

/* A refusal before the provider is asked, audited by a job. */
static void
refuse_later(struct held *h, enum outcome o, int status, const char *why,
    const char *what)
{
	h->outcome = o;
	h->status = status;
	snprintf(h->why, sizeof(h->why), "%s", why);
	snprintf(h->what, sizeof(h->what), "%s", what);
	complete(h);
}

/* The code goes to the provider (for a held start: discovery first). */
static void
exchange(struct held *h)
{
	struct http_req *hr = &h->hr;

	if (oidc_exchange(hr->srv->oidc, h->code, &h->flow, on_exchanged, h) ==
	    PC_OK) {
		watch(h);
		return;
	}
	page(hr, 503, "The server is short of memory.", "Try again in a "
	    "moment.");
	let_go(h, 1);
}

static void
on_ready_callback(void *arg, const struct oidc_result *r)
{
	struct held *h = arg;
	struct http_req *hr = resume(h, r);

	if (hr == NULL)
		return;
	if (r->rc == PC_OK) {
		exchange(h);
		return;
	}
	provider_down(hr, r->why);
	let_go(h, 1);
}

/* The provider's own refusal (?error=...), passed on. */
static void
provider_error(struct held *h, const char *err)
{
	struct http_req *hr = &h->hr;
	const char *desc = http_query(hr, "error_description");
	char e[HTTP_ESC_LEN(64)], d[HTTP_ESC_LEN(200)], what[900], why[600];

	http_escape(err, e, sizeof(e));
	http_escape(desc ? desc : "", d, sizeof(d));
	snprintf(why, sizeof(why), "the provider answered %s%s%s", e, d[0] ?
	    ": " : "", d);
	snprintf(what, sizeof(what), "%s did not sign you in (%s%s%s).",
	    oidc_name(hr->srv->oidc), e, d[0] ? ": " : "", d);
	refuse_later(h, PROVIDER_REFUSED, 401, why, what);
}

/* Past the gate: the answer checked against the sign-in it ends. */
static void
callback_gated(struct held *h)
{
	struct http_req *hr = &h->hr;
	struct oidc *o = hr->srv->oidc;
	const char *code = http_query(hr, "code"), *err = http_query(hr,
	    "error");
	char cookie[OIDC_COOKIE_LEN];
	pc_rc rc;

	rc = oidc_resume(o, auth_cookie(hr, OIDC_COOKIE, cookie,
	    sizeof(cookie)) ? cookie : NULL, http_query(hr, "state"),
	    (int64_t)srv_now(), &h->flow);
	if (rc == PC_ENOTFOUND) {
		refuse_later(h, REFUSED, 400, "no sign-in in progress",
		    "This browser has no sign-in in progress: it may have "
		    "taken longer than 10 minutes, have been started in "
		    "another browser, or cookies may be blocked for this "
		    "site.");
		return;
	}
	if (rc == PC_EAUTH) {
		refuse_later(h, REFUSED, 403, "state of another sign-in",
		    "This answer does not belong to the sign-in this browser "
		    "started (its state differs), so it was refused: someone "
		    "may have tried to sign you in as somebody else.");
		return;
	}
	if (rc == PC_ECONFLICT) {
		refuse_later(h, REFUSED, 400, "sign-in answer used again",
		    "This answer from the provider was used already; each "
		    "sign-in works once.");
		return;
	}
	/* the provider's refusal, for the sign-in this browser started */
	if (err != NULL) {
		sec_wipe(&h->flow, sizeof(h->flow));
		provider_error(h, err);
		return;
	}
	if (code == NULL || code[0] == '\0' || strlen(code) > CODE_MAX) {
		sec_wipe(&h->flow, sizeof(h->flow));
		refuse_later(h, REFUSED, 400, "no code", "The provider's "
		    "answer holds no sign-in code.");
		return;
	}
	snprintf(h->code, sizeof(h->code), "%s", code);
	if (oidc_ready(o)) {
		exchange(h);
		return;
	}
	if (oidc_when_ready(o, on_ready_callback, h) != PC_OK) {
		page(hr, 503, "The server is short of memory.", "Try again "
		    "in a moment.");
		let_go(h, 1);
		return;
	}
	watch(h);
}

void
web_oidc_callback(struct http_req *hr)
{
	if (!configured(hr))
		return;
	/* used or not, this sign-in ends here */
	http_add_header(hr, "Set-Cookie", CLEAR_FLOW);
	gate(hr, callback_gated);
}

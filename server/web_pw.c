/*
 * web_pw.c - dashboard passwords: set with a one-time code, then used to
 * sign in without asking the administrator for a new code each time.
 *
 * GET /password shows the form, POST /password takes the one-time code
 * (used up, as at sign-in), checks the new password (passwd.h) and
 * stores its scrypt hash; POST /login/password signs in with the user
 * number and the password. Failures count against the address, as every
 * failed sign-in does, and against the user number, so that guessing
 * one user's password from many addresses is slowed too. A new code
 * from the administrator (pcmdsd user code) clears the password.
 * Forms must come from this server's own pages (Sec-Fetch-Site or
 * Origin), like sign-in and sign-out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "auth.h"
#include "passwd.h"
#include "web.h"

#define BODY_MAX	2048

/* The fields of a posted form; 0 when the body is missing or too big. */
static int
form_read(struct http_req *hr, struct evkeyvalq *form)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(hr->req);
	size_t n = evbuffer_get_length(in);
	char body[BODY_MAX];

	TAILQ_INIT(form);
	if (n == 0 || n >= sizeof(body))
		return 0;
	evbuffer_copyout(in, body, n);
	body[n] = '\0';
	return evhttp_parse_query_str(body, form) == 0;
}

static const char *
field(struct evkeyvalq *form, const char *name)
{
	const char *v = evhttp_find_header(form, name);

	return v ? v : "";
}

static void
password_form(struct http_req *hr, int status, const char *problem)
{
	struct buf b;

	buf_init(&b, 0);
	buf_adds(&b, "<main id=\"main\"><h1>Set your dashboard password</h1>"
	    "<p>With the one-time code from your administrator, once: from "
	    "then on you sign in with your user number and this password. "
	    "A new code from the administrator resets it.</p>");
	if (problem != NULL) {
		buf_adds(&b, "<p class=\"note\" role=\"alert\">");
		web_esc(&b, problem);
		buf_adds(&b, "</p>");
	}
	buf_addf(&b, "<form class=\"login\" method=\"post\" action=\"/password\">"
	    "<p><label for=\"code\">One-time code</label><br><input id=\"code\" "
	    "name=\"code\" autocomplete=\"one-time-code\" required></p>"
	    "<p><label for=\"password\">New password (at least %d "
	    "characters)</label><br><input id=\"password\" name=\"password\" "
	    "type=\"password\" autocomplete=\"new-password\" required "
	    "minlength=\"%d\" maxlength=\"%d\"></p><p><label for=\"again\">The "
	    "same again</label><br><input id=\"again\" name=\"again\" "
	    "type=\"password\" autocomplete=\"new-password\" required></p>"
	    "<p><button type=\"submit\">Set the password and sign in</button>"
	    "</p></form><p><a href=\"/login\">Back to sign-in</a></p></main>",
	    PASSWD_MIN, PASSWD_MIN, PASSWD_MAX);
	web_page(hr, status, "Set your password", &b);
	buf_free(&b);
}

static void
set_password(struct http_req *hr, struct evkeyvalq *form)
{
	struct store *st = hr->store;
	const char *pw = field(form, "password"), *why;
	uint8_t chash[SEC_SHA256_LEN];
	char stored[PASSWD_LEN];
	struct store_user u;
	int64_t user, now = (int64_t)srv_now();
	struct buf b;
	pc_rc rc;

	if ((why = passwd_problem(pw)) != NULL) {
		password_form(hr, 400, why);
		return;
	}
	if (strcmp(pw, field(form, "again")) != 0) {
		password_form(hr, 400, "The two passwords differ; type them "
		    "again.");
		return;
	}
	if (auth_code_hash(field(form, "code"), chash) != 0) {
		(void)auth_failed(hr, 1, "login.fail", "malformed code", NULL);
		password_form(hr, 401, "A code looks like ABCD-EFGH-JKMN.");
		return;
	}
	/* the hash first: scrypt takes a while, outside the transaction */
	if (passwd_hash(pw, stored) != PC_OK || store_begin(st) != PC_OK) {
		password_form(hr, 503, "The server could not set the password; "
		    "try again.");
		return;
	}
	rc = store_cred_take_code(st, chash, now, &user);
	if (rc == PC_ENOTFOUND || rc == PC_EAUTH) {
		store_rollback(st);
		password_form(hr, auth_failed(hr, 1, "login.fail", "bad code",
		    NULL) > 0 ? 429 : 401, "That code is not valid: it may be mistyped, "
		    "expired or already used. Ask your administrator for a new "
		    "one.");
		return;
	}
	if (rc != PC_OK || store_user_get(st, user, &u) != PC_OK ||
	    u.role == ROLE_LINK_WORKER) {
		store_rollback(st);
		password_form(hr, rc == PC_OK ? 403 : 503, rc == PC_OK ? "The "
		    "dashboard is for place leads and evaluators." : "The server "
		    "could not set the password; try again.");
		return;
	}
	if (store_password_set(st, u.id, stored, now) != PC_OK ||
	    !web_session_start(hr, &u, "password.set")) {
		store_rollback(st);
		password_form(hr, 503, "The server could not set the password; "
		    "try again.");
		return;
	}
	buf_init(&b, 0);
	buf_addf(&b, "<main id=\"main\"><h1>Your password is set</h1><p>From "
	    "now on, sign in with your user number, <strong>%lld</strong>, "
	    "and this password. If you forget it, ask your administrator for "
	    "a new one-time code and set it again.</p><p><a href=\"/dashboard"
	    "\">Go to the dashboard</a></p></main>", (long long)u.id);
	web_page(hr, 200, "Password set", &b);
	buf_free(&b);
}

void
web_password(struct http_req *hr)
{
	struct evkeyvalq form;
	enum auth_limit which;

	if (hr->method != EVHTTP_REQ_POST) {
		password_form(hr, 200, NULL);
		return;
	}
	if (!web_same_origin(hr)) {
		password_form(hr, 403, "This form did not come from this "
		    "server's own page; open the dashboard's address yourself.");
		return;
	}
	if (auth_blocked(hr, &which) > 0) {
		password_form(hr, 429, which == AUTH_GLOBAL ? "Too many failed "
		    "sign-in attempts on this server; wait a minute and try "
		    "again." : "Too many failed attempts; wait a minute and try "
		    "again.");
		return;
	}
	if (!form_read(hr, &form))
		password_form(hr, 400, "Fill in the code and the password.");
	else
		set_password(hr, &form);
	evhttp_clear_headers(&form);
}

/* A failed password: counted for the address and for the user. */
static void
bad_password(struct http_req *hr, const char *key)
{
	/* not a code: the address's budget and the user's, not the global */
	double wait = auth_failed(hr, 0, "login.fail", "bad password", NULL);

	/* the user's, like the address's, held across servers (auth.h) */
	if (auth_bucket(hr, &hr->srv->auth_fail, key, 1) > 0 || wait > 0)
		web_login_problem(hr, 429, "Too many failed attempts; wait a "
		    "minute and try again.");
	else
		web_login_problem(hr, 401, "The user number or the password is "
		    "wrong. Forgotten it? Ask your administrator for a new "
		    "one-time code and set a new password.");
}

void
web_login_password(struct http_req *hr)
{
	struct store *st = hr->store;
	struct evkeyvalq form;
	struct store_user u;
	char stored[PASSWD_LEN], key[40], *end;
	const char *num;
	enum auth_limit which;
	long long id;
	pc_rc rc;
	int ok;

	if (!web_same_origin(hr)) {
		web_login_problem(hr, 403, "This sign-in did not come from this "
		    "server's own page; open the dashboard's address yourself "
		    "and sign in there.");
		return;
	}
	if (!form_read(hr, &form)) {
		web_login_problem(hr, 400, "Fill in your user number and "
		    "password.");
		return;
	}
	num = field(&form, "user");
	id = strtoll(num, &end, 10);
	snprintf(key, sizeof(key), "user:%lld", id);
	/*
	 * A flood of bad codes elsewhere (the global limit) does not stop
	 * passwords; this address's failures and this user's do.
	 */
	if ((auth_blocked(hr, &which) > 0 && which == AUTH_ADDRESS) ||
	    auth_bucket(hr, &hr->srv->auth_fail, key, 0) > 0) {
		evhttp_clear_headers(&form);
		web_login_problem(hr, 429, "Too many failed attempts; wait a "
		    "minute and try again.");
		return;
	}
	if (*num == '\0' || *end != '\0' || id <= 0) {
		evhttp_clear_headers(&form);
		web_login_problem(hr, 400, "Your user number is a whole number "
		    "(shown when you set your password).");
		return;
	}
	/* an unknown user costs the same scrypt as a wrong password */
	rc = store_user_get(st, id, &u);
	if (rc == PC_OK && (u.revoked || u.role == ROLE_LINK_WORKER))
		rc = PC_ENOTFOUND;
	if (rc == PC_OK)
		rc = store_password_get(st, id, stored, sizeof(stored));
	if (rc != PC_OK)
		snprintf(stored, sizeof(stored), "scrypt$32768$8$1$"
		    "AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	ok = passwd_verify(field(&form, "password"), stored) == 1 && rc ==
	    PC_OK;
	evhttp_clear_headers(&form);
	if (rc == PC_ESTORE) {
		web_login_problem(hr, 503, "The server could not sign you in; "
		    "try again.");
		return;
	}
	if (!ok) {
		bad_password(hr, key);
		return;
	}
	if (store_begin(st) != PC_OK || !web_session_start(hr, &u,
	    "login.password")) {
		web_login_problem(hr, 503, "The server could not sign you in; "
		    "try again.");
		return;
	}
	web_redirect(hr, "/dashboard");
}

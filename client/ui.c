/*
 * ui.c - the app's server: loopback evhttp, the checks every request
 * passes, the routing table and the page shell.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "sec.h"
#include "ui.h"
#include "uuid.h"

#define COOKIE		"pcmds_ui"
#define BODY_MAX	(64 * 1024)

static const char csp[] = "default-src 'none'; script-src 'self'; "
    "style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

static void ui_launch(struct ui_req *);
static void ui_quit(struct ui_req *);

static const struct ui_route routes[] = {
	{"/", "GET", ui_caseload, NULL, "caseload: open referrals and what "
	    "is due"},
	{"/find", "POST", NULL, ui_find, "find a person by NHS number"},
	{"/referral/new", "GET, POST", ui_referral_form, ui_referral_post,
	    "a new referral"},
	{"/r/{referral}", "GET", ui_timeline, NULL, "a referral's timeline"},
	{"/r/{referral}/assess", "GET, POST", ui_assess_form, ui_assess_post,
	    "ONS4 assessment"},
	{"/r/{referral}/contact", "GET, POST", ui_contact_form,
	    ui_contact_post, "a contact"},
	{"/r/{referral}/support", "GET, POST", ui_support_form,
	    ui_support_post, "support offered"},
	{"/r/{referral}/close", "GET, POST", ui_close_form, ui_close_post,
	    "closing the referral"},
	{"/rec/{record}/correct", "GET, POST", ui_correct_form,
	    ui_correct_post, "correcting a record"},
	{"/rec/{record}/void", "GET, POST", ui_void_form, ui_void_post,
	    "voiding a record"},
	{"/quarantine", "GET", ui_quarantine, NULL, "records the server "
	    "refused"},
	{"/assets", "GET", ui_directory, NULL, "the directory of community "
	    "assets"},
	{"/sync", "GET, POST", ui_sync_page, ui_sync_post, "sync with the "
	    "server"},
	{"/quit", "POST", NULL, ui_quit, "close the app"},
	{"/app.css", "GET", ui_css, NULL, "stylesheet"},
	{"/app.js", "GET", ui_js, NULL, "optional script"},
	{"/launch", "GET", ui_launch, NULL, "the launch link (single use)"},
	{"/unlock", "POST", NULL, ui_unlock_post, "unlock the records with "
	    "the store's passphrase"},
};
#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

void
ui_print_routes(void)
{
	size_t i;

	for (i = 0; i < NROUTES; i++)
		printf("%-10s %-24s %s\n", routes[i].methods, routes[i].pattern,
		    routes[i].what);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static pc_rc
new_token(char out[UI_TOKEN_LEN])
{
	uint8_t r[32];

	if (sec_random(r, sizeof(r)) != PC_OK)
		return PC_EIO;
	sec_hex(r, sizeof(r), out);
	sec_wipe(r, sizeof(r));
	return PC_OK;
}

/* ---- answers ---------------------------------------------------------- */

void
ui_answer(struct ui_req *r, int status, const char *ctype, const char *body,
    size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
	struct evbuffer *b = evbuffer_new();

	evhttp_add_header(h, "Content-Type", ctype);
	/* the browser keeps nothing the app shows */
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "Pragma", "no-cache");
	evhttp_add_header(h, "Content-Security-Policy", csp);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	/* not no-referrer: browsers then send "Origin: null" with forms */
	evhttp_add_header(h, "Referrer-Policy", "same-origin");
	evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
	evhttp_add_header(h, "Cross-Origin-Resource-Policy", "same-origin");
	if (b == NULL || evbuffer_add(b, body, len) != 0) {
		evhttp_send_error(r->req, 503, "out of memory");
		if (b != NULL)
			evbuffer_free(b);
		return;
	}
	evhttp_send_reply(r->req, status, status == 200 ? "OK" :
	    status == 303 ? "See Other" : "Refused", b);
	evbuffer_free(b);
}

static void
plain(struct ui_req *r, int status, const char *text)
{
	ui_answer(r, status, "text/plain; charset=utf-8", text, strlen(text));
}

void
ui_redirect(struct ui_req *r, const char *location)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Location", location);
	ui_answer(r, 303, "text/plain; charset=utf-8", "", 0);
}

void
ui_csrf_field(struct ui_req *r, struct html *h)
{
	html_f(h, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">",
	    r->ui->csrf);
}

/* "01/12/2026 09:13" of the last sync, or "never". */
static void
last_sync(struct ui_req *r, char *out, size_t len)
{
	char iso[64] = "";
	int64_t t;
	time_t tt;
	struct tm tm;

	snprintf(out, len, "never");
	if (r->ui->c->store == NULL ||
	    cstore_meta_get(r->ui->c->store, "last_sync", iso, sizeof(iso)) !=
	    PC_OK || time_parse(iso, &t) != 0)
		return;
	tt = (time_t)t;
	localtime_r(&tt, &tm);
	strftime(out, len, "%d/%m/%Y %H:%M", &tm);
}

static void
shell_head(struct ui_req *r, struct html *h, const char *title)
{
	long n[CS_NSTATES] = {0};
	char when[64];

	if (r->ui->c->store != NULL)
		(void)cstore_counts(r->ui->c->store, n);
	last_sync(r, when, sizeof(when));
	html_f(h, "<!DOCTYPE html>\n<html lang=\"en-GB\"><head>"
	    "<meta charset=\"utf-8\"><meta name=\"viewport\" "
	    "content=\"width=device-width, initial-scale=1\">"
	    "<title>%s - pcmds</title><link rel=\"stylesheet\" "
	    "href=\"/app.css\"><script src=\"/app.js\" defer></script></head>"
	    "<body><a class=\"skip\" href=\"#main\">Skip to content</a>"
	    "<header><nav aria-label=\"Main\"><ul>"
	    "<li><a href=\"/\">Caseload</a></li>"
	    "<li><a href=\"/referral/new\">New referral</a></li>"
	    "<li><a href=\"/quarantine\">Refused records (%ld)</a></li>"
	    "<li><a href=\"/assets\">Directory</a></li>"
	    "<li><a href=\"/sync\">Sync</a></li></ul></nav>"
	    "<p class=\"status\">Last sync: %s. %ld waiting to be sent.</p>"
	    "<form method=\"post\" action=\"/quit\" class=\"quit\">", title,
	    n[CS_QUARANTINED], when, n[CS_PENDING]);
	ui_csrf_field(r, h);
	html_m(h, "<button type=\"submit\">Close the app</button></form>"
	    "</header><main id=\"main\">");
}

void
ui_page(struct ui_req *r, int status, const char *title, struct html *body)
{
	struct html h;
	const char *p, *b;
	size_t len, blen;

	html_init(&h);
	shell_head(r, &h, title);
	if ((b = html_done(body, &blen)) == NULL) {
		html_free(&h);
		plain(r, 503, "The page could not be made (out of memory).");
		return;
	}
	html_m(&h, b);
	html_m(&h, "</main></body></html>\n");
	if ((p = html_done(&h, &len)) == NULL)
		plain(r, 503, "The page could not be made (out of memory).");
	else
		ui_answer(r, status, "text/html; charset=utf-8", p, len);
	html_free(&h);
}

void
ui_error(struct ui_req *r, int status, const char *title, const char *sentence)
{
	struct html b;

	html_init(&b);
	html_f(&b, "<h1>%s</h1><p role=\"alert\">%s</p><p><a href=\"/\">Back "
	    "to the caseload</a></p>", title, sentence);
	ui_page(r, status, title, &b);
	html_free(&b);
}

void
ui_fail(struct ui_req *r, const struct err_list *errs)
{
	ui_error(r, 500, "Something went wrong", errs->n > 0 ? errs->v[0].msg :
	    "The store could not be read; nothing was changed.");
}

pc_rc
ui_store(struct ui_req *r, struct err_list *errs)
{
	return ctx_store(r->ui->c, errs);
}

int
ui_open(struct ui_req *r)
{
	struct err_list errs;
	int rc = 0;

	err_init(&errs);
	if (ui_store(r, &errs) != PC_OK) {
		ui_fail(r, &errs);
		rc = -1;
	}
	err_free(&errs);
	return rc;
}

const char *
ui_query(struct ui_req *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

const char *
ui_form(struct ui_req *r, const char *name)
{
	return evhttp_find_header(&r->form, name);
}

/* ---- the checks ------------------------------------------------------- */

/*
 * The owner of the connecting socket, from /proc/net/tcp: the browser is
 * this user's, so a socket of another user's is refused before anything
 * else. -1 when it cannot be told.
 */
static long
peer_uid(int fd)
{
	struct sockaddr_in peer, self;
	socklen_t pl = sizeof(peer), sl = sizeof(self);
	char line[512], want[64];
	long uid = -1;
	FILE *fp;

	if (getpeername(fd, (struct sockaddr *)&peer, &pl) != 0 ||
	    getsockname(fd, (struct sockaddr *)&self, &sl) != 0 ||
	    peer.sin_family != AF_INET || (fp = fopen("/proc/net/tcp",
	    "r")) == NULL)
		return -1;
	/* the browser's end: local = its address, remote = ours */
	snprintf(want, sizeof(want), "%08X:%04X %08X:%04X",
	    (unsigned)peer.sin_addr.s_addr, ntohs(peer.sin_port),
	    (unsigned)self.sin_addr.s_addr, ntohs(self.sin_port));
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *p = strchr(line, ':');
		unsigned long f[8];

		if (p == NULL || strncmp(p + 2, want, strlen(want)) != 0)
			continue;
		/* sl local rem st tx:rx tr:tm retrnsmt uid */
		if (sscanf(p + 2 + strlen(want), " %lx %lx:%lx %lx:%lx %lx %lu",
		    &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6]) == 7)
			uid = (long)f[6];
		break;
	}
	fclose(fp);
	return uid;
}

static int
same_user(struct ui_req *r)
{
	struct evhttp_connection *con = evhttp_request_get_connection(r->req);
	struct bufferevent *bev = con ? evhttp_connection_get_bufferevent(con) :
	    NULL;
	long uid = bev ? peer_uid(bufferevent_getfd(bev)) : -1;

	/* a connection whose owner cannot be told is refused: the launch
	 * URL is visible to other users while the browser starts */
	return uid >= 0 && uid == (long)getuid();
}

/* Host must name this server as the browser was told to (DNS rebinding). */
static int
host_ok(struct ui_req *r, const char *host)
{
	char a[64], b[64];

	if (host == NULL)
		return 0;
	snprintf(a, sizeof(a), "127.0.0.1:%d", r->ui->port);
	snprintf(b, sizeof(b), "localhost:%d", r->ui->port);
	return strcmp(host, a) == 0 || strcasecmp(host, b) == 0;
}

static int
origin_ok(struct ui_req *r)
{
	const char *o = evhttp_find_header(evhttp_request_get_input_headers(
	    r->req), "Origin");

	return o != NULL && strncmp(o, "http://", 7) == 0 && host_ok(r, o + 7);
}

/* The session cookie's value matches (in constant time). */
static int
cookie_ok(struct ui_req *r)
{
	const char *c = evhttp_find_header(evhttp_request_get_input_headers(
	    r->req), "Cookie"), *p;
	size_t n = strlen(COOKIE);

	for (p = c; p != NULL && *p != '\0'; p += strcspn(p, ";"),
	    p += *p == ';') {
		while (*p == ' ')
			p++;
		if (strncmp(p, COOKIE "=", n + 1) == 0 &&
		    strcspn(p + n + 1, "; ") == UI_TOKEN_LEN - 1)
			return sec_equal(p + n + 1, r->ui->session,
			    UI_TOKEN_LEN - 1);
	}
	return 0;
}

static int
csrf_ok(struct ui_req *r)
{
	const char *t = ui_form(r, "csrf");

	return t != NULL && strlen(t) == UI_TOKEN_LEN - 1 &&
	    sec_equal(t, r->ui->csrf, UI_TOKEN_LEN - 1);
}

/* Reads the form body; 0, or -1 when too long or not a form. */
static int
read_form(struct ui_req *r)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(
	    r->req), "Content-Type");
	size_t n = evbuffer_get_length(in);
	char *body;
	int rc;

	if (n > BODY_MAX || ct == NULL || strncasecmp(ct,
	    "application/x-www-form-urlencoded", 33) != 0)
		return -1;
	if ((body = malloc(n + 1)) == NULL)
		return -1;
	evbuffer_copyout(in, body, n);
	body[n] = '\0';
	rc = evhttp_parse_query_str(body, &r->form);
	/* it may hold an NHS number: nothing of it is kept */
	sec_wipe(body, n);
	evbuffer_drain(in, n);
	free(body);
	return rc;
}

/* ---- routing ---------------------------------------------------------- */

/* 1 when path fits pattern; a {..} segment takes a record's UUID. */
static int
match(const char *pattern, const char *path, char arg[UUID_LEN])
{
	const char *open;
	size_t pre;

	if ((open = strchr(pattern, '{')) == NULL)
		return strcmp(pattern, path) == 0;
	pre = (size_t)(open - pattern);
	if (strncmp(pattern, path, pre) != 0 || strlen(path + pre) <
	    UUID_LEN - 1)
		return 0;
	snprintf(arg, UUID_LEN, "%.*s", UUID_LEN - 1, path + pre);
	return uuid_valid(arg) &&
	    strcmp(strchr(open, '}') + 1, path + pre + UUID_LEN - 1) == 0;
}

/* Pages that need no records: they answer while the store is locked. */
static int
keyless(const struct ui_route *rt)
{
	return rt->get == ui_css || rt->get == ui_js || rt->get == ui_launch ||
	    rt->post == ui_quit || rt->post == ui_unlock_post;
}

static void
route(struct ui_req *r)
{
	size_t i;

	for (i = 0; i < NROUTES; i++) {
		const struct ui_route *rt = &routes[i];

		if (!match(rt->pattern, r->path, r->arg))
			continue;
		if (!keyless(rt) && ui_locked(r))
			return;
		if (r->post && rt->post != NULL)
			rt->post(r);
		else if (!r->post && rt->get != NULL)
			rt->get(r);
		else {
			evhttp_add_header(evhttp_request_get_output_headers(
			    r->req), "Allow", rt->methods);
			plain(r, 405, "That is not allowed here.");
		}
		return;
	}
	ui_error(r, 404, "Not found", "There is no page at this address.");
}

/* The path and query of the request; -1 when they cannot be read. */
static int
parse_uri(struct ui_req *r)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(r->req);
	const char *p = u ? evhttp_uri_get_path(u) : NULL;
	const char *q = u ? evhttp_uri_get_query(u) : NULL;
	char *dec;

	if (p == NULL || (dec = evhttp_uridecode(p, 0, NULL)) == NULL)
		return -1;
	snprintf(r->path, sizeof(r->path), "%s", dec);
	free(dec);
	if (q != NULL && evhttp_parse_query_str(q, &r->query) != 0)
		return -1;
	return 0;
}

/* Everything a request must pass before a page sees it; 0 when it did. */
static int
admit(struct ui_req *r)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(r->req);
	enum evhttp_cmd_type m = evhttp_request_get_command(r->req);

	if (!same_user(r)) {
		plain(r, 403, "This app belongs to another user of this "
		    "computer (or this connection's owner could not be told); "
		    "nothing was shown.");
		return -1;
	}
	if (!host_ok(r, evhttp_find_header(in, "Host"))) {
		plain(r, 403, "Open the app from the address pcmds ui gives "
		    "(http://127.0.0.1:PORT).");
		return -1;
	}
	if (parse_uri(r) != 0) {
		plain(r, 400, "That address cannot be read.");
		return -1;
	}
	r->post = m == EVHTTP_REQ_POST;
	if (strcmp(r->path, "/launch") == 0 && !r->post)
		return 0;	/* the secret is its own check */
	if (!cookie_ok(r)) {
		ui_error(r, 403, "Start the app again", "This browser has not "
		    "been let in: run pcmds ui again, and use the address it "
		    "opens.");
		return -1;
	}
	if (r->post && (!origin_ok(r) || read_form(r) != 0 || !csrf_ok(r))) {
		ui_error(r, 403, "Refused", "This form did not come from the "
		    "app "
		    "(or the app was started again since it was opened); "
		    "nothing was changed. Go back, reload the page and try "
		    "again.");
		return -1;
	}
	return 0;
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct ui_req r;

	memset(&r, 0, sizeof(r));
	r.ui = arg;
	r.req = req;
	TAILQ_INIT(&r.query);
	TAILQ_INIT(&r.form);
	r.ui->last_used = now_s();
	/* the app may be open past midnight: today is the device's today */
	record_opts(&r.ui->c->ropts);
	if (admit(&r) == 0)
		route(&r);
	evhttp_clear_headers(&r.query);
	evhttp_clear_headers(&r.form);
}

/* GET /launch?k=SECRET: the secret once, for the cookie; then a clean URL. */
static void
ui_launch(struct ui_req *r)
{
	const char *k = ui_query(r, "k");
	char cookie[128];

	if (cookie_ok(r)) {
		ui_redirect(r, "/");
		return;
	}
	if (k == NULL || r->ui->secret_used || strlen(k) != UI_TOKEN_LEN - 1 ||
	    !sec_equal(k, r->ui->secret, UI_TOKEN_LEN - 1)) {
		ui_error(r, 403, "This link has been used", "A launch link "
		    "works once. Run pcmds ui again for a new one.");
		return;
	}
	r->ui->secret_used = 1;
	sec_wipe(r->ui->secret, sizeof(r->ui->secret));
	snprintf(cookie, sizeof(cookie), COOKIE "=%s; Path=/; HttpOnly; "
	    "SameSite=Strict", r->ui->session);
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Set-Cookie", cookie);
	ui_redirect(r, "/");
}

/* Stops the loop once the last page has gone out whole. */
static void
on_quit_sent(struct evhttp_request *req, void *arg)
{
	(void)req;
	event_base_loopexit(arg, NULL);
}

static void
ui_quit(struct ui_req *r)
{
	struct html b;

	evhttp_request_set_on_complete_cb(r->req, on_quit_sent, r->ui->base);
	html_init(&b);
	html_m(&b, "<h1>The app is closed</h1><p>Everything you recorded is "
	    "kept on this computer. Run pcmds ui to open the app again.</p>");
	ui_page(r, 200, "Closed", &b);
	html_free(&b);
}

/* ---- the server ------------------------------------------------------- */

static void
on_idle(evutil_socket_t fd, short what, void *arg)
{
	struct ui *u = arg;

	(void)fd;
	(void)what;
	if (u->sync.pid == 0 && now_s() - u->last_used > u->idle_s) {
		fprintf(stderr, "pcmds ui: closed after %d minutes unused\n",
		    u->idle_s / 60);
		event_base_loopexit(u->base, NULL);
	}
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopexit(arg, NULL);
}

static int
bind_loopback(struct ui *u, int port)
{
	struct evhttp_bound_socket *bs;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, one = 1;

	if ((bs = evhttp_bind_socket_with_handle(u->http, "127.0.0.1",
	    (ev_uint16_t)port)) == NULL)
		return -1;
	fd = evhttp_bound_socket_get_fd(bs);
	/* accepted sockets inherit it: keep-alive requests do not stall */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	u->port = ntohs(sa.sin_port);
	return 0;
}

static int
on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char dir[4096], *d, *save = NULL;

	snprintf(dir, sizeof(dir), "%s", path ? path : "/usr/bin:/bin");
	for (d = strtok_r(dir, ":", &save); d != NULL;
	    d = strtok_r(NULL, ":", &save)) {
		char exe[4200];

		snprintf(exe, sizeof(exe), "%s/%s", d, prog);
		if (access(exe, X_OK) == 0)
			return 1;
	}
	return 0;
}

/* xdg-open the launch URL, detached; its output is not ours. */
static void
open_browser(const char *url)
{
	pid_t pid = fork();
	int fd;

	if (pid != 0)
		return;
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	setsid();
	execlp("xdg-open", "xdg-open", url, (char *)NULL);
	_exit(127);
}

static int
setup(struct ui *u, struct ctx *c, int port, int idle_s)
{
	ssize_t n;

	memset(u, 0, sizeof(*u));
	u->c = c;
	u->idle_s = idle_s;
	u->last_used = now_s();
	buf_init(&u->sync.out, 1 << 20);
	if ((n = readlink("/proc/self/exe", u->exe, sizeof(u->exe) - 1)) > 0)
		u->exe[n] = '\0';
	if (new_token(u->secret) != PC_OK || new_token(u->session) != PC_OK ||
	    new_token(u->csrf) != PC_OK ||
	    (u->base = event_base_new()) == NULL ||
	    (u->http = evhttp_new(u->base)) == NULL)
		return -1;
	evhttp_set_allowed_methods(u->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST);
	evhttp_set_max_body_size(u->http, BODY_MAX);
	evhttp_set_max_headers_size(u->http, 32 * 1024);
	evhttp_set_timeout(u->http, 60);
	evhttp_set_gencb(u->http, on_request, u);
	if (bind_loopback(u, port) != 0) {
		fprintf(stderr, "pcmds ui: cannot listen on 127.0.0.1:%d: %s\n",
		    port, strerror(errno));
		return -1;
	}
	return 0;
}

static void
teardown(struct ui *u, struct event **sigs, size_t nsigs)
{
	size_t i;

	ui_sync_stop(u);
	/* the agent the app kept for its sync goes with it */
	if (u->shares_keys) {
		struct err_list errs;

		err_init(&errs);
		(void)ctx_lock(u->c, &errs);
		err_free(&errs);
	}
	for (i = 0; i < nsigs; i++)
		if (sigs[i] != NULL)
			event_free(sigs[i]);
	if (u->idle != NULL)
		event_free(u->idle);
	if (u->http != NULL)
		evhttp_free(u->http);
	if (u->base != NULL)
		event_base_free(u->base);
	buf_free(&u->sync.out);
	sec_wipe(u->session, sizeof(u->session));
	sec_wipe(u->csrf, sizeof(u->csrf));
	sec_wipe(u->secret, sizeof(u->secret));
}

int
ui_run(struct ctx *c, int port, int idle_s, int browser)
{
	static const struct timeval tick = {15, 0};
	struct event *sigs[2] = {NULL, NULL};
	struct ui u;
	char url[160];
	int ex = EXIT_OK;

	signal(SIGPIPE, SIG_IGN);
	if (setup(&u, c, port, idle_s) != 0) {
		teardown(&u, sigs, 2);
		return EXIT_STORE;
	}
	sigs[0] = evsignal_new(u.base, SIGINT, on_signal, u.base);
	sigs[1] = evsignal_new(u.base, SIGTERM, on_signal, u.base);
	u.idle = event_new(u.base, -1, EV_PERSIST, on_idle, &u);
	if (sigs[0] == NULL || sigs[1] == NULL || u.idle == NULL ||
	    evsignal_add(sigs[0], NULL) != 0 || evsignal_add(sigs[1], NULL) ||
	    event_add(u.idle, &tick) != 0) {
		teardown(&u, sigs, 2);
		return EXIT_STORE;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/launch?k=%s", u.port,
	    u.secret);
	if (browser && !on_path("xdg-open")) {
		fprintf(stderr, "pcmds ui: no xdg-open to open a browser with; "
		    "open this address (it works once):\n");
		browser = 0;
	}
	if (browser) {
		open_browser(url);
		fprintf(stderr, "pcmds ui: the app is open in your browser at "
		    "http://127.0.0.1:%d/ (close it from the app)\n", u.port);
	} else {
		printf("%s\n", url);
		fflush(stdout);
	}
	sec_wipe(url, sizeof(url));
	if (event_base_dispatch(u.base) < 0)
		ex = EXIT_STORE;
	teardown(&u, sigs, 2);
	return ex;
}

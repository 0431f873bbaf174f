/*
 * web.h - the dashboard and its sign-in (web.c).
 */
#ifndef PCMDS_WEB_H
#define PCMDS_WEB_H

#include "srv.h"

void	 web_root(struct http_req *);
void	 web_login(struct http_req *);
void	 web_logout(struct http_req *);
void	 web_dashboard(struct http_req *);
void	 web_css(struct http_req *);

/* The pieces dash.c builds its pages with (web.c). */
void	 web_esc(struct buf *, const char *);
/* Sends body in the page frame; a failed buffer is a 500 (buf.h). */
void	 web_page(struct http_req *, int status, const char *title,
	    const struct buf *body);
/*
 * The same, and the browser goes on to to at once (a refresh from this
 * page: unlike a redirect from a provider's, it carries the session's
 * SameSite=Strict cookie).
 */
void	 web_page_then(struct http_req *, int status, const char *title,
	    const struct buf *body, const char *to);
void	 web_redirect(struct http_req *, const char *to);
/*
 * Inside the caller's transaction: a new session for u (any the browser
 * had is revoked), audited as how, committed, and its cookie set. 0 when
 * it failed (rolled back, nothing sent).
 */
int	 web_session_start(struct http_req *, const struct store_user *u,
	    const char *how);
/* A form posted from this server's own pages (login CSRF). */
int	 web_same_origin(struct http_req *);
/* The sign-in page again, with why it was refused. */
void	 web_login_problem(struct http_req *, int status, const char *why);

/* web_pw.c: GET and POST /password, POST /login/password */
void	 web_password(struct http_req *);
void	 web_login_password(struct http_req *);

/* web_oidc.c: POST /login/oidc, GET /login/oidc/callback */
void	 web_oidc_start(struct http_req *);
void	 web_oidc_callback(struct http_req *);

/* dash.c: the stylesheet, and a request refused as a page. */
extern const char dash_css[];
void	 web_problem(struct http_req *, int status, const char *why);

#endif

/*
 * ui.h - pcmds ui: the link worker's app, a local web server.
 *
 * ui.c owns the server (libevent's evhttp on 127.0.0.1 only), the
 * security of every request and the routing table; the pages live in
 * ui_pages.c (caseload, find, timeline, quarantine, directory),
 * ui_forms.c (the recording forms, from the data set's field tables),
 * ui_chart.c (the ONS4 chart), ui_sync.c (sync in a child process) and
 * ui_static.c (the stylesheet and the small optional script).
 *
 * Security, since it is a server on a shared laptop: loopback only; a
 * Host other than 127.0.0.1:PORT or localhost:PORT is refused (DNS
 * rebinding); the launch secret in the opened URL works once, is
 * exchanged for an HttpOnly SameSite=Strict cookie and the URL is
 * redirected clean; every POST needs the cookie, the form's CSRF token
 * and a same-origin Origin; a connection from another user's socket is
 * refused; every answer carries a strict Content-Security-Policy and
 * Cache-Control: no-store. Nothing that identifies a person is put in a
 * URL or a log line: records are named by their random ids.
 */
#ifndef PCMDS_UI_H
#define PCMDS_UI_H

#include <sys/types.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "client.h"
#include "html.h"

#define UI_TOKEN_LEN	65	/* 32 random bytes as hex, with the NUL */

struct ui_sync {
	pid_t		 pid;		/* 0: none running */
	int		 progress_fd, out_fd;
	struct event	*ev_progress, *ev_out;
	struct buf	 out;		/* the child's stdout and stderr */
	long		 done, total;
	int		 finished;	/* a result to show */
	int		 status;	/* its exit status */
};

struct ui {
	struct ctx		*c;
	struct event_base	*base;
	struct evhttp		*http;
	struct event		*idle;
	int			 port;
	int			 idle_s;	/* closes after this unused */
	double			 last_used;
	char			 secret[UI_TOKEN_LEN];	/* launch, single use */
	int			 secret_used;
	char			 session[UI_TOKEN_LEN];	/* the cookie */
	char			 csrf[UI_TOKEN_LEN];
	char			 exe[4096];	/* this program, for sync */
	struct ui_sync		 sync;
	int			 shares_keys;	/* unlocked here: an agent */
};

/* One request as a page sees it. */
struct ui_req {
	struct ui		*ui;
	struct evhttp_request	*req;
	char			 path[256];
	char			 arg[UUID_LEN];	/* {referral}, {record} */
	struct evkeyvalq	 query;
	struct evkeyvalq	 form;		/* POST body fields */
	int			 post;
};

struct ui_route {
	const char	*pattern;	/* "/r/{referral}/assess" */
	const char	*methods;	/* "GET", "GET, POST" */
	void		(*get)(struct ui_req *);
	void		(*post)(struct ui_req *);
	const char	*what;		/* for pcmds ui --routes */
};

/* ui.c */
int	 ui_run(struct ctx *, int port, int idle_s, int open_browser);
/* Prints the routing table, one route a line: METHODS PATTERN WHAT. */
void	 ui_print_routes(void);
/* The store, opened through this one place (an unlock page goes here). */
pc_rc	 ui_store(struct ui_req *, struct err_list *);
/* ui_store, answering with the failure: 0, or -1 when answered. */
int	 ui_open(struct ui_req *);
/* A query or form value, or NULL. */
const char *ui_query(struct ui_req *, const char *name);
const char *ui_form(struct ui_req *, const char *name);
/* Answers with a page: the shell (title, navigation, last sync) around body. */
void	 ui_page(struct ui_req *, int status, const char *title,
	    struct html *body);
void	 ui_redirect(struct ui_req *, const char *location);
/* A page saying what went wrong and what to do. */
void	 ui_error(struct ui_req *, int status, const char *title,
	    const char *sentence);
/* The error list as a page (store failures and the like). */
void	 ui_fail(struct ui_req *, const struct err_list *);
/* The hidden CSRF field every form carries. */
void	 ui_csrf_field(struct ui_req *, struct html *);
void	 ui_answer(struct ui_req *, int status, const char *ctype,
	    const char *body, size_t len);

/* ui_pages.c */
void	 ui_caseload(struct ui_req *);
void	 ui_find(struct ui_req *);
void	 ui_timeline(struct ui_req *);
void	 ui_quarantine(struct ui_req *);
void	 ui_directory(struct ui_req *);

/* ui_forms.c */
void	 ui_referral_form(struct ui_req *);
void	 ui_referral_post(struct ui_req *);
void	 ui_assess_form(struct ui_req *);
void	 ui_assess_post(struct ui_req *);
void	 ui_contact_form(struct ui_req *);
void	 ui_contact_post(struct ui_req *);
void	 ui_support_form(struct ui_req *);
void	 ui_support_post(struct ui_req *);
void	 ui_close_form(struct ui_req *);
void	 ui_close_post(struct ui_req *);
void	 ui_correct_form(struct ui_req *);
void	 ui_correct_post(struct ui_req *);
void	 ui_void_form(struct ui_req *);
void	 ui_void_post(struct ui_req *);

/* ui_chart.c: the ONS4 measures over time, with ONS band shading. */
void	 ui_chart(struct html *, const struct timeline *);

/* ui_sync.c */
void	 ui_sync_page(struct ui_req *);
void	 ui_sync_post(struct ui_req *);
/* Reaps a finished sync child; kills a running one when closing. */
void	 ui_sync_stop(struct ui *);

/* ui_unlock.c: the passphrase page, while no agent holds the keys */
/* 1 when the store is locked and the request had the unlock page. */
int	 ui_locked(struct ui_req *);
void	 ui_unlock_post(struct ui_req *);
/* Keeps an agent with the keys unlocked here, for the sync child. */
void	 ui_share_keys(struct ui *);

/* ui_static.c */
void	 ui_css(struct ui_req *);
void	 ui_js(struct ui_req *);

#endif

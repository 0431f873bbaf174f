/*
 * fetch.h - HTTPS requests to other servers (an OpenID Connect
 * provider), made off the event loop.
 *
 * The event loop must never wait on the network. One thread, made once
 * at start, runs libcurl's multi interface for every request at once
 * (a slow provider holds up only the requests to it); each finished
 * request is handed back to the loop through a pipe, and its callback
 * runs on the loop's thread, where the store and evhttp may be used.
 *
 * Only https:// is fetched, the peer's certificate and name are always
 * verified (against ca_file, or the system's CAs), redirects are not
 * followed, an answer is at most FETCH_MAX bytes, and each request ends
 * within the timeout.
 */
#ifndef PCMDS_FETCH_H
#define PCMDS_FETCH_H

#include <stddef.h>

#include <event2/event.h>

#include "err.h"

#define FETCH_MAX	(1024 * 1024)

struct fetch;

struct fetch_result {
	pc_rc		 rc;		/* PC_OK: an answer came (any status) */
	long		 status;	/* HTTP status */
	const char	*body;		/* NUL-terminated, valid in the callback */
	size_t		 len;
	/* when rc is not PC_OK: what went wrong, as a sentence */
	char		 error[256];
};

typedef void (*fetch_cb)(void *arg, const struct fetch_result *);

/*
 * Starts the thread. ca_file: PEM certificates to trust instead of the
 * system's (read now, so that a file unreadable after privileges are
 * dropped still serves), or NULL. timeout: seconds for each request.
 */
pc_rc	 fetch_start(struct event_base *, const char *ca_file, int timeout,
	    struct fetch **, struct err_list *);
/*
 * Stops and joins the thread; requests still in flight end without
 * their callbacks being called. NULL is allowed.
 */
void	 fetch_stop(struct fetch *);

/*
 * A GET, or with form a POST of application/x-www-form-urlencoded
 * (copied), with HTTP Basic credentials when basic ("user:password",
 * copied) is not NULL. cb(arg, result) runs later on the loop's thread,
 * exactly once, unless the fetcher is stopped first. Not PC_OK: nothing
 * was started and cb will not run.
 */
pc_rc	 fetch_http(struct fetch *, const char *url, const char *form,
	    const char *basic, fetch_cb cb, void *arg);

#endif

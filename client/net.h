/*
 * net.h - HTTPS requests to the pcmds server (libcurl with OpenSSL).
 *
 * Certificate verification is always on: the server's certificate must
 * chain to the CA pinned at setup (or to the system's CAs) and name the
 * host. TLS 1.2 at least. One handle is reused so the connection stays
 * open across a sync's batches.
 */
#ifndef PCMDS_NET_H
#define PCMDS_NET_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

struct net {
	void	*curl;			/* CURL * */
	char	 base[512];		/* https://host:port */
	char	 cacert[4096];		/* "" for the system's CAs */
	long	 timeout_ms;		/* one request */
	/*
	 * Ask before sending a body (Expect: 100-continue): a server that
	 * will refuse it as too large says 413 before it is sent, where
	 * otherwise it may cut the connection under the upload.
	 */
	int	 ask_first;
	int	 reached;	/* the last failure came after the handshake */
	/*
	 * The last failure came after something accepted the connection but
	 * before a TLS handshake with it completed (a plain HTTP service at
	 * the address, say): something answered, so it was not unreachable.
	 */
	int	 answered;
};

struct net_resp {
	long		 status;
	struct buf	 body;
	double		 retry_after;	/* seconds, 0 when not given */
};

/* PC_EUSAGE if the URL is not https://host[:port]. */
pc_rc	 net_init(struct net *, const char *server, const char *cacert,
	    struct err_list *);
void	 net_free(struct net *);
/*
 * One request. PC_OK when the server answered (any status, in resp);
 * PC_ETLS when verifying its certificate failed (errs says which check:
 * unknown CA, wrong name, expired); PC_ENET when it could not be reached
 * or the connection broke, a TLS handshake cut short included (safe to
 * retry); PC_EPROTO when its answer was too large to take.
 */
pc_rc	 net_request(struct net *, const char *method, const char *path,
	    const char *token, const char *body, size_t len, int gzip,
	    struct net_resp *, struct err_list *);
void	 net_resp_free(struct net_resp *);
/* Takes n bytes of a streamed answer; less than n aborts the transfer. */
typedef size_t (*net_sink)(char *p, size_t size, size_t nmemb, void *arg);
/*
 * A GET whose answer goes to sink as it arrives (an evaluator's extract)
 * rather than into memory. No overall deadline: a transfer that moves
 * nothing for stall_s seconds is cut. *status is the HTTP status, 0 when
 * none came. PC_OK: the answer came whole (any status); PC_EIO: sink
 * refused (it says why); otherwise as net_request, with errs saying
 * whether the server was reached and the connection broke.
 */
pc_rc	 net_stream(struct net *, const char *path, const char *token,
	    net_sink sink, void *arg, long stall_s, long *status,
	    struct err_list *);
/* The server's own sentence ({"error": {"message"}}) into out, or "". */
const char *net_message(const struct net_resp *, char *out, size_t len);
/* The longest path and query a command sends, well past any it needs. */
#define PATH_MAX_LEN	2048
/* Appends s to b percent-encoded (all but RFC 3986 unreserved bytes). */
void	 net_escape(struct buf *b, const char *s);
/*
 * Appends name=value to the path and query in q ('?' first, '&' after),
 * the value percent-encoded; nothing when value is NULL. q's failure is
 * sticky: check buf_failed() once when the query is built.
 */
void	 net_query_add(struct buf *q, const char *name, const char *value);
/* gzip-compresses in into out. */
pc_rc	 net_gzip(const char *in, size_t len, struct buf *out);

#endif

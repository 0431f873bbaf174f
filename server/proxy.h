/*
 * proxy.h - the PROXY protocol, version 2 (the binary header a load
 * balancer such as HAProxy sends before the client's own bytes, here
 * before TLS), after haproxy.org's doc/proxy-protocol.txt.
 *
 * Only connections from the addresses listed in proxy_from may, and
 * must, start with the header; the client address it carries is then
 * the one limits, logs and audit entries use.
 */
#ifndef PCMDS_PROXY_H
#define PCMDS_PROXY_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define PROXY_SIG_LEN	12
#define PROXY_FIXED	16		/* signature, version, family, length */
#define PROXY_MAX	(PROXY_FIXED + 512)	/* addresses and some TLVs */
#define PROXY_ADDR_LEN	46		/* INET6_ADDRSTRLEN */
#define PROXY_ALLOW_MAX	32

extern const uint8_t proxy_sig[PROXY_SIG_LEN];

/* The addresses allowed to send the header (proxy_from). */
struct proxy_allow {
	int	 n;
	struct {
		int	 family;	/* AF_INET or AF_INET6 */
		uint8_t	 a[16];
	}	 v[PROXY_ALLOW_MAX];
};

/* "10.0.0.5, 10.0.0.6 fd00::5": 0, or -1 naming the bad entry in errs. */
pc_rc	 proxy_allow_parse(struct proxy_allow *, const char *text,
	    struct err_list *);
/* 1 when the socket address is listed (IPv4-mapped IPv6 counts as IPv4). */
int	 proxy_allowed(const struct proxy_allow *, const struct sockaddr *);

/* A socket address as text, IPv4-mapped IPv6 written as IPv4. */
void	 proxy_addr_text(const struct sockaddr *, char out[PROXY_ADDR_LEN]);

enum proxy_result {
	PROXY_MORE,	/* *need is how many bytes the header has in all */
	PROXY_OK,	/* out holds the client address, or "" for LOCAL */
	PROXY_BAD	/* why says what was wrong */
};

/*
 * Reads the header from the first len bytes received. *need is set to
 * the header's whole length once the fixed part has arrived (never more
 * than PROXY_MAX), so that a caller reads no byte past it.
 */
enum proxy_result proxy_parse(const uint8_t *, size_t len, size_t *need,
	    char out[PROXY_ADDR_LEN], const char **why);

#endif

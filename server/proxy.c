/*
 * proxy.c - PROXY protocol v2 headers and the list of who may send them.
 */
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "proxy.h"

const uint8_t proxy_sig[PROXY_SIG_LEN] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
    0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

pc_rc
proxy_allow_parse(struct proxy_allow *pa, const char *text,
    struct err_list *errs)
{
	char one[64];
	size_t n;

	memset(pa, 0, sizeof(*pa));
	for (;;) {
		text += strspn(text, ", \t");
		if (*text == '\0')
			return PC_OK;
		n = strcspn(text, ", \t");
		snprintf(one, sizeof(one), "%.*s", (int)n, text);
		if (pa->n == PROXY_ALLOW_MAX) {
			err_add(errs, E_RANGE, "proxy_from", "proxy_from lists "
			    "more than %d addresses", PROXY_ALLOW_MAX);
			return PC_EINVAL;
		}
		if (n < sizeof(one) && inet_pton(AF_INET, one, pa->v[pa->n].a) == 1)
			pa->v[pa->n].family = AF_INET;
		else if (n < sizeof(one) && inet_pton(AF_INET6, one,
		    pa->v[pa->n].a) == 1)
			pa->v[pa->n].family = AF_INET6;
		else {
			err_add(errs, E_TYPE, "proxy_from", "proxy_from: \"%s\" "
			    "is not an IP address (list the load balancers' "
			    "addresses, separated by commas)", one);
			return PC_EINVAL;
		}
		pa->n++;
		text += n;
	}
}

/* The address bytes of sa, IPv4-mapped IPv6 unwrapped; 0 if neither. */
static int
addr_of(const struct sockaddr *sa, const uint8_t **a)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET) {
		*a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
		return AF_INET;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	*a = s6->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		*a += 12;
		return AF_INET;
	}
	return AF_INET6;
}

int
proxy_allowed(const struct proxy_allow *pa, const struct sockaddr *sa)
{
	const uint8_t *a;
	int fam = addr_of(sa, &a), i;

	for (i = 0; fam != 0 && i < pa->n; i++)
		if (pa->v[i].family == fam && memcmp(pa->v[i].a, a,
		    fam == AF_INET ? 4 : 16) == 0)
			return 1;
	return 0;
}

void
proxy_addr_text(const struct sockaddr *sa, char out[PROXY_ADDR_LEN])
{
	const uint8_t *a;
	int fam = addr_of(sa, &a);

	if (fam == 0 || inet_ntop(fam, a, out, PROXY_ADDR_LEN) == NULL)
		snprintf(out, PROXY_ADDR_LEN, "unknown");
}

enum proxy_result
proxy_parse(const uint8_t *p, size_t len, size_t *need,
    char out[PROXY_ADDR_LEN], const char **why)
{
	size_t cmp = len < PROXY_SIG_LEN ? len : PROXY_SIG_LEN, body;
	struct in6_addr a6;
	int fam;

	out[0] = '\0';
	*need = PROXY_FIXED;
	if (memcmp(p, proxy_sig, cmp) != 0) {
		*why = "no PROXY protocol v2 header came first";
		return PROXY_BAD;
	}
	if (len < PROXY_FIXED)
		return PROXY_MORE;
	if ((p[12] >> 4) != 2 || (p[12] & 15) > 1) {
		*why = "the PROXY header is not version 2 (PROXY or LOCAL)";
		return PROXY_BAD;
	}
	body = (size_t)p[14] << 8 | p[15];
	if (PROXY_FIXED + body > PROXY_MAX) {
		*why = "the PROXY header is longer than it may be";
		return PROXY_BAD;
	}
	*need = PROXY_FIXED + body;
	if (len < *need)
		return PROXY_MORE;
	if ((p[12] & 15) == 0)
		return PROXY_OK;	/* LOCAL: the balancer's own check */
	fam = p[13] >> 4;
	if ((p[13] & 15) != 1 || (fam != 1 && fam != 2) ||
	    body < (fam == 1 ? 12u : 36u)) {
		*why = "the PROXY header is not for a TCP connection over IPv4 "
		    "or IPv6";
		return PROXY_BAD;
	}
	if (fam == 1) {
		inet_ntop(AF_INET, p + PROXY_FIXED, out, PROXY_ADDR_LEN);
		return PROXY_OK;
	}
	memcpy(&a6, p + PROXY_FIXED, sizeof(a6));	/* may be unaligned */
	if (IN6_IS_ADDR_V4MAPPED(&a6))
		inet_ntop(AF_INET, a6.s6_addr + 12, out, PROXY_ADDR_LEN);
	else
		inet_ntop(AF_INET6, &a6, out, PROXY_ADDR_LEN);
	return PROXY_OK;
}

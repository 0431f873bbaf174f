/*
 * net.c - libcurl requests with verification always on.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <zlib.h>

#include "net.h"
#include "sec.h"
#include "version.h"

pc_rc
net_init(struct net *n, const char *server, const char *cacert,
    struct err_list *errs)
{
	size_t len;

	memset(n, 0, sizeof(*n));
	if (server == NULL || strncmp(server, "https://", 8) != 0 ||
	    server[8] == '\0' || strlen(server) >= sizeof(n->base)) {
		err_add(errs, E_FORMAT, "server", "the server must be an https:// "
		    "address, such as https://pcmds.example.nhs.uk:8443; got "
		    "\"%s\"", server ? server : "");
		return PC_EUSAGE;
	}
	snprintf(n->base, sizeof(n->base), "%s", server);
	len = strlen(n->base);
	while (len > 8 && n->base[len - 1] == '/')
		n->base[--len] = '\0';
	snprintf(n->cacert, sizeof(n->cacert), "%s", cacert ? cacert : "");
	n->timeout_ms = 60000;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (n->curl = curl_easy_init()) == NULL) {
		err_add(errs, E_SYSTEM, "", "libcurl could not start");
		return PC_ENOMEM;
	}
	return PC_OK;
}

void
net_free(struct net *n)
{
	if (n->curl != NULL)
		curl_easy_cleanup(n->curl);
	n->curl = NULL;
}

void
net_resp_free(struct net_resp *r)
{
	buf_free(&r->body);
}

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct net_resp *r = arg;

	if (buf_add(&r->body, p, size * nmemb) != PC_OK)
		return 0;	/* too large: abort the transfer */
	return size * nmemb;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct net_resp *r = arg;
	size_t len = size * nmemb;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0)
		r->retry_after = atof(p + 12);
	return len;
}

pc_rc
net_gzip(const char *in, size_t len, struct buf *out)
{
	unsigned char chunk[16384];
	z_stream z;
	int zr;

	memset(&z, 0, sizeof(z));
	/* level 1: records are repetitive JSON and compress about as well
	   at a fraction of the time of the default level */
	if (deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		return PC_ENOMEM;
	z.next_in = (unsigned char *)in;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		zr = deflate(&z, Z_FINISH);
		if (buf_add(out, chunk, sizeof(chunk) - z.avail_out) != PC_OK) {
			deflateEnd(&z);
			return PC_ENOMEM;
		}
	} while (zr == Z_OK);
	deflateEnd(&z);
	return zr == Z_STREAM_END ? PC_OK : PC_EIO;
}

static pc_rc
classify(CURLcode cc, const char *errbuf, const char *base,
    struct err_list *errs)
{
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		err_add(errs, E_SYSTEM, "server", "the server's certificate is "
		    "not trusted, so nothing was sent (%s); check the address "
		    "and the CA given at setup", errbuf[0] ? errbuf :
		    curl_easy_strerror(cc));
		return PC_ETLS;
	default:
		err_add(errs, E_SYSTEM, "server", "cannot reach %s: %s", base,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
		return PC_ENET;
	}
}

pc_rc
net_request(struct net *n, const char *method, const char *path,
    const char *token, const char *body, size_t len, int gzip,
    struct net_resp *r, struct err_list *errs)
{
	char url[1024], auth[128], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	CURL *c = n->curl;
	CURLcode cc;

	memset(r, 0, sizeof(*r));
	buf_init(&r->body, 256 * 1024 * 1024);
	snprintf(url, sizeof(url), "%s%s", n->base, path);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (n->cacert[0] != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, n->cacert);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, n->timeout_ms);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "pcmds/" PCMDS_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		h = curl_slist_append(h, auth);
	}
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		if (gzip)
			h = curl_slist_append(h, "Content-Encoding: gzip");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	}
	h = curl_slist_append(h, "Expect:");	/* no 100-continue round trip */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	cc = curl_easy_perform(c);
	curl_slist_free_all(h);
	sec_wipe(auth, sizeof(auth));
	if (cc != CURLE_OK)
		return classify(cc, errbuf, n->base, errs);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	return PC_OK;
}

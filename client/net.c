/*
 * net.c - libcurl requests with verification always on.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/x509_vfy.h>
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

void
net_escape(struct buf *b, const char *s)
{
	const unsigned char *v = (const unsigned char *)s;

	for (; *v != '\0'; v++)
		if ((*v >= '0' && *v <= '9') || ((*v | 0x20) >= 'a' &&
		    (*v | 0x20) <= 'z') || strchr("-._~", *v) != NULL)
			buf_addc(b, (char)*v);
		else
			buf_addf(b, "%%%02X", *v);
}

void
net_query_add(struct buf *q, const char *name, const char *value)
{
	if (value == NULL)
		return;
	buf_addf(q, "%c%s=", q->len > 0 && memchr(q->p, '?', q->len) ? '&' :
	    '?', name);
	net_escape(q, value);
}

const char *
net_message(const struct net_resp *r, char *out, size_t len)
{
	cJSON *j = cJSON_ParseWithLength(buf_str(&r->body), r->body.len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");

	snprintf(out, len, "%s", cJSON_IsString(m) ? m->valuestring : "");
	cJSON_Delete(j);
	return out;
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

/* The host part of https://host[:port], for "made out to HOST". */
static void
host_of(const char *base, char *out, size_t len)
{
	const char *h = base + strlen("https://"), *end;

	if (*h == '[')	/* [::1]:8443 */
		end = strchr(h, ']') ? strchr(h, ']') + 1 : h + strlen(h);
	else
		end = h + strcspn(h, ":/");
	snprintf(out, len, "%.*s", (int)(end - h), h);
}

/*
 * What OpenSSL's verification of the server's certificate found, in
 * words: which check failed (X509 verify codes), so a worker can say
 * "expired" or "wrong name" to whoever runs the server.
 */
static const char *
verify_reason(long vr, const char *host, char *buf, size_t len)
{
	switch (vr) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "it has expired: the server's administrator must renew "
		    "it";
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "it is not valid yet: check this device's date and time";
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		return "it is not signed by a CA this device trusts (unknown "
		    "CA): check the address, and the CA given at setup";
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		snprintf(buf, len, "it is not made out to %s (wrong name): "
		    "check the address given at setup", host);
		return buf;
	case X509_V_ERR_CERT_REVOKED:
		return "it has been revoked";
	default:
		snprintf(buf, len, "%s (X509 verify code %ld)",
		    X509_verify_cert_error_string(vr), vr);
		return buf;
	}
}

/* 1 when the TLS handshake with the server was completed. */
static int
reached(CURL *c)
{
	curl_off_t t = 0;

	return curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &t) ==
	    CURLE_OK && t > 0;
}

/*
 * 1 when something at the server's address accepted the connection but no
 * TLS handshake with it completed: a TLS handshake that failed (and not
 * over the certificate) was begun, so a connection had been made. (curl
 * does not give a connect time for a connection whose filters failed.)
 */
static int
answered(CURLcode cc, CURL *c)
{
	return cc == CURLE_SSL_CONNECT_ERROR && !reached(c);
}

/*
 * A failed transfer. Only a failed verification of the certificate is
 * PC_ETLS (never retried: it will not mend itself); a handshake cut short
 * by a server restarting, a reset, a refused connection are PC_ENET,
 * retried by the caller.
 */
static pc_rc
classify(CURLcode cc, CURL *c, const char *errbuf, const char *base,
    struct err_list *errs)
{
	const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(cc);
	char host[256], buf[512];
	const char *why = NULL;
	long vr = X509_V_OK;

	host_of(base, host, sizeof(host));
	if (curl_easy_getinfo(c, CURLINFO_SSL_VERIFYRESULT, &vr) != CURLE_OK)
		vr = X509_V_OK;
	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		/* verified chain, but curl's own check of the name failed */
		why = verify_reason(vr == X509_V_OK || vr ==
		    X509_V_ERR_UNSPECIFIED ? X509_V_ERR_HOSTNAME_MISMATCH : vr,
		    host, buf, sizeof(buf));
		break;
	case CURLE_SSL_CONNECT_ERROR:
		/*
		 * A handshake cut short: OpenSSL reports "unspecified" when it
		 * never got as far as verifying. Only a check that ran and
		 * failed is a certificate problem.
		 */
		if (vr != X509_V_OK && vr != X509_V_ERR_UNSPECIFIED)
			why = verify_reason(vr, host, buf, sizeof(buf));
		break;
	case CURLE_SSL_CACERT_BADFILE:
		why = "the CA file given at setup cannot be read: run pcmds "
		    "setup again with --cacert";
		break;
	case CURLE_SSL_ISSUER_ERROR:
		why = "it is not issued by the CA given at setup";
		break;
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		why = "its key is not the one pinned at setup";
		break;
	case CURLE_WRITE_ERROR:
		err_add(errs, E_SYSTEM, "server", "the answer from %s was larger "
		    "than pcmds accepts (%s)", base, detail);
		return PC_EPROTO;
	default:
		break;
	}
	if (why != NULL) {
		err_add(errs, E_SYSTEM, "server", "the server's certificate is "
		    "not trusted, so nothing was sent: %s (%s)", why, detail);
		return PC_ETLS;
	}
	if (reached(c))
		err_add(errs, E_SYSTEM, "server", "the connection to %s broke "
		    "before its answer was complete: %s", base, detail);
	else if (answered(cc, c))
		err_add(errs, E_SYSTEM, "server", "something answered at %s, "
		    "but no TLS handshake with it completed (%s): check that "
		    "this is the address of the pcmds server", base, detail);
	else
		err_add(errs, E_SYSTEM, "server", "cannot reach %s: %s", base,
		    detail);
	return PC_ENET;
}

/* What every request to the server is: https only, verified, TLS 1.2+. */
static void
prepare(struct net *n, const char *url, char *errbuf)
{
	CURL *c = n->curl;

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
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "pcmds/" PCMDS_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
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
	prepare(n, url, errbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, n->timeout_ms);
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
	/* no 100-continue round trip, unless asked for */
	h = curl_slist_append(h, n->ask_first && body != NULL ?
	    "Expect: 100-continue" : "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	cc = curl_easy_perform(c);
	curl_slist_free_all(h);
	sec_wipe(auth, sizeof(auth));
	if (cc != CURLE_OK) {
		n->reached = reached(c);
		n->answered = answered(cc, c);
		return classify(cc, c, errbuf, n->base, errs);
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	return PC_OK;
}

pc_rc
net_stream(struct net *n, const char *path, const char *token,
    net_sink sink, void *arg, long stall_s, long *status,
    struct err_list *errs)
{
	char url[1024], auth[128], errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *h = NULL;
	CURL *c = n->curl;
	CURLcode cc;

	*status = 0;
	snprintf(url, sizeof(url), "%s%s", n->base, path);
	prepare(n, url, errbuf);
	/* no overall deadline: a long stream is fine while data flow */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, stall_s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, arg);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	h = curl_slist_append(h, auth);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	cc = curl_easy_perform(c);
	curl_slist_free_all(h);
	sec_wipe(auth, sizeof(auth));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (cc == CURLE_WRITE_ERROR)
		return PC_EIO;	/* the sink refused: it says why */
	if (cc != CURLE_OK) {
		n->reached = reached(c);
		n->answered = answered(cc, c);
		return classify(cc, c, errbuf, n->base, errs);
	}
	return PC_OK;
}

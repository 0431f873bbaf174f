/*
 * oidc.c - the OpenID Connect provider as the dashboard's sign-in sees
 * it: discovery, keys, sign-ins in progress, the token exchange (see
 * oidc.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "fetch.h"
#include "fs.h"
#include "http.h"
#include "jsplit.h"
#include "jwt.h"
#include "ktab.h"
#include "log.h"
#include "oidc.h"
#include "sec.h"

#define URL_MAX		512
#define USED_MAX	4096	/* finished sign-ins remembered */
#define RAND_LEN	32

struct waiter {
	struct waiter	*next;
	oidc_cb		 cb;
	void		*arg;
};

/* A code being exchanged, and its token while keys are fetched. */
struct xchg {
	struct xchg	*next;
	struct oidc	*o;
	struct oidc_flow flow;
	struct jwt	 tok;
	int		 parsed;	/* tok holds a token */
	int		 refetched;	/* the keys were fetched for it */
	oidc_cb		 cb;
	void		*arg;
};

struct oidc {
	const struct conf *cf;
	char		 secret[512];	/* the client secret */
	uint8_t		 key[SECRET_LEN];	/* sign-ins' MAC and derivations */
	struct fetch	*fetch;
	int		 known;		/* the endpoints are */
	int		 discovering;
	int		 post_auth;	/* client_secret_post, not _basic */
	char		 authz[URL_MAX], token[URL_MAX], jwks[URL_MAX];
	char		 why[256];	/* the last discovery's failure */
	struct jwt_keys	 keys;
	struct ktab	 used;
	struct waiter	*waiters;
	struct xchg	*pending;
};

static pc_rc
read_secret(struct oidc *o, const char *path, struct err_list *errs)
{
	struct stat st;
	struct buf b;
	pc_rc rc;

	if (stat(path, &st) != 0) {
		err_add(errs, E_SYSTEM, "oidc_client_secret_file", "cannot read "
		    "oidc_client_secret_file %s: %s", path, strerror(errno));
		return PC_EIO;
	}
	if ((st.st_mode & 077) != 0) {
		err_add(errs, E_SYSTEM, "oidc_client_secret_file", "the client "
		    "secret %s can be read or changed by other users (mode "
		    "%04o); run chmod 0600 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		return PC_EINVAL;
	}
	buf_init(&b, sizeof(o->secret) - 1);
	if ((rc = fs_read_file(path, &b, errs)) == PC_OK) {
		while (b.len > 0 && (b.p[b.len - 1] == '\n' ||
		    b.p[b.len - 1] == '\r' || b.p[b.len - 1] == ' '))
			b.p[--b.len] = '\0';
		if (b.len == 0 || strchr(buf_str(&b), '\n') != NULL) {
			err_add(errs, E_FORMAT, "oidc_client_secret_file", "%s "
			    "must hold the client secret alone, on one line",
			    path);
			rc = PC_EINVAL;
		} else
			snprintf(o->secret, sizeof(o->secret), "%s", b.p);
	}
	if (b.p != NULL)
		sec_wipe(b.p, b.cap);
	buf_free(&b);
	return rc;
}

pc_rc
oidc_open(struct oidc **out, const struct conf *cf, const struct secret *s,
    struct err_list *errs)
{
	struct oidc *o;

	*out = NULL;
	if (cf->oidc_issuer[0] == '\0')
		return PC_OK;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return PC_ENOMEM;
	o->cf = cf;
	if (read_secret(o, cf->oidc_client_secret_file, errs) != PC_OK ||
	    secret_derive(s, SECRET_OIDC_FLOW, o->key) != PC_OK ||
	    ktab_init(&o->used, USED_MAX) != PC_OK) {
		oidc_close(o);
		return PC_EINVAL;
	}
	*out = o;
	return PC_OK;
}

static void discover(struct oidc *);

pc_rc
oidc_start(struct oidc *o, struct event_base *base, struct err_list *errs)
{
	pc_rc rc;

	if ((rc = fetch_start(base, o->cf->oidc_ca_file[0] ?
	    o->cf->oidc_ca_file : NULL, o->cf->oidc_timeout, &o->fetch, errs)) !=
	    PC_OK)
		return rc;
	discover(o);
	return PC_OK;
}

const char *
oidc_name(const struct oidc *o)
{
	return o->cf->oidc_name;
}

const char *
oidc_issuer(const struct oidc *o)
{
	return o->cf->oidc_issuer;
}

int
oidc_ready(const struct oidc *o)
{
	return o->known;
}

static void
tell_waiters(struct oidc *o, pc_rc rc, const char *why, int stopping)
{
	struct oidc_result r = {rc, why, NULL, stopping};
	struct waiter *w, *next;

	w = o->waiters;
	o->waiters = NULL;
	for (; w != NULL; w = next) {
		next = w->next;
		w->cb(w->arg, &r);
		free(w);
	}
}

static void
xchg_free(struct xchg *x)
{
	if (x->parsed)
		jwt_free(&x->tok);
	sec_wipe(&x->flow, sizeof(x->flow));
	free(x);
}

void
oidc_close(struct oidc *o)
{
	struct oidc_result r = {PC_EBUSY, "the server is stopping", NULL, 1};
	struct xchg *x;

	if (o == NULL)
		return;
	fetch_stop(o->fetch);	/* no callback of its runs after this */
	tell_waiters(o, PC_EBUSY, r.why, 1);
	while ((x = o->pending) != NULL) {
		o->pending = x->next;
		x->cb(x->arg, &r);
		xchg_free(x);
	}
	jwt_keys_free(&o->keys);
	ktab_free(&o->used);
	sec_wipe(o->secret, sizeof(o->secret));
	sec_wipe(o->key, sizeof(o->key));
	free(o);
}

/* -- discovery and keys -------------------------------------------------- */

static int
https_member(const cJSON *doc, const char *name, char *out, size_t len)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	if (!cJSON_IsString(v) || strncmp(v->valuestring, "https://", 8) != 0 ||
	    strlen(v->valuestring) >= len)
		return 0;
	snprintf(out, len, "%s", v->valuestring);
	return 1;
}

/* 1 when the list (absent: dflt) holds want. */
static int
offers(const cJSON *doc, const char *list, const char *want, int dflt)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(doc, list), *v;

	if (l == NULL)
		return dflt;
	cJSON_ArrayForEach(v, l)
		if (cJSON_IsString(v) && strcmp(v->valuestring, want) == 0)
			return 1;
	return 0;
}

/* The discovery document's sense, or a sentence saying what is wrong. */
static pc_rc
read_discovery(struct oidc *o, const struct fetch_result *r, char *why,
    size_t len)
{
	cJSON *doc;
	const cJSON *iss;
	pc_rc rc = PC_EPROTO;

	if (r->rc != PC_OK) {
		snprintf(why, len, "%s", r->error);
		return r->rc;
	}
	if (r->status != 200) {
		snprintf(why, len, "its discovery document answered HTTP %ld",
		    r->status);
		return PC_EPROTO;
	}
	doc = jsplit_parse(r->body, r->len);
	iss = cJSON_GetObjectItemCaseSensitive(doc, "issuer");
	if (!cJSON_IsString(iss) || strcmp(iss->valuestring,
	    o->cf->oidc_issuer) != 0)
		snprintf(why, len, "its discovery document names issuer %s, not "
		    "oidc_issuer %s", cJSON_IsString(iss) ? iss->valuestring :
		    "(none)", o->cf->oidc_issuer);
	else if (!https_member(doc, "authorization_endpoint", o->authz,
	    sizeof(o->authz)) || !https_member(doc, "token_endpoint", o->token,
	    sizeof(o->token)) || !https_member(doc, "jwks_uri", o->jwks,
	    sizeof(o->jwks)))
		snprintf(why, len, "its discovery document lacks an https:// "
		    "authorization_endpoint, token_endpoint or jwks_uri");
	else if (!offers(doc, "code_challenge_methods_supported", "S256", 1))
		snprintf(why, len, "it does not offer PKCE with S256 "
		    "(code_challenge_methods_supported)");
	else if (!offers(doc, "token_endpoint_auth_methods_supported",
	    "client_secret_basic", 1) && !offers(doc,
	    "token_endpoint_auth_methods_supported", "client_secret_post", 0))
		snprintf(why, len, "it takes client secrets neither as "
		    "client_secret_basic nor as client_secret_post");
	else {
		o->post_auth = !offers(doc,
		    "token_endpoint_auth_methods_supported",
		    "client_secret_basic", 1);
		rc = PC_OK;
	}
	cJSON_Delete(doc);
	return rc;
}

/* A fetched key set in place of the one held; PC_OK or why not. */
static pc_rc
take_keys(struct oidc *o, const struct fetch_result *r, char *why, size_t len)
{
	struct jwt_keys ks;
	struct err_list errs;
	pc_rc rc;

	if (r->rc != PC_OK) {
		snprintf(why, len, "its key set could not be fetched: %s",
		    r->error);
		return r->rc;
	}
	if (r->status != 200) {
		snprintf(why, len, "its key set (%s) answered HTTP %ld", o->jwks,
		    r->status);
		return PC_EPROTO;
	}
	err_init(&errs);
	if ((rc = jwt_keys_parse(&ks, r->body, r->len, &errs)) != PC_OK) {
		snprintf(why, len, "its key set is not usable: %s", errs.n ?
		    errs.v[0].msg : "out of memory");
		err_free(&errs);
		return PC_EPROTO;
	}
	err_free(&errs);
	jwt_keys_free(&o->keys);
	o->keys = ks;
	log_info("oidc: %zu signing keys from %s", ks.n, o->jwks);
	return PC_OK;
}

static void
on_keys(void *arg, const struct fetch_result *r)
{
	struct oidc *o = arg;
	char why[320];

	if (take_keys(o, r, why, sizeof(why)) != PC_OK)
		log_warnx("oidc: %s (fetched again at the next sign-in)", why);
}

static void
on_discovery(void *arg, const struct fetch_result *r)
{
	struct oidc *o = arg;
	pc_rc rc;

	o->discovering = 0;
	if ((rc = read_discovery(o, r, o->why, sizeof(o->why))) != PC_OK) {
		log_warnx("oidc: %s cannot be used for sign-in yet: %s (tried "
		    "again at the next sign-in)", o->cf->oidc_issuer, o->why);
		tell_waiters(o, rc, o->why, 0);
		return;
	}
	o->known = 1;
	log_info("oidc: sign-in through %s (%s)", o->cf->oidc_issuer,
	    o->post_auth ? "client_secret_post" : "client_secret_basic");
	if (fetch_http(o->fetch, o->jwks, NULL, NULL, on_keys, o) != PC_OK)
		log_warnx("oidc: out of memory fetching the key set");
	tell_waiters(o, PC_OK, NULL, 0);
}

static void
discover(struct oidc *o)
{
	char url[URL_MAX + 64];
	size_t n = strlen(o->cf->oidc_issuer);

	if (o->discovering || o->known)
		return;
	/* OpenID Connect Discovery 1.0, 4: without the issuer's final / */
	snprintf(url, sizeof(url), "%.*s/.well-known/openid-configuration",
	    (int)(n > 0 && o->cf->oidc_issuer[n - 1] == '/' ? n - 1 : n),
	    o->cf->oidc_issuer);
	if (fetch_http(o->fetch, url, NULL, NULL, on_discovery, o) != PC_OK) {
		snprintf(o->why, sizeof(o->why), "out of memory");
		tell_waiters(o, PC_ENOMEM, o->why, 0);
		return;
	}
	o->discovering = 1;
}

pc_rc
oidc_when_ready(struct oidc *o, oidc_cb cb, void *arg)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return PC_ENOMEM;
	w->cb = cb;
	w->arg = arg;
	w->next = o->waiters;
	o->waiters = w;
	discover(o);
	return PC_OK;
}

/* -- sign-ins in progress ----------------------------------------------- */

/* base64url(HMAC(key, label || r)), 43 characters. */
static void
derive(const struct oidc *o, const char *label, const uint8_t r[RAND_LEN],
    char out[44])
{
	uint8_t msg[16 + RAND_LEN], mac[SEC_SHA256_LEN];
	size_t n = strlen(label);

	memcpy(msg, label, n);
	memcpy(msg + n, r, RAND_LEN);
	sec_hmac_sha256(o->key, sizeof(o->key), msg, n + RAND_LEN, mac);
	sec_b64url(mac, sizeof(mac), out);
}

static void
flow_of(const struct oidc *o, const uint8_t r[RAND_LEN], struct oidc_flow *f)
{
	derive(o, "state", r, f->state);
	derive(o, "nonce", r, f->nonce);
	derive(o, "pkce", r, f->verifier);
}

/* The cookie's MAC over r and its expiry. */
static void
cookie_mac(const struct oidc *o, const uint8_t *raw, size_t n,
    uint8_t mac[SEC_SHA256_LEN])
{
	uint8_t msg[8 + RAND_LEN + 8];

	memcpy(msg, "cookie", 6);
	memcpy(msg + 6, raw, n);
	sec_hmac_sha256(o->key, sizeof(o->key), msg, 6 + n, mac);
}

/* Form-encoded text (RFC 6749 appendix B) appended to b. */
static void
add_enc(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~", *s) != NULL)
			buf_addc(b, *s);
		else
			buf_addf(b, "%%%02X", (unsigned char)*s);
}

pc_rc
oidc_begin(struct oidc *o, int64_t now, char cookie[OIDC_COOKIE_LEN],
    struct buf *url)
{
	uint8_t raw[RAND_LEN + 8], mac[SEC_SHA256_LEN], dig[SEC_SHA256_LEN];
	char a[64], m[48], chal[44];
	struct oidc_flow f;
	int64_t exp = now + OIDC_FLOW_SECONDS;
	int i;

	if (!o->known)
		return PC_EBUSY;
	if (sec_random(raw, RAND_LEN) != PC_OK)
		return PC_EIO;
	for (i = 0; i < 8; i++)
		raw[RAND_LEN + i] = (uint8_t)((uint64_t)exp >> (56 - 8 * i));
	cookie_mac(o, raw, sizeof(raw), mac);
	sec_b64url(raw, sizeof(raw), a);
	sec_b64url(mac, sizeof(mac), m);
	snprintf(cookie, OIDC_COOKIE_LEN, "%s.%s", a, m);
	flow_of(o, raw, &f);
	sec_sha256(f.verifier, strlen(f.verifier), dig);
	sec_b64url(dig, sizeof(dig), chal);
	buf_addf(url, "%s%cresponse_type=code&client_id=", o->authz,
	    strchr(o->authz, '?') ? '&' : '?');
	add_enc(url, o->cf->oidc_client_id);
	buf_adds(url, "&redirect_uri=");
	add_enc(url, o->cf->oidc_redirect_uri);
	buf_addf(url, "&scope=openid&state=%s&nonce=%s&code_challenge=%s"
	    "&code_challenge_method=S256", f.state, f.nonce, chal);
	sec_wipe(raw, sizeof(raw));
	sec_wipe(&f, sizeof(f));
	return buf_failed(url);
}

pc_rc
oidc_resume(struct oidc *o, const char *cookie, const char *state,
    int64_t now, struct oidc_flow *f)
{
	uint8_t raw[RAND_LEN + 8 + 4], mac[SEC_SHA256_LEN], got[SEC_SHA256_LEN];
	const char *dot = cookie ? strchr(cookie, '.') : NULL;
	struct ktab_ent *e;
	char key[48];
	int64_t exp = 0;
	long n;
	int i, made;

	memset(f, 0, sizeof(*f));
	if (dot == NULL || (n = sec_unb64url(cookie, (size_t)(dot - cookie),
	    raw, sizeof(raw))) != RAND_LEN + 8 ||
	    sec_unb64url(dot + 1, strlen(dot + 1), got, sizeof(got)) !=
	    (long)sizeof(got))
		return PC_ENOTFOUND;
	cookie_mac(o, raw, RAND_LEN + 8, mac);
	for (i = 0; i < 8; i++)
		exp = (int64_t)((uint64_t)exp << 8 | raw[RAND_LEN + i]);
	if (!sec_equal(mac, got, sizeof(mac)) || exp <= now)
		return PC_ENOTFOUND;
	flow_of(o, raw, f);
	if (state == NULL || strlen(state) != strlen(f->state) ||
	    !sec_equal(state, f->state, strlen(f->state))) {
		sec_wipe(f, sizeof(*f));
		return PC_EAUTH;
	}
	sec_b64url(raw, 24, key);	/* 192 bits name it well enough */
	sec_wipe(raw, sizeof(raw));
	if ((e = ktab_find(&o->used, key)) != NULL && e->a > (double)now) {
		sec_wipe(f, sizeof(*f));
		return PC_ECONFLICT;
	}
	if ((e = ktab_get(&o->used, key, &made)) != NULL)
		e->a = (double)exp;
	return PC_OK;
}

/* -- the token exchange ------------------------------------------------- */

static void
xchg_end(struct xchg *x, pc_rc rc, const char *why, const char *sub)
{
	struct oidc_result r = {rc, why, sub, 0};
	struct xchg **pp;

	for (pp = &x->o->pending; *pp != x; pp = &(*pp)->next)
		;
	*pp = x->next;
	x->cb(x->arg, &r);
	xchg_free(x);
}

/* Signature and claims of the token held; may fetch the keys once. */
static void on_refetched(void *, const struct fetch_result *);

static void
xchg_check(struct xchg *x)
{
	struct oidc *o = x->o;
	struct jwt_expect want = {o->cf->oidc_issuer, o->cf->oidc_client_id,
	    x->flow.nonce, (int64_t)time(NULL), o->cf->oidc_leeway};
	struct err_list errs;
	char sub[JWT_SUB_MAX];
	pc_rc rc;

	err_init(&errs);
	rc = jwt_verify(&x->tok, &o->keys, &errs);
	if (rc == PC_ENOTFOUND && !x->refetched) {
		/* a key the set we hold does not name: the provider rolled */
		err_free(&errs);
		x->refetched = 1;
		if (fetch_http(o->fetch, o->jwks, NULL, NULL, on_refetched, x) !=
		    PC_OK)
			xchg_end(x, PC_ENOMEM, "out of memory", NULL);
		return;
	}
	if (rc == PC_OK)
		rc = jwt_check(&x->tok, &want, sub, &errs);
	if (rc == PC_OK)
		xchg_end(x, PC_OK, NULL, sub);
	else
		xchg_end(x, PC_EAUTH, errs.n ? errs.v[0].msg : "out of memory",
		    NULL);
	err_free(&errs);
}

static void
on_refetched(void *arg, const struct fetch_result *r)
{
	struct xchg *x = arg;
	char why[320];
	pc_rc rc;

	if ((rc = take_keys(x->o, r, why, sizeof(why))) != PC_OK)
		xchg_end(x, rc, why, NULL);
	else
		xchg_check(x);
}

/* The token endpoint's refusal, as a sentence. */
static void
refusal(const struct fetch_result *r, char *why, size_t len)
{
	cJSON *doc = jsplit_parse(r->body, r->len);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(doc,
	    "error_description");
	char es[64] = "", ds[160] = "";

	if (cJSON_IsString(e))
		http_escape(e->valuestring, es, sizeof(es));
	if (cJSON_IsString(d))
		http_escape(d->valuestring, ds, sizeof(ds));
	snprintf(why, len, "the provider refused the sign-in code (HTTP %ld%s"
	    "%s%s%s)", r->status, es[0] ? ", " : "", es, ds[0] ? ": " : "", ds);
	cJSON_Delete(doc);
}

static void
on_token(void *arg, const struct fetch_result *r)
{
	struct xchg *x = arg;
	struct err_list errs;
	cJSON *doc;
	const cJSON *id;
	char why[320];
	pc_rc rc;

	if (r->rc != PC_OK) {
		xchg_end(x, r->rc, r->error, NULL);
		return;
	}
	if (r->status != 200) {
		refusal(r, why, sizeof(why));
		xchg_end(x, r->status >= 500 ? PC_EPROTO : PC_EINVAL, why, NULL);
		return;
	}
	doc = jsplit_parse(r->body, r->len);
	id = cJSON_GetObjectItemCaseSensitive(doc, "id_token");
	if (!cJSON_IsString(id)) {
		cJSON_Delete(doc);
		xchg_end(x, PC_EPROTO, "the provider's token answer has no "
		    "id_token", NULL);
		return;
	}
	err_init(&errs);
	rc = jwt_parse(&x->tok, id->valuestring, &errs);
	cJSON_Delete(doc);
	if (rc != PC_OK) {
		snprintf(why, sizeof(why), "%s", errs.n ? errs.v[0].msg :
		    "out of memory");
		err_free(&errs);
		xchg_end(x, PC_EAUTH, why, NULL);
		return;
	}
	err_free(&errs);
	x->parsed = 1;
	xchg_check(x);
}

pc_rc
oidc_exchange(struct oidc *o, const char *code, const struct oidc_flow *f,
    oidc_cb cb, void *arg)
{
	struct xchg *x;
	struct buf form, basic;
	pc_rc rc;

	if (!o->known)
		return PC_EBUSY;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return PC_ENOMEM;
	x->o = o;
	x->flow = *f;
	x->cb = cb;
	x->arg = arg;
	buf_init(&form, 0);
	buf_init(&basic, 0);
	buf_adds(&form, "grant_type=authorization_code&code=");
	add_enc(&form, code);
	buf_adds(&form, "&redirect_uri=");
	add_enc(&form, o->cf->oidc_redirect_uri);
	buf_addf(&form, "&code_verifier=%s", f->verifier);
	/* RFC 6749 2.3.1: both form-encoded, in the body or for Basic */
	if (o->post_auth) {
		buf_adds(&form, "&client_id=");
		add_enc(&form, o->cf->oidc_client_id);
		buf_adds(&form, "&client_secret=");
		add_enc(&form, o->secret);
	} else {
		add_enc(&basic, o->cf->oidc_client_id);
		buf_addc(&basic, ':');
		add_enc(&basic, o->secret);
	}
	if ((rc = buf_failed(&form)) == PC_OK && (rc = buf_failed(&basic)) ==
	    PC_OK)
		rc = fetch_http(o->fetch, o->token, buf_str(&form), o->post_auth ?
		    NULL : buf_str(&basic), on_token, x);
	if (form.p != NULL)
		sec_wipe(form.p, form.cap);
	if (basic.p != NULL)
		sec_wipe(basic.p, basic.cap);
	buf_free(&form);
	buf_free(&basic);
	if (rc != PC_OK) {
		xchg_free(x);
		return rc;
	}
	x->next = o->pending;
	o->pending = x;
	return PC_OK;
}

/*
 * tls.c - OpenSSL 3 server context and development certificates.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tls.h"

#define CIPHERS_TLS12 \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static void
ssl_errors(struct err_list *errs, const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	ERR_error_string_n(e, buf, sizeof(buf));
	err_add(errs, E_SYSTEM, "", "%s: %s", what, e ? buf : "failed");
	ERR_clear_error();
}

static int
key_strong(SSL_CTX *ctx)
{
	EVP_PKEY *k = SSL_CTX_get0_privatekey(ctx);

	if (k == NULL)
		return 0;
	if (EVP_PKEY_base_id(k) == EVP_PKEY_RSA)
		return EVP_PKEY_get_bits(k) >= 2048;
	if (EVP_PKEY_base_id(k) == EVP_PKEY_EC)
		return EVP_PKEY_get_bits(k) >= 256;
	return EVP_PKEY_base_id(k) == EVP_PKEY_ED25519;
}

SSL_CTX *
tls_server_ctx(const char *cert, const char *key, struct err_list *errs)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL) {
		ssl_errors(errs, "TLS");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 |
	    SSL_OP_NO_TLSv1_1);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_cipher_list(ctx, CIPHERS_TLS12) != 1 ||
	    SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1) {
		ssl_errors(errs, "TLS ciphers");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ssl_errors(errs, cert);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ssl_errors(errs, key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (!key_strong(ctx)) {
		err_add(errs, E_SYSTEM, "", "%s: the key is too weak (at least "
		    "RSA 2048 or EC P-256)", key);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

static X509 *
new_cert(EVP_PKEY *key, const char *cn, long days)
{
	X509 *c = X509_new();
	unsigned char serial[16];
	BIGNUM *bn;
	X509_NAME *name;

	if (c == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;	/* positive */
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL)
		goto fail;
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
	BN_free(bn);
	X509_set_version(c, 2);
	X509_gmtime_adj(X509_getm_notBefore(c), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c), days * 86400L);
	X509_set_pubkey(c, key);
	name = X509_get_subject_name(c);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"pcmds development", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	return c;
fail:
	X509_free(c);
	return NULL;
}

static int
write_pem(const char *dir, const char *name, X509 *cert, EVP_PKEY *key,
    struct err_list *errs)
{
	char path[4096];
	FILE *fp;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "wx")) == NULL) {
		err_add(errs, E_SYSTEM, "", "cannot create %s (it must not "
		    "exist)", path);
		return 0;
	}
	ok = cert ? PEM_write_X509(fp, cert) :
	    PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(fp) != 0 || !ok) {
		err_add(errs, E_SYSTEM, "", "cannot write %s", path);
		return 0;
	}
	chmod(path, cert ? 0644 : 0600);
	return 1;
}

pc_rc
tls_make_dev_pki(const char *dir, const char *const *hosts, size_t nhosts,
    struct err_list *errs)
{
	EVP_PKEY *cakey = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
	X509 *ca = NULL, *srv = NULL;
	char san[2048];
	size_t i, off;
	pc_rc rc = PC_EIO;

	if (cakey == NULL || key == NULL)
		goto out;
	if ((ca = new_cert(cakey, "pcmds development CA", 3650)) == NULL ||
	    X509_set_issuer_name(ca, X509_get_subject_name(ca)) != 1 ||
	    !add_ext(ca, ca, NID_basic_constraints, "critical,CA:TRUE,"
	    "pathlen:0") ||
	    !add_ext(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(ca, ca, NID_subject_key_identifier, "hash") ||
	    X509_sign(ca, cakey, EVP_sha256()) == 0)
		goto out;
	off = (size_t)snprintf(san, sizeof(san), "DNS:localhost,"
	    "IP:127.0.0.1,IP:::1");
	for (i = 0; i < nhosts && off < sizeof(san); i++)
		off += (size_t)snprintf(san + off, sizeof(san) - off, ",%s:%s",
		    strspn(hosts[i], "0123456789.:") == strlen(hosts[i]) ?
		    "IP" : "DNS", hosts[i]);
	if ((srv = new_cert(key, nhosts ? hosts[0] : "localhost", 397)) ==
	    NULL ||
	    X509_set_issuer_name(srv, X509_get_subject_name(ca)) != 1 ||
	    !add_ext(srv, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(srv, ca, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(srv, ca, NID_ext_key_usage, "serverAuth") ||
	    !add_ext(srv, ca, NID_subject_alt_name, san) ||
	    !add_ext(srv, ca, NID_authority_key_identifier, "keyid:always") ||
	    X509_sign(srv, cakey, EVP_sha256()) == 0)
		goto out;
	if (write_pem(dir, "ca.pem", ca, NULL, errs) &&
	    write_pem(dir, "ca.key", NULL, cakey, errs) &&
	    write_pem(dir, "server.pem", srv, NULL, errs) &&
	    write_pem(dir, "server.key", NULL, key, errs))
		rc = PC_OK;
out:
	if (rc != PC_OK && errs->n == 0)
		ssl_errors(errs, "making certificates");
	X509_free(ca);
	X509_free(srv);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(key);
	return rc;
}

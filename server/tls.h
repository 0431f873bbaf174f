/*
 * tls.h - the server's TLS context and the development PKI.
 */
#ifndef PCMDS_TLS_H
#define PCMDS_TLS_H

#include <openssl/ssl.h>

#include "err.h"

/*
 * A server context: TLS 1.2 and 1.3 only, ECDHE key exchange with AEAD
 * ciphers, no compression, no renegotiation, server cipher preference.
 * Refuses keys weaker than RSA 2048 or EC 256.
 */
SSL_CTX	*tls_server_ctx(const char *cert, const char *key, struct err_list *);

/*
 * Writes a development CA (ca.pem, ca.key) and a server certificate signed
 * by it (server.pem, server.key) into dir: EC P-256, SHA-256, the server
 * valid for localhost, 127.0.0.1, ::1 and the extra host names given.
 * Clients pin ca.pem.
 */
pc_rc	 tls_make_dev_pki(const char *dir, const char *const *hosts,
	    size_t nhosts, struct err_list *);

#endif

/*
 * secret.c - making, reading and deriving from the server secret.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "sec.h"
#include "secret.h"

pc_rc
secret_create(const char *path, struct err_list *errs)
{
	uint8_t k[SECRET_LEN];
	char text[2 * SECRET_LEN + 2];
	pc_rc rc;

	if (fs_exists(path)) {
		err_add(errs, E_SYSTEM, "secret_file", "%s already exists; a new "
		    "secret would break every recipient's joins and the audit "
		    "chain, so it is never replaced", path);
		return PC_EINVAL;
	}
	if ((rc = sec_random(k, sizeof(k))) != PC_OK) {
		err_add(errs, E_SYSTEM, "secret_file", "no random bytes for "
		    "the server secret");
		return rc;
	}
	sec_hex(k, sizeof(k), text);
	text[2 * SECRET_LEN] = '\n';
	text[2 * SECRET_LEN + 1] = '\0';
	rc = fs_write_atomic(path, text, 2 * SECRET_LEN + 1, 0600, errs);
	sec_wipe(k, sizeof(k));
	sec_wipe(text, sizeof(text));
	return rc;
}

pc_rc
secret_load(const char *path, struct secret *s, struct err_list *errs)
{
	struct stat st;
	struct buf b;
	pc_rc rc;

	memset(s, 0, sizeof(*s));
	if (path == NULL || path[0] == '\0') {
		err_add(errs, E_REQUIRED, "secret_file", "no secret_file is set "
		    "in pcmdsd.conf; make one with pcmdsd secret create FILE "
		    "and name it there");
		return PC_EUSAGE;
	}
	if (stat(path, &st) != 0) {
		err_add(errs, E_SYSTEM, "secret_file", "cannot read the server "
		    "secret %s: %s", path, strerror(errno));
		return errno == ENOENT ? PC_ENOTFOUND : PC_EIO;
	}
	if ((st.st_mode & 077) != 0) {
		err_add(errs, E_SYSTEM, "secret_file", "the server secret %s "
		    "can be read or changed by other users (mode %04o); run "
		    "chmod 0600 %s", path, (unsigned)(st.st_mode & 07777), path);
		return PC_EINVAL;
	}
	buf_init(&b, 256);
	if ((rc = fs_read_file(path, &b, errs)) == PC_OK) {
		while (b.len > 0 && (b.p[b.len - 1] == '\n' ||
		    b.p[b.len - 1] == '\r'))
			b.p[--b.len] = '\0';
		if (b.len != 2 * SECRET_LEN ||
		    sec_unhex(b.p, s->k, SECRET_LEN) != 0) {
			err_add(errs, E_FORMAT, "secret_file", "%s does not hold "
			    "a server secret (64 hex digits)", path);
			rc = PC_EINVAL;
		}
	}
	if (b.p != NULL)
		sec_wipe(b.p, b.cap);
	buf_free(&b);
	if (rc != PC_OK)
		secret_wipe(s);
	return rc;
}

pc_rc
secret_derive(const struct secret *s, const char *purpose,
    uint8_t out[SECRET_LEN])
{
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "pcmds/1 %s", purpose);

	if (n < 0 || (size_t)n >= sizeof(msg))
		return PC_EUSAGE;
	return sec_hmac_sha256(s->k, SECRET_LEN, msg, (size_t)n, out);
}

void
secret_wipe(struct secret *s)
{
	sec_wipe(s->k, sizeof(s->k));
}

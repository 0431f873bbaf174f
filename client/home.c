/*
 * home.c - client directories, configuration file and deployment key.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "home.h"
#include "kv.h"
#include "sec.h"

static pc_rc
join(char *out, const char *dir, const char *name, struct err_list *errs)
{
	if (snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX) {
		err_add(errs, E_SYSTEM, "", "path too long: %s/%s", dir, name);
		return PC_EIO;
	}
	return PC_OK;
}

static pc_rc
xdg_dir(char *out, const char *var, const char *fallback,
    struct err_list *errs)
{
	const char *v = getenv(var), *home = getenv("HOME");

	if (v != NULL && v[0] == '/')
		return join(out, v, "pcmds", errs);
	if (home == NULL || home[0] != '/') {
		err_add(errs, E_SYSTEM, "", "cannot find a home directory: set "
		    "HOME, PCMDS_HOME or use --home DIR");
		return PC_EIO;
	}
	if (snprintf(out, PATH_MAX, "%s/%s/pcmds", home, fallback) >= PATH_MAX)
		return PC_EIO;
	return PC_OK;
}

pc_rc
home_locate(const char *dir, struct home *h, struct err_list *errs)
{
	const char *env = getenv("PCMDS_HOME");
	pc_rc rc;

	memset(h, 0, sizeof(*h));
	if (dir == NULL && env != NULL && env[0] != '\0')
		dir = env;
	if (dir != NULL) {
		snprintf(h->data_dir, PATH_MAX, "%s", dir);
		snprintf(h->config_dir, PATH_MAX, "%s", dir);
	} else if ((rc = xdg_dir(h->data_dir, "XDG_DATA_HOME", ".local/share",
	    errs)) != PC_OK ||
	    (rc = xdg_dir(h->config_dir, "XDG_CONFIG_HOME", ".config",
	    errs)) != PC_OK)
		return rc;
	if ((rc = fs_mkdirs(h->data_dir, 0700, errs)) != PC_OK ||
	    (rc = fs_mkdirs(h->config_dir, 0700, errs)) != PC_OK)
		return rc;
	/* tighten directories an older version or a person left open */
	(void)chmod(h->data_dir, 0700);
	(void)chmod(h->config_dir, 0700);
	if ((rc = join(h->db, h->data_dir, "pcmds.db", errs)) != PC_OK ||
	    (rc = join(h->lock, h->data_dir, "sync.lock", errs)) != PC_OK ||
	    (rc = join(h->config, h->config_dir, "config", errs)) != PC_OK ||
	    (rc = join(h->key, h->config_dir, "key", errs)) != PC_OK ||
	    (rc = join(h->cacert, h->config_dir, "ca.pem", errs)) != PC_OK)
		return rc;
	return PC_OK;
}

struct cfg_key {
	const char	*name;
	size_t		 off;
	size_t		 len;
};

#define CFG(f)	{#f, offsetof(struct config, f), sizeof(((struct config *)0)->f)}

static const struct cfg_key cfg_keys[] = {
	CFG(worker), CFG(place), CFG(pcn), CFG(server), CFG(token),
	CFG(expires), CFG(role), CFG(key_id), CFG(device), CFG(review_weeks),
	CFG(final_weeks),
};

static pc_rc
cfg_set(void *arg, const char *key, const char *val, struct err_list *errs)
{
	struct config *c = arg;
	size_t i;

	if (strcmp(key, "pinned") == 0) {
		c->pinned = strcmp(val, "yes") == 0;
		return PC_OK;
	}
	for (i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++) {
		if (strcmp(cfg_keys[i].name, key) != 0)
			continue;
		if (strlen(val) >= cfg_keys[i].len) {
			err_add(errs, E_LENGTH, key, "%s is too long", key);
			return PC_EINVAL;
		}
		memcpy((char *)c + cfg_keys[i].off, val, strlen(val) + 1);
		return PC_OK;
	}
	err_add(errs, E_UNKNOWN_FIELD, key, "unknown setting %s", key);
	return PC_EINVAL;
}

pc_rc
home_config_load(const struct home *h, struct config *c,
    struct err_list *errs)
{
	pc_rc rc;

	memset(c, 0, sizeof(*c));
	if (!fs_exists(h->config))
		return PC_OK;
	rc = kv_parse_file(h->config, cfg_set, c, errs);
	return rc;
}

pc_rc
home_config_save(const struct home *h, const struct config *c,
    struct err_list *errs)
{
	struct buf b;
	size_t i;
	pc_rc rc = PC_OK;

	buf_init(&b, 0);
	buf_adds(&b, "# pcmds client configuration, written by pcmds setup.\n"
	    "# The access token is sealed in the encrypted store, not here.\n");
	for (i = 0; i < sizeof(cfg_keys) / sizeof(cfg_keys[0]); i++) {
		const char *v = (const char *)c + cfg_keys[i].off;

		/* read from pcmds 0.9's files, to move it; never written */
		if (cfg_keys[i].off == offsetof(struct config, token))
			continue;
		if (v[0] != '\0')
			rc = buf_addf(&b, "%s = %s\n", cfg_keys[i].name, v);
	}
	if (c->pinned)
		rc = buf_adds(&b, "pinned = yes\n");
	if (rc == PC_OK)
		rc = fs_write_atomic(h->config, b.p, b.len, 0600, errs);
	buf_free(&b);
	return rc;
}

pc_rc
home_key_read(const char *path, uint8_t key[NHS_KEY_LEN],
    struct err_list *errs)
{
	struct buf b;
	char hex[2 * NHS_KEY_LEN + 1];
	size_t n;
	pc_rc rc;

	buf_init(&b, 4096);
	if ((rc = fs_read_file(path, &b, errs)) != PC_OK) {
		buf_free(&b);
		return rc;
	}
	n = b.len;
	while (n > 0 && isspace((unsigned char)b.p[n - 1]))
		n--;
	if (n != 2 * NHS_KEY_LEN) {
		err_add(errs, E_FORMAT, "key", "%s is not a pcmds key file (64 "
		    "hex digits, as made by pcmds keygen)", path);
		buf_free(&b);
		return PC_EINVAL;
	}
	memcpy(hex, b.p, n);
	hex[n] = '\0';
	sec_wipe(b.p, b.len);
	buf_free(&b);
	if (sec_unhex(hex, key, NHS_KEY_LEN) != 0) {
		err_add(errs, E_FORMAT, "key", "%s is not a pcmds key file (64 "
		    "hex digits, as made by pcmds keygen)", path);
		return PC_EINVAL;
	}
	sec_wipe(hex, sizeof(hex));
	return PC_OK;
}

pc_rc
home_key_generate(const char *path, char key_id[NHS_KEY_ID_LEN],
    struct err_list *errs)
{
	uint8_t key[NHS_KEY_LEN];
	char hex[2 * NHS_KEY_LEN + 2];
	ssize_t w;
	int fd;

	if (sec_random(key, sizeof(key)) != PC_OK) {
		err_add(errs, E_SYSTEM, "", "no randomness available");
		return PC_EIO;
	}
	sec_hex(key, sizeof(key), hex);
	strcat(hex, "\n");
	nhs_key_id(key, key_id);
	sec_wipe(key, sizeof(key));
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) <
	    0) {
		if (errno == EEXIST)
			err_add(errs, E_SYSTEM, "out", "%s already exists; a "
			    "key is never overwritten", path);
		else
			err_add(errs, E_SYSTEM, "out", "cannot create %s: %s",
			    path, strerror(errno));
		sec_wipe(hex, sizeof(hex));
		return PC_EIO;
	}
	w = write(fd, hex, strlen(hex));
	sec_wipe(hex, sizeof(hex));
	if (w != 2 * NHS_KEY_LEN + 1 || fsync(fd) != 0) {
		err_add(errs, E_SYSTEM, "out", "cannot write %s: %s", path,
		    strerror(errno));
		close(fd);
		return PC_EIO;
	}
	close(fd);
	return PC_OK;
}

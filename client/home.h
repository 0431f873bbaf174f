/*
 * home.h - where the client keeps its store, configuration and key.
 *
 * With --home DIR or $PCMDS_HOME everything lives in that one directory.
 * Otherwise the store goes under $XDG_DATA_HOME/pcmds (default
 * ~/.local/share/pcmds) and configuration, key and pinned CA under
 * $XDG_CONFIG_HOME/pcmds (default ~/.config/pcmds). Directories are made
 * 0700 and files 0600: the store holds pseudonymised health data.
 */
#ifndef PCMDS_HOME_H
#define PCMDS_HOME_H

#include <limits.h>
#include <stdint.h>

#include "err.h"
#include "nhs.h"
#include "rec.h"

struct home {
	char	 data_dir[PATH_MAX];
	char	 config_dir[PATH_MAX];
	char	 db[PATH_MAX];		/* pcmds.db */
	char	 config[PATH_MAX];	/* config */
	char	 key[PATH_MAX];		/* key: pcmds 0.9's plain deployment key */
	char	 cacert[PATH_MAX];	/* ca.pem: the pinned server CA */
	char	 lock[PATH_MAX];	/* sync.lock */
};

struct config {
	char	 worker[REC_WORKER_MAX + 1];
	char	 place[REC_PLACE_MAX + 1];
	char	 pcn[7];
	char	 server[512];		/* https://host:port, "" offline */
	char	 token[64];		/* in the store (unlock.h), not the file */
	char	 expires[40];		/* token expiry, RFC 3339 */
	char	 role[24];
	char	 key_id[NHS_KEY_ID_LEN];
	char	 device[UUID_LEN];
	char	 review_weeks[16];	/* "6-12": review due after baseline */
	char	 final_weeks[8];	/* "12": final due after baseline */
	int	 pinned;		/* ca.pem holds the CA to trust */
};

pc_rc	 home_locate(const char *dir, struct home *, struct err_list *);
/* A missing file gives an empty configuration. */
pc_rc	 home_config_load(const struct home *, struct config *,
	    struct err_list *);
/* Writes every setting but the token (sealed in the store instead). */
pc_rc	 home_config_save(const struct home *, const struct config *,
	    struct err_list *);
/* Reads a key file: 64 hex digits (a newline allowed). */
pc_rc	 home_key_read(const char *path, uint8_t key[NHS_KEY_LEN],
	    struct err_list *);
/* Writes a new random key to path (which must not exist), mode 0600. */
pc_rc	 home_key_generate(const char *path, char key_id[NHS_KEY_ID_LEN],
	    struct err_list *);

#endif

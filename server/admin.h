/*
 * admin.h - pcmdsd's local administration commands.
 *
 * Each returns the process exit status: 0 done, 1 refused or failed.
 */
#ifndef PCMDS_ADMIN_H
#define PCMDS_ADMIN_H

#include <stddef.h>

#include "auth.h"
#include "conf.h"
#include "store.h"

/* database: NULL for DIR/pcmds.db, else a postgresql:// URI. */
int	 admin_init(const char *dir, const char *listen, const char *database,
	    const char *const *hosts, size_t nhosts);
/* Opens the database with the audit chain's key (secret_file). */
int	 admin_open(const struct conf *, struct store **);
/* subject: the OpenID Connect identity to link at once, or NULL. */
int	 admin_user_add(struct store *, const struct conf *, struct store_user *,
	    const char *subject, int json);
int	 admin_user_code(struct store *, const struct conf *, int64_t id,
	    int json);
int	 admin_user_list(struct store *, const struct conf *);
/*
 * Links the user to a person's subject at the configured OpenID Connect
 * provider (oidc_issuer), so that signing in there signs them in; unlink
 * undoes it. Revoking the user ends it too.
 */
int	 admin_user_link(struct store *, const struct conf *, int64_t id,
	    const char *subject);
int	 admin_user_unlink(struct store *, const struct conf *, int64_t id);
int	 admin_user_revoke(struct store *, int64_t id);
int	 admin_places_import(struct store *, const char *path);
int	 admin_places_list(struct store *);
/* Population denominators (pop.h): import a file, list them as one. */
int	 admin_population_import(struct store *, const char *path);
int	 admin_population_list(struct store *);
int	 admin_assets_import(struct store *, const char *path);
/* Every place's directory, or one place's. */
int	 admin_assets_list(struct store *, const char *place);
/*
 * 0 intact, 1 broken (every problem found is printed), 2 unreadable or a
 * malformed head. heads: "SEQ:HASH" recorded earlier from the server log.
 */
int	 admin_audit_verify(struct store *, const char *const *heads, size_t n);

#endif

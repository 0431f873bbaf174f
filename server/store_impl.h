/*
 * store_impl.h - what a store implementation provides (store.h).
 *
 * A store is a table of functions and the state every store shares;
 * each implementation's own state begins with a struct store, so the
 * functions can convert their handle back. store.c dispatches the calls
 * of store.h through the table. Only store.c and the implementations
 * include this header.
 */
#ifndef PCMDS_STORE_IMPL_H
#define PCMDS_STORE_IMPL_H

#include "buf.h"
#include "store.h"

struct store_ops {
	const char	*kind;		/* "sqlite", "postgresql" */
	int		 shared;	/* several processes write at once */
	void	(*close)(struct store *);
	pc_rc	(*background_checkpoints)(struct store *, struct err_list *);
	pc_rc	(*export_source)(struct store *, const char *);
	void	(*short_waits)(struct store *);
	pc_rc	(*cache_size)(struct store *, int);
	enum store_fault (*fault)(struct store *, char *, size_t);
	pc_rc	(*begin)(struct store *);
	pc_rc	(*commit)(struct store *);
	void	(*rollback)(struct store *);
	pc_rc	(*meta_get)(struct store *, const char *, char *, size_t);
	pc_rc	(*meta_set)(struct store *, const char *, const char *);
	pc_rc	(*meta_del)(struct store *, const char *);
	pc_rc	(*place_put)(struct store *, const struct store_place *);
	pc_rc	(*place_get)(struct store *, const char *, struct store_place *);
	pc_rc	(*place_each)(struct store *,
		    int (*)(void *, const struct store_place *), void *);
	pc_rc	(*population_clear)(struct store *, const char *, const char *);
	pc_rc	(*population_put)(struct store *,
		    const struct store_population *);
	pc_rc	(*population_each)(struct store *,
		    int (*)(void *, const struct store_population *), void *);
	pc_rc	(*password_set)(struct store *, int64_t, const char *, int64_t);
	pc_rc	(*password_get)(struct store *, int64_t, char *, size_t);
	pc_rc	(*password_clear)(struct store *, int64_t);
	pc_rc	(*oidc_link)(struct store *, int64_t, const char *,
		    const char *, int64_t);
	pc_rc	(*oidc_find)(struct store *, const char *, const char *,
		    int64_t *);
	pc_rc	(*oidc_subject)(struct store *, int64_t, const char *, char *,
		    size_t);
	pc_rc	(*oidc_unlink)(struct store *, int64_t, const char *);
	pc_rc	(*asset_put)(struct store *, const struct store_asset *);
	pc_rc	(*asset_retire)(struct store *, const char *,
		    const char *const *, size_t);
	pc_rc	(*asset_known)(struct store *, const char *, const char *);
	pc_rc	(*asset_each)(struct store *, const char *,
		    int (*)(void *, const struct store_asset *), void *);
	pc_rc	(*user_add)(struct store *, struct store_user *);
	pc_rc	(*user_get)(struct store *, int64_t, struct store_user *);
	pc_rc	(*user_each)(struct store *,
		    int (*)(void *, const struct store_user *), void *);
	pc_rc	(*user_revoke)(struct store *, int64_t, int64_t);
	pc_rc	(*cred_add)(struct store *, const uint8_t *, int64_t,
		    enum store_cred, const char *, int64_t, int64_t);
	pc_rc	(*cred_take_code)(struct store *, const uint8_t *, int64_t,
		    int64_t *);
	pc_rc	(*cred_find)(struct store *, const uint8_t *, enum store_cred,
		    int64_t, struct store_auth *);
	pc_rc	(*cred_revoke)(struct store *, const uint8_t *);
	pc_rc	(*batch_lock)(struct store *, const char *const *, size_t,
		    const char *const *, size_t);
	pc_rc	(*record_hash)(struct store *, const char *, char *);
	pc_rc	(*record_put)(struct store *, const struct rec *, int64_t,
		    int64_t, int64_t, int64_t);
	pc_rc	(*record_timeline)(struct store *, const char *,
		    struct timeline *);
	pc_rc	(*record_count)(struct store *, int64_t *);
	pc_rc	(*fact_put)(struct store *, const char *, const char *, int32_t,
		    int, const void *, size_t, int64_t *);
	pc_rc	(*fact_each)(struct store *,
		    int (*)(void *, int64_t, const void *, size_t), void *);
	pc_rc	(*fact_clear)(struct store *);
	pc_rc	(*facts_of)(struct store *, const char *const *, size_t,
		    int (*)(void *, const char *, const void *, size_t),
		    void *);
	pc_rc	(*takeup_put)(struct store *, const char *, int64_t,
		    const char *, int32_t, const struct store_takeup *, size_t);
	pc_rc	(*takeup_add)(struct store *, const char *, int64_t,
		    const char *, int32_t, const struct store_takeup *, size_t);
	pc_rc	(*takeup_each)(struct store *, const char *, int32_t, int32_t,
		    int (*)(void *, const char *, int64_t,
		    const struct store_takeup *), void *);
	pc_rc	(*referral_each)(struct store *, int (*)(void *, const char *),
		    void *);
	pc_rc	(*watermark)(struct store *, char *);
	pc_rc	(*facts_since)(struct store *, const char *,
		    const char (*)[STORE_MARK_LEN], size_t,
		    int (*)(void *, int64_t, const void *, size_t), void *,
		    char *);
	int	(*covers)(const char *, const char *);
	int	(*may_read)(const char *, const char *);
	pc_rc	(*places_version)(struct store *, int64_t *);
	pc_rc	(*wait_change)(struct store *, int, int);
	pc_rc	(*rate)(struct store *, const char *, double, double, double,
		    int, double *);
	pc_rc	(*export_open)(struct store *, const char *, int32_t, int32_t,
		    struct store_cursor **);
	pc_rc	(*export_next)(struct store_cursor *,
		    struct store_export_ref *);
	void	(*export_close)(struct store_cursor *);
	pc_rc	(*audit_last)(struct store *, int64_t *, int64_t *, uint8_t *);
	pc_rc	(*audit_insert)(struct store *, const struct store_audit *);
	pc_rc	(*audit_each)(struct store *,
		    int (*)(void *, const struct store_audit *), void *);
	pc_rc	(*audit_heads)(struct store *, int (*)(void *, int64_t, int64_t,
		    const uint8_t *), void *);
	pc_rc	(*record_rows)(struct store *, enum store_rows, int64_t,
		    int64_t, int (*)(void *, const struct store_rec_row *),
		    void *);
	pc_rc	(*record_row)(struct store *, const char *,
		    int (*)(void *, const struct store_rec_row *), void *);
	pc_rc	(*copy_each)(struct store *, enum store_table,
		    int (*)(void *, const struct store_value *), void *);
	pc_rc	(*copy_put)(struct store *, enum store_table,
		    const struct store_value *);
	pc_rc	(*copy_end)(struct store *, enum store_table);
};

struct store {
	const struct store_ops	*ops;
	uint8_t			 audit_key[SEC_SHA256_LEN];
	int			 has_audit_key;
};

/* A cursor's first member, so store_export_next() finds its table. */
struct store_cursor {
	const struct store_ops	*ops;
};

pc_rc	 store_sqlite_open(const char *path, struct store **,
	    struct err_list *);
pc_rc	 store_pg_open(const char *conninfo, struct store **,
	    struct err_list *);

#endif

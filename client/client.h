/*
 * client.h - what every pcmds command shares: the context, the command
 * table entry, exit codes and the helpers that build and store records.
 */
#ifndef PCMDS_CLIENT_H
#define PCMDS_CLIENT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "buf.h"

#include "cstore.h"
#include "err.h"
#include "home.h"
#include "opt.h"
#include "rec.h"
#include "timeline.h"
#include "unlock.h"

/* Exit codes, documented in pcmds(1). */
enum {
	EXIT_OK = 0,
	EXIT_INVALID = 1,	/* invalid data or operation refused */
	EXIT_USAGE = 2,
	EXIT_STORE = 3,
	EXIT_QUARANTINED = 4,	/* sync: some records refused by the server */
	EXIT_UNREACHABLE = 5,	/* sync: server unreachable, records kept */
	EXIT_AUTH = 6,		/* sync: enrolment expired or revoked */
	EXIT_LOCKED = 7,	/* store locked, or a wrong passphrase */
};

struct ctx {
	const char	*home_opt;	/* --home, or NULL */
	struct home	 home;
	struct config	 cfg;
	struct cstore	*store;		/* opened on first use */
	struct rec_opts	 ropts;
	int		 interactive;	/* stdin is a terminal */
	int		 check_only;	/* report every problem, store nothing */
	struct err_list	 warnings;	/* record_make's, for the person */
	int		 has_pass_fd;	/* --passphrase-fd N was given */
	int		 pass_fd;	/* N */
	struct vault_keys *keys;	/* the store's, once unlocked (unlock.h) */
	struct ctx_fresh *fresh;	/* setup's new store, until ctx_save */
};

/* Maps a record field to the flag that sets it, for messages. */
struct flag_alias {
	const char	*field;
	const char	*flag;
};

struct command {
	const char		*name;
	const char		*args;		/* e.g. "REF" */
	int			 minpos, maxpos;
	const char		*summary;
	const struct opt_spec	*opts;
	int			(*run)(struct ctx *, struct opt_result *);
	const char		*details;
};

extern const struct command cmd_keygen, cmd_setup, cmd_referral, cmd_assess,
    cmd_contact, cmd_support, cmd_close, cmd_correct, cmd_list, cmd_show,
    cmd_status, cmd_import, cmd_export, cmd_sync, cmd_report, cmd_codes,
    cmd_extract, cmd_due, cmd_find, cmd_ui, cmd_unlock, cmd_lock,
    cmd_passphrase, cmd_recover;

/* Opens the store when first needed, unlocked (see unlock.h). */
pc_rc	 ctx_store(struct ctx *, struct err_list *);
/* Requires a configured identity (pcmds setup). */
pc_rc	 ctx_identity(struct ctx *, struct err_list *);
/* Prints every error, one line each: "pcmds: --flag: sentence (CODE)". */
void	 ctx_report(const struct err_list *, const struct flag_alias *);
/*
 * After a record is stored: its read-back line (with stored set) and any
 * warnings, on stderr.
 */
void	 ctx_readback(struct ctx *, const char *id, int stored);
/* Reports errs, frees them, and gives the exit code for rc. */
int	 ctx_fail(struct err_list *, pc_rc rc);
int	 exit_for(pc_rc);

/* Converts command-line text to the JSON value field f takes. */
cJSON	*record_value(const struct field *f, const char *text);
/* Sets body[field] from the option, converting by the kind's field type. */
void	 record_set(cJSON *body, enum rec_kind, const char *field,
	    const char *text);
/*
 * Builds a record of kind from body (kind-specific fields; consumed),
 * adds the envelope (id, device_seq, time, identity), validates it with
 * common/ and checks it against its referral's other records, then
 * stores it. Must run inside a store transaction. referral is NULL for
 * a new referral; id NULL for a random one.
 */
pc_rc	 record_make(struct ctx *, enum rec_kind, cJSON *body,
	    const char *referral, const char *id, char out_id[UUID_LEN],
	    struct err_list *);
/* record_make in a transaction of its own. */
pc_rc	 record_add(struct ctx *, enum rec_kind, cJSON *body,
	    const char *referral, char out_id[UUID_LEN], struct err_list *);
/*
 * The person pseudonym of an NHS number (checked; E_NHS_NUMBER when it
 * fails Modulus 11). Neither the number nor the key is kept.
 */
pc_rc	 record_person(struct ctx *, const char *nhs,
	    char person[SEC_HEX64_LEN], struct err_list *);
/*
 * Finds a person by NHS number: turned into the pseudonym and matched
 * against the referrals here, each match handed to cb; *found is their
 * number. The number is never stored, logged or sent.
 */
pc_rc	 record_find_person(struct ctx *, const char *nhs, cstore_cb cb,
	    void *arg, int *found, struct err_list *);
/*
 * The rules across the referral's records that a new record of kind will
 * meet (tl_precheck), asked before the rest of it is: date is its date
 * field's value (NULL while not known), scores set for an assessment
 * with scores. PC_EINVAL with the reasons in errs.
 */
pc_rc	 record_precheck(struct ctx *, const char *referral, enum rec_kind,
	    const cJSON *date, int scores, struct err_list *);
/* "3f2b8c1e contact 01/05/2026: ..." of a stored record, into out. */
pc_rc	 record_readback(struct ctx *, const char *id, char *out, size_t len);
/* Resolves REF to a live referral's full id. */
pc_rc	 record_referral(struct ctx *, const char *ref, char id[UUID_LEN],
	    struct err_list *);
struct import_counts {
	long	 stored;	/* rows stored whole */
	long	 records;	/* records they made */
	long	 rejected;	/* rows refused (in the rejects CSV) */
	long	 skipped;	/* rows already imported, or repeated */
};

/*
 * Imports a referrals CSV from fp (see pcmds import): valid rows are
 * stored, refused rows are reported on stderr and appended with their
 * reasons to rejects (a CSV). Needs identity, store and key.
 */
pc_rc	 import_csv(struct ctx *, FILE *fp, struct buf *rejects,
	    struct import_counts *, struct err_list *);

/* Local calendar date of today + offset days, YYYY-MM-DD. */
void	 record_local_date(int offset, char out[DATE_LEN]);
/*
 * A date as typed (today, yesterday, tomorrow, DD/MM/YYYY) written
 * YYYY-MM-DD for the validator to judge; -1 when it is none of these.
 */
int	 record_date_text(const char *text, char out[DATE_LEN]);
/* Validator options for a device: no date after its own today. */
void	 record_opts(struct rec_opts *);
/*
 * What is stored but worth a second look, added to warn: a second
 * baseline for the referral, the same correction made twice.
 */
void	 record_warn(const struct timeline *, const struct rec *,
	    struct err_list *warn);

#endif

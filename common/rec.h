/*
 * rec.h - the pcmds/1 record model and its validator.
 *
 * A record is an immutable event about one referral. The fields of every
 * kind are described by tables (struct field) that drive validation, the
 * client's flags and prompts, CSV import and the data dictionary, so that
 * the rules are written once. rec_validate() is the one entry point that
 * turns JSON into a valid record or a list of errors; client and server
 * both call it.
 */
#ifndef PCMDS_REC_H
#define PCMDS_REC_H

#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "codes.h"
#include "date.h"
#include "err.h"
#include "jfast.h"
#include "ons4.h"
#include "sec.h"
#include "uuid.h"

#define REC_SCHEMA	"pcmds/1"
#define REC_WORKER_MAX	64
#define REC_PLACE_MAX	16
#define REC_TEXT_MAX	500
#define REC_KEYS_MAX	40	/* more keys than any kind has, with margin */
#define REC_JSON_MAX	16384	/* bytes of one record's JSON */
#define REC_ASSET_MAX	40	/* characters of an asset id */
#define REC_DEPTH_MAX	4	/* of a value in a record, the record 0 */

enum rec_kind {
	KIND_REFERRAL,
	KIND_ASSESSMENT,
	KIND_CONTACT,
	KIND_SUPPORT,
	KIND_CLOSURE,
	KIND_CORRECTION,
	KIND_N
};

enum field_type {
	FT_SCHEMA,	/* the literal "pcmds/1" */
	FT_KIND,	/* a record kind */
	FT_UUID,	/* canonical lowercase UUID */
	FT_TIME,	/* RFC 3339 UTC time */
	FT_SEQ,		/* positive whole number */
	FT_WORKER,	/* link worker id: [A-Za-z0-9._-], 1-64 */
	FT_PLACE,	/* place code: [A-Z0-9_-], 1-16 */
	FT_PCN,		/* primary care network ODS code: U + 5 digits */
	FT_HEX64,	/* 64 lowercase hex digits (a person pseudonym) */
	FT_ENUM,	/* one code from a code list */
	FT_ENUM_SET,	/* one or more distinct codes from a code list */
	FT_DATE,	/* YYYY-MM-DD, 2015-01-01 to today */
	FT_INT,		/* whole number in [min, max] */
	FT_BOOL,	/* true or false */
	FT_TRISTATE,	/* true, false or "unknown" */
	FT_TEXT,	/* UTF-8 text of min..max characters */
	FT_OBJECT,	/* a JSON object (correction "set") */
	FT_ASSET,	/* id in a place's directory of community assets */
};

#define FF_REQUIRED	0x01	/* must be present */
#define FF_ENVELOPE	0x02	/* common to every kind; never corrected */
#define FF_EVENT_DATE	0x04	/* the date the event happened */
#define FF_SCORE	0x08	/* ONS4 score: required unless declined */

struct field {
	const char		*name;
	enum field_type		 type;
	unsigned		 flags;
	int64_t			 min, max;	/* value, length or item count */
	const struct codelist	*codes;
	const char		*label;
	const char		*help;
};

struct kind_info {
	const char		*name;
	const char		*label;
	const struct field	*fields;	/* kind-specific fields */
	size_t			 n;
	const char		*help;
};

extern const struct field	rec_envelope[];
extern const size_t		rec_envelope_n;

const struct kind_info	*rec_kind_info(enum rec_kind);
/* KIND_N when s names no kind. */
enum rec_kind		 rec_kind_parse(const char *s);
/* A field of the kind (kind-specific first, then envelope), or NULL. */
const struct field	*rec_field(enum rec_kind, const char *name);
/* The name of the kind's event date field, or NULL (corrections). */
const char		*rec_date_field(enum rec_kind);

struct rec_opts {
	int32_t	 today;		/* latest date accepted */
};

/*
 * Dates "in the future" are judged against the latest calendar date
 * anywhere on Earth (UTC+14), so that a link worker's own today is never
 * refused whatever the device's time zone.
 */
void	 rec_opts_init(struct rec_opts *, time_t now);

/*
 * What the cross-record rules and a referral's summary read of a record
 * (timeline.h), read from its slots once, when it is built: reading them
 * by name walked its keys each time. They are the record as recorded,
 * not as corrected. Each is what the read by name it replaces gave.
 */
struct rec_vals {
	int	 flag;		/* 1: an assessment declined, a contact
				   attended; else 0 */
	int	 code;		/* codes index of an assessment's stage, a
				   support's category, a closure's reason;
				   -1 none */
	int	 taken;		/* 1: a support taken up or completed */
	int	 score[ONS4_N];	/* an assessment's; -1 absent */
	int	 age;		/* a referral's; 0 absent */
};

struct rec {
	enum rec_kind	 kind;
	char		 id[UUID_LEN];
	char		 referral[UUID_LEN];
	char		 worker[REC_WORKER_MAX + 1];
	char		 place[REC_PLACE_MAX + 1];
	char		 pcn[7];		/* "" when absent */
	char		 recorded_at[TIME_LEN + 16];
	int64_t		 device_seq;
	int32_t		 date;		/* event date; -1 for corrections */
	struct rec_vals	 vals;
	cJSON		*json;		/* the validated record (owned) */
	char		*canon;		/* canonical text (owned) */
	size_t		 canon_len;
	char		 hash[SEC_HEX64_LEN];	/* SHA-256 of canon */
	uint8_t		 digest[SEC_SHA256_LEN];	/* the same, binary */
};

/*
 * Validates obj as a pcmds/1 record. On success *out is a new record
 * holding a copy of obj; on failure every problem found is added to errs
 * and PC_EINVAL is returned.
 */
pc_rc	 rec_validate(const cJSON *obj, const struct rec_opts *,
	    struct rec **out, struct err_list *errs);
/*
 * rec_validate without the copy: takes obj, which must stand alone (no
 * parent; detach it first), whatever the outcome. A valid record keeps
 * obj as its json; an invalid one frees it.
 */
pc_rc	 rec_adopt(cJSON *obj, const struct rec_opts *, struct rec **out,
	    struct err_list *errs);
/*
 * rec_adopt for obj as jfast_parse() made it of text[0..len), with what
 * it saw (info): the UTF-8 walk is skipped where it could find nothing,
 * and canonical text is copied as the record's canon, not made again.
 * The outcome is rec_adopt's, error for error; text stays the caller's.
 */
pc_rc	 rec_adopt_fast(cJSON *obj, const struct jfast_info *info,
	    const char *text, size_t len, const struct rec_opts *,
	    struct rec **out, struct err_list *errs);
/* Parses JSON text (at most REC_JSON_MAX bytes) and validates it. */
pc_rc	 rec_parse(const char *text, size_t len, const struct rec_opts *,
	    struct rec **out, struct err_list *errs);
/*
 * Rebuilds a record stored earlier by pcmds itself, without validating it
 * again: stored data stays readable when the rules later change (a date
 * that was "today" is not refused tomorrow). Only the shape is checked.
 */
pc_rc	 rec_load(const char *text, size_t len, struct rec **out);
/*
 * The same for text known to be a record's canonical form, with its
 * SHA-256 digest (a store's row): both are copied, not made again, which
 * was most of the cost of reading a stored record. digest NULL is
 * rec_load.
 */
pc_rc	 rec_load_canon(const char *text, size_t len,
	    const uint8_t *digest, struct rec **out);
/*
 * Validates one value against a field's rules, adding errors under path.
 * Used for correction "set" values and for command-line flags.
 */
void	 rec_check_value(const struct field *, const cJSON *v,
	    const char *path, const struct rec_opts *, struct err_list *);
void	 rec_free(struct rec *);

/* Typed reads of a validated record (or of its corrected form). */
const cJSON	*rec_get(const cJSON *, const char *field);
const char	*rec_str(const cJSON *, const char *field);
int		 rec_int(const cJSON *, const char *field, int dflt);
/* 1 true, 0 false, -1 "unknown", dflt when absent. */
int		 rec_flag(const cJSON *, const char *field, int dflt);
/* Day number of a date field, -1 when absent. */
int32_t		 rec_day(const cJSON *, const char *field);

/* Renders a JSON value briefly for messages: "11", "\"gp\"", "a list". */
void	 rec_describe(const cJSON *, char *out, size_t len);

#endif

/*
 * err.h - status codes and error lists shared by every pcmds module.
 *
 * Every fallible function returns a pc_rc (0 is success), like CURLcode.
 * Details a person must read go into a struct err_list: each item has a
 * stable code (E_RANGE, ...), the field path it concerns and a sentence a
 * link worker can act on.
 */
#ifndef PCMDS_ERR_H
#define PCMDS_ERR_H

#include <stdarg.h>
#include <stddef.h>

typedef enum {
	PC_OK = 0,
	PC_ENOMEM,	/* out of memory */
	PC_EINVAL,	/* the data is not valid: see the err_list */
	PC_EUSAGE,	/* the request itself is malformed */
	PC_EIO,		/* a file or system call failed */
	PC_ESTORE,	/* the database failed */
	PC_ENOTFOUND,	/* no such record, user, file */
	PC_EAMBIGUOUS,	/* a short id matches several records */
	PC_ECONFLICT,	/* the same id already holds other content */
	PC_ENET,	/* the peer could not be reached */
	PC_ETLS,	/* certificate or TLS failure */
	PC_EAUTH,	/* credentials missing, wrong, expired or revoked */
	PC_EPROTO,	/* the peer answered something we do not understand */
	PC_EBUSY,	/* somebody else holds the lock */
	PC_ELIMIT,	/* a size or count limit was reached */
} pc_rc;

/* Stable error codes carried in API answers and CLI messages. */
enum err_code {
	E_NONE = 0,
	E_JSON,			/* not well-formed JSON */
	E_TYPE,			/* wrong JSON type */
	E_REQUIRED,		/* a required field is missing */
	E_UNKNOWN_FIELD,	/* a field the schema does not define */
	E_DUPLICATE_FIELD,	/* the same key twice in one object */
	E_SCHEMA,		/* schema is not "pcmds/1" */
	E_KIND,			/* unknown record kind */
	E_RANGE,		/* number outside its range */
	E_ENUM,			/* not one of the allowed codes */
	E_DATE,			/* not a real date, or out of the allowed span */
	E_TIME,			/* not an RFC 3339 UTC time */
	E_UUID,			/* not a canonical lowercase UUID */
	E_LENGTH,		/* text too long or empty */
	E_UTF8,			/* text is not valid UTF-8 */
	E_FORMAT,		/* does not match the field's pattern */
	E_NHS_NUMBER,		/* NHS number fails the Modulus 11 check */
	E_CONFLICT,		/* id already used by different content */
	E_REFERRAL,		/* referral unknown, voided or of another place */
	E_CLOSED,		/* the referral is closed */
	E_TARGET,		/* correction target unknown or not correctable */
	E_AGE,			/* ONS4 asked of someone under 16 */
	E_PLACE,		/* record place differs from the enrolment */
	E_WORKER,		/* record worker differs from the enrolment */
	E_RULE,			/* a rule across fields is broken */
	E_TOO_MANY,		/* more items than allowed */
	E_SYSTEM,		/* a system or store failure, not the data */
	E_IDENTIFIER,		/* free text holds a personal identifier */
	E_CONTROL,		/* text holds a control or invisible character */
	E_CODE_MAX
};

#define ERR_FIELD_MAX	64
#define ERR_MSG_MAX	256
#define ERR_LIST_MAX	32	/* items kept per list; the rest are counted */

struct err_item {
	enum err_code	 code;
	char		 field[ERR_FIELD_MAX];
	char		 msg[ERR_MSG_MAX];
};

struct err_list {
	struct err_item	*v;
	size_t		 n;
	size_t		 cap;
	size_t		 dropped;	/* items not kept (limit or memory) */
};

const char	*pc_strerror(pc_rc);
const char	*err_code_name(enum err_code);
enum err_code	 err_code_parse(const char *);

void	 err_init(struct err_list *);
void	 err_clear(struct err_list *);
void	 err_free(struct err_list *);
void	 err_add(struct err_list *, enum err_code, const char *field,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	 err_vadd(struct err_list *, enum err_code, const char *field,
	    const char *fmt, va_list) __attribute__((format(printf, 4, 0)));
size_t	 err_count(const struct err_list *);
int	 err_has(const struct err_list *, enum err_code);
void	 err_move(struct err_list *dst, struct err_list *src);
/* "field: sentence" for item i into buf; returns buf. */
const char *err_line(const struct err_list *, size_t i, char *buf,
	    size_t len);

#endif

/*
 * describe.h - records in the words a link worker reads: labels, not
 * codes or field names. Shared by pcmds show, the read-back printed after
 * each record is stored, and the app's timeline.
 */
#ifndef PCMDS_DESCRIBE_H
#define PCMDS_DESCRIBE_H

#include <stddef.h>

#include "codes.h"
#include "rec.h"
#include "timeline.h"

struct cstore;

/*
 * Community assets are named from this store's directory (ctx_store
 * sets it); without one, by their ids.
 */
void		 describe_assets_from(struct cstore *);
/* The label of a code; the code itself, or "-", when it has none. */
const char	*describe_label(const struct codelist *, const char *code);
/* "yes", "no", "not known" or "not recorded" for a flag field. */
const char	*describe_yesno(const cJSON *, const char *field);
/*
 * A field's value as a person would type it back: DD/MM/YYYY dates,
 * codes, "yes"/"no"/"unknown", lists joined with commas; "" when absent.
 */
void		 describe_value(const struct field *, const cJSON *v,
		    char *out, size_t len);
/* What content of kind k holds (rj: the record itself, for corrections). */
void		 describe_what(enum rec_kind, const cJSON *content,
		    const cJSON *rj, char *out, size_t len);
/* One line of what a record holds, corrections applied (no date). */
void		 describe_entry(const struct tl_entry *, char *out, size_t len);
/*
 * What was just stored, in a line: its short id, kind, date (DD/MM/YYYY)
 * and content, e.g. "3f2b8c1e contact 01/05/2026: Phone, 20 min,
 * attended".
 */
void		 describe_readback(const struct rec *, char *out, size_t len);

#endif

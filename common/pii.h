/*
 * pii.h - free text that must not identify anyone, nor hide anything.
 *
 * Free-text fields (a support provider, a correction's reason) reach
 * evaluators' exports. The check refuses text that holds what looks like
 * a personal identifier - an NHS number (10 digits passing the Modulus 11
 * check, spaces or dashes allowed), an email address, a UK phone number,
 * a UK postcode, a title followed by a capitalised name - or characters a
 * reader cannot see: control characters (NUL included), C1 controls,
 * bidirectional overrides and zero-width characters. The validator in
 * rec.c calls it for every text field, so client and server refuse the
 * same text.
 *
 * Detection is by pattern, so it errs both ways: "Elm Dr Surgery" is
 * refused (a title and a name), a name written without a title is not.
 * The message says which kind was found and where, never the text.
 */
#ifndef PCMDS_PII_H
#define PCMDS_PII_H

#include <stddef.h>

#include "err.h"

enum pii_kind {
	PII_NONE,
	PII_CONTROL,	/* C0 control or DEL, NUL included */
	PII_INVISIBLE,	/* C1 control, bidi override, zero-width, BOM */
	PII_NHS_NUMBER,
	PII_EMAIL,
	PII_PHONE,
	PII_POSTCODE,
	PII_NAME,	/* a title and a capitalised name */
	PII_N
};

/* "an NHS number", "an email address", ... for messages. */
const char	*pii_kind_text(enum pii_kind);
/*
 * The first kind found in s[0..len) (checked in enum order), and the
 * character (1-based code point) where it starts.
 */
enum pii_kind	 pii_scan(const char *s, size_t len, long *at);
/*
 * Adds one error (E_CONTROL or E_IDENTIFIER, under path, naming the
 * field by label) when s is not fit for a free-text field; 0 when it is.
 */
int		 pii_check(const char *s, size_t len, const char *label,
		    const char *path, struct err_list *);
/*
 * JSON text holding a NUL, as a raw byte or a \u0000 escape: a JSON
 * parser that makes C strings cuts the text there without a word. The
 * byte offset of the first, with the object key it is in or under copied
 * to key ("" when none); -1 when there is none.
 */
long		 pii_json_nul(const char *text, size_t len, char *key,
		    size_t keylen);

#endif

/*
 * jsplit.h - a batch's body, {"records": [...]}, cut into the text of
 * each record without parsing it, so that the records are parsed where
 * they are checked (ingest's check threads), not all on the loop.
 *
 * Only the outer shape is read here: each record's span is parsed, and
 * so checked, by whoever takes it; a body whose every span then parses
 * is well-formed JSON. Any other shape (more members, escapes in the
 * key, nesting near cJSON's limit) is left to a full parse.
 *
 * That full parse, jsplit_parse(), is the one every JSON text the
 * server reads goes through (requests, ID tokens, the provider's
 * answers): a value with anything but blanks after it is refused.
 */
#ifndef PCMDS_JSPLIT_H
#define PCMDS_JSPLIT_H

#include <stddef.h>

#include "err.h"

struct cJSON;

struct jsplit_span {
	const char	*p;	/* into the text: the caller's */
	size_t		 len;
};

/*
 * The records of text[0..len): *out (the caller frees it; NULL when
 * there are none) and *n of them. PC_ENOTFOUND: not of that shape (or
 * not JSON), for a full parse to decide; PC_ENOMEM.
 */
pc_rc	 jsplit_records(const char *text, size_t len,
	    struct jsplit_span **out, size_t *n);

/*
 * text[0..len) parsed as one JSON value with nothing but blanks after
 * it (the caller frees it with cJSON_Delete), or NULL: not JSON, or more
 * after the value, which a plain cJSON parse would quietly ignore.
 */
struct cJSON	*jsplit_parse(const char *text, size_t len);

#endif

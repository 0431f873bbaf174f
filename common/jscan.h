/*
 * jscan.h - the top-level members of canonical pcmds JSON text (rec.h:
 * what is stored), read in one pass without building a tree. Canonical
 * text has its keys unescaped, unique and sorted by their bytes, and no
 * space between tokens: what is not is refused, and the caller reads it
 * with a full parser instead.
 */
#ifndef PCMDS_JSCAN_H
#define PCMDS_JSCAN_H

#include <stddef.h>

#include "err.h"

/* A member's value as it stands in the text (borrowed, not copied). */
struct jscan_span {
	const char	*p;	/* the value's text (a string's with quotes) */
	size_t		 len;	/* 0: the member is absent */
};

/*
 * Finds the members names[0..n) (sorted by their bytes, as canonical
 * text sorts keys) of the one object in [p, p + len): f[i] is the value
 * of names[i], or {NULL, 0}. PC_EINVAL when the text is not canonical
 * (f is then undefined). Only the top level's shape is read, not the
 * grammar of values ({"a":x} is taken): give it text that was validated
 * when it was stored.
 */
pc_rc	 jscan_members(const char *p, size_t len, const char *const *names,
	    size_t n, struct jscan_span *f);
/*
 * A string value with nothing escaped in it, copied into s (size bytes,
 * NUL-terminated). PC_EINVAL when v is absent, not a string, holds an
 * escape or does not fit.
 */
pc_rc	 jscan_string(const struct jscan_span *v, char *s, size_t size);

#endif

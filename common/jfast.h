/*
 * jfast.h - a quick parse of the text a client sends: a record in its
 * canonical form (canon.h), an object with no blanks, keys sorted.
 *
 * The tree is the one cJSON would make of the same text: the same types,
 * values, order and links, each node and string allocated on its own
 * with cJSON_malloc (so through any hooks installed, and freed with
 * cJSON_Delete). Any text it does not read as surely (blanks, numbers
 * that are not whole, \u escapes, control characters, deep nesting,
 * anything not well-formed) it leaves to cJSON: jfast_parse then
 * returns NULL, and what cJSON makes of the text decides, so that the
 * result never differs.
 */
#ifndef PCMDS_JFAST_H
#define PCMDS_JFAST_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* What the parse saw, valid when jfast_parse returned a tree. */
struct jfast_info {
	int	canonical;	/* the text is canon_json() of the tree */
	int	ascii;		/* no byte above 0x7f in any string or key */
	int	depth;		/* of the deepest value, the outer one 0 */
};

/* Deeper than this, the parse is cJSON's. */
#define JFAST_DEPTH_MAX	16

/*
 * text[0..len), a JSON object and nothing after it, as a new tree (the
 * caller's, for cJSON_Delete); NULL when the text is left to cJSON
 * (including not JSON at all) or memory ran out.
 */
cJSON	*jfast_parse(const char *text, size_t len, struct jfast_info *info);

#endif

/*
 * jout.h - JSON and CSV text with every number at full precision.
 *
 * Machine-readable outputs carry each double in its shortest round-trip
 * form: the fewest significant digits (at most 17) that strtod reads back
 * as exactly the same double. cJSON's own printer tries 15 digits and
 * accepts them when they come back merely close, which can lose the last
 * bits of a figure.
 */
#ifndef PCMDS_JOUT_H
#define PCMDS_JOUT_H

#include <cjson/cJSON.h>

#define JOUT_NUM_LEN	32

/* v in shortest round-trip form; "null" for NaN and infinities. */
void	 jout_double(double v, char out[JOUT_NUM_LEN]);
/*
 * A JSON document as text (pretty: indented), numbers by jout_double().
 * The caller frees the result with cJSON_free (cJSON's allocation,
 * through its hooks when some are installed); NULL when out of memory.
 */
char	*jout_print(const cJSON *, int pretty);

#endif

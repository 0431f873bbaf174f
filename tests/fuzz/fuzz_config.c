/*
 * fuzz_config.c - pcmdsd.conf parsing: any text gives settings or errors
 * naming a line, never a crash.
 */
#include <stdint.h>
#include <stdlib.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	struct err_list errs;
	pc_rc rc;

	conf_defaults(&c);
	err_init(&errs);
	rc = conf_parse(&c, (const char *)data, size, "fuzz.conf", &errs);
	if (rc != PC_OK && err_count(&errs) == 0)
		abort();	/* refused without a reason */
	if (rc == PC_OK && (c.max_batch < 1 || c.max_inflated < c.max_body))
		abort();
	err_free(&errs);
	return 0;
}

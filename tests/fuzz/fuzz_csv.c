/*
 * fuzz_csv.c - pcmds import: a spreadsheet of referrals, read by the CSV
 * reader and imported into an in-memory client store.
 *
 * Invariant: every row is stored whole or refused whole (the store holds
 * a multiple of whole rows' records, never a part).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct ctx c;

static void
init(void)
{
	static char dir[] = "/tmp/pcmds-fuzz-csvXXXXXX";
	struct err_list errs;
	char id[NHS_KEY_ID_LEN];

	if (mkdtemp(dir) == NULL)
		abort();
	err_init(&errs);
	snprintf(c.home.key, sizeof(c.home.key), "%s/key", dir);
	if (home_key_generate(c.home.key, id, &errs) != PC_OK)
		abort();
	snprintf(c.cfg.worker, sizeof(c.cfg.worker), "fuzz");
	snprintf(c.cfg.place, sizeof(c.cfg.place), "BD");
	rec_opts_init(&c.ropts, 1795000000);	/* 2026-11-18 */
	err_free(&errs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_counts n;
	struct err_list errs;
	struct buf rejects;
	FILE *fp;

	if (c.cfg.worker[0] == '\0')
		init();
	if (size == 0 || (fp = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	err_init(&errs);
	buf_init(&rejects, 0);
	if (cstore_open(":memory:", &c.store, &errs) != PC_OK)
		abort();
	(void)import_csv(&c, fp, &rejects, &n, &errs);
	fclose(fp);
	if (n.rejected > 0 && rejects.len == 0)
		abort();
	cstore_close(c.store);
	c.store = NULL;
	buf_free(&rejects);
	err_free(&errs);
	return 0;
}

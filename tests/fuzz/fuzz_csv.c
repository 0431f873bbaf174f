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
#include "sec.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct ctx c;
static uint8_t deploy[NHS_KEY_LEN], sid[VAULT_ID_LEN];

static void
init(void)
{
	snprintf(c.cfg.worker, sizeof(c.cfg.worker), "fuzz");
	snprintf(c.cfg.place, sizeof(c.cfg.place), "BD");
	rec_opts_init(&c.ropts, 1795000000);	/* 2026-11-18 */
	if ((c.keys = vault_keys_new()) == NULL ||
	    vault_keys_generate(c.keys) != PC_OK ||
	    sec_random(deploy, sizeof(deploy)) != PC_OK ||
	    sec_random(sid, sizeof(sid)) != PC_OK)
		abort();
}

/* A new encrypted store in memory, holding the deployment key. */
static void
open_store(void)
{
	struct err_list errs;

	err_init(&errs);
	if (cstore_open(":memory:", &c.store, &errs) != PC_OK ||
	    cstore_begin(c.store, &errs) != PC_OK ||
	    cstore_encrypt(c.store, c.keys->data, sid, &errs) != PC_OK ||
	    cstore_commit(c.store, &errs) != PC_OK ||
	    ctx_key_set(&c, deploy, &errs) != PC_OK)
		abort();
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
	open_store();
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

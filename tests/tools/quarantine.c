/*
 * quarantine.c - marks a record of a client's store refused by the
 * server, with a reason, as sync does: for tests that drive the app in a
 * browser (tests/ui/browser.py), which cannot write the sealed reason
 * itself. The store's keys come from its running agent.
 *
 *   quarantine HOME RECORD-ID REASON-JSON
 */
#include <stdio.h>

#include "agent.h"
#include "cstore.h"

int
main(int argc, char *argv[])
{
	char db[4200], path[PATH_MAX];
	struct vault_keys *k = vault_keys_new();
	struct err_list errs;
	struct cstore *cs = NULL;
	int ok;

	if (argc != 4 || k == NULL) {
		fprintf(stderr, "usage: quarantine HOME RECORD-ID REASON-JSON\n");
		return 2;
	}
	err_init(&errs);
	snprintf(db, sizeof(db), "%s/pcmds.db", argv[1]);
	ok = cstore_open(db, &cs, &errs) == PC_OK &&
	    agent_path(argv[1], path, &errs) == PC_OK &&
	    agent_get(path, cstore_id(cs), k) == PC_OK &&
	    cstore_key(cs, k->data, &errs) == PC_OK &&
	    cstore_mark(cs, argv[2], CS_QUARANTINED, argv[3], &errs) == PC_OK;
	if (!ok)
		fprintf(stderr, "quarantine: %s\n", errs.n ? errs.v[0].msg :
		    "no agent holds the store's keys");
	cstore_close(cs);
	vault_keys_free(k);
	err_free(&errs);
	return ok ? 0 : 1;
}

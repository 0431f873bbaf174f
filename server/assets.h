/*
 * assets.h - each place's directory of community assets.
 *
 * Social prescribing connects people to local groups and services; the
 * directory lists them per place so that a link worker picks the one
 * offered instead of typing its name. The server holds it (pcmdsd assets
 * import), link workers' devices receive their place's entries when they
 * sync (GET /v1/assets), and a support record may name an entry by its
 * id (the pcmds/1 "asset" field).
 */
#ifndef PCMDS_ASSETS_H
#define PCMDS_ASSETS_H

#include "err.h"
#include "store.h"

struct assets_count {
	int	 entries;	/* rows of the file */
	int	 places;	/* places whose directory was replaced */
};

/*
 * Reads a directory CSV (header id,name,category,place[,contact][,notes])
 * and makes it the directory of every place it names: its entries are
 * added or updated, that place's earlier entries not listed are retired
 * (kept, for the records that name them). Every row is checked first;
 * nothing is stored if any row is wrong. Runs inside a transaction.
 */
pc_rc	 assets_import(struct store *, const char *text, size_t len,
	    const char *what, struct assets_count *, struct err_list *);
pc_rc	 assets_import_file(struct store *, const char *path,
	    struct assets_count *, struct err_list *);

#endif

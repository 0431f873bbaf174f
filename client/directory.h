/*
 * directory.h - the place's directory of community assets on the device.
 *
 * The server holds each place's directory; a device receives its place's
 * at every sync (GET /v1/assets) and keeps it in its store, so that
 * support offered is picked from it with no signal. A support record (or
 * a correction) naming an asset is checked against this copy before it
 * is stored, as the server checks it against its own.
 */
#ifndef PCMDS_DIRECTORY_H
#define PCMDS_DIRECTORY_H

#include <stddef.h>

#include "client.h"
#include "net.h"

/*
 * Fetches the directory over n (already set up for the server) and
 * replaces the store's copy with it; *count is its number of entries.
 * PC_OK or the request's failure; nothing is replaced unless the whole
 * answer was read and is valid.
 */
pc_rc	 dir_fetch(struct ctx *, struct net *, int *count, struct err_list *);
/* For pcmds sync: dir_fetch, a failure told on stderr as a warning. */
void	 dir_sync(struct ctx *, struct net *);
/*
 * A record's community asset (a support record's, or a correction's new
 * one, in body) must be in the directory; E_ENUM under "asset" when it
 * is not.
 */
pc_rc	 dir_check(struct ctx *, enum rec_kind, const cJSON *body,
	    struct err_list *);
/*
 * A support record naming an asset but no category takes the asset's
 * category from the directory (the app and pcmds support --asset).
 */
void	 dir_fill(struct ctx *, enum rec_kind, cJSON *body);
/* The entry's name into out, or "" when the directory lacks it. */
void	 dir_name(struct ctx *, const char *id, char *out, size_t len);

#endif

/*
 * migrate.h - pcmdsd migrate --to postgresql://...: a deployment moved
 * from its store (SQLite) into an empty PostgreSQL database.
 *
 * Every table (meta, places, users, credentials, records, the audit log,
 * facts) is copied in one transaction on each side, the source held
 * against writers meanwhile. Then both sides are read again, table by
 * table: the row counts and a SHA-256 over every value must agree; the
 * audit log must verify on the new side with the server secret, its
 * chain 0 ending at the old head; and the move is itself audited there.
 * The old database is left as it was.
 */
#ifndef PCMDS_MIGRATE_H
#define PCMDS_MIGRATE_H

#include "conf.h"

/* The exit status: 0 moved and verified, 1 refused or failed. */
int	 migrate_run(const struct conf *, const char *to);

#endif

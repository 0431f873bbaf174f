/*
 * fs.h - file helpers with the durability and permissions pcmds needs.
 */
#ifndef PCMDS_FS_H
#define PCMDS_FS_H

#include <sys/types.h>

#include "buf.h"
#include "err.h"

/* Creates path and its parents (each with mode) when missing. */
pc_rc	 fs_mkdirs(const char *path, mode_t mode, struct err_list *);
/* Reads the whole file into b (bounded by b->max). */
pc_rc	 fs_read_file(const char *path, struct buf *b, struct err_list *);
/*
 * Replaces path with data durably: a temporary file in the same
 * directory, fsync, rename, fsync of the directory. Readers see the old
 * file or the new one, never a torn one, even after a power cut.
 */
pc_rc	 fs_write_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, struct err_list *);
int	 fs_exists(const char *path);

#endif

/*
 * kv.h - "key = value" configuration files.
 *
 * One setting per line; blank lines and lines starting with '#' are
 * skipped; spaces around key and value are trimmed. The callback checks
 * each setting and reports problems; the line number is added to every
 * message so that an administrator can find the line.
 */
#ifndef PCMDS_KV_H
#define PCMDS_KV_H

#include <stddef.h>

#include "err.h"

#define KV_LINE_MAX	4096

typedef pc_rc (*kv_cb)(void *arg, const char *key, const char *value,
    struct err_list *errs);

/* what names the source in messages, e.g. the file's path */
pc_rc	 kv_parse(const char *text, size_t len, const char *what, kv_cb,
	    void *arg, struct err_list *errs);
pc_rc	 kv_parse_file(const char *path, kv_cb, void *arg,
	    struct err_list *errs);

#endif

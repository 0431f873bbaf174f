/*
 * pass.h - reading a passphrase or recovery key: from a file descriptor
 * (--passphrase-fd N, for scripts, as gpg does) or from the terminal with
 * echo off. Never from an argument or the environment, where other
 * users and logs can see it.
 *
 * A struct pass owns one page of locked memory (vault_locked_alloc);
 * pass_free wipes and releases it.
 */
#ifndef PCMDS_PASS_H
#define PCMDS_PASS_H

#include <stddef.h>

#include "err.h"
#include "vault.h"

struct pass {
	char	*p;		/* NUL-terminated, in locked memory */
	size_t	 len;
};

pc_rc	 pass_alloc(struct pass *);
void	 pass_free(struct pass *);
/*
 * Reads one line from fd, a byte at a time so that a second line stays
 * for the next read (pcmds passphrase reads the old, then the new). The
 * newline (and a carriage return before it) is not part of it. PC_EIO at
 * end of input with nothing read; what names it is "--passphrase-fd N".
 */
pc_rc	 pass_read_fd(int fd, struct pass *, const char *what,
	    struct err_list *);
/* 1 when a person can be asked on the terminal. */
int	 pass_tty_available(void);
/* Asks on the terminal (/dev/tty), echo off; PC_EIO when it cannot. */
pc_rc	 pass_read_tty(const char *question, struct pass *, struct err_list *);
/*
 * A new passphrase: from fd (when fd >= 0), else asked twice on the
 * terminal until both agree. Refuses one shorter than VAULT_PASS_MIN
 * characters.
 */
pc_rc	 pass_read_new(int fd, const char *question, struct pass *,
	    struct err_list *);

#endif

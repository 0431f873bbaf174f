/*
 * agent.h - the key agent: holds an unlocked store's keys in memory so
 * that commands do not ask for the passphrase each time (like ssh-agent).
 *
 * One agent per store, started by pcmds unlock (or when a person typed
 * the passphrase at a terminal), ended by pcmds lock, by SIGTERM or
 * after an idle time with no request; a process of its own (pcmds
 * executed again), detached from the terminal. It listens on a Unix socket, mode
 * 0600, in a 0700 directory of the user's runtime directory
 * ($XDG_RUNTIME_DIR/pcmds, else $TMPDIR/pcmds-UID), named after the
 * store's path; it answers only processes of its own user (SO_PEERCRED)
 * asking for its own store (by store id). The keys stay in locked memory
 * in the agent and are wiped when it ends; the process cannot be traced
 * or dump core. Nothing is written to disk but the socket itself.
 *
 * Protocol: the client sends one byte ('K' keys, 'L' lock) and the store
 * id; the agent answers '+' (with the keys for 'K') or '-'.
 */
#ifndef PCMDS_AGENT_H
#define PCMDS_AGENT_H

#include <limits.h>
#include <stdint.h>

#include "err.h"
#include "vault.h"

#define AGENT_IDLE_DEFAULT	(15 * 60)	/* seconds */
#define AGENT_IDLE_MAX		(24 * 3600)

/* The socket path of the agent of the store in data_dir (made 0700). */
pc_rc	 agent_path(const char *data_dir, char out[PATH_MAX],
	    struct err_list *);
/*
 * Asks the store's agent for its keys. PC_ENOTFOUND when no agent
 * answers for this store (none running, or another store's).
 */
pc_rc	 agent_get(const char *path, const uint8_t sid[VAULT_ID_LEN],
	    struct vault_keys *);
/*
 * Starts an agent holding a copy of keys for the store sid, idle_s
 * seconds of idleness allowed; an agent already there is replaced.
 * exe is the pcmds program to run it (NULL: this one, /proc/self/exe).
 * Returns once the new agent listens.
 */
pc_rc	 agent_start(const char *path, const uint8_t sid[VAULT_ID_LEN],
	    const struct vault_keys *, int idle_s, const char *exe,
	    struct err_list *);
/* Ends the agent at path: 1 when one was running, 0 when none was. */
int	 agent_stop(const char *path);

/*
 * The agent runs as a program of its own (pcmds re-executed with this
 * argument alone, by agent_start, its keys on descriptor 3), so that it
 * holds nothing of the command that started it. main() hands over to
 * agent_exec_main, which returns only when the agent could not start.
 */
#define AGENT_EXEC_ARG	"--key-agent-on-fd-3"
int	 agent_exec_main(void);

#endif

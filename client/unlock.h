/*
 * unlock.h - a command's way to its store's keys: the store opened and
 * unlocked, the deployment key and the token, a plain store of an older
 * pcmds encrypted on first use, a new store made by setup.
 *
 * Where the keys come from, in order: keys already in the ctx (from
 * ctx_unlock: the app), the passphrase from --passphrase-fd N, the
 * store's agent (pcmds unlock), and the terminal when ctx->interactive
 * (the passphrase asked once; an agent then keeps the keys for
 * AGENT_IDLE_DEFAULT of inactivity). A wrong passphrase changes nothing but the count of
 * failures: from the third in a row on, each further try must wait
 * longer (5 s, doubling, at most 5 minutes), and one made too early is
 * refused unchecked.
 *
 * Ownership: ctx->keys is locked memory owned by the ctx, wiped by
 * ctx_close (or replaced by a later unlock). A passphrase handed to
 * ctx_unlock stays the caller's: it is only read. The deployment key
 * that ctx_key writes is the caller's to wipe (sec_wipe).
 */
#ifndef PCMDS_UNLOCK_H
#define PCMDS_UNLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "nhs.h"

struct ctx;

/*
 * ctx_store (client.h) opens the store, unlocked (see above), and loads
 * the token into ctx->cfg.token. A plain store of an older pcmds is
 * encrypted first, with a new passphrase (from --passphrase-fd or the
 * terminal); its recovery key is printed on stderr. PC_EAUTH: locked (no
 * way to ask) or a wrong passphrase; PC_EBUSY: too many wrong tries,
 * wait; PC_ENOTFOUND: the device is not set up.
 */
/*
 * For the app (pcmds ui), with a passphrase it collected on a page:
 * unlocks the store with it, keeping the keys in the ctx for the life of
 * the process (no agent is started). The store must exist and be
 * encrypted. Errors as ctx_store's, with a sentence fit for the page:
 * PC_EAUTH "wrong passphrase: ...", PC_EBUSY "too many wrong passphrases
 * (N in a row): try again in S seconds ...". Afterwards ctx_store opens
 * without asking.
 *
 * The app's way in: list its command in main.c's keyless[] (so that
 * main does not unlock before it runs), clear ctx->interactive (so that
 * nothing asks on a terminal), and while ctx_needs_unlock(ctx) is 1,
 * answer with the unlock page, whose POST calls ctx_unlock. An agent
 * already running (pcmds unlock) makes the page unnecessary.
 */
pc_rc	 ctx_unlock(struct ctx *, const char *passphrase, size_t len,
	    struct err_list *);
/*
 * 1 when ctx_store would need a passphrase (the store is encrypted and
 * neither the ctx nor an agent holds its keys), 0 when it would not,
 * -1 when the device is not set up or its store cannot be read.
 */
int	 ctx_needs_unlock(struct ctx *);
/* Runs ctx_store when the device has a store: a command's first step. */
pc_rc	 ctx_prepare(struct ctx *, struct err_list *);
/* Closes the store and wipes the keys. */
void	 ctx_close(struct ctx *);
/* Reports errs and frees them: EXIT_LOCKED for PC_EAUTH and PC_EBUSY. */
int	 ctx_fail_unlock(struct err_list *, pc_rc);
/*
 * No core dumps and no tracing by other processes of the user (whose
 * memory would hold keys and records): the first thing main() does.
 */
void	 ctx_harden(void);

/* The deployment key; PC_ENOTFOUND (with a sentence) when there is none. */
pc_rc	 ctx_key(struct ctx *, uint8_t key[NHS_KEY_LEN], struct err_list *);
/* 1 when the device holds a deployment key (no unlocking needed). */
int	 ctx_has_key(struct ctx *);
/*
 * PC_ECONFLICT (with a sentence) when key may not replace the device's:
 * it holds records pseudonymised under another (the one it holds, or
 * after a recovery the one whose fingerprint it remembers).
 */
pc_rc	 ctx_key_check(struct ctx *, const uint8_t key[NHS_KEY_LEN],
	    struct err_list *);
/* Stores a deployment key, sealed under the wrap key (checked first). */
pc_rc	 ctx_key_set(struct ctx *, const uint8_t key[NHS_KEY_LEN],
	    struct err_list *);

/*
 * setup's first step: unlocks an existing store, encrypts a plain one,
 * or readies a new one in memory only (written by ctx_save, so that a
 * setup refused half-way leaves nothing behind). test_kdf asks for the
 * test-only scrypt cost (setup --insecure-test-kdf); it is refused for a
 * store that exists already.
 */
pc_rc	 ctx_setup_store(struct ctx *, int test_kdf, struct err_list *);
/*
 * setup's last step: writes a new store (printing its recovery key),
 * seals the token into the store and saves the configuration (which no
 * longer holds the token).
 */
pc_rc	 ctx_save(struct ctx *, struct err_list *);

/*
 * Starts (or restarts) an agent with the ctx's keys, for idle_s seconds
 * of inactivity: for a program whose children open the store too, like
 * the app's sync. ctx_lock ends it.
 */
pc_rc	 ctx_share(struct ctx *, int idle_s, struct err_list *);

/* -- for pcmds unlock, lock, passphrase and recover (cmd_vault.c) -------- */

/*
 * Unlocks with a passphrase (never the agent's keys) and starts an agent
 * holding them for idle_s seconds of inactivity.
 */
pc_rc	 ctx_unlock_agent(struct ctx *, int idle_s, struct err_list *);
/* Ends the store's agent: 1 when one was running. */
int	 ctx_lock(struct ctx *, struct err_list *);
/* Changes the passphrase: the keys are wrapped again, nothing else. */
pc_rc	 ctx_passphrase(struct ctx *, struct err_list *);
/*
 * With the recovery key: a new passphrase, a new wrap key, a new
 * recovery key (printed); the deployment key is dropped (the
 * administrator gives it again: pcmds setup --key-file).
 */
pc_rc	 ctx_recover(struct ctx *, struct err_list *);

#endif

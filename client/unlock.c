/*
 * unlock.c - the store opened with its keys: from the ctx, the
 * passphrase, the agent or the terminal; plain stores encrypted on first
 * use; new stores made by setup; the deployment key and the token.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "client.h"
#include "crash.h"
#include "describe.h"
#include "fs.h"
#include "pass.h"
#include "sec.h"
#include "unlock.h"

#define TRIES_FREE	3	/* wrong passphrases before any wait */
#define TRIES_WAIT_MAX	300	/* seconds */
#define WRAP_MAX	1024

/* A new store readied by setup: nothing is on disk until ctx_save. */
struct ctx_fresh {
	uint8_t	 sid[VAULT_ID_LEN];
	char	 pass_wrap[WRAP_MAX];
	char	 rec_wrap[WRAP_MAX];
	char	 recovery[VAULT_RECOVERY_TEXT];
	uint8_t	 deploy[NHS_KEY_LEN];
	int	 has_deploy;
};

enum home_state { HOME_FRESH, HOME_PLAIN, HOME_ENCRYPTED };

static pc_rc
open_locked(struct ctx *c, struct err_list *errs)
{
	if (c->store != NULL)
		return PC_OK;
	return cstore_open(c->home.db, &c->store, errs);
}

/*
 * Fresh: nothing here yet. Plain: a store, configuration or key file of
 * pcmds 0.9, to be encrypted. Encrypted: a store of this pcmds.
 */
static pc_rc
home_state(struct ctx *c, enum home_state *st, struct err_list *errs)
{
	long n[CS_NSTATES];
	pc_rc rc;
	int i;

	*st = HOME_FRESH;
	if (c->store == NULL && fs_exists(c->home.db) &&
	    (rc = open_locked(c, errs)) != PC_OK)
		return rc;
	if (c->store != NULL && cstore_encrypted(c->store)) {
		*st = HOME_ENCRYPTED;
		return PC_OK;
	}
	if (fs_exists(c->home.config) || fs_exists(c->home.key))
		*st = HOME_PLAIN;
	else if (c->store != NULL && cstore_counts(c->store, n) == PC_OK)
		for (i = 0; i < CS_NSTATES; i++)
			if (n[i] > 0)
				*st = HOME_PLAIN;
	return PC_OK;
}

static pc_rc
not_set_up(struct err_list *errs)
{
	err_add(errs, E_REQUIRED, "", "this device is not set up yet: run "
	    "pcmds setup first (with --server and --code, or --worker and "
	    "--place for an offline trial)");
	return PC_ENOTFOUND;
}

/* -- wrong passphrases slow down --------------------------------------------- */

static void
tries_path(const struct ctx *c, char out[PATH_MAX])
{
	snprintf(out, PATH_MAX, "%s/unlock.tries", c->home.data_dir);
}

/* Failures in a row so far; *last the time of the last (the file's). */
static long
tries_read(const struct ctx *c, time_t *last)
{
	char path[PATH_MAX], text[32] = "";
	struct stat st;
	FILE *fp;

	tries_path(c, path);
	*last = 0;
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	if (fgets(text, sizeof(text), fp) == NULL)
		text[0] = '\0';
	if (fstat(fileno(fp), &st) == 0)
		*last = st.st_mtime;
	fclose(fp);
	return strtol(text, NULL, 10);
}

static long
tries_wait(long fails)
{
	long w;

	if (fails < TRIES_FREE)
		return 0;
	w = fails - TRIES_FREE >= 6 ? TRIES_WAIT_MAX :
	    5L << (fails - TRIES_FREE);
	return w > TRIES_WAIT_MAX ? TRIES_WAIT_MAX : w;
}

static pc_rc
tries_check(const struct ctx *c, struct err_list *errs)
{
	time_t last, now = time(NULL);
	long fails = tries_read(c, &last), wait = tries_wait(fails);

	if (wait == 0 || now - last >= wait || last > now)
		return PC_OK;
	err_add(errs, E_TOO_MANY, "", "too many wrong passphrases "
	    "(%ld in a row): try again in %ld seconds; this one was not "
	    "checked", fails, (long)(wait - (now - last)));
	return PC_EBUSY;
}

static void
tries_failed(const struct ctx *c)
{
	char path[PATH_MAX], text[32];
	time_t last;

	struct err_list errs;

	tries_path(c, path);
	snprintf(text, sizeof(text), "%ld\n", tries_read(c, &last) + 1);
	err_init(&errs);
	(void)fs_write_atomic(path, text, strlen(text), 0600, &errs);
	err_free(&errs);
}

static void
tries_reset(const struct ctx *c)
{
	char path[PATH_MAX];

	tries_path(c, path);
	(void)unlink(path);
}

/* -- plain files of pcmds 0.9 ------------------------------------------------ */

/* Overwrites a file with zeros, then removes it (best effort on flash). */
static void
shred(const char *path)
{
	char dir[PATH_MAX], zero[4096];
	struct stat st;
	off_t left;
	int fd, dfd;

	memset(zero, 0, sizeof(zero));
	if ((fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			for (left = st.st_size; left > 0;
			    left -= (off_t)sizeof(zero))
				if (write(fd, zero, left < (off_t)sizeof(zero) ?
				    (size_t)left : sizeof(zero)) < 0)
					break;
		(void)fsync(fd);
		close(fd);
	}
	(void)unlink(path);
	snprintf(dir, sizeof(dir), "%s", path);
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
}

/*
 * 1 when path is a file of nothing but zero bytes: what shred leaves when
 * it is killed between its zeros and the unlink, to be shredded again.
 */
static int
zeroed(const char *path)
{
	struct buf b;
	struct err_list errs;
	size_t i;
	int zero;

	buf_init(&b, 4096);
	err_init(&errs);
	zero = fs_read_file(path, &b, &errs) == PC_OK && b.len > 0;
	for (i = 0; zero && i < b.len; i++)
		zero = b.p[i] == 0;
	buf_free(&b);
	err_free(&errs);
	return zero;
}

/* -- the deployment key, sealed under the wrap key ----------------------------- */

static size_t
deploy_aad(uint8_t out[64], const uint8_t sid[VAULT_ID_LEN])
{
	static const char tag[] = "pcmds/vault.deploy";

	memcpy(out, tag, sizeof(tag));
	memcpy(out + sizeof(tag), sid, VAULT_ID_LEN);
	return sizeof(tag) + VAULT_ID_LEN;
}

static pc_rc
deploy_seal(const struct vault_keys *k, const uint8_t sid[VAULT_ID_LEN],
    const uint8_t key[NHS_KEY_LEN], struct buf *hex)
{
	struct vault_box *b;
	uint8_t aad[64];
	pc_rc rc;

	if ((rc = vault_box_new(k->wrap, &b)) != PC_OK)
		return rc;
	rc = vault_seal_hex(b, aad, deploy_aad(aad, sid), key, NHS_KEY_LEN, hex);
	vault_box_free(b);
	return rc;
}

/* The stored deployment key, or PC_ENOTFOUND. */
static pc_rc
deploy_open(struct ctx *c, uint8_t key[NHS_KEY_LEN], struct err_list *errs)
{
	char hex[WRAP_MAX];
	struct vault_box *b;
	struct buf pt;
	uint8_t aad[64];
	pc_rc rc;

	if (cstore_meta_get(c->store, "vault.deploy", hex, sizeof(hex)) !=
	    PC_OK)
		return PC_ENOTFOUND;
	if (!c->keys->has_wrap) {
		err_add(errs, E_REQUIRED, "", "the deployment key needs the "
		    "passphrase (the recovery key does not open it)");
		return PC_EAUTH;
	}
	if ((rc = vault_box_new(c->keys->wrap, &b)) != PC_OK)
		return rc;
	buf_init(&pt, 0);
	rc = vault_open_hex(b, aad, deploy_aad(aad, cstore_id(c->store)), hex,
	    &pt);
	if (rc == PC_OK && pt.len == NHS_KEY_LEN)
		memcpy(key, pt.p, NHS_KEY_LEN);
	else if (rc == PC_OK || rc == PC_EAUTH) {
		err_add(errs, E_SYSTEM, "", "the stored deployment key cannot be "
		    "opened: set it again (pcmds setup --key-file FILE)");
		rc = PC_EINVAL;
	}
	vault_buf_wipe(&pt);
	vault_box_free(b);
	return rc;
}

/* -- after the keys are in ------------------------------------------------------ */

/* A key file left by pcmds 0.9: into the store, then gone. */
static void
adopt_key_file(struct ctx *c)
{
	uint8_t file[NHS_KEY_LEN], held[NHS_KEY_LEN];
	struct err_list errs;
	pc_rc rc;

	err_init(&errs);
	if (home_key_read(c->home.key, file, &errs) != PC_OK) {
		if (zeroed(c->home.key))
			shred(c->home.key);	/* a shred cut short */
		err_free(&errs);
		return;
	}
	rc = deploy_open(c, held, &errs);
	if (rc == PC_ENOTFOUND && c->keys->has_wrap)
		rc = ctx_key_set(c, file, &errs) == PC_OK ? PC_OK : PC_EIO;
	else if (rc == PC_OK && !sec_equal(file, held, NHS_KEY_LEN))
		rc = PC_ECONFLICT;
	if (rc == PC_OK)
		shred(c->home.key);
	else if (rc == PC_ECONFLICT)
		fprintf(stderr, "pcmds: warning: %s holds another deployment key "
		    "than the encrypted store; it was left alone\n", c->home.key);
	sec_wipe(file, sizeof(file));
	sec_wipe(held, sizeof(held));
	err_free(&errs);
}

/*
 * The token from the store into the ctx. A token still in the plain
 * configuration (pcmds 0.9, or an upgrade cut short) moves into the store
 * and leaves the configuration, as does a key file.
 */
static pc_rc
after_unlock(struct ctx *c, struct err_list *errs)
{
	struct buf b;
	pc_rc rc = PC_OK;

	if (c->cfg.token[0] != '\0') {
		if ((rc = cstore_secret_set(c->store, "token", c->cfg.token,
		    strlen(c->cfg.token), errs)) != PC_OK ||
		    (rc = home_config_save(&c->home, &c->cfg, errs)) != PC_OK)
			return rc;
	} else {
		buf_init(&b, 0);
		rc = cstore_secret_get(c->store, "token", &b, errs);
		if (rc == PC_OK && b.len < sizeof(c->cfg.token))
			memcpy(c->cfg.token, b.p, b.len + 1);
		else if (rc == PC_ENOTFOUND)
			rc = PC_OK;
		vault_buf_wipe(&b);
		if (rc != PC_OK)
			return rc;
	}
	if (fs_exists(c->home.key))
		adopt_key_file(c);
	return PC_OK;
}

/* Keys k (taken over) into the store and the ctx. */
static pc_rc
apply(struct ctx *c, struct vault_keys *k, struct err_list *errs)
{
	pc_rc rc;

	if ((rc = cstore_key(c->store, k->data, errs)) != PC_OK) {
		vault_keys_free(k);
		return rc;
	}
	if (c->keys != k)
		vault_keys_free(c->keys);
	c->keys = k;
	/* community assets are named from the store's directory */
	describe_assets_from(c->store);
	return after_unlock(c, errs);
}

/* -- passphrases ------------------------------------------------------------------ */

static void
weak_kdf_note(const struct vault_kdf *kdf)
{
	if (kdf->n < vault_kdf_default.n)
		fprintf(stderr, "pcmds: note: this store was made with "
		    "--insecure-test-kdf; its passphrase is weakly protected "
		    "(for tests only)\n");
}

static pc_rc
read_wrap(struct ctx *c, const char *name, char wrap[WRAP_MAX],
    struct err_list *errs)
{
	if (cstore_meta_get(c->store, name, wrap, WRAP_MAX) != PC_OK) {
		err_add(errs, E_SYSTEM, "", "the store has lost its key wrap "
		    "(%s); it cannot be unlocked", name);
		return PC_ESTORE;
	}
	return PC_OK;
}

/* The passphrase p against the store's wrap, counted. */
static pc_rc
unwrap(struct ctx *c, const struct pass *p, struct vault_keys *k,
    struct vault_kdf *kdf, struct err_list *errs)
{
	char wrap[WRAP_MAX];
	struct vault_kdf used;
	pc_rc rc;

	if ((rc = tries_check(c, errs)) != PC_OK ||
	    (rc = read_wrap(c, "vault.pass", wrap, errs)) != PC_OK)
		return rc;
	rc = vault_unwrap_pass(wrap, p->p, p->len, cstore_id(c->store), k,
	    &used, errs);
	if (rc == PC_EAUTH)
		tries_failed(c);
	else if (rc == PC_OK) {
		tries_reset(c);
		weak_kdf_note(&used);
		if (kdf != NULL)
			*kdf = used;
	}
	return rc;
}

static pc_rc
locked_msg(struct err_list *errs)
{
	err_add(errs, E_REQUIRED, "", "the store is locked: run pcmds "
	    "unlock first (it asks for the passphrase once, then remembers it "
	    "while the device is in use), or give it with --passphrase-fd N "
	    "before the command");
	return PC_EAUTH;
}

/* The passphrase from --passphrase-fd, or asked (up to 3 times). */
static pc_rc
unwrap_asked(struct ctx *c, struct vault_keys *k, int *typed,
    struct err_list *errs)
{
	struct err_list mine;
	struct pass p;
	pc_rc rc;
	int i;

	if ((rc = pass_alloc(&p)) != PC_OK)
		return rc;
	if (c->has_pass_fd) {
		/* none to read: as locked as a wrong one, but not counted */
		if ((rc = pass_read_fd(c->pass_fd, &p, "passphrase", errs)) ==
		    PC_OK)
			rc = unwrap(c, &p, k, NULL, errs);
		else if (rc == PC_EIO)
			rc = PC_EAUTH;
		pass_free(&p);
		return rc;
	}
	/* c->interactive: a program like the app clears it, never to ask */
	if (!c->interactive || !pass_tty_available()) {
		pass_free(&p);
		return locked_msg(errs);
	}
	err_init(&mine);
	for (i = 0; i < 3; i++) {
		err_clear(&mine);
		if ((rc = pass_read_tty("Passphrase for this device's pcmds "
		    "store: ", &p, &mine)) != PC_OK ||
		    (rc = unwrap(c, &p, k, NULL, &mine)) != PC_EAUTH)
			break;
		fprintf(stderr, "pcmds: %s\n", mine.v[0].msg);
	}
	err_move(errs, &mine);
	err_free(&mine);
	pass_free(&p);
	*typed = rc == PC_OK;
	return rc;
}

pc_rc
ctx_share(struct ctx *c, int idle_s, struct err_list *errs)
{
	char path[PATH_MAX];
	pc_rc rc;

	if (c->store == NULL || c->keys == NULL) {
		err_add(errs, E_SYSTEM, "", "the store is not unlocked");
		return PC_EAUTH;
	}
	if ((rc = agent_path(c->home.data_dir, path, errs)) != PC_OK)
		return rc;
	return agent_start(path, cstore_id(c->store), c->keys, idle_s, NULL,
	    errs);
}

/* An agent for the unlocked store's keys, for idle_s of inactivity. */
static pc_rc
agent_for(struct ctx *c, int idle_s, struct err_list *errs)
{
	pc_rc rc;

	if ((rc = ctx_share(c, idle_s, errs)) != PC_OK)
		return rc;
	fprintf(stderr, "pcmds: unlocked; it locks after %d %s%s without use "
	    "(pcmds lock locks it now)\n", idle_s < 120 ? idle_s : idle_s / 60,
	    idle_s < 120 ? "second" : "minute", idle_s == 1 ? "" : "s");
	return PC_OK;
}

/* After a passphrase typed at the terminal: asked again if it fails. */
static void
agent_after_typing(struct ctx *c)
{
	struct err_list errs;

	err_init(&errs);
	if (agent_for(c, AGENT_IDLE_DEFAULT, &errs) != PC_OK && errs.n > 0)
		fprintf(stderr, "pcmds: warning: %s; the passphrase will be "
		    "asked again\n", errs.v[0].msg);
	err_free(&errs);
}

/* 1 when the store's agent gave its keys into k. */
static int
agent_find(struct ctx *c, struct vault_keys *k)
{
	char path[PATH_MAX];
	struct err_list errs;
	int ok;

	err_init(&errs);
	ok = agent_path(c->home.data_dir, path, &errs) == PC_OK &&
	    agent_get(path, cstore_id(c->store), k) == PC_OK;
	err_free(&errs);
	return ok;
}

/* An encrypted store unlocked: by --passphrase-fd, the agent, the terminal. */
static pc_rc
unlock_store(struct ctx *c, int use_agent, int *typed, struct err_list *errs)
{
	struct vault_keys *k;
	pc_rc rc;

	*typed = 0;
	if ((rc = open_locked(c, errs)) != PC_OK)
		return rc;
	if ((k = vault_keys_new()) == NULL)
		return PC_ENOMEM;
#ifdef PCMDS_BENCH_PLAIN
	(void)use_agent;
	k->has_wrap = 1;
	return apply(c, k, errs);	/* the comparison build: zero keys */
#endif
	if (!c->has_pass_fd && use_agent && agent_find(c, k))
		return apply(c, k, errs);
	if ((rc = unwrap_asked(c, k, typed, errs)) != PC_OK) {
		vault_keys_free(k);
		return rc;
	}
	return apply(c, k, errs);
}

/* -- new stores: setup, and pcmds 0.9's plain ones ----------------------------- */

/* A new passphrase, and the wraps of k under it and a new recovery key. */
static pc_rc
new_wraps(struct ctx *c, const struct vault_keys *k,
    const uint8_t sid[VAULT_ID_LEN], const struct vault_kdf *kdf,
    char pass_wrap[WRAP_MAX], char rec_wrap[WRAP_MAX],
    char recovery[VAULT_RECOVERY_TEXT], struct err_list *errs)
{
	struct buf pw, rw;
	struct pass p;
	pc_rc rc;

	pass_wrap[0] = rec_wrap[0] = recovery[0] = '\0';
#ifdef PCMDS_BENCH_PLAIN
	(void)c;
	(void)k;
	(void)sid;
	(void)kdf;
	(void)pw;
	(void)rw;
	(void)p;
	(void)rc;
	(void)errs;
	return PC_OK;
#endif
	if ((rc = pass_alloc(&p)) != PC_OK)
		return rc;
	buf_init(&pw, 0);
	buf_init(&rw, 0);
	if ((rc = pass_read_new(c->has_pass_fd ? c->pass_fd : -1, "New "
	    "passphrase for this device's pcmds store: ", &p, errs)) == PC_OK &&
	    (rc = vault_wrap_pass(k, p.p, p.len, kdf, sid, &pw, errs)) ==
	    PC_OK &&
	    (rc = vault_wrap_recovery(k, sid, recovery, &rw, errs)) == PC_OK) {
		snprintf(pass_wrap, WRAP_MAX, "%s", pw.p);
		snprintf(rec_wrap, WRAP_MAX, "%s", rw.p);
	}
	buf_free(&pw);
	buf_free(&rw);
	pass_free(&p);
	return rc;
}

static void
print_recovery(const char *recovery)
{
	if (recovery[0] == '\0')
		return;
	fprintf(stderr, "pcmds: this device's store is encrypted. Its recovery "
	    "key, shown only now:\n\n    %s\n\nGive it to your manager to keep "
	    "safe, away from this device. If the passphrase\nis forgotten, "
	    "pcmds recover sets a new one with it and no record is lost; it\n"
	    "never opens the deployment key.\n", recovery);
}

/*
 * Commits the transaction that stores a new recovery key's wrap, the key
 * printed first: a crash just after the commit must not leave a store
 * whose recovery key nobody saw. Printed but not stored, it is said so.
 */
static pc_rc
commit_recovery(struct ctx *c, const char *recovery, struct err_list *errs)
{
	pc_rc rc;

	print_recovery(recovery);
	if ((rc = cstore_commit(c->store, errs)) != PC_OK) {
		if (recovery[0] != '\0')
			err_add(errs, E_SYSTEM, "", "nothing was stored, so the "
			    "recovery key shown above opens nothing: forget it");
		return rc;
	}
	crash_point("vault.committed");
	return PC_OK;
}

/*
 * Writes the encrypted store in one transaction: the (plain or empty)
 * store's records sealed, the wraps, the token and the deployment key;
 * the recovery key of f is printed as it commits (commit_recovery).
 */
static pc_rc
write_store(struct ctx *c, const struct vault_keys *k,
    const uint8_t sid[VAULT_ID_LEN], const struct ctx_fresh *f,
    const uint8_t *deploy, struct err_list *errs)
{
	struct buf hex;
	pc_rc rc;

	if ((rc = open_locked(c, errs)) != PC_OK ||
	    (rc = cstore_begin(c->store, errs)) != PC_OK)
		return rc;
	buf_init(&hex, 0);
	if ((rc = cstore_encrypt(c->store, k->data, sid, errs)) == PC_OK &&
	    (rc = cstore_meta_set(c->store, "vault.pass", f->pass_wrap,
	    errs)) == PC_OK &&
	    (rc = cstore_meta_set(c->store, "vault.recovery", f->rec_wrap,
	    errs)) == PC_OK &&
	    (c->cfg.token[0] == '\0' || (rc = cstore_secret_set(c->store,
	    "token", c->cfg.token, strlen(c->cfg.token), errs)) == PC_OK) &&
	    (deploy == NULL || ((rc = deploy_seal(k, sid, deploy, &hex)) ==
	    PC_OK && (rc = cstore_meta_set(c->store, "vault.deploy", hex.p,
	    errs)) == PC_OK)))
		rc = commit_recovery(c, f->recovery, errs);
	buf_free(&hex);
	if (rc != PC_OK) {
		/* nothing changed: the plain store (or none) is as it was */
		cstore_rollback(c->store);
		cstore_close(c->store);
		c->store = NULL;
	}
	return rc;
}

/* The plain files of pcmds 0.9 go once the encrypted store holds them. */
static void
scrub_plain(struct ctx *c)
{
	struct err_list errs;

	err_init(&errs);
	(void)cstore_scrub(c->store, &errs);
	if (home_config_save(&c->home, &c->cfg, &errs) == PC_OK &&
	    fs_exists(c->home.key))
		shred(c->home.key);
	err_free(&errs);
}

/* pcmds 0.9's plain store, configuration and key file, encrypted. */
static pc_rc
upgrade(struct ctx *c, const struct vault_kdf *kdf, struct err_list *errs)
{
	uint8_t sid[VAULT_ID_LEN], deploy[NHS_KEY_LEN];
	struct ctx_fresh *f;
	struct vault_keys *k;
	int has_deploy = 0;
	pc_rc rc;

	if (fs_exists(c->home.key)) {
		if ((rc = home_key_read(c->home.key, deploy, errs)) != PC_OK)
			return rc;
		has_deploy = 1;
	}
	if ((k = vault_keys_new()) == NULL ||
	    (f = vault_locked_alloc(sizeof(*f))) == NULL) {
		vault_keys_free(k);
		return PC_ENOMEM;
	}
	if (!c->has_pass_fd && (!c->interactive || !pass_tty_available())) {
		err_add(errs, E_REQUIRED, "passphrase-fd", "this store was made "
		    "by an older pcmds and is not encrypted yet: choose its "
		    "passphrase (pcmds unlock, on a terminal), or give one with "
		    "--passphrase-fd N before the command");
		rc = PC_EAUTH;
	} else if ((rc = vault_keys_generate(k)) == PC_OK &&
	    (rc = sec_random(sid, sizeof(sid))) == PC_OK &&
	    (rc = new_wraps(c, k, sid, kdf, f->pass_wrap, f->rec_wrap,
	    f->recovery, errs)) == PC_OK &&
	    (rc = write_store(c, k, sid, f, has_deploy ? deploy : NULL,
	    errs)) == PC_OK &&
	    (rc = cstore_key(c->store, k->data, errs)) == PC_OK) {
		vault_keys_free(c->keys);
		c->keys = k;
		k = NULL;
		describe_assets_from(c->store);
		scrub_plain(c);
	}
	sec_wipe(deploy, sizeof(deploy));
	vault_keys_free(k);
	vault_locked_free(f, sizeof(*f));
	return rc;
}

/* -- the ctx interface ----------------------------------------------------------- */

/*
 * The device's store, encrypted now if it was plain (*upgraded then set:
 * the upgrade unlocked it); with upgraded NULL a plain one is refused.
 * PC_ENOTFOUND when there is none.
 */
static pc_rc
existing_store(struct ctx *c, int *upgraded, struct err_list *errs)
{
	enum home_state st;
	pc_rc rc;

	if (upgraded != NULL)
		*upgraded = 0;
	if ((rc = home_state(c, &st, errs)) != PC_OK)
		return rc;
	if (st == HOME_FRESH)
		return not_set_up(errs);
	if (st == HOME_PLAIN && upgraded == NULL) {
		err_add(errs, E_REQUIRED, "", "this store is not encrypted yet: "
		    "pcmds unlock, on a terminal, chooses its first passphrase");
		return PC_EINVAL;
	}
	if (st == HOME_PLAIN) {
		*upgraded = 1;
		return upgrade(c, &vault_kdf_default, errs);
	}
	return PC_OK;
}

pc_rc
ctx_store(struct ctx *c, struct err_list *errs)
{
	pc_rc rc;
	int typed, upgraded;

	if (c->store != NULL && c->keys != NULL)
		return PC_OK;
	if (c->fresh != NULL) {
		err_add(errs, E_SYSTEM, "", "the new store is written at the end "
		    "of setup");
		return PC_EINVAL;
	}
	if ((rc = existing_store(c, &upgraded, errs)) != PC_OK || upgraded)
		return rc;
	if (c->keys != NULL) {
		struct vault_keys *k = c->keys;

		c->keys = NULL;
		return apply(c, k, errs);
	}
	if ((rc = unlock_store(c, 1, &typed, errs)) == PC_OK && typed)
		agent_after_typing(c);
	return rc;
}

pc_rc
ctx_prepare(struct ctx *c, struct err_list *errs)
{
	enum home_state st;
	pc_rc rc;

	if ((rc = home_state(c, &st, errs)) != PC_OK)
		return rc;
	return st == HOME_FRESH ? PC_OK : ctx_store(c, errs);
}

pc_rc
ctx_unlock(struct ctx *c, const char *passphrase, size_t len,
    struct err_list *errs)
{
	struct vault_keys *k;
	struct pass p;
	pc_rc rc;

	if ((rc = existing_store(c, NULL, errs)) != PC_OK)
		return rc;
	if (len > VAULT_PASS_MAX) {
		err_add(errs, E_LENGTH, "", "wrong passphrase: the "
		    "store was not unlocked, and nothing was changed");
		return PC_EAUTH;
	}
	if ((k = vault_keys_new()) == NULL || (rc = pass_alloc(&p)) != PC_OK) {
		vault_keys_free(k);
		return PC_ENOMEM;
	}
	memcpy(p.p, passphrase, len);
	p.len = len;
	if ((rc = unwrap(c, &p, k, NULL, errs)) == PC_OK)
		rc = apply(c, k, errs);
	else
		vault_keys_free(k);
	pass_free(&p);
	return rc;
}

int
ctx_needs_unlock(struct ctx *c)
{
	struct vault_keys *k;
	struct err_list errs;
	enum home_state st;
	int need = 1;
	pc_rc rc;

	if (c->store != NULL && c->keys != NULL)
		return 0;	/* the app's every request: unlocked already */
	err_init(&errs);
	rc = home_state(c, &st, &errs);
	err_free(&errs);
	if (rc != PC_OK || st == HOME_FRESH)
		return -1;
	if (st == HOME_PLAIN)
		return 1;
	if (c->keys != NULL)
		return 0;
	if ((k = vault_keys_new()) != NULL && agent_find(c, k))
		need = 0;
	vault_keys_free(k);
	return need;
}

void
ctx_close(struct ctx *c)
{
	cstore_close(c->store);
	c->store = NULL;
	vault_keys_free(c->keys);
	c->keys = NULL;
	vault_locked_free(c->fresh, sizeof(*c->fresh));
	c->fresh = NULL;
	sec_wipe(c->cfg.token, sizeof(c->cfg.token));
}

pc_rc
ctx_key(struct ctx *c, uint8_t key[NHS_KEY_LEN], struct err_list *errs)
{
	pc_rc rc;

	if (c->fresh != NULL && c->fresh->has_deploy) {
		memcpy(key, c->fresh->deploy, NHS_KEY_LEN);
		return PC_OK;
	}
	if (c->fresh == NULL && (rc = ctx_store(c, errs)) != PC_OK)
		return rc;
	if (c->fresh != NULL || (rc = deploy_open(c, key, errs)) ==
	    PC_ENOTFOUND) {
		err_add(errs, E_REQUIRED, "", "this device holds no "
		    "deployment key: pcmds setup --key-file FILE installs it "
		    "(after a recovery, ask the administrator for the file)");
		return PC_ENOTFOUND;
	}
	return rc;
}

int
ctx_has_key(struct ctx *c)
{
	char hex[WRAP_MAX];
	struct err_list errs;
	enum home_state st;
	pc_rc rc;

	if (c->fresh != NULL)
		return c->fresh->has_deploy;
	err_init(&errs);
	rc = home_state(c, &st, &errs);
	err_free(&errs);
	if (rc != PC_OK)
		return 0;
	if (st != HOME_ENCRYPTED)
		return fs_exists(c->home.key);
	return cstore_meta_get(c->store, "vault.deploy", hex, sizeof(hex)) ==
	    PC_OK;
}

/* 1 when the store holds records (pseudonyms made with some key). */
static int
has_records(struct ctx *c)
{
	long n[CS_NSTATES];

	return c->store != NULL && cstore_counts(c->store, n) == PC_OK &&
	    n[CS_PENDING] + n[CS_SENT] + n[CS_QUARANTINED] > 0;
}

pc_rc
ctx_key_check(struct ctx *c, const uint8_t key[NHS_KEY_LEN],
    struct err_list *errs)
{
	uint8_t old[NHS_KEY_LEN];
	char id[NHS_KEY_ID_LEN];
	pc_rc rc;
	int other;

	if (c->fresh != NULL)
		return PC_OK;	/* a new store: no record made with any key */
	if ((rc = ctx_store(c, errs)) != PC_OK)
		return rc;
	nhs_key_id(key, id);
	/* the key held, or (after a recovery) the fingerprint remembered */
	if ((rc = deploy_open(c, old, errs)) == PC_OK)
		other = !sec_equal(old, key, NHS_KEY_LEN);
	else if (rc == PC_ENOTFOUND)
		other = c->cfg.key_id[0] != '\0' && strcmp(c->cfg.key_id, id);
	else
		return rc;
	sec_wipe(old, sizeof(old));
	if (other && has_records(c)) {
		err_add(errs, E_CONFLICT, "key-file", "this device already holds "
		    "records pseudonymised with another key (id %s); a new key "
		    "would give the same people new pseudonyms", c->cfg.key_id);
		return PC_ECONFLICT;
	}
	return PC_OK;
}

pc_rc
ctx_key_set(struct ctx *c, const uint8_t key[NHS_KEY_LEN],
    struct err_list *errs)
{
	struct buf hex;
	pc_rc rc;

	if ((rc = ctx_key_check(c, key, errs)) != PC_OK)
		return rc;
	if (c->fresh != NULL) {
		memcpy(c->fresh->deploy, key, NHS_KEY_LEN);
		c->fresh->has_deploy = 1;
		return PC_OK;
	}
	buf_init(&hex, 0);
	if ((rc = deploy_seal(c->keys, cstore_id(c->store), key, &hex)) ==
	    PC_OK)
		rc = cstore_meta_set(c->store, "vault.deploy", hex.p, errs);
	buf_free(&hex);
	return rc;
}

pc_rc
ctx_setup_store(struct ctx *c, int test_kdf, struct err_list *errs)
{
	const struct vault_kdf *kdf = test_kdf ? &vault_kdf_test :
	    &vault_kdf_default;
	enum home_state st;
	struct ctx_fresh *f;
	pc_rc rc;

	if ((rc = home_state(c, &st, errs)) != PC_OK)
		return rc;
	if (st == HOME_ENCRYPTED && test_kdf) {
		err_add(errs, E_RULE, "insecure-test-kdf", "--insecure-test-kdf "
		    "applies only when setup makes the store; this one exists");
		return PC_EUSAGE;
	}
	if (st == HOME_ENCRYPTED)
		return ctx_store(c, errs);
	if (st == HOME_PLAIN)
		return upgrade(c, kdf, errs);
	if ((f = vault_locked_alloc(sizeof(*f))) == NULL ||
	    (c->keys = vault_keys_new()) == NULL) {
		vault_locked_free(f, sizeof(*f));
		return PC_ENOMEM;
	}
	if ((rc = vault_keys_generate(c->keys)) == PC_OK &&
	    (rc = sec_random(f->sid, sizeof(f->sid))) == PC_OK)
		rc = new_wraps(c, c->keys, f->sid, kdf, f->pass_wrap,
		    f->rec_wrap, f->recovery, errs);
	if (rc != PC_OK) {
		vault_locked_free(f, sizeof(*f));
		vault_keys_free(c->keys);
		c->keys = NULL;
		return rc;
	}
	if (test_kdf)
		weak_kdf_note(kdf);
	c->fresh = f;
	return PC_OK;
}

pc_rc
ctx_save(struct ctx *c, struct err_list *errs)
{
	struct ctx_fresh *f = c->fresh;
	pc_rc rc;

	if (f != NULL) {
		if ((rc = write_store(c, c->keys, f->sid, f, f->has_deploy ?
		    f->deploy : NULL, errs)) != PC_OK ||
		    (rc = cstore_key(c->store, c->keys->data, errs)) != PC_OK)
			return rc;
		describe_assets_from(c->store);
		vault_locked_free(f, sizeof(*f));
		c->fresh = NULL;
	} else if (c->cfg.token[0] != '\0' &&
	    (rc = ctx_store(c, errs)) == PC_OK)
		rc = cstore_secret_set(c->store, "token", c->cfg.token,
		    strlen(c->cfg.token), errs);
	else
		rc = PC_OK;
	if (rc != PC_OK)
		return rc;
	return home_config_save(&c->home, &c->cfg, errs);
}

/* -- unlock, lock, passphrase, recover ------------------------------------------- */

pc_rc
ctx_unlock_agent(struct ctx *c, int idle_s, struct err_list *errs)
{
	pc_rc rc;
	int typed, upgraded;

	if ((rc = existing_store(c, &upgraded, errs)) == PC_OK && !upgraded)
		rc = unlock_store(c, 0, &typed, errs);
	if (rc != PC_OK)
		return rc;
	return agent_for(c, idle_s, errs);
}

int
ctx_lock(struct ctx *c, struct err_list *errs)
{
	char path[PATH_MAX];

	if (agent_path(c->home.data_dir, path, errs) != PC_OK)
		return -1;
	return agent_stop(path);
}

/* An old secret: the next line of --passphrase-fd, or asked once. */
static pc_rc
read_old(struct ctx *c, const char *what, const char *question,
    struct pass *p, struct err_list *errs)
{
	if (c->has_pass_fd)
		return pass_read_fd(c->pass_fd, p, what, errs);
	if (!c->interactive || !pass_tty_available()) {
		err_add(errs, E_REQUIRED, "passphrase-fd", "give the %s and the "
		    "new passphrase on two lines of --passphrase-fd N, or run "
		    "this on a terminal", what);
		return PC_EUSAGE;
	}
	return pass_read_tty(question, p, errs);
}

/* The cost a wrap was made with (a new wrap keeps it). */
static void
wrap_cost(const char *wrap, struct vault_kdf *kdf)
{
	unsigned long long n;
	unsigned r, p;

	*kdf = vault_kdf_default;
	if (sscanf(wrap, "pcmds-wrap/1 scrypt %llu %u %u", &n, &r, &p) == 3) {
		kdf->n = n;
		kdf->r = r;
		kdf->p = p;
	}
}

pc_rc
ctx_passphrase(struct ctx *c, struct err_list *errs)
{
	struct vault_keys *k = NULL;
	struct vault_kdf kdf;
	struct pass old, new;
	struct buf w;
	pc_rc rc;

	if ((rc = existing_store(c, NULL, errs)) != PC_OK ||
	    (rc = tries_check(c, errs)) != PC_OK)
		return rc;
	if (pass_alloc(&old) != PC_OK || pass_alloc(&new) != PC_OK ||
	    (k = vault_keys_new()) == NULL) {
		pass_free(&old);
		return PC_ENOMEM;
	}
	buf_init(&w, 0);
	if ((rc = read_old(c, "current passphrase", "Current passphrase: ",
	    &old, errs)) == PC_OK &&
	    (rc = unwrap(c, &old, k, &kdf, errs)) == PC_OK &&
	    (rc = pass_read_new(c->has_pass_fd ? c->pass_fd : -1, "New "
	    "passphrase: ", &new, errs)) == PC_OK &&
	    (rc = vault_wrap_pass(k, new.p, new.len, &kdf, cstore_id(c->store),
	    &w, errs)) == PC_OK &&
	    (rc = cstore_meta_set(c->store, "vault.pass", w.p, errs)) == PC_OK) {
		/* the old wrap leaves the log file too */
		(void)cstore_scrub(c->store, NULL);
		fprintf(stderr, "pcmds: passphrase changed; the old one no "
		    "longer opens the store (the recovery key is unchanged)\n");
	}
	buf_free(&w);
	vault_keys_free(k);
	pass_free(&old);
	pass_free(&new);
	return rc;
}

static pc_rc
recovery_unwrap(struct ctx *c, const struct pass *p, struct vault_keys *k,
    struct err_list *errs)
{
	char wrap[WRAP_MAX];
	pc_rc rc;

	if ((rc = tries_check(c, errs)) != PC_OK ||
	    (rc = read_wrap(c, "vault.recovery", wrap, errs)) != PC_OK)
		return rc;
	rc = vault_unwrap_recovery(wrap, p->p, cstore_id(c->store), k, errs);
	if (rc == PC_EAUTH)
		tries_failed(c);
	else if (rc == PC_OK)
		tries_reset(c);
	return rc;
}

pc_rc
ctx_recover(struct ctx *c, struct err_list *errs)
{
	char wrap[WRAP_MAX];
	struct ctx_fresh *f = NULL;
	struct vault_keys *k = NULL;
	struct vault_kdf kdf;
	struct pass rk;
	pc_rc rc;

	if ((rc = existing_store(c, NULL, errs)) != PC_OK ||
	    (rc = read_wrap(c, "vault.pass", wrap, errs)) != PC_OK)
		return rc;
	wrap_cost(wrap, &kdf);
	if (pass_alloc(&rk) != PC_OK || (k = vault_keys_new()) == NULL ||
	    (f = vault_locked_alloc(sizeof(*f))) == NULL) {
		pass_free(&rk);
		vault_keys_free(k);
		return PC_ENOMEM;
	}
	/* the same data key; a new wrap key (the old deployment key is lost) */
	if ((rc = read_old(c, "recovery key", "Recovery key: ", &rk, errs)) ==
	    PC_OK && (rc = recovery_unwrap(c, &rk, k, errs)) == PC_OK &&
	    (rc = sec_random(k->wrap, VAULT_KEY_LEN)) == PC_OK &&
	    (rc = (k->has_wrap = 1, new_wraps(c, k, cstore_id(c->store),
	    &kdf, f->pass_wrap, f->rec_wrap, f->recovery, errs))) == PC_OK &&
	    (rc = cstore_begin(c->store, errs)) == PC_OK) {
		if ((rc = cstore_meta_set(c->store, "vault.pass", f->pass_wrap,
		    errs)) == PC_OK &&
		    (rc = cstore_meta_set(c->store, "vault.recovery",
		    f->rec_wrap, errs)) == PC_OK &&
		    (rc = cstore_meta_del(c->store, "vault.deploy", errs)) ==
		    PC_OK)
			rc = commit_recovery(c, f->recovery, errs);
		if (rc != PC_OK)
			cstore_rollback(c->store);
	}
	if (rc == PC_OK) {
		(void)cstore_scrub(c->store, NULL);
		(void)ctx_lock(c, errs);	/* its wrap key is the old one */
		fprintf(stderr, "pcmds: a new passphrase is set and every record "
		    "is kept. The deployment key\nwas not recovered: ask the "
		    "administrator for the key file, then run\npcmds setup "
		    "--key-file FILE before recording a person's NHS number.\n");
	}
	vault_keys_free(k);
	vault_locked_free(f, sizeof(*f));
	pass_free(&rk);
	return rc;
}

void
ctx_harden(void)
{
	struct rlimit no = {0, 0};

	(void)setrlimit(RLIMIT_CORE, &no);
	(void)prctl(PR_SET_DUMPABLE, 0);
}

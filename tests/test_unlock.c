/*
 * test_unlock.c - a lost laptop reveals nothing: the real pcmds binary
 * with an encrypted store, a real server for its token, and a real key
 * agent. What is on the disk after a day's work; wrong passphrases, the
 * recovery key, a passphrase change, the agent's timeout; a plain store
 * of pcmds 0.9 encrypted on upgrade, and killed half-way through.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agent.h"
#include "cstore.h"
#include "date.h"
#include "harness.h"
#include "nhs.h"
#include "rec.h"
#include "sec.h"

#define NHS		"9434765919"
#define PROVIDER	"Zephyrine Lantern Collective"
#define FREE_TEXT	"mislaid beneath the quince tree"
#define RK_MARK		"shown only now:\n\n    "	/* before the recovery key */

static struct th_run r;
static char keyfile[600];
static uint8_t deploy[NHS_KEY_LEN];

static void
done(void)
{
	th_run_free(&r);
}

static int
up(void **state)
{
	char *hex;

	(void)state;
	snprintf(keyfile, sizeof(keyfile), "%s/deploy.key", th_tmpdir());
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", keyfile, NULL);
	assert_int_equal(r.status, 0);
	done();
	hex = th_slurp(keyfile, NULL);
	hex[2 * NHS_KEY_LEN] = '\0';
	assert_int_equal(sec_unhex(hex, deploy, NHS_KEY_LEN), 0);
	free(hex);
	return 0;
}

/* An offline home set up with TH_PASS; *recovery gets its recovery key. */
static const char *
new_home(char recovery[VAULT_RECOVERY_TEXT], int unlock)
{
	static char homes[4][512];
	static int k;
	char *home = homes[k++ % 4];
	const char *p;

	snprintf(home, 512, "%s", th_tmpdir());
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", keyfile, "--worker", "lw-1", "--place", "TH", NULL);
	if (r.status != 0)
		fail_msg("setup: %s", r.err);
	/* printed once, indented, after the sentence that names it */
	assert_non_null(p = strstr(r.err, RK_MARK));
	if (recovery != NULL)
		snprintf(recovery, VAULT_RECOVERY_TEXT, "%.39s",
		    p + strlen(RK_MARK));
	done();
	if (unlock)
		th_unlock(home);
	return home;
}

static char *
referral(const char *home, const char *in, const char *const *pre)
{
	static char id[16];
	const char *argv[40];
	int n = 0;

	argv[n++] = "pcmds";
	argv[n++] = "--home";
	argv[n++] = home;
	for (; pre != NULL && *pre != NULL; pre++)
		argv[n++] = *pre;
	{
		static const char *const rest[] = {"referral", "--nhs-number",
		    NHS, "--referred-on", "2026-02-01", "--source", "self",
		    "--reason", "stress", "--service", "general", "--age", "40",
		    "--gender", "female", "--ethnicity", "K",
		    "--consent-evaluation", NULL};
		const char *const *q;

		for (q = rest; *q != NULL; q++)
			argv[n++] = *q;
	}
	argv[n] = NULL;
	th_exec(&r, argv, in, NULL);
	if (r.status != 0)
		fail_msg("referral: %s", r.err);
	snprintf(id, sizeof(id), "%.8s", r.out);
	done();
	return id;
}

/* The person field of the first referral, from an export. */
static void
first_person(const char *home, char out[SEC_HEX64_LEN])
{
	const char *p;

	th_cmd(&r, NULL, "pcmds", "--home", home, "export", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(p = strstr(r.out, "\"person\":\""));
	snprintf(out, SEC_HEX64_LEN, "%.64s", p + 10);
	done();
}

/* -- what the disk holds --------------------------------------------------- */

struct needle {
	const void	*p;
	size_t		 len;
	const char	*what;
};

struct scan {
	struct needle	 v[256];
	int		 n;
	int		 files;
	int		 saw_wal, saw_socket;
};

static void
needle(struct scan *s, const void *p, size_t len, const char *what)
{
	assert_true(s->n < 256);
	s->v[s->n].p = p;
	s->v[s->n].len = len;
	s->v[s->n].what = what;
	s->n++;
}

static void
scan_file(struct scan *s, const char *path)
{
	size_t len, i;
	char *data = th_slurp(path, &len);
	int k;

	if (data == NULL)
		return;
	s->files++;
	for (k = 0; k < s->n; k++)
		for (i = 0; i + s->v[k].len <= len; i++)
			if (memcmp(data + i, s->v[k].p, s->v[k].len) == 0)
				fail_msg("%s holds %s", path, s->v[k].what);
	free(data);
}

static void
scan_dir(struct scan *s, const char *dir)
{
	char path[1024];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int k;

	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		for (k = 0; k < s->n; k++)
			assert_null(memmem(e->d_name, strlen(e->d_name),
			    s->v[k].p, s->v[k].len));
		assert_int_equal(lstat(path, &st), 0);
		if (S_ISDIR(st.st_mode))
			scan_dir(s, path);
		else if (S_ISSOCK(st.st_mode)) {
			assert_int_equal(st.st_mode & 0777, 0600);
			s->saw_socket = 1;
		} else if (S_ISREG(st.st_mode)) {
			if (strstr(e->d_name, "-wal") != NULL && st.st_size > 0)
				s->saw_wal = 1;
			scan_file(s, path);
		}
	}
	closedir(d);
}

/* Every field name of every kind, as it appears in a record's JSON. */
static void
field_needles(struct scan *s, char names[][40])
{
	size_t i, n = 0;
	int k;

	for (i = 0; i < rec_envelope_n; i++)
		snprintf(names[n++], 40, "\"%s\"", rec_envelope[i].name);
	for (k = 0; k < KIND_N; k++) {
		const struct kind_info *ki = rec_kind_info((enum rec_kind)k);

		for (i = 0; i < ki->n; i++)
			snprintf(names[n++], 40, "\"%s\"", ki->fields[i].name);
	}
	for (i = 0; i < n; i++)
		needle(s, names[i], strlen(names[i]), names[i]);
}

/*
 * A day's work on an enrolled device: a referral by NHS number, support
 * from a named provider, a correction with free text, an import, a sync.
 * Then nothing of it is in any file of the client's directory, the
 * agent's directory or the temporary directory.
 */
static void
test_lost_laptop(void **state)
{
	struct th_server s;
	char home[512], tmp[512];
	char digits[11], person[SEC_HEX64_LEN], dkhex[SEC_HEX64_LEN];
	char names[200][40], ref[16], csv[600], tok[128];
	struct vault_keys *keys = vault_keys_new();
	char *tmpdir0 = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
	struct cstore *cs;
	struct scan sc;
	struct buf t;
	sqlite3 *hold;

	(void)state;
	snprintf(home, sizeof(home), "%s", th_tmpdir());
	snprintf(tmp, sizeof(tmp), "%s", th_tmpdir());
	memset(&sc, 0, sizeof(sc));
	/* pcmds's temporary files, if it made any, would land here */
	setenv("TMPDIR", tmp, 1);
	setenv("SQLITE_TMPDIR", tmp, 1);
	th_server_init(&s, NULL);
	th_server_start(&s, NULL);
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", keyfile, "--server", s.url, "--code",
	    th_server_user(&s, "link_worker", "TH", NULL), "--cacert", s.ca,
	    NULL);
	assert_int_equal(r.status, 0);
	done();
	th_unlock(home);
	/* held open, so the write-ahead log stays on disk to be read */
	assert_int_equal(sqlite3_open(th_path(home, "pcmds.db"), &hold),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(hold, "SELECT COUNT(*) FROM records",
	    NULL, NULL, NULL), SQLITE_OK);
	snprintf(ref, sizeof(ref), "%s", referral(home, NULL, NULL));
	th_cmd(&r, NULL, "pcmds", "--home", home, "support", ref, "--on",
	    "2026-02-02", "--category", "arts_culture", "--provider", PROVIDER,
	    "--outcome", "taken_up", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "contact", ref, "--on",
	    "2026-02-03", "--mode", "phone", "--minutes", "30", "--attended",
	    NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "correct", ref, "--set",
	    "age=41", "--reason", FREE_TEXT, NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", NULL);
	assert_int_equal(r.status, 0);
	done();
	snprintf(csv, sizeof(csv), "%s/in.csv", tmp);
	th_write(csv, "nhs_number,referred_on,source,reasons,service,age,gender,"
	    "ethnicity,consent_evaluation\n4010232137,2026-01-05,self,stress,"
	    "general,30,male,A,yes\n");
	th_cmd(&r, NULL, "pcmds", "--home", home, "import", csv, NULL);
	assert_int_equal(r.status, 0);
	done();
	unlink(csv);
	th_cmd(&r, NULL, "pcmds", "--home", home, "list", NULL);
	assert_non_null(strstr(r.out, ref));
	done();
	/* what a thief would look for */
	memcpy(digits, NHS, 11);
	assert_int_equal(nhs_pseudonym(deploy, digits, person), PC_OK);
	cs = th_store_open(home, keys);
	buf_init(&t, 0);
	assert_int_equal(cstore_secret_get(cs, "token", &t, NULL), PC_OK);
	snprintf(tok, sizeof(tok), "%s", t.p);
	vault_buf_wipe(&t);
	cstore_close(cs);
	sec_hex(deploy, NHS_KEY_LEN, dkhex);
	needle(&sc, PROVIDER, strlen(PROVIDER), "the provider's name");
	needle(&sc, "Zephyrine", 9, "part of the provider's name");
	needle(&sc, FREE_TEXT, strlen(FREE_TEXT), "the correction's reason");
	needle(&sc, "quince", 6, "part of the correction's reason");
	needle(&sc, person, 64, "the person's pseudonym");
	needle(&sc, person, 16, "the start of the pseudonym");
	needle(&sc, tok, strlen(tok), "the bearer token");
	needle(&sc, tok, 16, "the start of the bearer token");
	needle(&sc, dkhex, 64, "the deployment key (hex)");
	needle(&sc, deploy, NHS_KEY_LEN, "the deployment key");
	needle(&sc, keys->data, VAULT_KEY_LEN, "the data key");
	needle(&sc, keys->wrap, VAULT_KEY_LEN, "the wrap key");
	needle(&sc, TH_PASS, strlen(TH_PASS), "the passphrase");
	needle(&sc, NHS, 10, "the NHS number");
	needle(&sc, "4010232137", 10, "the imported NHS number");
	needle(&sc, REC_SCHEMA, strlen(REC_SCHEMA), "a record's schema");
	field_needles(&sc, names);
	scan_dir(&sc, home);
	scan_dir(&sc, th_runtime_dir());
	scan_dir(&sc, tmp);
	print_message("scanned %d files for %d values\n", sc.files, sc.n);
	assert_true(sc.saw_wal);	/* the log was there, and was read */
	assert_true(sc.saw_socket);	/* so was the agent's socket */
	assert_true(sc.files >= 4);	/* database, log, index, config, lock */
	/* nothing was left behind in the temporary directory at all */
	{
		DIR *d = opendir(tmp);
		struct dirent *e;
		int n = 0;

		while ((e = readdir(d)) != NULL)
			n += e->d_name[0] != '.';
		closedir(d);
		assert_int_equal(n, 0);
	}
	sqlite3_close(hold);
	vault_keys_free(keys);
	if (tmpdir0 != NULL)
		setenv("TMPDIR", tmpdir0, 1);
	else
		unsetenv("TMPDIR");
	free(tmpdir0);
	unsetenv("SQLITE_TMPDIR");
	th_server_stop(&s, SIGTERM);
}

/* -- the passphrase --------------------------------------------------------- */

static void
expect(int status, const char *needle_text)
{
	if (r.status != status || strstr(r.err, needle_text) == NULL)
		fail_msg("exit %d (wanted %d), stderr lacks \"%s\":\n%s",
		    r.status, status, needle_text, r.err);
	done();
}

static void
test_wrong_passphrase(void **state)
{
	const char *home = new_home(NULL, 0);
	char *db0, *db1, *cfg0, *cfg1;
	size_t n0, n1;
	struct timespec old[2];
	int i;

	(void)state;
	(void)referral(home, TH_PASS "\n", (const char *[]){"--passphrase-fd",
	    "0", NULL});
	/* no agent and no way to ask: locked, saying how to unlock */
	th_cmd(&r, NULL, "pcmds", "--home", home, "list", NULL);
	expect(7, "the store is locked: run pcmds unlock");
	db0 = th_slurp(th_path(home, "pcmds.db"), &n0);
	cfg0 = th_slurp(th_path(home, "config"), NULL);
	th_cmd(&r, "not the passphrase\n", "pcmds", "--home", home,
	    "--passphrase-fd", "0", "list", NULL);
	expect(7, "wrong passphrase: the store was not unlocked, and nothing "
	    "was changed");
	/* and nothing was: the store and configuration are byte for byte */
	db1 = th_slurp(th_path(home, "pcmds.db"), &n1);
	cfg1 = th_slurp(th_path(home, "config"), NULL);
	assert_int_equal(n0, n1);
	assert_memory_equal(db0, db1, n0);
	assert_string_equal(cfg0, cfg1);
	free(db0);
	free(db1);
	free(cfg0);
	free(cfg1);
	/* an empty line, an unreadable descriptor: said so, not guessed */
	th_cmd(&r, "", "pcmds", "--home", home, "--passphrase-fd", "0", "list",
	    NULL);
	expect(7, "ended before the passphrase");
	th_cmd(&r, NULL, "pcmds", "--home", home, "--passphrase-fd", "77",
	    "list", NULL);
	expect(2, "--passphrase-fd needs the number of an open file descriptor");
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, "list",
	    "--passphrase-fd", "0", NULL);
	expect(2, "unknown option --passphrase-fd");	/* global, not a flag */
	/* third wrong one in a row: from then on each try must wait */
	for (i = 0; i < 2; i++) {
		th_cmd(&r, "still wrong\n", "pcmds", "--home", home,
		    "--passphrase-fd", "0", "status", NULL);
		expect(7, "wrong passphrase");
	}
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, "--passphrase-fd",
	    "0", "status", NULL);
	expect(7, "too many wrong passphrases (3 in a row): try again in");
	/* the right one, once the wait is over (the clock moved on) */
	clock_gettime(CLOCK_REALTIME, &old[0]);
	old[0].tv_sec -= 60;
	old[1] = old[0];
	assert_int_equal(utimensat(AT_FDCWD, th_path(home, "unlock.tries"), old,
	    0), 0);
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, "--passphrase-fd",
	    "0", "status", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "1 pending"));
	done();
	/* the count starts again after a success */
	assert_int_not_equal(access(th_path(home, "unlock.tries"), F_OK), 0);
}

static void
test_passphrase_change(void **state)
{
	const char *home = new_home(NULL, 1);
	char *before, *after;

	(void)state;
	(void)referral(home, NULL, NULL);
	(void)referral(home, NULL, NULL);
	before = th_sql_dup(th_path(home, "pcmds.db"), "SELECT group_concat("
	    "hex(body)) FROM records");
	/* a wrong current one changes nothing */
	th_cmd(&r, "wrong current\nnew passphrase here\n", "pcmds", "--home",
	    home, "--passphrase-fd", "0", "passphrase", NULL);
	expect(7, "wrong passphrase");
	th_cmd(&r, TH_PASS "\nshort\n", "pcmds", "--home", home,
	    "--passphrase-fd", "0", "passphrase", NULL);
	expect(1, "at least 8 characters");
	th_cmd(&r, TH_PASS "\nnew passphrase here\n", "pcmds", "--home", home,
	    "--passphrase-fd", "0", "passphrase", NULL);
	expect(0, "passphrase changed");
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, "--passphrase-fd",
	    "0", "list", NULL);
	expect(7, "wrong passphrase");
	th_cmd(&r, "new passphrase here\n", "pcmds", "--home", home,
	    "--passphrase-fd", "0", "status", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "2 pending"));
	done();
	/* re-wrapped only: every record's sealed bytes are as they were */
	after = th_sql_dup(th_path(home, "pcmds.db"), "SELECT group_concat("
	    "hex(body)) FROM records");
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* the agent started before the change still serves its keys */
	th_cmd(&r, NULL, "pcmds", "--home", home, "status", NULL);
	assert_int_equal(r.status, 0);
	done();
}

static void
test_recovery_key(void **state)
{
	char rk[VAULT_RECOVERY_TEXT], rk2[VAULT_RECOVERY_TEXT], line[256];
	char before[SEC_HEX64_LEN], after[SEC_HEX64_LEN];
	const char *home = new_home(rk, 1), *p;
	char *cfg;

	(void)state;
	(void)referral(home, NULL, NULL);
	first_person(home, before);
	th_cmd(&r, NULL, "pcmds", "--home", home, "lock", NULL);
	expect(0, "locked");
	/* the passphrase is forgotten; a wrong recovery key changes nothing */
	th_cmd(&r, "0000-0000-0000-0000-0000-0000-0000-0000\nanother good "
	    "one\n", "pcmds", "--home", home, "--passphrase-fd", "0", "recover",
	    NULL);
	expect(7, "not the recovery key of this store");
	th_cmd(&r, "12345\nanother good one\n", "pcmds", "--home", home,
	    "--passphrase-fd", "0", "recover", NULL);
	expect(7, "32 letters and digits");
	/* typed as a person might: lower case, spaces for dashes */
	snprintf(line, sizeof(line), "%s\nanother good one\n", rk);
	for (p = line; *p != '\n'; p++)
		if (*p == '-')
			line[p - line] = ' ';
		else if (*p >= 'A' && *p <= 'Z')
			line[p - line] = (char)(*p - 'A' + 'a');
	th_cmd(&r, line, "pcmds", "--home", home, "--passphrase-fd", "0",
	    "recover", NULL);
	if (r.status != 0)
		fail_msg("recover: %s", r.err);
	assert_non_null(p = strstr(r.err, RK_MARK));
	snprintf(rk2, sizeof(rk2), "%.39s", p + strlen(RK_MARK));
	assert_string_not_equal(rk, rk2);
	assert_non_null(strstr(r.err, "every record is kept"));
	done();
	/* the new passphrase opens it, every record is there ... */
	th_cmd(&r, "another good one\n", "pcmds", "--home", home,
	    "--passphrase-fd", "0", "status", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "1 pending"));
	done();
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, "--passphrase-fd",
	    "0", "status", NULL);
	expect(7, "wrong passphrase");
	/* ... the old recovery key is spent ... */
	snprintf(line, sizeof(line), "%s\nyet another one\n", rk);
	th_cmd(&r, line, "pcmds", "--home", home, "--passphrase-fd", "0",
	    "recover", NULL);
	expect(7, "not the recovery key");
	/* ... and the deployment key did not come back with it */
	th_cmd(&r, "another good one\n", "pcmds", "--home", home,
	    "--passphrase-fd", "0", "unlock", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "referral", "--nhs-number",
	    NHS, "--referred-on", "2026-02-01", NULL);
	expect(1, "this device holds no deployment key");
	/* the administrator's key file again: the same pseudonyms */
	th_cmd(&r, NULL, "pcmds", "--home", home, "setup", "--key-file",
	    keyfile, NULL);
	assert_int_equal(r.status, 0);
	done();
	cfg = th_slurp(th_path(home, "config"), NULL);
	assert_non_null(strstr(cfg, "worker = lw-1"));	/* identity kept */
	free(cfg);
	(void)referral(home, NULL, NULL);
	th_cmd(&r, NULL, "pcmds", "--home", home, "export", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(p = strstr(r.out, "\"person\":\""));
	assert_non_null(p = strstr(p + 1, "\"person\":\""));
	snprintf(after, sizeof(after), "%.64s", p + 10);
	assert_string_equal(before, after);
	done();
	/* another deployment's key is refused: it would split the people */
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", th_path(home, "other.key"),
	    NULL);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "setup", "--key-file",
	    th_path(home, "other.key"), NULL);
	expect(1, "records pseudonymised with another key");
}

/*
 * Killed the moment its new store commits, setup had already shown the
 * recovery key; setup run again finishes, and that key opens the store.
 * So does a recovery killed as it commits the next one.
 */
static void
test_recovery_shown_first(void **state)
{
	const char *env[] = {"PCMDS_FAILPOINT=vault.committed", NULL};
	const char *home = th_tmpdir(), *p;
	char rk[VAULT_RECOVERY_TEXT], line[256];

	(void)state;
	{
		const char *argv[] = {"pcmds-fp", "--home", home, TH_SETUP,
		    "--key-file", keyfile, "--worker", "lw-1", "--place", "TH",
		    NULL};

		th_exec(&r, argv, TH_PASS "\n", env);
	}
	assert_int_equal(r.status, 128 + SIGKILL);
	assert_non_null(p = strstr(r.err, RK_MARK));
	snprintf(rk, sizeof(rk), "%.39s", p + strlen(RK_MARK));
	done();
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, "--passphrase-fd",
	    "0", "setup", "--worker", "lw-1", "--place", "TH", NULL);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.err, RK_MARK));	/* shown once, already */
	done();
	(void)referral(home, TH_PASS "\n", (const char *[]){"--passphrase-fd",
	    "0", NULL});
	snprintf(line, sizeof(line), "%s\nanother good one\n", rk);
	{
		const char *argv[] = {"pcmds-fp", "--home", home,
		    "--passphrase-fd", "0", "recover", NULL};

		th_exec(&r, argv, line, env);
	}
	assert_int_equal(r.status, 128 + SIGKILL);
	assert_non_null(p = strstr(r.err, RK_MARK));
	snprintf(rk, sizeof(rk), "%.39s", p + strlen(RK_MARK));
	done();
	/* it was committed: the new passphrase opens it, the new key too */
	th_cmd(&r, "another good one\n", "pcmds", "--home", home,
	    "--passphrase-fd", "0", "status", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "1 pending"));
	done();
	snprintf(line, sizeof(line), "%s\na third good one\n", rk);
	th_cmd(&r, line, "pcmds", "--home", home, "--passphrase-fd", "0",
	    "recover", NULL);
	expect(0, "every record is kept");
}

static void
test_agent(void **state)
{
	const char *home = new_home(NULL, 0);
	char path[PATH_MAX];
	struct err_list errs;
	struct stat st;
	int i;

	(void)state;
	err_init(&errs);
	assert_int_equal(agent_path(home, path, &errs), PC_OK);
	err_free(&errs);
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, "--passphrase-fd",
	    "0", "unlock", "--timeout", "1", NULL);
	expect(0, "locks after 1 second without use");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	{
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", path);
		*strrchr(dir, '/') = '\0';
		assert_int_equal(stat(dir, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0700);
	}
	/* an idle agent forgets: its socket goes, and the store is locked */
	for (i = 0; i < 300 && access(path, F_OK) == 0; i++)
		usleep(100 * 1000);
	assert_int_not_equal(access(path, F_OK), 0);
	th_cmd(&r, NULL, "pcmds", "--home", home, "status", NULL);
	expect(7, "the store is locked");
	/* pcmds lock ends one now */
	th_unlock(home);
	th_cmd(&r, NULL, "pcmds", "--home", home, "status", NULL);
	assert_int_equal(r.status, 0);
	done();
	th_cmd(&r, NULL, "pcmds", "--home", home, "lock", NULL);
	expect(0, "locked; the agent has forgotten the keys");
	assert_int_not_equal(access(path, F_OK), 0);
	th_cmd(&r, NULL, "pcmds", "--home", home, "status", NULL);
	expect(7, "the store is locked");
	th_cmd(&r, NULL, "pcmds", "--home", home, "lock", NULL);
	expect(0, "it was not unlocked");
	th_cmd(&r, NULL, "pcmds", "--home", home, "unlock", "--timeout",
	    "3 days", NULL);
	expect(2, "--timeout takes seconds");
}

/* On a terminal: asked once, not echoed, then remembered by the agent. */
static void
test_terminal(void **state)
{
	const char *home = th_tmpdir();
	struct th_pty p;

	(void)state;
	{
		const char *argv[] = {"pcmds", "--home", home, "setup",
		    "--insecure-test-kdf", "--key-file", keyfile, "--worker",
		    "lw-2", "--place", "NH", NULL};

		th_pty_start(&p, argv);
	}
	th_pty_expect(&p, "New passphrase for this device's pcmds store: ");
	th_pty_send(&p, TH_PASS "\n");
	th_pty_expect(&p, "The same passphrase again: ");
	th_pty_send(&p, "a different one\n");
	th_pty_expect(&p, "the two passphrases differ");
	th_pty_expect(&p, "New passphrase for this device's pcmds store: ");
	th_pty_send(&p, TH_PASS "\n");
	th_pty_expect(&p, "again: ");
	th_pty_send(&p, TH_PASS "\n");
	th_pty_expect(&p, "recovery key, shown only now");
	assert_int_equal(th_pty_finish(&p), 0);
	assert_null(strstr(p.seen, TH_PASS));	/* never echoed */
	th_pty_free(&p);
	{
		const char *argv[] = {"pcmds", "--home", home, "status", NULL};

		th_pty_start(&p, argv);
	}
	th_pty_expect(&p, "Passphrase for this device's pcmds store: ");
	th_pty_send(&p, "wrong one here\n");
	th_pty_expect(&p, "wrong passphrase");
	/* typed before the question would be echoed, and thrown away */
	th_pty_expect(&p, "Passphrase for this device's pcmds store: ");
	th_pty_send(&p, TH_PASS "\n");
	th_pty_expect(&p, "unlocked; it locks after 15 minutes");
	th_pty_expect(&p, "worker lw-2, place NH");
	assert_int_equal(th_pty_finish(&p), 0);
	assert_null(strstr(p.seen, TH_PASS));
	th_pty_free(&p);
	/* asked once: the next command, even off the terminal, needs none */
	th_cmd(&r, NULL, "pcmds", "--home", home, "status", NULL);
	assert_int_equal(r.status, 0);
	done();
}

/*
 * While pcmds holds a store's keys it can dump no core, however the shell
 * that started it allowed one: here it is stopped reading its passphrase,
 * with a core limit as high as this test may set.
 */
static void
test_no_core(void **state)
{
	const char *home = new_home(NULL, 0);
	struct rlimit rl;
	char exe[512], path[64], *s, *p = NULL;
	int in[2], st, i;
	pid_t pid;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_CORE, &rl), 0);
	if (rl.rlim_max == 0)
		print_message("the hard core limit is 0 already here: this test "
		    "cannot tell pcmds's own limit from it\n");
	snprintf(exe, sizeof(exe), "%s/pcmds", th_build());
	assert_int_equal(pipe(in), 0);
	if ((pid = fork()) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_CORE, &rl);
		dup2(in[0], 0);
		close(in[0]);
		close(in[1]);
		th_quiet(1);
		execl(exe, "pcmds", "--home", home, "--passphrase-fd", "0",
		    "status", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	/* its first step is to give up core dumps; then it waits for us */
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	for (i = 0; i < 300; i++) {
		s = th_slurp(path, NULL);
		assert_non_null(s);
		assert_non_null(p = strstr(s, "Max core file size"));
		if (strncmp(p + 26, "0                    0", 22) == 0)
			break;
		free(s);
		p = NULL;
		usleep(100 * 1000);
	}
	if (p == NULL)
		fail_msg("pcmds keeps a core limit above 0");
	free(s);
	assert_int_equal(write(in[1], TH_PASS "\n", strlen(TH_PASS) + 1),
	    (ssize_t)strlen(TH_PASS) + 1);
	close(in[1]);
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* -- pcmds 0.9's plain store ------------------------------------------------- */

#define PLAIN_TOKEN	"a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6plaintokenofpcmds09"

/*
 * What pcmds 0.9 left: a plain store (schema 1) with rows referrals and
 * a contact each, the token in the configuration, the key in a file.
 */
static void
plain_home(const char *home, int rows)
{
	char digits[11], person[SEC_HEX64_LEN], hex[SEC_HEX64_LEN + 1];
	char text[2048], id[UUID_LEN], cid[UUID_LEN];
	struct err_list errs;
	struct rec_opts o;
	struct cstore *cs;
	sqlite3 *d;
	sqlite3_stmt *st;
	int i;

	err_init(&errs);
	rec_opts_init(&o, time(NULL));
	memcpy(digits, NHS, 11);
	assert_int_equal(nhs_pseudonym(deploy, digits, person), PC_OK);
	assert_int_equal(cstore_open(th_path(home, "pcmds.db"), &cs, &errs),
	    PC_OK);
	cstore_close(cs);
	assert_int_equal(sqlite3_open(th_path(home, "pcmds.db"), &d),
	    SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(d, "INSERT INTO records(seq, id, "
	    "kind, referral, json, hash, recorded_at) VALUES (?,?,?,?,?,'h',"
	    "'2026-03-01T10:00:00Z')", -1, &st, NULL), SQLITE_OK);
	sqlite3_exec(d, "BEGIN", NULL, NULL, NULL);
	for (i = 0; i < rows; i++) {
		struct rec *rec;
		int j;

		snprintf(id, sizeof(id), "%08x-0000-4000-8000-%08x0000", i, i);
		snprintf(cid, sizeof(cid), "%08x-0000-4000-8000-%08x0001", i, i);
		for (j = 0; j < 2; j++) {
			if (j == 0)
				snprintf(text, sizeof(text), "{\"id\":\"%s\","
				    "\"schema\":\"pcmds/1\",\"kind\":\"referral\","
				    "\"recorded_at\":\"2026-03-01T10:00:00Z\","
				    "\"device_seq\":%d,\"worker\":\"lw-9\","
				    "\"place\":\"TH\",\"referral\":\"%s\","
				    "\"person\":\"%s\",\"person_basis\":"
				    "\"nhs_number\",\"referred_on\":\"2026-02-01\","
				    "\"source\":\"self\",\"reasons\":[\"stress\"],"
				    "\"service\":\"general\",\"age\":40,"
				    "\"gender\":\"male\",\"ethnicity\":\"A\","
				    "\"consent_evaluation\":true}", id, 2 * i + 1,
				    id, person);
			else
				snprintf(text, sizeof(text), "{\"id\":\"%s\","
				    "\"schema\":\"pcmds/1\",\"kind\":\"support\","
				    "\"recorded_at\":\"2026-03-01T10:00:00Z\","
				    "\"device_seq\":%d,\"worker\":\"lw-9\","
				    "\"place\":\"TH\",\"referral\":\"%s\","
				    "\"offered_on\":\"2026-02-02\",\"category\":"
				    "\"food\",\"provider\":\"" PROVIDER "\","
				    "\"outcome\":\"offered\"}", cid, 2 * i + 2, id);
			if (rec_parse(text, strlen(text), &o, &rec, &errs) !=
			    PC_OK)
				fail_msg("plain record: %s", errs.v[0].msg);
			sqlite3_bind_int(st, 1, 2 * i + 1 + j);
			sqlite3_bind_text(st, 2, rec->id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 3, j ? "support" : "referral", -1,
			    SQLITE_STATIC);
			sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 5, rec->canon, (int)rec->canon_len,
			    SQLITE_TRANSIENT);
			assert_int_equal(sqlite3_step(st), SQLITE_DONE);
			sqlite3_reset(st);
			rec_free(rec);
		}
	}
	sqlite3_exec(d, "COMMIT", NULL, NULL, NULL);
	sqlite3_finalize(st);
	sqlite3_close(d);
	snprintf(text, sizeof(text), "worker = lw-9\nplace = TH\ntoken = "
	    PLAIN_TOKEN "\nkey_id = 0000000000000000\n");
	th_write(th_path(home, "config"), text);
	sec_hex(deploy, NHS_KEY_LEN, hex);
	strcat(hex, "\n");
	th_write(th_path(home, "key"), hex);
	err_free(&errs);
}

static long
store_version(const char *home)
{
	return th_sql_long(th_path(home, "pcmds.db"), "PRAGMA user_version");
}

static void
assert_token(const char *home, const char *want)
{
	struct cstore *cs = th_store_open(home, NULL);
	struct buf t;

	buf_init(&t, 0);
	assert_int_equal(cstore_secret_get(cs, "token", &t, NULL), PC_OK);
	assert_string_equal(t.p, want);
	vault_buf_wipe(&t);
	cstore_close(cs);
}

static void
test_upgrade(void **state)
{
	char home[512], person[SEC_HEX64_LEN], *cfg;
	struct scan sc;

	(void)state;
	snprintf(home, sizeof(home), "%s", th_tmpdir());
	plain_home(home, 3);
	/* no passphrase to choose one with: said so, nothing changed */
	th_cmd(&r, NULL, "pcmds", "--home", home, "list", NULL);
	expect(7, "not encrypted yet");
	assert_int_equal(store_version(home), CSTORE_PLAIN_VERSION);
	assert_int_equal(access(th_path(home, "key"), F_OK), 0);
	/* the first command with a passphrase encrypts it, then runs */
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, "--passphrase-fd", "0",
	    "list", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "00000002"));
	assert_non_null(strstr(r.err, "recovery key, shown only now"));
	done();
	assert_int_equal(store_version(home), CSTORE_SCHEMA_VERSION);
	/* the plain files are gone: the token and the key moved in */
	assert_int_not_equal(access(th_path(home, "key"), F_OK), 0);
	cfg = th_slurp(th_path(home, "config"), NULL);
	assert_null(strstr(cfg, "token ="));
	assert_non_null(strstr(cfg, "worker = lw-9"));
	free(cfg);
	assert_token(home, PLAIN_TOKEN);
	memset(&sc, 0, sizeof(sc));
	needle(&sc, PROVIDER, strlen(PROVIDER), "the provider");
	needle(&sc, PLAIN_TOKEN, strlen(PLAIN_TOKEN), "the token");
	needle(&sc, REC_SCHEMA, strlen(REC_SCHEMA), "a record's schema");
	scan_dir(&sc, home);
	/* the same deployment key: a new referral, the same pseudonym */
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, "--passphrase-fd", "0",
	    "unlock", NULL);
	done();
	(void)referral(home, NULL, NULL);
	first_person(home, person);
	th_cmd(&r, NULL, "pcmds", "--home", home, "export", NULL);
	assert_int_equal(r.status, 0);
	assert_int_equal(th_file_count(th_path(home, "pcmds.db"), person, 64),
	    0);
	{
		const char *p = r.out;
		int n = 0;

		while ((p = strstr(p, person)) != NULL) {
			n++;
			p++;
		}
		assert_int_equal(n, 4);	/* 3 imported, 1 new */
	}
	done();
}

/* Either pcmds 0.9's store, whole, or the encrypted one, whole. */
static int
old_or_new(const char *home, long rows)
{
	char *cfg = th_slurp(th_path(home, "config"), NULL);
	long v = store_version(home), n = th_sql_long(th_path(home,
	    "pcmds.db"), "SELECT COUNT(*) FROM records");
	int plain_files = access(th_path(home, "key"), F_OK) == 0 &&
	    strstr(cfg, PLAIN_TOKEN) != NULL;

	free(cfg);
	assert_int_equal(n, 2 * rows);
	if (v == CSTORE_PLAIN_VERSION) {
		assert_true(plain_files);	/* nothing lost */
		assert_int_equal(th_sql_long(th_path(home, "pcmds.db"),
		    "SELECT COUNT(*) FROM records WHERE json ->> '$.schema' = "
		    "'pcmds/1'"), 2 * rows);
		return 0;
	}
	assert_int_equal(v, CSTORE_SCHEMA_VERSION);
	cfg = th_sql_dup(th_path(home, "pcmds.db"), "PRAGMA integrity_check");
	assert_string_equal(cfg, "ok");
	free(cfg);
	return 1;
}

static void
test_upgrade_killed(void **state)
{
	const long rows = 3000;
	const char zeros[65] = {0};	/* a key file's length */
	char src[512];
	FILE *fp;
	int killed_old = 0, killed_new = 0, k;
	char exe[512], *cfg;
	double t0, full;

	(void)state;
	snprintf(exe, sizeof(exe), "%s/pcmds", th_build());
	snprintf(src, sizeof(src), "%s", th_tmpdir());
	plain_home(src, (int)rows);
	/* how long a whole upgrade takes here, to kill at points within it */
	{
		const char *home = th_tmpdir();

		th_cmd(&r, NULL, "cp", "-a", th_path(src, "."), home, NULL);
		done();
		t0 = th_now();
		th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home,
		    "--passphrase-fd", "0", "setup", "--insecure-test-kdf",
		    "--worker", "lw-9", "--place", "TH", NULL);
		full = th_now() - t0;
		if (r.status != 0)
			fail_msg("upgrade: %s", r.err);
		done();
		assert_int_equal(old_or_new(home, rows), 1);
		/* killed as it shredded the key file: zeros left, not unlinked */
		assert_int_not_equal(access(th_path(home, "key"), F_OK), 0);
		assert_non_null(fp = fopen(th_path(home, "key"), "w"));
		assert_int_equal(fwrite(zeros, 1, sizeof(zeros), fp),
		    sizeof(zeros));
		assert_int_equal(fclose(fp), 0);
		th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home,
		    "--passphrase-fd", "0", "status", NULL);
		if (r.status != 0)
			fail_msg("after a shred cut short: %s", r.err);
		done();
		assert_int_not_equal(access(th_path(home, "key"), F_OK), 0);
	}
	for (k = 1; k <= 6; k++) {
		const char *home = th_tmpdir();
		int p[2], st;
		pid_t pid;

		th_cmd(&r, NULL, "cp", "-a", th_path(src, "."), home, NULL);
		done();
		assert_int_equal(pipe(p), 0);
		if ((pid = fork()) == 0) {
			dup2(p[0], 0);
			close(p[0]);
			close(p[1]);
			th_quiet(1);
			execl(exe, "pcmds", "--home", home, "--passphrase-fd",
			    "0", "setup", "--insecure-test-kdf", "--worker",
			    "lw-9", "--place", "TH", (char *)NULL);
			_exit(127);
		}
		close(p[0]);
		assert_int_equal(write(p[1], TH_PASS "\n", strlen(TH_PASS) + 1),
		    (ssize_t)strlen(TH_PASS) + 1);
		close(p[1]);
		/* at a different moment each time, across the whole upgrade */
		usleep((useconds_t)(full * 1e6 * k / 6));
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		if (old_or_new(home, rows))
			killed_new++;
		else
			killed_old++;
		/* and it opens afterwards, whichever it was, with every record */
		th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home,
		    "--passphrase-fd", "0", "status", NULL);
		if (r.status != 0)
			fail_msg("after a kill at %d/6: %s", k, r.err);
		assert_non_null(strstr(r.out, "6000 pending"));
		done();
		assert_int_equal(old_or_new(home, rows), 1);
		/* the plain key file and token are gone, whenever it died */
		assert_int_not_equal(access(th_path(home, "key"), F_OK), 0);
		cfg = th_slurp(th_path(home, "config"), NULL);
		assert_null(strstr(cfg, PLAIN_TOKEN));
		assert_non_null(strstr(cfg, "worker = lw-9"));
		free(cfg);
		assert_token(home, PLAIN_TOKEN);
	}
	print_message("an upgrade of %ld records took %.2f s; killed before "
	    "it committed %d times, after %d\n", 2 * rows, full, killed_old,
	    killed_new);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_laptop),
		cmocka_unit_test(test_wrong_passphrase),
		cmocka_unit_test(test_passphrase_change),
		cmocka_unit_test(test_recovery_key),
		cmocka_unit_test(test_recovery_shown_first),
		cmocka_unit_test(test_agent),
		cmocka_unit_test(test_terminal),
		cmocka_unit_test(test_no_core),
		cmocka_unit_test(test_upgrade),
		cmocka_unit_test(test_upgrade_killed),
	};

	return cmocka_run_group_tests_name("unlock", tests, up, NULL);
}

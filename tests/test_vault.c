/*
 * test_vault.c - the store's keys: sealing with AES-256-GCM, scrypt and
 * recovery-key wraps, and the key agent (socket, peer check, timeout).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "harness.h"
#include "sec.h"
#include "vault.h"

static const uint8_t sid[VAULT_ID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static void
test_seal(void **state)
{
	uint8_t key[VAULT_KEY_LEN] = {7}, other[VAULT_KEY_LEN] = {8};
	static const char msg[] = "{\"provider\":\"Age UK\"}";
	struct vault_box *b, *o;
	struct buf s1, s2, pt;

	(void)state;
	buf_init(&s1, 0);
	buf_init(&s2, 0);
	buf_init(&pt, 0);
	assert_int_equal(vault_box_new(key, &b), PC_OK);
	assert_int_equal(vault_box_new(other, &o), PC_OK);
	assert_int_equal(vault_seal(b, "row 1", 5, msg, strlen(msg), &s1),
	    PC_OK);
	assert_int_equal(s1.len, strlen(msg) + VAULT_OVERHEAD);
	assert_null(memmem(s1.p, s1.len, "Age UK", 6));
	/* a fresh nonce each time: the same value never seals the same */
	assert_int_equal(vault_seal(b, "row 1", 5, msg, strlen(msg), &s2),
	    PC_OK);
	assert_memory_not_equal(s1.p, s2.p, s1.len);
	assert_int_equal(vault_open(b, "row 1", 5, s1.p, s1.len, &pt), PC_OK);
	assert_string_equal(pt.p, msg);
	/* another row, another key, one flipped bit, a cut: all refused */
	buf_reset(&pt);
	assert_int_equal(vault_open(b, "row 2", 5, s1.p, s1.len, &pt), PC_EAUTH);
	assert_int_equal(vault_open(o, "row 1", 5, s1.p, s1.len, &pt), PC_EAUTH);
	s1.p[s1.len / 2] ^= 1;
	assert_int_equal(vault_open(b, "row 1", 5, s1.p, s1.len, &pt), PC_EAUTH);
	s1.p[s1.len / 2] ^= 1;
	assert_int_equal(vault_open(b, "row 1", 5, s1.p, 10, &pt), PC_EAUTH);
	s1.p[0] = 0;	/* the benchmark build's unencrypted format */
	assert_int_equal(vault_open(b, "row 1", 5, s1.p, s1.len, &pt), PC_EAUTH);
	assert_int_equal(pt.len, 0);
	/* as hex, for the meta table */
	buf_reset(&s2);
	assert_int_equal(vault_seal_hex(b, NULL, 0, "tok", 3, &s2), PC_OK);
	assert_int_equal(s2.len, 2 * (3 + VAULT_OVERHEAD));
	assert_int_equal(vault_open_hex(b, NULL, 0, s2.p, &pt), PC_OK);
	assert_string_equal(pt.p, "tok");
	assert_int_equal(vault_open_hex(b, NULL, 0, "zz", &pt), PC_EAUTH);
	vault_buf_wipe(&pt);
	buf_free(&s1);
	buf_free(&s2);
	vault_box_free(b);
	vault_box_free(o);
}

static void
test_pass_wrap(void **state)
{
	struct vault_keys *k = vault_keys_new(), *u = vault_keys_new();
	struct err_list errs;
	struct vault_kdf used;
	struct buf w;
	char *bad;

	(void)state;
	err_init(&errs);
	buf_init(&w, 0);
	assert_non_null(k);
	assert_int_equal(vault_keys_generate(k), PC_OK);
	assert_int_equal(vault_wrap_pass(k, "a good passphrase", 17,
	    &vault_kdf_test, sid, &w, &errs), PC_OK);
	/* the cost is kept with the wrap, in the clear */
	assert_non_null(strstr(w.p, "pcmds-wrap/1 scrypt 1024 8 1 "));
	assert_int_equal(vault_unwrap_pass(w.p, "a good passphrase", 17, sid, u,
	    &used, &errs), PC_OK);
	assert_memory_equal(u->data, k->data, VAULT_KEY_LEN);
	assert_memory_equal(u->wrap, k->wrap, VAULT_KEY_LEN);
	assert_true(u->has_wrap);
	assert_int_equal(used.n, 1024);
	/* a wrong passphrase, or another store's id */
	assert_int_equal(vault_unwrap_pass(w.p, "a good passphrasf", 17, sid, u,
	    NULL, &errs), PC_EAUTH);
	assert_non_null(strstr(errs.v[0].msg, "wrong passphrase"));
	assert_int_equal(vault_unwrap_pass(w.p, "a good passphrase", 17,
	    (const uint8_t[VAULT_ID_LEN]){0}, u, NULL, &errs), PC_EAUTH);
	/* a lowered cost written over the wrap does not open it */
	bad = strdup(w.p);
	memcpy(strstr(bad, " 8 1 "), " 4 1 ", 5);
	assert_int_equal(vault_unwrap_pass(bad, "a good passphrase", 17, sid, u,
	    NULL, &errs), PC_EAUTH);
	free(bad);
	/* nor does a cost that would take a gigabyte and more, or junk */
	err_clear(&errs);
	assert_int_equal(vault_unwrap_pass("pcmds-wrap/1 scrypt 1073741824 8 1 "
	    "00000000000000000000000000000000 00", "x", 1, sid, u, NULL, &errs),
	    PC_EINVAL);
	assert_non_null(strstr(errs.v[0].msg, "damaged"));
	assert_int_equal(vault_unwrap_pass("nonsense", "x", 1, sid, u, NULL,
	    &errs), PC_EINVAL);
	buf_free(&w);
	vault_keys_free(k);
	vault_keys_free(u);
	err_free(&errs);
}

static void
test_recovery(void **state)
{
	struct vault_keys *k = vault_keys_new(), *u = vault_keys_new();
	char text[VAULT_RECOVERY_TEXT], typed[64];
	struct err_list errs;
	struct buf w;
	size_t i, j;

	(void)state;
	err_init(&errs);
	buf_init(&w, 0);
	assert_int_equal(vault_keys_generate(k), PC_OK);
	assert_int_equal(vault_wrap_recovery(k, sid, text, &w, &errs), PC_OK);
	/* 8 groups of 4 Crockford digits: no I, L, O or U to misread */
	assert_int_equal(strlen(text), 39);
	for (i = 0; i < 39; i++)
		if (i % 5 == 4)
			assert_int_equal(text[i], '-');
		else
			assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ",
			    text[i]));
	assert_int_equal(vault_unwrap_recovery(w.p, text, sid, u, &errs),
	    PC_OK);
	assert_memory_equal(u->data, k->data, VAULT_KEY_LEN);
	assert_false(u->has_wrap);	/* never the deployment key's */
	/* as typed: lower case, spaces, O for 0, l for 1 */
	for (i = j = 0; text[i] != '\0'; i++) {
		char ch = text[i];

		if (ch == '-') {
			typed[j++] = ' ';
			continue;
		}
		typed[j++] = ch == '0' ? 'O' : ch == '1' ? 'l' :
		    (char)(ch >= 'A' ? ch - 'A' + 'a' : ch);
	}
	typed[j] = '\0';
	memset(u, 0, sizeof(*u));
	assert_int_equal(vault_unwrap_recovery(w.p, typed, sid, u, &errs),
	    PC_OK);
	assert_memory_equal(u->data, k->data, VAULT_KEY_LEN);
	/* one digit wrong; too short; a character not in the alphabet */
	typed[0] = typed[0] == '2' ? '3' : '2';
	assert_int_equal(vault_unwrap_recovery(w.p, typed, sid, u, &errs),
	    PC_EAUTH);
	assert_int_equal(vault_unwrap_recovery(w.p, "ABCD-EFGH", sid, u, &errs),
	    PC_EAUTH);
	text[0] = 'U';
	assert_int_equal(vault_unwrap_recovery(w.p, text, sid, u, &errs),
	    PC_EAUTH);
	buf_free(&w);
	vault_keys_free(k);
	vault_keys_free(u);
	err_free(&errs);
}

/* The soft and hard core limits of a process, from /proc. */
static void
assert_no_core(pid_t pid)
{
	char path[64], *s, *p;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	assert_non_null(s = th_slurp(path, NULL));
	assert_non_null(p = strstr(s, "Max core file size"));
	assert_int_equal(strncmp(p + 26, "0                    0", 22), 0);
	free(s);
}

static pid_t
peer_pid(const char *path)
{
	struct sockaddr_un sa;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len), 0);
	close(fd);
	return cr.pid;
}

static void
test_agent(void **state)
{
	const char *dir = th_tmpdir();
	struct vault_keys *k = vault_keys_new(), *got = vault_keys_new();
	uint8_t other[VAULT_ID_LEN] = {9};
	char path[PATH_MAX], sockdir[PATH_MAX], exe[PATH_MAX];
	struct err_list errs;
	struct stat st;
	int i;

	(void)state;
	err_init(&errs);
	/* the agent is pcmds run again: this program is not pcmds */
	snprintf(exe, sizeof(exe), "%s/pcmds", th_build());
	assert_int_equal(vault_keys_generate(k), PC_OK);
	assert_int_equal(agent_path(dir, path, &errs), PC_OK);
	/* none yet */
	assert_int_equal(agent_get(path, sid, got), PC_ENOTFOUND);
	assert_int_equal(agent_stop(path), 0);
	assert_int_equal(agent_start(path, sid, k, 60, exe, &errs), PC_OK);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(sockdir, sizeof(sockdir), "%s", path);
	*strrchr(sockdir, '/') = '\0';
	assert_int_equal(stat(sockdir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(st.st_uid, getuid());
	assert_no_core(peer_pid(path));
	assert_int_equal(agent_get(path, sid, got), PC_OK);
	assert_memory_equal(got->data, k->data, VAULT_KEY_LEN);
	assert_memory_equal(got->wrap, k->wrap, VAULT_KEY_LEN);
	assert_true(got->has_wrap);
	/* it answers for its own store only */
	assert_int_equal(agent_get(path, other, got), PC_ENOTFOUND);
	/*
	 * Another user reaching the socket (its directory opened up here on
	 * purpose) is refused by the agent itself: only as root can a test
	 * be another user (and not under valgrind, which cannot follow).
	 */
	if (getuid() == 0 && getenv("PCMDS_VALGRIND") == NULL) {
		pid_t pid;
		int status;

		char root[PATH_MAX];

		snprintf(root, sizeof(root), "%s", th_runtime_dir());
		*strrchr(root, '/') = '\0';	/* the test's own directory */
		chmod(root, 0711);
		chmod(th_runtime_dir(), 0711);
		chmod(sockdir, 0755);
		chmod(path, 0666);
		if ((pid = fork()) == 0) {
			struct sockaddr_un sa;
			uint8_t req[1 + VAULT_ID_LEN] = {'K'}, reply[8];
			int fd;

			memset(&sa, 0, sizeof(sa));
			sa.sun_family = AF_UNIX;
			snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
			memcpy(req + 1, sid, VAULT_ID_LEN);
			if (setuid(65534) != 0 ||
			    (fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
			    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
				_exit(2);
			/* closed without a word (perhaps before the asking) */
			if (send(fd, req, sizeof(req), MSG_NOSIGNAL) !=
			    (ssize_t)sizeof(req))
				_exit(0);
			_exit(read(fd, reply, sizeof(reply)) > 0 ? 1 : 0);
		}
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status))
			fail_msg("the other user's probe died: signal %d",
			    WTERMSIG(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		chmod(sockdir, 0700);
		chmod(path, 0600);
		chmod(th_runtime_dir(), 0700);
		chmod(root, 0700);
	}
	/* started again: the old agent gives way to the new */
	assert_int_equal(agent_start(path, sid, k, 1, exe, &errs), PC_OK);
	assert_int_equal(agent_get(path, sid, got), PC_OK);
	/* idle for its second: it ends, and its socket goes with it */
	for (i = 0; i < 300 && access(path, F_OK) == 0; i++)
		usleep(100 * 1000);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(agent_get(path, sid, got), PC_ENOTFOUND);
	/* stopped on request */
	assert_int_equal(agent_start(path, sid, k, 60, exe, &errs), PC_OK);
	assert_int_equal(agent_stop(path), 1);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(agent_stop(path), 0);
	vault_keys_free(k);
	vault_keys_free(got);
	err_free(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal),
		cmocka_unit_test(test_pass_wrap),
		cmocka_unit_test(test_recovery),
		cmocka_unit_test(test_agent),
	};

	return cmocka_run_group_tests_name("vault", tests, NULL, NULL);
}

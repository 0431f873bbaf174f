/*
 * agent.c - the key agent: a forked process holding one store's keys.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "sec.h"

#define REPLY_LEN	(1 + 2 * VAULT_KEY_LEN + 1)
#define REQUEST_LEN	(1 + VAULT_ID_LEN)
#define IO_TIMEOUT_S	5

/* A directory of ours alone: made 0700, refused if anyone else's. */
static pc_rc
private_dir(const char *dir, struct err_list *errs)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		err_add(errs, E_SYSTEM, "", "cannot create %s: %s", dir,
		    strerror(errno));
		return PC_EIO;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != getuid()) {
		err_add(errs, E_SYSTEM, "", "%s is not a directory of this user's "
		    "own; the agent will not use it", dir);
		return PC_EIO;
	}
	if ((st.st_mode & 077) != 0 && chmod(dir, 0700) != 0) {
		err_add(errs, E_SYSTEM, "", "cannot make %s private: %s", dir,
		    strerror(errno));
		return PC_EIO;
	}
	return PC_OK;
}

pc_rc
agent_path(const char *data_dir, char out[PATH_MAX], struct err_list *errs)
{
	const char *rt = getenv("XDG_RUNTIME_DIR"), *tmp = getenv("TMPDIR");
	char real[PATH_MAX], dir[PATH_MAX], hex[SEC_HEX64_LEN];
	struct stat st;
	pc_rc rc;

	if (realpath(data_dir, real) == NULL) {
		err_add(errs, E_SYSTEM, "", "cannot resolve %s: %s", data_dir,
		    strerror(errno));
		return PC_EIO;
	}
	if (rt != NULL && rt[0] == '/' && stat(rt, &st) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_uid == getuid())
		snprintf(dir, sizeof(dir), "%s/pcmds", rt);
	else
		snprintf(dir, sizeof(dir), "%s/pcmds-%u",
		    tmp != NULL && tmp[0] == '/' ? tmp : "/tmp",
		    (unsigned)getuid());
	if ((rc = private_dir(dir, errs)) != PC_OK)
		return rc;
	/* one agent per store: named after the store's directory */
	sec_sha256_hex(real, strlen(real), hex);
	if (snprintf(out, PATH_MAX, "%s/agent-%.16s", dir, hex) >=
	    (int)sizeof(((struct sockaddr_un *)0)->sun_path)) {
		err_add(errs, E_SYSTEM, "", "the agent's socket path under %s is "
		    "too long for a Unix socket", dir);
		return PC_EIO;
	}
	return PC_OK;
}

static int
io_all(int fd, void *p, size_t n, int writing)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = writing ? send(fd, c, n, MSG_NOSIGNAL) :
		    recv(fd, c, n, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
io_timeout(int fd)
{
	struct timeval tv = {IO_TIMEOUT_S, 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* 1 when the process at the other end runs as this user. */
static int
peer_is_us(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0 &&
	    cr.uid == getuid();
}

static int
dial(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    !peer_is_us(fd)) {
		close(fd);
		return -1;
	}
	io_timeout(fd);
	return fd;
}

/* Sends a request; the answer (REPLY_LEN bytes for 'K') into reply. */
static int
ask(const char *path, char op, const uint8_t sid[VAULT_ID_LEN],
    uint8_t *reply, size_t len)
{
	uint8_t req[REQUEST_LEN];
	int fd, ok;

	if ((fd = dial(path)) < 0)
		return -1;
	req[0] = (uint8_t)op;
	memcpy(req + 1, sid, VAULT_ID_LEN);
	ok = io_all(fd, req, sizeof(req), 1) == 0 &&
	    io_all(fd, reply, 1, 0) == 0 && reply[0] == '+' &&
	    (len <= 1 || io_all(fd, reply + 1, len - 1, 0) == 0);
	close(fd);
	return ok ? 0 : -1;
}

pc_rc
agent_get(const char *path, const uint8_t sid[VAULT_ID_LEN],
    struct vault_keys *k)
{
	uint8_t *reply = vault_locked_alloc(REPLY_LEN);
	pc_rc rc = PC_ENOTFOUND;

	if (reply == NULL)
		return PC_ENOMEM;
	if (ask(path, 'K', sid, reply, REPLY_LEN) == 0) {
		memcpy(k->data, reply + 1, VAULT_KEY_LEN);
		memcpy(k->wrap, reply + 1 + VAULT_KEY_LEN, VAULT_KEY_LEN);
		k->has_wrap = reply[1 + 2 * VAULT_KEY_LEN] != 0;
		rc = PC_OK;
	}
	vault_locked_free(reply, REPLY_LEN);
	return rc;
}

int
agent_stop(const char *path)
{
	uint8_t sid[VAULT_ID_LEN] = {0}, reply[1];

	return ask(path, 'L', sid, reply, 1) == 0;
}

/* -- the agent process ------------------------------------------------------- */

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

struct agent {
	const char		*path;
	struct vault_keys	*keys;
	uint8_t			 sid[VAULT_ID_LEN];
	int			 lfd;
	ino_t			 ino;
	int			 idle_s;
	time_t			 until;
};

static time_t
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* 1 while the socket at path is still this agent's. */
static int
still_ours(const struct agent *a)
{
	struct stat st;

	return stat(a->path, &st) == 0 && st.st_ino == a->ino;
}

/* Answers one connection; 1 when the agent is to end. */
static int
serve(struct agent *a, int fd)
{
	uint8_t req[REQUEST_LEN], *reply;

	io_timeout(fd);
	if (!peer_is_us(fd) || io_all(fd, req, sizeof(req), 0) != 0)
		return 0;
	if (req[0] == 'L') {
		/* gone before the answer: whoever asked sees it gone */
		if (still_ours(a))
			unlink(a->path);
		(void)io_all(fd, "+", 1, 1);
		return 1;
	}
	if (req[0] != 'K' || !sec_equal(req + 1, a->sid, VAULT_ID_LEN)) {
		(void)io_all(fd, "-", 1, 1);
		return 0;
	}
	if ((reply = vault_locked_alloc(REPLY_LEN)) == NULL)
		return 0;
	reply[0] = '+';
	memcpy(reply + 1, a->keys->data, VAULT_KEY_LEN);
	memcpy(reply + 1 + VAULT_KEY_LEN, a->keys->wrap, VAULT_KEY_LEN);
	reply[1 + 2 * VAULT_KEY_LEN] = (uint8_t)(a->keys->has_wrap != 0);
	if (io_all(fd, reply, REPLY_LEN, 1) == 0)
		a->until = mono() + a->idle_s;	/* in use: not idle */
	vault_locked_free(reply, REPLY_LEN);
	return 0;
}

static void
agent_loop(struct agent *a)
{
	struct pollfd pf = {a->lfd, POLLIN, 0};
	int fd, wait_ms;

	a->until = mono() + a->idle_s;
	while (!stopping) {
		time_t left = a->until - mono();

		if (left <= 0 || !still_ours(a))
			break;
		/* wake now and then to notice a removed or replaced socket */
		wait_ms = (int)(left < 30 ? left : 30) * 1000;
		if (poll(&pf, 1, wait_ms) <= 0)
			continue;
		if ((fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
			continue;
		if (serve(a, fd)) {
			close(fd);
			break;
		}
		close(fd);
	}
	if (still_ours(a))
		unlink(a->path);
	close(a->lfd);
}

/* Binds beside path and renames into place: a reader never sees none. */
static int
listen_at(struct agent *a)
{
	struct sockaddr_un sa;
	struct stat st;
	char tmp[PATH_MAX];

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (snprintf(tmp, sizeof(tmp), "%s.%d", a->path, (int)getpid()) >=
	    (int)sizeof(sa.sun_path))
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", tmp);
	unlink(tmp);
	if ((a->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (bind(a->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(tmp, 0600) != 0 || listen(a->lfd, 16) != 0 ||
	    stat(tmp, &st) != 0 || rename(tmp, a->path) != 0) {
		unlink(tmp);
		close(a->lfd);
		return -1;
	}
	a->ino = st.st_ino;
	return 0;
}

/* What agent_start hands the new agent, on descriptor 3. */
struct agent_boot {
	char			 path[PATH_MAX];
	uint8_t			 sid[VAULT_ID_LEN];
	struct vault_keys	 keys;
	int			 idle_s;
};

/* The agent itself (ready: where to say it listens): never returns. */
static void
agent_main(struct agent_boot *b, int ready)
{
	struct sigaction sa;
	struct agent a;
	struct rlimit no = {0, 0};
	int devnull;

	memset(&a, 0, sizeof(a));
	a.path = b->path;
	a.idle_s = b->idle_s;
	a.keys = &b->keys;
	memcpy(a.sid, b->sid, VAULT_ID_LEN);
	(void)prctl(PR_SET_DUMPABLE, 0);
	(void)setrlimit(RLIMIT_CORE, &no);
	if ((devnull = open("/dev/null", O_RDWR)) >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
	if (chdir("/") != 0)
		_exit(1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (listen_at(&a) != 0) {
		(void)io_all(ready, "-", 1, 1);
		vault_locked_free(b, sizeof(*b));
		_exit(1);
	}
	(void)io_all(ready, "+", 1, 1);
	close(ready);
	agent_loop(&a);
	vault_locked_free(b, sizeof(*b));
	_exit(0);
}

int
agent_exec_main(void)
{
	struct agent_boot *b = vault_locked_alloc(sizeof(*b));

	/* a fresh process: it holds nothing of the one that started it */
	if (b == NULL || io_all(3, b, sizeof(*b), 0) != 0 ||
	    memchr(b->path, '\0', sizeof(b->path)) == NULL || b->idle_s <= 0) {
		vault_locked_free(b, sizeof(*b));
		return 1;
	}
	agent_main(b, 3);
	return 1;
}

pc_rc
agent_start(const char *path, const uint8_t sid[VAULT_ID_LEN],
    const struct vault_keys *k, int idle_s, const char *exe,
    struct err_list *errs)
{
	struct agent_boot *b;
	struct pollfd pf;
	char ok = '-', self[PATH_MAX];
	int sp[2], st, sent;
	ssize_t n;
	pid_t pid;

	(void)agent_stop(path);
	/* this program's own path (under valgrind, /proc/self/exe is not) */
	if (exe == NULL && (n = readlink("/proc/self/exe", self,
	    sizeof(self) - 1)) > 0 && access((self[n] = '\0', self), X_OK) == 0)
		exe = self;
	if ((b = vault_locked_alloc(sizeof(*b))) == NULL)
		return PC_ENOMEM;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		err_add(errs, E_SYSTEM, "", "cannot start the agent: %s",
		    strerror(errno));
		vault_locked_free(b, sizeof(*b));
		return PC_EIO;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		err_add(errs, E_SYSTEM, "", "cannot start the agent: %s",
		    strerror(errno));
		close(sp[0]);
		close(sp[1]);
		vault_locked_free(b, sizeof(*b));
		return PC_EIO;
	}
	if (pid == 0) {
		/*
		 * Twice, so that the agent is nobody's child; then a new
		 * program, so that none of this process's memory (the
		 * token, the cipher contexts) lives on in it.
		 */
		if (dup2(sp[1], 3) != 3 || close_range(4, ~0U, 0) != 0 ||
		    setsid() < 0 || (pid = fork()) < 0)
			_exit(1);
		if (pid == 0) {
			execl(exe ? exe : "/proc/self/exe", "pcmds-agent",
			    AGENT_EXEC_ARG, (char *)NULL);
			_exit(127);
		}
		_exit(0);
	}
	close(sp[1]);
	snprintf(b->path, sizeof(b->path), "%s", path);
	memcpy(b->sid, sid, VAULT_ID_LEN);
	b->keys = *k;
	b->idle_s = idle_s;
	sent = io_all(sp[0], b, sizeof(*b), 1) == 0;
	vault_locked_free(b, sizeof(*b));
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	pf.fd = sp[0];
	pf.events = POLLIN;
	if (!sent || poll(&pf, 1, IO_TIMEOUT_S * 1000) != 1 ||
	    read(sp[0], &ok, 1) != 1)
		ok = '-';
	close(sp[0]);
	if (ok != '+') {
		err_add(errs, E_SYSTEM, "", "the agent did not start (its socket "
		    "%s could not be made)", path);
		return PC_EIO;
	}
	return PC_OK;
}

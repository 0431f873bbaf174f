/*
 * harness.c - temporary directories, child processes, files.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static char tmproot[PATH_MAX];

static void
rm_tmp(void)
{
	char cmd[PATH_MAX + 16];

	if (tmproot[0] == '\0' || getenv("PCMDS_KEEP_TMP") != NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmproot);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmproot);
}

const char *
th_tmpdir(void)
{
	static int n;
	static char dir[PATH_MAX];
	const char *t = getenv("TMPDIR");

	if (tmproot[0] == '\0') {
		snprintf(tmproot, sizeof(tmproot), "%s/pcmds-test-XXXXXX",
		    t ? t : "/tmp");
		if (mkdtemp(tmproot) == NULL) {
			perror("mkdtemp");
			abort();
		}
		atexit(rm_tmp);
	}
	snprintf(dir, sizeof(dir), "%s/%d", tmproot, ++n);
	if (mkdir(dir, 0700) != 0) {
		perror("mkdir");
		abort();
	}
	return dir;
}

const char *
th_path(const char *dir, const char *name)
{
	static char bufs[8][PATH_MAX];
	static int k;
	char *b = bufs[k++ % 8];

	snprintf(b, PATH_MAX, "%s/%s", dir, name);
	return b;
}

char *
th_slurp(const char *path, size_t *lenp)
{
	FILE *fp = fopen(path, "rb");
	char *p = NULL;
	size_t len = 0, cap = 0, r;

	if (fp == NULL)
		return NULL;
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			p = realloc(p, cap + 1);
			assert_non_null(p);
		}
		r = fread(p + len, 1, cap - len, fp);
		len += r;
	} while (r > 0);
	fclose(fp);
	p[len] = '\0';
	if (lenp)
		*lenp = len;
	return p;
}

void
th_write(const char *path, const char *text)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
}

cJSON *
th_json(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	if (j == NULL)
		fail_msg("not JSON: %s", text);
	return j;
}

const char *
th_build(void)
{
	const char *b = getenv("PCMDS_BUILD");

	return b ? b : "build";
}

int
th_have(const char *prog)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* Reads everything from the two pipes until both close. */
static void
collect(int ofd, int efd, char **out, char **err)
{
	struct pollfd pf[2] = {{ofd, POLLIN, 0}, {efd, POLLIN, 0}};
	char *bufs[2] = {NULL, NULL};
	size_t lens[2] = {0, 0}, caps[2] = {0, 0};
	int open_n = 2, i;

	while (open_n > 0) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			char chunk[8192];
			ssize_t r;

			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP)))
				continue;
			r = read(pf[i].fd, chunk, sizeof(chunk));
			if (r <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
				open_n--;
				continue;
			}
			if (lens[i] + (size_t)r + 1 > caps[i]) {
				caps[i] = (lens[i] + (size_t)r + 1) * 2;
				bufs[i] = realloc(bufs[i], caps[i]);
				assert_non_null(bufs[i]);
			}
			memcpy(bufs[i] + lens[i], chunk, (size_t)r);
			lens[i] += (size_t)r;
			bufs[i][lens[i]] = '\0';
		}
	}
	*out = bufs[0] ? bufs[0] : strdup("");
	*err = bufs[1] ? bufs[1] : strdup("");
}

static const char *
resolve(const char *prog, char *buf, size_t len)
{
	if (strcmp(prog, "pcmds") == 0 || strcmp(prog, "pcmdsd") == 0 ||
	    strcmp(prog, "pcmdsd-fp") == 0) {
		snprintf(buf, len, "%s/%s", th_build(), prog);
		return buf;
	}
	return prog;
}

void
th_exec(struct th_run *r, const char *const *argv, const char *in,
    const char *const *env)
{
	int ip[2], op[2], ep[2], st;
	char exe[PATH_MAX];
	pid_t pid;

	assert_int_equal(pipe(ip), 0);
	assert_int_equal(pipe(op), 0);
	assert_int_equal(pipe(ep), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(ip[0], 0);
		dup2(op[1], 1);
		dup2(ep[1], 2);
		close(ip[0]); close(ip[1]); close(op[0]); close(op[1]);
		close(ep[0]); close(ep[1]);
		for (; env != NULL && *env != NULL; env++)
			putenv((char *)*env);
		execvp(resolve(argv[0], exe, sizeof(exe)), (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(ip[0]);
	close(op[1]);
	close(ep[1]);
	if (in != NULL) {
		/* inputs are small: the pipe buffer takes them whole */
		size_t n = strlen(in), off = 0;

		signal(SIGPIPE, SIG_IGN);
		while (off < n) {
			ssize_t w = write(ip[1], in + off, n - off);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	close(ip[1]);
	collect(op[0], ep[0], &r->out, &r->err);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void
th_execf(struct th_run *r, const char *in, const char *fmt, ...)
{
	char line[8192], *argv[256], *p, *save = NULL;
	va_list ap;
	int n = 0;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (p = strtok_r(line, " ", &save); p != NULL && n < 255;
	    p = strtok_r(NULL, " ", &save))
		argv[n++] = p;
	argv[n] = NULL;
	th_exec(r, (const char *const *)argv, in, NULL);
}

void
th_run_free(struct th_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

void
th_cmd(struct th_run *r, const char *in, const char *arg0, ...)
{
	const char *argv[128];
	va_list ap;
	int n = 0;

	argv[n++] = arg0;
	va_start(ap, arg0);
	while (n < 127 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	th_exec(r, argv, in, NULL);
}

static size_t pty_mark;

void
th_pty_start(struct th_pty *p, const char *const *argv)
{
	char exe[PATH_MAX];
	struct winsize ws = {24, 100, 0, 0};

	memset(p, 0, sizeof(*p));
	pty_mark = 0;
	p->pid = forkpty(&p->fd, NULL, NULL, &ws);
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		execvp(resolve(argv[0], exe, sizeof(exe)), (char *const *)argv);
		_exit(127);
	}
}

static int
pty_read(struct th_pty *p, int timeout_ms)
{
	struct pollfd pf = {p->fd, POLLIN, 0};
	char chunk[4096];
	ssize_t r;

	if (poll(&pf, 1, timeout_ms) <= 0)
		return 0;
	r = read(p->fd, chunk, sizeof(chunk));
	if (r <= 0)
		return -1;
	if (p->len + (size_t)r + 1 > p->cap) {
		p->cap = (p->len + (size_t)r + 1) * 2;
		p->seen = realloc(p->seen, p->cap);
		assert_non_null(p->seen);
	}
	memcpy(p->seen + p->len, chunk, (size_t)r);
	p->len += (size_t)r;
	p->seen[p->len] = '\0';
	return 1;
}

void
th_pty_expect(struct th_pty *p, const char *text)
{
	int waited = 0;
	char *hit;

	for (;;) {
		if (p->seen != NULL &&
		    (hit = strstr(p->seen + pty_mark, text)) != NULL) {
			pty_mark = (size_t)(hit - p->seen) + strlen(text);
			return;
		}
		if (waited > 10000 || pty_read(p, 100) < 0)
			fail_msg("never saw \"%s\"; the program wrote:\n%s",
			    text, p->seen ? p->seen : "");
		waited += 100;
	}
}

void
th_pty_send(struct th_pty *p, const char *text)
{
	assert_int_equal(write(p->fd, text, strlen(text)),
	    (ssize_t)strlen(text));
}

int
th_pty_finish(struct th_pty *p)
{
	int st;

	while (pty_read(p, 10000) > 0)
		;
	close(p->fd);
	while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
		;
	p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return p->status;
}

void
th_pty_free(struct th_pty *p)
{
	free(p->seen);
	p->seen = NULL;
}

void
th_kill(pid_t pid, int sig)
{
	int st;

	kill(pid, sig);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

long
th_file_count(const char *path, const char *needle, size_t nlen)
{
	size_t len, i;
	char *data = th_slurp(path, &len);
	long n = 0;

	if (data == NULL)
		return -1;
	for (i = 0; nlen > 0 && i + nlen <= len; i++)
		if (memcmp(data + i, needle, nlen) == 0)
			n++;
	free(data);
	return n;
}

/*
 * harness.c - temporary directories, child processes, files.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
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

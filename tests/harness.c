/*
 * harness.c - temporary directories, child processes, files.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "agent.h"
#include "cstore.h"
#include "harness.h"

static char tmproot[PATH_MAX];

/* Ends the key agents the test's clients started (in its runtime dir). */
static void
stop_agents(void)
{
	char dir[PATH_MAX + 16], path[2 * PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/run/pcmds", tmproot);
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "agent-", 6) == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			(void)agent_stop(path);
		}
	closedir(d);
}

static void
rm_tmp(void)
{
	char cmd[PATH_MAX + 16];

	if (tmproot[0] == '\0')
		return;
	stop_agents();
	if (getenv("PCMDS_KEEP_TMP") != NULL)
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
		/* the clients' key agents listen here, not in the user's */
		snprintf(dir, sizeof(dir), "%s/run", tmproot);
		if (mkdir(dir, 0700) != 0 ||
		    setenv("XDG_RUNTIME_DIR", dir, 1) != 0) {
			perror("runtime dir");
			abort();
		}
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

long
th_proc_kb(pid_t pid, const char *field)
{
	char path[64], *s, *p;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((s = th_slurp(path, NULL)) == NULL)
		return -1;
	if ((p = strstr(s, field)) != NULL)
		kb = atol(p + strlen(field));
	free(s);
	return kb;
}

double
th_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
	    strcmp(prog, "pcmds-fp") == 0 || strcmp(prog, "pcmdsd-fp") == 0) {
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
	th_pty_expect_within(p, text, 10);
}

#define PTY_TAIL	800	/* bytes of a program's output a failure shows */

void
th_pty_expect_within(struct th_pty *p, const char *text, int seconds)
{
	int waited = 0;
	char *hit;

	for (;;) {
		if (p->seen != NULL &&
		    (hit = strstr(p->seen + pty_mark, text)) != NULL) {
			pty_mark = (size_t)(hit - p->seen) + strlen(text);
			return;
		}
		if (waited > seconds * 1000 || pty_read(p, 100) < 0)
			/* the end: cmocka cuts a message at about 1 KB */
			fail_msg("never saw \"%s\" in %d s; the program's last "
			    "words:\n%s", text, seconds, p->len > PTY_TAIL ?
			    p->seen + p->len - PTY_TAIL : p->seen ? p->seen : "");
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

void
th_unlock(const char *home)
{
	struct th_run r;

	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, "--passphrase-fd",
	    "0", "unlock", NULL);
	if (r.status != 0)
		fail_msg("pcmds unlock: %s", r.err);
	th_run_free(&r);
}

struct cstore *
th_store_open(const char *home, struct vault_keys *k)
{
	struct err_list errs;
	struct vault_keys *mine = k ? k : vault_keys_new();
	struct cstore *cs;
	char wrap[1024];

	err_init(&errs);
	assert_non_null(mine);
	if (cstore_open(th_path(home, "pcmds.db"), &cs, &errs) != PC_OK)
		fail_msg("open %s: %s", home, errs.v[0].msg);
	assert_int_equal(cstore_meta_get(cs, "vault.pass", wrap, sizeof(wrap)),
	    PC_OK);
	if (vault_unwrap_pass(wrap, TH_PASS, strlen(TH_PASS), cstore_id(cs),
	    mine, NULL, &errs) != PC_OK ||
	    cstore_key(cs, mine->data, &errs) != PC_OK)
		fail_msg("unlock %s: %s", home, errs.v[0].msg);
	if (k == NULL)
		vault_keys_free(mine);
	err_free(&errs);
	return cs;
}

const char *
th_runtime_dir(void)
{
	(void)th_tmpdir();
	return getenv("XDG_RUNTIME_DIR");
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

/* -- the server ---------------------------------------------------------- */

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/*
 * The lowest port the kernel hands out to connections of its own choosing
 * (32768 when it cannot be read).
 */
static int
ephemeral_low(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int low = 32768;

	if (f != NULL) {
		if (fscanf(f, "%d", &low) != 1 || low < 2048 || low > 65535)
			low = 32768;
		fclose(f);
	}
	return low;
}

/*
 * A port nothing listens on, taken at random below the kernel's ephemeral
 * range: a port the kernel chose could meanwhile become another test's
 * connection's own port while a server is down between a kill and its
 * restart, and its next start would find it in use.
 */
int
th_free_port(void)
{
	static unsigned seed;
	struct sockaddr_in sa;
	int low = ephemeral_low(), i, one = 1;

	if (seed == 0)
		seed = (unsigned)getpid() ^ (unsigned)time(NULL);
	for (i = 0; i < 1000; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0), port, ok;

		assert_true(fd >= 0);
		port = low / 2 + (int)(rand_r(&seed) % (unsigned)(low - low / 2));
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = htons((uint16_t)port);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    listen(fd, 1) == 0;
		close(fd);
		if (ok)
			return port;
	}
	fail_msg("no free port below %d on the loopback", low);
	return -1;
}

/* -- PostgreSQL ------------------------------------------------------- */

static char pg_dir[PATH_MAX];	/* a cluster this program started */
static char pg_base[PATH_MAX];	/* its URI, or the one run.sh gave */

int
th_store_pg(void)
{
	const char *s = getenv("PCMDS_TEST_STORE");

	return s != NULL && strcmp(s, "postgresql") == 0;
}

static void
pg_stop(void)
{
	char cmd[PATH_MAX + 64];

	if (pg_dir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "bash tests/pg.sh stop '%s'", pg_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not stop PostgreSQL in %s\n", pg_dir);
}

/* The cluster's URI: run.sh's (PCMDS_TEST_PG), else one started here. */
static const char *
pg_cluster(void)
{
	const char *given = getenv("PCMDS_TEST_PG");
	struct th_run r;
	char *nl;

	if (pg_base[0] != '\0')
		return pg_base;
	if (given != NULL && given[0] != '\0') {
		snprintf(pg_base, sizeof(pg_base), "%s", given);
		return pg_base;
	}
	/* outside TMPDIR's private directories: nobody must reach it */
	snprintf(pg_dir, sizeof(pg_dir), "/tmp/pcmds-pg-XXXXXX");
	if (mkdtemp(pg_dir) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
	th_cmd(&r, NULL, "bash", "tests/pg.sh", "start", pg_dir, NULL);
	if (r.status != 0)
		fail_msg("PostgreSQL did not start: %s", r.err);
	atexit(pg_stop);
	if ((nl = strchr(r.out, '\n')) != NULL)
		*nl = '\0';
	snprintf(pg_base, sizeof(pg_base), "%s", r.out);
	th_run_free(&r);
	return pg_base;
}

/* The URI of database name in the cluster. */
static void
pg_uri(const char *name, char *out, size_t len)
{
	const char *base = pg_cluster(), *q = strchr(base, '?');

	snprintf(out, len, "postgresql:///%s%s", name, q ? q : "");
}

static PGconn *
pg_connect(const char *uri)
{
	PGconn *c = PQconnectdb(uri);

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot connect to %s: %s", uri, PQerrorMessage(c));
	return c;
}

const char *
th_pg_db(const char *like)
{
	static char uri[PATH_MAX];
	static int n;
	char name[64], sql[256], admin[PATH_MAX];
	PGconn *c;
	PGresult *res;

	snprintf(name, sizeof(name), "t%d_%d", (int)getpid(), ++n);
	pg_uri("postgres", admin, sizeof(admin));
	c = pg_connect(admin);
	if (like != NULL)
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE %s", name,
		    like);
	else
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
	pg_uri(name, uri, sizeof(uri));
	return uri;
}

const char *
th_pg_name(const char *uri)
{
	static char name[64];
	const char *p = strstr(uri, ":///");

	snprintf(name, sizeof(name), "%.*s", p ? (int)strcspn(p + 4, "?") : 0,
	    p ? p + 4 : "");
	return name;
}

/* The database URI of the deployment whose database file db would be. */
const char *
th_db_uri(const char *db)
{
	static char uri[PATH_MAX];
	char conf[PATH_MAX], *text, *p;

	snprintf(conf, sizeof(conf), "%s", db);
	if ((p = strrchr(conf, '/')) == NULL)
		return NULL;
	snprintf(p, sizeof(conf) - (size_t)(p - conf), "/pcmdsd.conf");
	if ((text = th_slurp(conf, NULL)) == NULL)
		return NULL;
	uri[0] = '\0';
	for (p = text; (p = strstr(p, "database = postgresql://")) != NULL;
	    p++)
		if (p == text || p[-1] == '\n') {
			snprintf(uri, sizeof(uri), "%.*s", (int)strcspn(p + 11,
			    "\n"), p + 11);
			break;
		}
	free(text);
	return uri[0] ? uri : NULL;
}

/* SQL on a PostgreSQL database: 1 done, 0 refused (with may_fail). */
static int
pg_sql(const char *uri, const char *sql, long *v, int may_fail)
{
	PGconn *c = pg_connect(uri);
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		if (may_fail) {
			PQclear(res);
			PQfinish(c);
			return 0;
		}
		fail_msg("sql %s: %s", sql, PQerrorMessage(c));
	}
	if (v != NULL)
		*v = st == PGRES_TUPLES_OK && PQntuples(res) > 0 &&
		    !PQgetisnull(res, 0, 0) ? atol(PQgetvalue(res, 0, 0)) : -1;
	PQclear(res);
	PQfinish(c);
	return 1;
}

void
th_server_init(struct th_server *s, const char *extra)
{
	th_server_init_on(s, th_store_pg() ? th_pg_db(NULL) : NULL, extra);
}

void
th_server_init_on(struct th_server *s, const char *database,
    const char *extra)
{
	struct th_run r;
	char listen[64];
	FILE *fp;

	memset(s, 0, sizeof(*s));
	s->bin = "pcmdsd";
	snprintf(s->dir, sizeof(s->dir), "%s/srv", th_tmpdir());
	s->port = th_free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->port);
	if (database != NULL)
		th_cmd(&r, NULL, "pcmdsd", "init", "--dir", s->dir, "--listen",
		    listen, "--database", database, NULL);
	else
		th_cmd(&r, NULL, "pcmdsd", "init", "--dir", s->dir, "--listen",
		    listen, NULL);
	if (r.status != 0)
		fail_msg("pcmdsd init failed: %s", r.err);
	th_run_free(&r);
	snprintf(s->conf, sizeof(s->conf), "%s/pcmdsd.conf", s->dir);
	snprintf(s->ca, sizeof(s->ca), "%s/ca.pem", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/server.log", s->dir);
	snprintf(s->url, sizeof(s->url), "https://localhost:%d", s->port);
	if (extra != NULL) {
		assert_non_null(fp = fopen(s->conf, "a"));
		fprintf(fp, "\n%s\n", extra);
		fclose(fp);
	}
}

void
th_server_twin(struct th_server *b, const struct th_server *a,
    const char *extra_conf)
{
	char listen[64], *text, *p;
	FILE *fp;

	memset(b, 0, sizeof(*b));
	b->bin = a->bin;
	snprintf(b->dir, sizeof(b->dir), "%s/srv", th_tmpdir());
	snprintf(b->conf, sizeof(b->conf), "%s/pcmdsd.conf", b->dir);
	snprintf(b->ca, sizeof(b->ca), "%s/ca.pem", b->dir);
	snprintf(b->log, sizeof(b->log), "%s/server.log", b->dir);
	/* its own directory and port; the same secret, certificate, database */
	{
		char cmd[1400];

		snprintf(cmd, sizeof(cmd), "cp -r '%s' '%s' && rm -f '%s/server.log'",
		    a->dir, b->dir, b->dir);
		assert_int_equal(system(cmd), 0);
	}
	b->port = th_free_port();
	snprintf(b->url, sizeof(b->url), "https://localhost:%d", b->port);
	snprintf(listen, sizeof(listen), "listen = 127.0.0.1:%d", b->port);
	assert_non_null(text = th_slurp(b->conf, NULL));
	assert_non_null(p = strstr(text, "\nlisten = "));
	assert_non_null(fp = fopen(b->conf, "w"));
	fprintf(fp, "%.*s\n%s%s\n%s\n", (int)(p - text), text, listen,
	    p + 1 + strcspn(p + 1, "\n"), extra_conf ? extra_conf : "");
	fclose(fp);
	free(text);
}

int
th_can_connect(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Servers still running when a test fails are killed at exit. */
static pid_t live[64];

static void
kill_live(void)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (live[i] > 0)
			kill(live[i], SIGKILL);
}

static void
track(pid_t pid, pid_t gone)
{
	static int registered;
	size_t i;

	if (!registered++)
		atexit(kill_live);
	for (i = 0; i < 64; i++)
		if (live[i] == gone) {
			live[i] = pid;
			return;
		}
}

void
th_ui_start(struct th_ui *u, const char *home)
{
	th_ui_start_env(u, home, NULL);
}

void
th_ui_start_env(struct th_ui *u, const char *home, const char *const *env)
{
	char exe[PATH_MAX], line[256];
	int op[2];
	FILE *fp;

	memset(u, 0, sizeof(*u));
	snprintf(exe, sizeof(exe), "%s/pcmds", th_build());
	assert_int_equal(pipe(op), 0);
	if ((u->pid = fork()) == 0) {
		dup2(op[1], 1);
		close(op[0]);
		close(op[1]);
		for (; env != NULL && *env != NULL; env++)
			putenv((char *)*env);
		execl(exe, exe, "--home", home, "ui", "--no-browser",
		    (char *)NULL);
		_exit(127);
	}
	assert_true(u->pid > 0);
	track(u->pid, 0);
	close(op[1]);
	fp = fdopen(op[0], "r");
	assert_non_null(fp);
	if (fgets(line, sizeof(line), fp) == NULL)
		fail_msg("pcmds ui printed no launch address");
	fclose(fp);
	line[strcspn(line, "\n")] = '\0';
	snprintf(u->launch, sizeof(u->launch), "%s", line);
	if (sscanf(line, "http://127.0.0.1:%d/", &u->port) != 1)
		fail_msg("pcmds ui printed %s", line);
	snprintf(u->base, sizeof(u->base), "http://127.0.0.1:%d", u->port);
}

int
th_ui_stop(struct th_ui *u)
{
	int st;

	if (u->pid <= 0)
		return -1;
	kill(u->pid, SIGTERM);
	while (waitpid(u->pid, &st, 0) < 0 && errno == EINTR)
		;
	track(0, u->pid);
	u->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The server says it is serving once everything is set up. */
static int
server_ready(struct th_server *s)
{
	char *log = th_slurp(s->log, NULL), *p;
	int n = 0;

	/* one line per start: servers are restarted in some tests */
	for (p = log; p != NULL && (p = strstr(p, " serving https://")) != NULL;
	    p++)
		n++;
	free(log);
	if (n <= s->starts)
		return 0;
	s->starts = n;
	return 1;
}

void
th_pause_wait(const char *dir, const char *name)
{
	const char *f = th_path(dir, name);
	int i;

	for (i = 0; i < 6000; i++) {
		if (access(f, F_OK) == 0)
			return;
		usleep(10 * 1000);
	}
	fail_msg("the server never reached the pause %s", name);
}

void
th_pause_go(const char *dir, const char *name)
{
	assert_int_equal(unlink(th_path(dir, name)), 0);
}

void
th_server_start(struct th_server *s, const char *const *env)
{
	th_server_start_within(s, env, 10);
}

void
th_server_start_within(struct th_server *s, const char *const *env,
    int seconds)
{
	char exe[PATH_MAX];
	int i, fd;

	snprintf(exe, sizeof(exe), "%s/%s", th_build(), s->bin);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		for (; env != NULL && *env != NULL; env++)
			putenv((char *)*env);
		execl(exe, s->bin, "--config", s->conf, "serve", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < seconds * 40; i++) {
		int st;

		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			char *log = th_slurp(s->log, NULL);

			fail_msg("pcmdsd exited at start:\n%s", log ? log : "");
		}
		if (th_can_connect(s->port) && server_ready(s)) {
			track(s->pid, 0);
			return;
		}
		usleep(25 * 1000);
	}
	fail_msg("pcmdsd did not start listening on %d", s->port);
}

int
th_server_stop(struct th_server *s, int sig)
{
	int st = 0, i;

	if (s->pid <= 0)
		return -1;
	kill(s->pid, sig);
	for (i = 0; i < 300; i++) {
		if (waitpid(s->pid, &st, WNOHANG) == s->pid)
			break;
		usleep(50 * 1000);
	}
	if (i == 300) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &st, 0);
	}
	track(0, s->pid);
	s->pid = 0;
	/* under the sanitizers, a server that stopped cleanly reports here */
	if (sig != SIGKILL) {
		char *log = th_slurp(s->log, NULL);

		if (log != NULL && (strstr(log, "Sanitizer") != NULL ||
		    strstr(log, "runtime error:") != NULL))
			fail_msg("pcmdsd reported a memory or undefined-behaviour "
			    "error:\n%s", log);
		free(log);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void
th_server_admin(struct th_server *s, struct th_run *r, const char *args)
{
	char exe[PATH_MAX], cmd[8192];

	snprintf(exe, sizeof(exe), "%s/pcmdsd", th_build());
	snprintf(cmd, sizeof(cmd), "%s --config %s %s", exe, s->conf, args);
	th_execf(r, NULL, "%s", cmd);
}

const char *
th_server_user(struct th_server *s, const char *role, const char *place,
    long *id)
{
	static char code[32];
	struct th_run r;
	char args[256];
	cJSON *j;

	snprintf(args, sizeof(args), "user add --role %s %s%s --name Tester "
	    "--json", role, place ? "--place " : "", place ? place : "");
	th_server_admin(s, &r, args);
	if (r.status != 0)
		fail_msg("user add failed: %s", r.err);
	j = th_json(r.out);
	snprintf(code, sizeof(code), "%s",
	    cJSON_GetObjectItem(j, "code")->valuestring);
	if (id != NULL)
		*id = (long)cJSON_GetObjectItem(j, "user")->valuedouble;
	cJSON_Delete(j);
	th_run_free(&r);
	return code;
}

static size_t
http_body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct th_http *h = arg;

	h->body = realloc(h->body, h->len + size * n + 1);
	assert_non_null(h->body);
	memcpy(h->body + h->len, p, size * n);
	h->len += size * n;
	h->body[h->len] = '\0';
	return size * n;
}

static void
copy_header(const char *p, size_t len, const char *name, char *out,
    size_t olen)
{
	size_t n = strlen(name), k;

	if (len <= n || strncasecmp(p, name, n) != 0)
		return;
	for (p += n, len -= n; len > 0 && *p == ' '; p++, len--)
		;
	for (k = 0; k < len && k + 1 < olen && p[k] != '\r' && p[k] != '\n';
	    k++)
		out[k] = p[k];
	out[k] = '\0';
}

static size_t
http_head_cb(char *p, size_t size, size_t n, void *arg)
{
	struct th_http *h = arg;

	copy_header(p, size * n, "Retry-After:", h->retry_after,
	    sizeof(h->retry_after));
	copy_header(p, size * n, "Content-Type:", h->ctype, sizeof(h->ctype));
	copy_header(p, size * n, "Set-Cookie:", h->cookie, sizeof(h->cookie));
	copy_header(p, size * n, "Location:", h->location,
	    sizeof(h->location));
	return size * n;
}

const char *th_https_from;

void
th_https(struct th_server *s, const char *method, const char *path,
    const char *const *headers, const void *body, size_t len,
    struct th_http *h)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hl = NULL;
	char url[1024];
	CURLcode cc;

	memset(h, 0, sizeof(*h));
	h->body = calloc(1, 1);
	snprintf(url, sizeof(url), "%s%s", s->url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, s->ca);
	if (th_https_from != NULL) {
		char from[64];

		snprintf(from, sizeof(from), "host!%s", th_https_from);
		curl_easy_setopt(c, CURLOPT_INTERFACE, from);
	}
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_body_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_head_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	for (; headers != NULL && *headers != NULL; headers++)
		hl = curl_slist_append(hl, *headers);
	hl = curl_slist_append(hl, "Expect:");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	}
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
	else
		h->status = -(long)cc;
	curl_slist_free_all(hl);
	curl_easy_cleanup(c);
}

void
th_http_free(struct th_http *h)
{
	free(h->body);
	h->body = NULL;
}

const char *
th_enrol(struct th_server *s, const char *code, const char *key_id)
{
	static char token[64];
	const char *hdr[] = {"Content-Type: application/json", NULL};
	struct th_http h;
	char body[256];
	cJSON *j;

	/* without a key id first: only a link worker's device holds a key,
	   and a refusal leaves the code unused */
	snprintf(body, sizeof(body), "{\"code\":\"%s\",\"device\":"
	    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\"%s%s%s}", code,
	    key_id ? ",\"key_id\":\"" : "", key_id ? key_id : "",
	    key_id ? "\"" : "");
	th_https(s, "POST", "/v1/enrol", hdr, body, strlen(body), &h);
	if (h.status == 400 && key_id == NULL && strstr(h.body, "E_KEY")) {
		th_http_free(&h);
		snprintf(body, sizeof(body), "{\"code\":\"%s\",\"device\":"
		    "\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\",\"key_id\":"
		    "\"0123456789abcdef\"}", code);
		th_https(s, "POST", "/v1/enrol", hdr, body, strlen(body), &h);
	}
	if (h.status != 200)
		fail_msg("enrol: %ld %s", h.status, h.body);
	j = th_json(h.body);
	snprintf(token, sizeof(token), "%s",
	    cJSON_GetObjectItem(j, "token")->valuestring);
	cJSON_Delete(j);
	th_http_free(&h);
	return token;
}

void
th_post_records(struct th_server *s, const char *token, const char *json,
    struct th_http *h)
{
	char auth[128];
	const char *hdr[] = {"Content-Type: application/json", auth, NULL};

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	th_https(s, "POST", "/v1/records", hdr, json, strlen(json), h);
}

void
th_sql(const char *db, const char *sql)
{
	const char *uri = th_db_uri(db);
	sqlite3 *d;
	char *msg = NULL;

	if (uri != NULL) {
		(void)pg_sql(uri, sql, NULL, 0);
		return;
	}
	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	sqlite3_busy_timeout(d, 5000);
	if (sqlite3_exec(d, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("sql %s: %s", sql, msg);
	sqlite3_close(d);
}

const char *
th_sql_text(const char *db, const char *sql)
{
	static char out[4096];
	const char *uri = th_db_uri(db);
	sqlite3 *d;
	sqlite3_stmt *st;

	out[0] = '\0';
	if (uri != NULL) {
		PGconn *c = pg_connect(uri);
		PGresult *res = PQexec(c, sql);

		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			fail_msg("sql %s: %s", sql, PQerrorMessage(c));
		if (PQntuples(res) > 0)
			snprintf(out, sizeof(out), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		PQfinish(c);
		return out;
	}
	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	sqlite3_busy_timeout(d, 5000);
	if (sqlite3_prepare_v2(d, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("sql %s: %s", sql, sqlite3_errmsg(d));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, sizeof(out), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(d);
	return out;
}

void
th_sql_untrigger(const char *db, const char *table)
{
	char sql[256], names[1024], *tok, *save = NULL;

	if (th_db_uri(db) != NULL) {
		snprintf(sql, sizeof(sql), "ALTER TABLE %s DISABLE TRIGGER USER",
		    table);
		th_sql(db, sql);
		return;
	}
	snprintf(sql, sizeof(sql), "SELECT group_concat(name, ' ') FROM "
	    "sqlite_master WHERE type = 'trigger' AND tbl_name = '%s'", table);
	snprintf(names, sizeof(names), "%s", th_sql_text(db, sql));
	for (tok = strtok_r(names, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		snprintf(sql, sizeof(sql), "DROP TRIGGER %s", tok);
		th_sql(db, sql);
	}
}

void
th_copy_deployment(const char *from, const char *to)
{
	char cmd[2 * PATH_MAX + 64], conf[PATH_MAX], db[PATH_MAX], *text, *p;
	const char *uri, *copy;
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "cp -r '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
	snprintf(db, sizeof(db), "%s/pcmds.db", to);
	if ((uri = th_db_uri(db)) == NULL)
		return;
	/* its database copied too (nobody may be connected to it) */
	copy = th_pg_db(th_pg_name(uri));
	snprintf(conf, sizeof(conf), "%s/pcmdsd.conf", to);
	assert_non_null(text = th_slurp(conf, NULL));
	assert_non_null(p = strstr(text, "database = postgresql://"));
	assert_non_null(fp = fopen(conf, "w"));
	fprintf(fp, "%.*sdatabase = %s%s", (int)(p - text), text, copy,
	    p + strcspn(p, "\n"));
	fclose(fp);
	free(text);
}

int
th_sql_ok(const char *db, const char *sql)
{
	const char *uri = th_db_uri(db);
	sqlite3 *d;
	int ok;

	if (uri != NULL)
		return pg_sql(uri, sql, NULL, 1);
	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	sqlite3_busy_timeout(d, 5000);
	ok = sqlite3_exec(d, sql, NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(d);
	return ok;
}

long
th_sql_long(const char *db, const char *sql)
{
	const char *uri = th_db_uri(db);
	sqlite3 *d;
	sqlite3_stmt *st;
	long v = -1;

	if (uri != NULL) {
		(void)pg_sql(uri, sql, &v, 0);
		return v;
	}
	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	sqlite3_busy_timeout(d, 5000);
	if (sqlite3_prepare_v2(d, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("sql %s: %s", sql, sqlite3_errmsg(d));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(d);
	return v;
}

char *
th_sql_dup(const char *db, const char *sql)
{
	sqlite3 *d;
	sqlite3_stmt *st;
	char *v = NULL;

	assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
	sqlite3_busy_timeout(d, 5000);
	if (sqlite3_prepare_v2(d, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("sql %s: %s", sql, sqlite3_errmsg(d));
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(d);
	return v ? v : strdup("");
}

struct th_tls {
	int	 fd;
	SSL_CTX	*ctx;
	SSL	*ssl;
};

struct th_tls *
th_tls_open(struct th_server *s)
{
	struct th_tls *t = th_tls_open_from(s, NULL, NULL, 0);

	if (t == NULL)
		fail_msg("TLS handshake failed");
	return t;
}

struct th_tls *
th_tls_open_from(struct th_server *s, const char *src, const void *pre,
    size_t len)
{
	struct th_tls *t = calloc(1, sizeof(*t));
	struct timeval tv = {30, 0};	/* a server that never answers fails */
	struct sockaddr_in sa;
	int one = 1;

	signal(SIGPIPE, SIG_IGN);	/* a write after the server closed */
	t->fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(t->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (src != NULL) {
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, src, &sa.sin_addr), 1);
		assert_int_equal(bind(t->fd, (struct sockaddr *)&sa,
		    sizeof(sa)), 0);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)s->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (len > 0)
		assert_int_equal(write(t->fd, pre, len), (ssize_t)len);
	t->ctx = SSL_CTX_new(TLS_client_method());
	assert_int_equal(SSL_CTX_load_verify_locations(t->ctx, s->ca, NULL), 1);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	t->ssl = SSL_new(t->ctx);
	SSL_set_tlsext_host_name(t->ssl, "localhost");
	SSL_set1_host(t->ssl, "localhost");
	SSL_set_fd(t->ssl, t->fd);
	if (SSL_connect(t->ssl) != 1) {
		th_tls_close(t);
		return NULL;
	}
	return t;
}

int
th_tls_write(struct th_tls *t, const void *p, size_t n)
{
	return SSL_write(t->ssl, p, (int)n) == (int)n ? 0 : -1;
}

const char *
th_tls_read(struct th_tls *t, int ms)
{
	static char buf[65536];
	struct pollfd pf = {t->fd, POLLIN, 0};
	size_t len = 0;
	int r;

	buf[0] = '\0';
	while (len + 1 < sizeof(buf)) {
		if (SSL_pending(t->ssl) == 0 && poll(&pf, 1, ms) <= 0)
			break;
		r = SSL_read(t->ssl, buf + len, (int)(sizeof(buf) - 1 - len));
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		ms = 200;	/* the rest follows quickly */
	}
	return buf;
}

int
th_tls_closed(struct th_tls *t, int ms)
{
	struct pollfd pf = {t->fd, POLLIN, 0};
	char b[4096];
	int r;

	while (poll(&pf, 1, ms) > 0) {
		r = SSL_read(t->ssl, b, sizeof(b));
		if (r <= 0)
			return 1;
	}
	return 0;
}

void
th_tls_close(struct th_tls *t)
{
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	close(t->fd);
	free(t);
	ERR_clear_error();
}

/* The server's open connections, as its /metrics counts them. */
static long
open_connections(struct th_server *s)
{
	const char *name = "\npcmds_open_connections ";
	struct th_http h;
	const char *at;
	long n;

	th_https(s, "GET", "/metrics", NULL, NULL, 0, &h);
	assert_int_equal(h.status, 200);
	assert_non_null(at = strstr(h.body, name));
	n = strtol(at + strlen(name), NULL, 10);
	th_http_free(&h);
	return n;
}

void
th_connections_gone(struct th_server *s)
{
	long n;
	int i;

	for (i = 0; i < 6000 && (n = open_connections(s)) > 1; i++)
		usleep(10 * 1000);
	if (n > 1)
		fail_msg("the server still holds %ld connections", n - 1);
}

void
th_tls_reset(struct th_server *s, struct th_tls *t)
{
	struct linger l = {1, 0};

	assert_int_equal(setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &l,
	    sizeof(l)), 0);
	th_tls_close(t);
	th_connections_gone(s);
}

void
th_quiet(int err)
{
	int fd = open("/dev/null", O_WRONLY);

	if (fd < 0)
		return;
	dup2(fd, 1);
	if (err)
		dup2(fd, 2);
	close(fd);
}

void
th_assert_double(double a, double b, double eps, const char *file, int line)
{
	if (fabs(a - b) <= eps)
		return;
	print_error("%.17g != %.17g (within %g)\n", a, b, eps);
	_fail(file, line);
}

const cJSON *
th_at(const cJSON *o, const char *path)
{
	char key[64];
	const char *dot;

	while (o != NULL && (dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = cJSON_GetObjectItem(o, key);
		path = dot + 1;
	}
	return o ? cJSON_GetObjectItem(o, path) : NULL;
}

int
th_axe(char *env, size_t len)
{
	const char *pre = "PCMDS_AXE=";

	snprintf(env, len, "%s%s/a11y/node_modules/axe-core/axe.min.js", pre,
	    th_build());
	if (access(env + strlen(pre), R_OK) == 0)
		return 1;
	print_message("axe-core is not installed (make installs it with npm): "
	    "the accessibility checks are SKIPPED\n");
	env[strlen(pre)] = '\0';
	return 0;
}

int
th_axe_pages(const char *out)
{
	const char *p = strstr(out, "ok pages checked ");

	return p == NULL ? 0 : atoi(p + strlen("ok pages checked "));
}

void
th_axe_verdict(int have_axe, int pages)
{
	if (!have_axe) {
		print_message("axe-core is not installed: no page's "
		    "accessibility was checked\n");
		skip();
	}
	if (pages <= 0)
		fail_msg("axe-core is installed but no page was checked");
}

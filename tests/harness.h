/*
 * harness.h - helpers shared by the pcmds tests.
 *
 * Unit tests use cmocka directly; the helpers here make temporary
 * directories, run the real binaries as child processes (with or without
 * a pseudo-terminal), start the real server on a loopback port and speak
 * HTTPS to it with libcurl.
 */
#ifndef PCMDS_TEST_HARNESS_H
#define PCMDS_TEST_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/types.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

/* A fresh directory under $TMPDIR, removed when the test program exits. */
const char	*th_tmpdir(void);
/* Joins a directory and a name into a static rotating buffer. */
const char	*th_path(const char *dir, const char *name);
/* Whole file as a NUL-terminated string (caller frees); NULL if absent. */
char		*th_slurp(const char *path, size_t *len);
/* A field of /proc/PID/status in KiB ("VmRSS:", "VmHWM:"), -1 if none. */
long		 th_proc_kb(pid_t pid, const char *field);
/* Seconds on the monotonic clock, for timing what a test does. */
double		 th_now(void);
void		 th_write(const char *path, const char *text);
/* Parses JSON text, failing the test when it is not JSON. */
cJSON		*th_json(const char *text);
/* The member at a dotted path ("reach.by_source.self"), NULL if none. */
const cJSON	*th_at(const cJSON *, const char *path);
/* Directory of the built binaries (from $PCMDS_BUILD, default build). */
const char	*th_build(void);
/* 1 when the program is on PATH. */
int		 th_have(const char *prog);

struct th_run {
	int	 status;	/* exit code, or 128 + signal */
	char	*out;		/* stdout (owned) */
	char	*err;		/* stderr (owned) */
};

/*
 * Runs argv (argv[0] resolved in the build directory when it is pcmds or
 * pcmdsd) with stdin from in (may be NULL), environment additions env
 * ("K=V", NULL-terminated, may be NULL), and collects its output.
 */
void	 th_exec(struct th_run *, const char *const *argv, const char *in,
	    const char *const *env);
void	 th_run_free(struct th_run *);
/* printf-style helper: splits cmdline on spaces (no quoting). */
void	 th_execf(struct th_run *, const char *in, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/* Runs a NULL-terminated argument list (see th_exec). */
void	 th_cmd(struct th_run *, const char *in, const char *arg0, ...)
	    __attribute__((sentinel));

/* A program on a pseudo-terminal, driven like a person at a keyboard. */
struct th_pty {
	pid_t	 pid;
	int	 fd;
	char	*seen;		/* everything the program wrote */
	size_t	 len, cap;
	int	 status;
};

void	 th_pty_start(struct th_pty *, const char *const *argv);
/* Waits until text appears in the output after the last match (10 s). */
void	 th_pty_expect(struct th_pty *, const char *text);
/* The same, waiting up to seconds (a long-running program). */
void	 th_pty_expect_within(struct th_pty *, const char *text, int seconds);
void	 th_pty_send(struct th_pty *, const char *text);
/* Closes input, collects the rest of the output and the exit status. */
int	 th_pty_finish(struct th_pty *);
void	 th_pty_free(struct th_pty *);

/*
 * The clients' store passphrase in tests. TH_SETUP goes between
 * "--home", DIR and setup's options: it gives the passphrase on stdin
 * (th_cmd's input must be TH_PASS "\n") and asks for the test-only
 * scrypt cost, so that tests under valgrind and the sanitizers stay quick.
 */
#define TH_PASS		"correct horse battery staple"
#define TH_SETUP	"--passphrase-fd", "0", "setup", "--insecure-test-kdf"
/* pcmds unlock for home: its later commands need no passphrase. */
void	 th_unlock(const char *home);
/*
 * The store of a client home opened in the test with TH_PASS (for
 * checks and set-ups no command makes); its keys into k when not NULL.
 * The caller closes it (cstore_close).
 */
struct cstore;
struct vault_keys;
struct cstore *th_store_open(const char *home, struct vault_keys *k);
/*
 * The runtime directory the test's clients use ($XDG_RUNTIME_DIR, made
 * by the first th_tmpdir); their key agents are ended at exit.
 */
const char *th_runtime_dir(void);

/* In a child: stdout (and with err, stderr) to /dev/null. */
void	 th_quiet(int err);
/* Sends sig to pid and reaps it. */
void	 th_kill(pid_t pid, int sig);
/* Counts occurrences of needle (len bytes) in the file; -1 if absent. */
long	 th_file_count(const char *path, const char *needle, size_t len);

/* A loopback port nobody listens on now. */
int	 th_free_port(void);
/* 1 when something accepts connections on the loopback port. */
int	 th_can_connect(int port);

/* A real pcmdsd on a loopback port, in its own directory. */
struct th_server {
	char	 dir[512];
	char	 conf[600];
	char	 ca[600];
	char	 log[600];
	char	 url[64];
	int	 port;
	pid_t	 pid;
	const char *bin;	/* "pcmdsd" or "pcmdsd-fp" */
	int	 starts;	/* times it has been started */
};

/* pcmdsd init in a new directory on a free port; extra config appended. */
void	 th_server_init(struct th_server *, const char *extra_conf);
/* The same on database (a postgresql:// URI; NULL: a SQLite file). */
void	 th_server_init_on(struct th_server *, const char *database,
	    const char *extra_conf);
/*
 * Another server of a's deployment (the same secret, certificate and
 * database, so a PostgreSQL one is shared), in its own directory on its
 * own port; extra configuration appended.
 */
void	 th_server_twin(struct th_server *b, const struct th_server *a,
	    const char *extra_conf);
/* Starts it (env additions may be NULL) and waits until it answers. */
void	 th_server_start(struct th_server *, const char *const *env);
/* The same for a server that takes long to start (a large store). */
void	 th_server_start_within(struct th_server *, const char *const *env,
	    int seconds);
/* Sends sig and waits for the process; returns its exit status. */
int	 th_server_stop(struct th_server *, int sig);
/*
 * Pauses of the test build (PCMDS_PAUSE, failpoint.h), their files in
 * dir (PCMDS_PAUSE_DIR): waits until the server holds at pause name
 * (bounded: a minute), and lets it go on.
 */
void	 th_pause_wait(const char *dir, const char *name);
void	 th_pause_go(const char *dir, const char *name);
/* pcmdsd user add: the one-time code (static); *id the user id. */
const char *th_server_user(struct th_server *, const char *role,
	    const char *place, long *id);
/* Runs an admin command line against the server's config. */
void	 th_server_admin(struct th_server *, struct th_run *, const char *args);

struct th_http {
	long	 status;
	char	*body;
	size_t	 len;
	char	 retry_after[16];
	char	 ctype[128];
	char	 cookie[256];
	char	 location[256];
};

/*
 * One HTTPS request with libcurl, verifying against the server's CA;
 * from the loopback address th_https_from when it is set (NULL: any).
 */
extern const char *th_https_from;
void	 th_https(struct th_server *, const char *method, const char *path,
	    const char *const *headers, const void *body, size_t len,
	    struct th_http *);
void	 th_http_free(struct th_http *);
/*
 * Enrols with a code; returns the token (static). With key_id NULL, as a
 * device without the deployment key, then (a link worker) with a made-up
 * key id.
 */
const char *th_enrol(struct th_server *, const char *code, const char *key_id);
/* A record batch POST with a bearer token. */
void	 th_post_records(struct th_server *, const char *token,
	    const char *json, struct th_http *);
/*
 * Runs SQL on a server's database (for test set-up only): db is the path
 * its SQLite file has, or would have; when the deployment's pcmdsd.conf
 * names a PostgreSQL database, the SQL runs there (so it must be SQL
 * both understand, or the test asks th_store_pg()).
 */
void	 th_sql(const char *db, const char *sql);
long	 th_sql_long(const char *db, const char *sql);
/* The same, expecting it may be refused: 1 done, 0 refused. */
int	 th_sql_ok(const char *db, const char *sql);
/* The first column of the first row, as text (static; "" none). */
const char *th_sql_text(const char *db, const char *sql);
/* Takes off the triggers guarding table (as a tamperer would). */
void	 th_sql_untrigger(const char *db, const char *table);
/* cp -r of a deployment directory, with a copy of its PostgreSQL database. */
void	 th_copy_deployment(const char *from, const char *to);

/*
 * The store the server suites run against: PostgreSQL when
 * PCMDS_TEST_STORE=postgresql (run.sh runs them both ways), on a cluster
 * run.sh started (PCMDS_TEST_PG) or else one this program starts in a
 * directory of its own (tests/pg.sh), stopped at exit.
 */
int	 th_store_pg(void);
/* A new database (a copy of database like, if not NULL): its URI. */
const char *th_pg_db(const char *like);
/* The database name in a URI th_pg_db gave. */
const char *th_pg_name(const char *uri);
/* The PostgreSQL URI a deployment's database file db stands for, or NULL. */
const char *th_db_uri(const char *db);
/* A client store's first column of the first row as text (caller frees). */
char	*th_sql_dup(const char *db, const char *sql);

/* A real pcmds ui (the app) on a loopback port, for a client home. */
struct th_ui {
	pid_t	 pid;
	int	 port;
	char	 launch[256];	/* the single-use launch URL it printed */
	char	 base[64];	/* http://127.0.0.1:PORT */
};

/* Starts pcmds --home home ui --no-browser and reads its launch URL. */
void	 th_ui_start(struct th_ui *, const char *home);
/* The same with env ("NAME=value", NULL-terminated) added to its own. */
void	 th_ui_start_env(struct th_ui *, const char *home,
	    const char *const *env);
/* Stops it (SIGTERM) and returns its exit status. */
int	 th_ui_stop(struct th_ui *);

/* A raw TLS connection, for requests libcurl will not make. */
struct th_tls;
struct th_tls *th_tls_open(struct th_server *);
/*
 * The same from source address src (a loopback address such as
 * "127.0.0.2"; NULL for any), first writing len bytes of pre in clear (a
 * PROXY protocol header); NULL when the handshake fails.
 */
struct th_tls *th_tls_open_from(struct th_server *, const char *src,
	    const void *pre, size_t len);
/* Writes bytes; returns 0, or -1 once the server has closed. */
int	 th_tls_write(struct th_tls *, const void *, size_t);
/* Reads what arrives within ms milliseconds (static buffer, NUL-ended). */
const char *th_tls_read(struct th_tls *, int ms);
/* 1 when the server closed the connection (read returns end). */
int	 th_tls_closed(struct th_tls *, int ms);
void	 th_tls_close(struct th_tls *);
/*
 * Waits, a minute at most, until the server holds no connection but the
 * asking one (pcmds_open_connections in /metrics is 1); fails if not.
 */
void	 th_connections_gone(struct th_server *);
/*
 * Closes as a client that is gone does (a reset, whatever it had not
 * read), then waits until the server has let the connection go.
 */
void	 th_tls_reset(struct th_server *, struct th_tls *);

/*
 * |a - b| <= eps in double precision (cmocka's assert_float_equal casts
 * to float: 1e-50 becomes 0 and 9 significant digits are lost).
 */
#define assert_double_equal(a, b, eps) \
	th_assert_double((a), (b), (eps), __FILE__, __LINE__)
void	 th_assert_double(double a, double b, double eps, const char *file,
	    int line);

/*
 * The browser tests' accessibility checks. th_axe puts "PCMDS_AXE=" and
 * axe-core's path in the build into env (len bytes), or "PCMDS_AXE=" alone,
 * saying the checks are skipped, when npm could not install it; returns
 * whether it is there. th_axe_pages reads how many pages a journey's
 * output says it checked ("ok pages checked N"). th_axe_verdict, last in
 * the test: with axe, pages must be more than 0; without, the test is
 * SKIPPED, never passed.
 */
int		 th_axe(char *env, size_t len);
int		 th_axe_pages(const char *out);
void		 th_axe_verdict(int have_axe, int pages);

#endif

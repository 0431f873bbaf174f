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
void		 th_write(const char *path, const char *text);
/* Parses JSON text, failing the test when it is not JSON. */
cJSON		*th_json(const char *text);
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
void	 th_pty_send(struct th_pty *, const char *text);
/* Closes input, collects the rest of the output and the exit status. */
int	 th_pty_finish(struct th_pty *);
void	 th_pty_free(struct th_pty *);

/* Sends sig to pid and reaps it. */
void	 th_kill(pid_t pid, int sig);
/* Counts occurrences of needle (len bytes) in the file; -1 if absent. */
long	 th_file_count(const char *path, const char *needle, size_t len);

#endif

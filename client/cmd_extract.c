/*
 * cmd_extract.c - pcmds extract: an evaluator's record-level export.
 *
 * Streams GET /v1/export to a file or stdout, as NDJSON or CSV, in the
 * events or the pairs shape (docs/export.md), without holding it in
 * memory. A file is written under a temporary name beside it and renamed
 * only once the server has sent the whole stream (the last chunk of its
 * chunked answer): a cut transfer never leaves a short file that looks
 * whole; the command says how far it got and exits non-zero. On a
 * terminal a progress line shows rows, megabytes and the rate.
 *
 * The same verification as every other request (net.h): TLS 1.2 or later,
 * the server's certificate checked against the pinned CA.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "client.h"
#include "date.h"
#include "net.h"
#include "sec.h"
#include "version.h"

#define ERROR_BODY_MAX	(64 * 1024)
#define STALL_SECONDS	120	/* nothing moving this long: cut */

struct stream {
	FILE		*out;
	CURL		*curl;
	long		 status;	/* 0 until the headers are in */
	struct buf	 error;		/* the body of a refusal */
	double		 bytes;
	long		 rows;		/* lines, the CSV header included */
	int		 header;	/* 1 for CSV */
	int		 wrote_failed;
	int		 progress;	/* stderr is a terminal */
	double		 started, shown;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long
rows(const struct stream *s)
{
	return s->rows > s->header ? s->rows - s->header : 0;
}

static void
show(struct stream *s, int last)
{
	double t = now(), secs = t - s->started;

	if (!s->progress || (!last && t - s->shown < 0.25))
		return;
	s->shown = t;
	fprintf(stderr, "\r%ld rows, %.1f MB, %.1f MB/s   %s", rows(s),
	    s->bytes / 1e6, secs > 0 ? s->bytes / 1e6 / secs : 0.0,
	    last ? "\n" : "");
	fflush(stderr);
}

static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct stream *s = arg;
	size_t len = size * nmemb, i;

	if (s->status == 0)
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
	if (s->status != 200)
		return buf_add(&s->error, p, len) == PC_OK ? len : 0;
	if (fwrite(p, 1, len, s->out) != len) {
		s->wrote_failed = errno ? errno : EIO;
		return 0;	/* aborts the transfer */
	}
	for (i = 0; i < len; i++)
		s->rows += p[i] == '\n';
	s->bytes += (double)len;
	show(s, 0);
	return len;
}

/* The server's sentence for a refusal. */
static int
refused(const struct stream *s)
{
	cJSON *e = cJSON_Parse(buf_str(&s->error));
	const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(e, "error"), "message"));

	fprintf(stderr, "pcmds: the server refused the extract (HTTP %ld): "
	    "%s\n", s->status, msg ? msg : "no reason given");
	cJSON_Delete(e);
	return s->status == 401 || s->status == 403 ? EXIT_AUTH :
	    s->status >= 500 ? EXIT_UNREACHABLE : EXIT_INVALID;
}

/* Runs the transfer into s->out; the exit code. */
static int
transfer(struct ctx *c, const char *path, struct stream *s)
{
	struct err_list errs;
	struct net n;
	pc_rc rc;
	int ex = EXIT_OK;

	err_init(&errs);
	if (net_init(&n, c->cfg.server, c->cfg.pinned ? c->home.cacert : NULL,
	    &errs) != PC_OK)
		return ctx_fail(&errs, PC_EUSAGE);
	s->curl = n.curl;
	s->started = s->shown = now();
	rc = net_stream(&n, path, c->cfg.token, on_data, s, STALL_SECONDS,
	    &s->status, &errs);
	show(s, 1);
	if (s->status != 0 && s->status != 200)
		ex = refused(s);
	else if (rc == PC_EIO && s->wrote_failed)
		ex = EXIT_STORE;	/* said by the caller */
	else if (rc != PC_OK && rows(s) == 0 && s->bytes == 0) {
		ctx_report(&errs, NULL);	/* nothing came: says why */
		ex = exit_for(rc);
	} else if (rc != PC_OK) {
		fprintf(stderr, "pcmds: the extract was cut off after %ld rows "
		    "(%.1f MB): %s; run the same command again\n", rows(s),
		    s->bytes / 1e6, errs.n ? errs.v[0].msg : pc_strerror(rc));
		ex = EXIT_UNREACHABLE;
	}
	err_free(&errs);
	net_free(&n);
	return ex;
}

/* A new file beside path, for the stream until it is whole. */
static FILE *
open_temp(const char *path, char *tmp, size_t len)
{
	int fd;

	snprintf(tmp, len, "%s.partial-XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0)
		return NULL;
	return fdopen(fd, "w");
}

static int
finish_file(struct stream *s, const char *path, const char *tmp, int ex)
{
	int closed = fflush(s->out) == 0 && fsync(fileno(s->out)) == 0;

	closed = fclose(s->out) == 0 && closed;
	if (ex == EXIT_OK && !closed) {
		fprintf(stderr, "pcmds: cannot write %s: %s\n", tmp,
		    strerror(errno));
		ex = EXIT_STORE;
	}
	if (ex == EXIT_OK && rename(tmp, path) != 0) {
		fprintf(stderr, "pcmds: cannot rename %s to %s: %s\n", tmp, path,
		    strerror(errno));
		ex = EXIT_STORE;
	}
	if (ex != EXIT_OK) {
		unlink(tmp);
		if (s->wrote_failed)
			fprintf(stderr, "pcmds: cannot write %s: %s\n", tmp,
			    strerror(s->wrote_failed));
		fprintf(stderr, "pcmds: nothing was written to %s\n", path);
	} else
		fprintf(stderr, "pcmds: %ld rows (%.1f MB) written to %s\n",
		    rows(s), s->bytes / 1e6, path);
	return ex;
}

static const char *
format_of(const char *fmt, const char *path)
{
	size_t n = path ? strlen(path) : 0;

	if (fmt != NULL)
		return fmt;
	if (n > 4 && strcmp(path + n - 4, ".csv") == 0)
		return "csv";
	return "ndjson";
}

static int
check_args(struct opt_result *o, const char *fmt)
{
	const char *shape = opt_get(o, "shape"), *d[2];
	int32_t day;
	int i;

	if (strcmp(fmt, "csv") != 0 && strcmp(fmt, "ndjson") != 0) {
		fprintf(stderr, "pcmds: --format must be ndjson or csv; got "
		    "\"%s\"\n", fmt);
		return -1;
	}
	if (shape != NULL && strcmp(shape, "events") != 0 &&
	    strcmp(shape, "pairs") != 0) {
		fprintf(stderr, "pcmds: --shape must be events (every record) "
		    "or pairs (one row per ONS4 pair); got \"%s\"\n", shape);
		return -1;
	}
	d[0] = opt_get(o, "from");
	d[1] = opt_get(o, "to");
	for (i = 0; i < 2; i++)
		if (d[i] != NULL && date_parse(d[i], &day) != 0) {
			fprintf(stderr, "pcmds: --%s must be a date written "
			    "YYYY-MM-DD; got \"%s\"\n", i ? "to" : "from", d[i]);
			return -1;
		}
	return 0;
}

static int
run_extract(struct ctx *c, struct opt_result *o)
{
	const char *out = opt_get(o, "out");
	const char *fmt = format_of(opt_get(o, "format"), out);
	char tmp[4096];
	struct buf path;
	struct stream s;
	int ex;

	if (check_args(o, fmt) != 0)
		return EXIT_USAGE;
	if (c->cfg.token[0] == '\0') {
		fprintf(stderr, "pcmds: this device is not enrolled: run pcmds "
		    "setup --server URL --code CODE first\n");
		return EXIT_AUTH;
	}
	buf_init(&path, PATH_MAX_LEN);
	buf_adds(&path, "/v1/export");
	net_query_add(&path, "format", fmt);
	net_query_add(&path, "shape", opt_get(o, "shape"));
	net_query_add(&path, "from", opt_get(o, "from"));
	net_query_add(&path, "to", opt_get(o, "to"));
	net_query_add(&path, "place", opt_get(o, "place"));
	if (buf_failed(&path) != PC_OK) {
		fprintf(stderr, "pcmds: the options are too long to send\n");
		buf_free(&path);
		return EXIT_USAGE;
	}
	memset(&s, 0, sizeof(s));
	buf_init(&s.error, ERROR_BODY_MAX);
	s.progress = isatty(STDERR_FILENO) && !opt_has(o, "quiet");
	s.header = strcmp(fmt, "csv") == 0;
	s.out = stdout;
	if (out != NULL && (s.out = open_temp(out, tmp, sizeof(tmp))) == NULL) {
		fprintf(stderr, "pcmds: --out: cannot create a file beside %s: "
		    "%s\n", out, strerror(errno));
		buf_free(&s.error);
		buf_free(&path);
		return EXIT_STORE;
	}
	ex = transfer(c, buf_str(&path), &s);
	buf_free(&path);
	if (out != NULL)
		ex = finish_file(&s, out, tmp, ex);
	else if (fflush(stdout) != 0 && ex == EXIT_OK) {
		fprintf(stderr, "pcmds: cannot write the extract: %s\n",
		    strerror(errno));
		ex = EXIT_STORE;
	}
	buf_free(&s.error);
	return ex;
}

static const struct opt_spec extract_opts[] = {
	{"shape", OPT_VALUE, "SHAPE", "events (default: every record, as "
	    "corrected) or pairs (one row per ONS4 pair)"},
	{"format", OPT_VALUE, "FMT", "ndjson or csv (default: csv for an "
	    "--out ending .csv, else ndjson)"},
	{"out", OPT_VALUE, "FILE", "write to FILE, replaced only when the "
	    "extract is complete (default: stdout)"},
	{"from", OPT_VALUE, "DATE", "referrals from this date"},
	{"to", OPT_VALUE, "DATE", "referrals up to this date"},
	{"place", OPT_VALUE, "CODE", "one place (default: every place)"},
	{"quiet", OPT_FLAG, NULL, "no progress line"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_extract = {
	"extract", "", 0, 0, "evaluators: the server's pseudonymised "
	"record-level export", extract_opts, run_extract,
	"Only referrals whose person consented to evaluation; every identifier "
	"is re-keyed\nfor you (docs/export.md describes every column). "
	"Audited.\n\nExamples:\n"
	"  pcmds extract --shape pairs --out pairs.csv --from 2025-04-01 "
	"--to 2026-03-31\n"
	"  pcmds extract --out events.ndjson --place NH\n",
};

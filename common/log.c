/*
 * log.c - one-line messages to stderr.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "date.h"
#include "log.h"

static const char *prog = "pcmds";
static int stamps;
static int verbose;

void
log_init(const char *progname, int timestamps)
{
	prog = progname;
	stamps = timestamps;
}

void
log_setverbose(int v)
{
	verbose = v;
}

int
log_getverbose(void)
{
	return verbose;
}

static void
vlog(const char *fmt, va_list ap, const char *suffix)
{
	char line[2048], ts[TIME_LEN];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (stamps) {
		time_format((int64_t)time(NULL), ts);
		fprintf(stderr, "%s %s: %s%s%s\n", ts, prog, line,
		    suffix ? ": " : "", suffix ? suffix : "");
	} else
		fprintf(stderr, "%s: %s%s%s\n", prog, line, suffix ? ": " : "",
		    suffix ? suffix : "");
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(fmt, ap, strerror(saved));
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vlog(fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

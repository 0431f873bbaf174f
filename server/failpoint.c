/*
 * failpoint.c - test-only crash points (see failpoint.h).
 */
#ifdef PCMDS_FAILPOINTS
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "failpoint.h"
#include "log.h"

int
failpoint_hit(const char *name)
{
	static int count;
	const char *fp = getenv("PCMDS_FAILPOINT"), *colon;
	size_t len;
	int n = 1;

	if (fp == NULL)
		return 0;
	colon = strchr(fp, ':');
	len = colon ? (size_t)(colon - fp) : strlen(fp);
	if (strlen(name) != len || strncmp(fp, name, len) != 0)
		return 0;
	if (colon != NULL)
		n = atoi(colon + 1);
	return ++count == n;
}

void
failpoint_kill(const char *name)
{
	if (!failpoint_hit(name))
		return;
	log_warnx("failpoint %s: killing myself", name);
	kill(getpid(), SIGKILL);
}
#else
/* ISO C wants something in every translation unit. */
typedef int failpoint_unused;
#endif

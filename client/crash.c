/*
 * crash.c - crash points of the test build (crash.h).
 */
#include "crash.h"

#ifdef PCMDS_FAILPOINTS
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
crash_point(const char *name)
{
	const char *fp = getenv("PCMDS_FAILPOINT");

	if (fp != NULL && strcmp(fp, name) == 0)
		kill(getpid(), SIGKILL);
}
#else
/* ISO C wants something in every file */
typedef int crash_none;
#endif

/*
 * failpoint.c - test-only crash points (see failpoint.h).
 */
#ifdef PCMDS_FAILPOINTS
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
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

#define PAUSE_MAX	8	/* names PCMDS_PAUSE may arm */

/* The place of name in PCMDS_PAUSE's list, or -1. */
static int
pause_index(const char *list, const char *name)
{
	size_t len = strlen(name), n;
	int i;

	for (i = 0; i < PAUSE_MAX && *list != '\0'; i++) {
		n = strcspn(list, ",");
		if (n == len && strncmp(list, name, len) == 0)
			return i;
		list += n + (list[n] == ',');
	}
	return -1;
}

void
failpoint_pause(const char *name)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static int done[PAUSE_MAX];
	const char *list = getenv("PCMDS_PAUSE"), *dir;
	char path[1024];
	int i, fd, first;

	if (list == NULL || (i = pause_index(list, name)) < 0 ||
	    (dir = getenv("PCMDS_PAUSE_DIR")) == NULL)
		return;
	pthread_mutex_lock(&mu);
	first = !done[i];
	done[i] = 1;
	pthread_mutex_unlock(&mu);
	if (!first)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
		log_warnx("pause %s: cannot make %s", name, path);
		return;
	}
	close(fd);
	log_info("pause %s: waiting until %s is removed", name, path);
	while (access(path, F_OK) == 0)
		usleep(10 * 1000);
	log_info("pause %s: going on", name);
}
#else
/* ISO C wants something in every translation unit. */
typedef int failpoint_unused;
#endif

/*
 * failpoint.h - crash points for the fault tests, in test builds only.
 *
 * The pcmdsd-fp binary (never installed) is built with PCMDS_FAILPOINTS:
 * with PCMDS_FAILPOINT=NAME[:N] in its environment, the Nth time (default
 * the first) execution reaches FAILPOINT(NAME) the process kills itself
 * with SIGKILL, as a crash or power cut would. In the real pcmdsd the
 * macro is empty: there is no such code to switch on.
 *
 * Pauses force an interleaving of threads instead: with
 * PCMDS_PAUSE=NAME[,NAME...] and PCMDS_PAUSE_DIR=DIR, the first time a
 * thread reaches FAILPOINT_PAUSE(NAME) it makes the file DIR/NAME and
 * waits until the test removes it. Several may be armed at once.
 */
#ifndef PCMDS_FAILPOINT_H
#define PCMDS_FAILPOINT_H

#ifdef PCMDS_FAILPOINTS
/* 1 when the named failpoint fires now (for effects other than a kill). */
int	 failpoint_hit(const char *name);
void	 failpoint_kill(const char *name);
void	 failpoint_pause(const char *name);
#define FAILPOINT(name)		failpoint_kill(name)
#define FAILPOINT_HIT(name)	failpoint_hit(name)
#define FAILPOINT_PAUSE(name)	failpoint_pause(name)
#else
#define FAILPOINT(name)		((void)0)
#define FAILPOINT_HIT(name)	0
#define FAILPOINT_PAUSE(name)	((void)0)
#endif

#endif

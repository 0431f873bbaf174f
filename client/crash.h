/*
 * crash.h - crash points of the test build (pcmds-fp, never installed):
 * with PCMDS_FAILPOINT=NAME in its environment it is killed at the point
 * of that name, as a crash or a power cut would stop it. Other builds
 * compile them to nothing.
 */
#ifndef PCMDS_CRASH_H
#define PCMDS_CRASH_H

#ifdef PCMDS_FAILPOINTS
void	 crash_point(const char *name);
#else
#define crash_point(name)	((void)0)
#endif

#endif

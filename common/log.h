/*
 * log.h - messages to stderr, one line each, after OpenBSD's log.c.
 *
 * log_warn() appends strerror(errno); log_warnx() does not. fatal() and
 * fatalx() end the program and are for main() and its direct helpers
 * only, never library code.
 */
#ifndef PCMDS_LOG_H
#define PCMDS_LOG_H

void	 log_init(const char *progname, int timestamps);
void	 log_setverbose(int);
int	 log_getverbose(void);
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif

/*
 * utf8.h - UTF-8 checks for text that crosses a trust boundary.
 */
#ifndef PCMDS_UTF8_H
#define PCMDS_UTF8_H

#include <stddef.h>

/*
 * Returns the number of code points in s[0..len) when it is well-formed
 * UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF, no NUL),
 * or -1 when it is not.
 */
long	 utf8_count(const char *s, size_t len);

#endif

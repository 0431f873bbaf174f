/*
 * html.h - building HTML safely: every piece of text is escaped unless
 * it is written as markup on purpose.
 *
 * html_f() takes a format of trusted markup whose %s arguments are text,
 * escaped for element content and quoted attribute values alike (%.Ns:
 * its first N bytes, N < 32); %m is
 * markup (already built), %d an int, %ld a long, %% a percent sign. No
 * other conversion exists, so text cannot reach the page unescaped by
 * accident. Errors stay set in the buffer until html_done().
 */
#ifndef PCMDS_HTML_H
#define PCMDS_HTML_H

#include <stddef.h>

#include "buf.h"

struct html {
	struct buf	 b;
	pc_rc		 rc;	/* the first failure, PC_OK */
};

void	 html_init(struct html *);
void	 html_free(struct html *);
/* Markup as it is. */
void	 html_m(struct html *, const char *markup);
/* Text, escaped (& < > " '). */
void	 html_t(struct html *, const char *text);
void	 html_f(struct html *, const char *fmt, ...);
/* The page, or NULL after a failure (out of memory, too long). */
const char *html_done(struct html *, size_t *len);

#endif

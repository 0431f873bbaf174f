/*
 * bytescan.h - the first byte of a kind in a text, read eight bytes at
 * a time: JSON's strings are passed whole, not byte by byte.
 */
#ifndef PCMDS_BYTESCAN_H
#define PCMDS_BYTESCAN_H

/* The first '"' or '\\' in [p, end), or end when there is none. */
const char	*bytescan_quote(const char *p, const char *end);
/*
 * The first byte JSON must escape in a string ('"', '\\' or one below
 * 0x20) in [p, end), or end when there is none.
 */
const char	*bytescan_escape(const char *p, const char *end);
/*
 * bytescan_escape, and every byte before the one found ORed into *seen:
 * its high bit says whether any was above 0x7f (one pass, not two).
 */
const char	*bytescan_escape_seen(const char *p, const char *end,
		    unsigned *seen);

#endif

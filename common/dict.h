/*
 * dict.h - the data dictionary, written from the field tables.
 *
 * docs/data-set.md is this function's output; a test fails when the file
 * and the tables disagree, so the document cannot drift from the code.
 */
#ifndef PCMDS_DICT_H
#define PCMDS_DICT_H

#include "buf.h"

pc_rc	 dict_markdown(struct buf *);

#endif

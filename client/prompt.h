/*
 * prompt.h - asking the link worker for what the flags did not give.
 *
 * Used only when stdin is a terminal. Questions go to stderr so that
 * stdout carries only the command's result (the short id). Each answer is
 * checked with the same rule the validator applies, and the question is
 * asked again with the validator's sentence until the answer is valid.
 */
#ifndef PCMDS_PROMPT_H
#define PCMDS_PROMPT_H

#include <stddef.h>

#include "err.h"
#include "ons4.h"
#include "rec.h"

#include <cjson/cJSON.h>

int	 prompt_available(void);
/* Reads one line after showing question; PC_EIO at end of input. */
pc_rc	 prompt_line(const char *question, char *out, size_t len);
/*
 * Checks an answer beyond its field's own rules (the rules across the
 * referral's records), adding what fails to errs.
 */
typedef void (*prompt_check)(void *arg, const struct field *,
    const cJSON *value, struct err_list *errs);

/*
 * Asks for field f of kind (optional fields may be skipped with Enter,
 * leaving out empty). With current (a correction), the value now is
 * shown and Enter keeps it. check, when not NULL, is asked too before the
 * answer is taken. Writes the answer as command-line text.
 */
pc_rc	 prompt_field(const struct field *f, const struct rec_opts *,
	    const char *current, prompt_check check, void *arg, char *out,
	    size_t len);
/* Asks for an NHS number; empty out means the person has none. */
pc_rc	 prompt_nhs_number(char *out, size_t len);
/*
 * The ONS questions in their exact wording, one at a time, for each
 * measure with need[m] set. Answering "declined" to the first question
 * asked records a declined assessment.
 */
pc_rc	 prompt_ons4(const int need[ONS4_N], int scores[ONS4_N],
	    int *declined);

#endif

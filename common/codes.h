/*
 * codes.h - the pcmds/1 code lists, with the labels people read.
 *
 * Codes are the stable values in records and the API; labels are for
 * prompts, tables and CSV headers. Order is significant: aggregates and
 * reports list groups in this order.
 */
#ifndef PCMDS_CODES_H
#define PCMDS_CODES_H

#include <stddef.h>

/* SNOMED CT concepts the data set maps to. */
#define SNOMED_REFERRAL	"871731000000106"	/* Referral to social prescribing service */
#define SNOMED_DECLINED	"871711000000103"	/* Social prescribing declined */

struct code {
	const char	*code;
	const char	*label;
};

struct codelist {
	const char		*name;	/* e.g. "source" */
	const char		*title;	/* e.g. "Source of referral" */
	const struct code	*v;
	size_t			 n;
};

extern const struct codelist codes_kind;
extern const struct codelist codes_person_basis;
extern const struct codelist codes_source;
extern const struct codelist codes_reason;
extern const struct codelist codes_service;
extern const struct codelist codes_gender;
extern const struct codelist codes_ethnicity;
extern const struct codelist codes_stage;
extern const struct codelist codes_mode;
extern const struct codelist codes_support;
extern const struct codelist codes_outcome;
extern const struct codelist codes_closure;
extern const struct codelist codes_tristate;

/* Groupings used by aggregates. */
extern const struct codelist codes_ethnic_group;
extern const struct codelist codes_age_band;
extern const struct codelist codes_imd_quintile;
extern const struct codelist codes_imd_decile;
/* The bands rates per resident can use (Census 2021's, in ten years). */
extern const struct codelist codes_age_band_census;

/* Index of code in the list, or -1. */
int		 code_index(const struct codelist *, const char *code);
const char	*code_label(const struct codelist *, const char *code);
/*
 * The index of what a person typed for a code: the code in any case, its
 * label in any case, or its number in the list (1 for the first, as
 * prompts show them); -1 when it is none of these.
 */
int		 code_find(const struct codelist *, const char *text);
/* "a, b or c": the allowed codes, for messages. */
void		 code_choices(const struct codelist *, char *out, size_t len);

/* Ethnic category code (A..S, Z, 99) to its codes_ethnic_group index. */
int		 codes_ethnic_group_of(const char *ethnicity);
/* Age in whole years to its codes_age_band index. */
int		 codes_age_band_of(int age);
/* IMD decile (1..10) to its codes_imd_quintile index (5 when unknown). */
int		 codes_imd_quintile_of(int decile);
/* IMD decile (1..10) to its codes_imd_decile index (10 when unknown). */
int		 codes_imd_decile_of(int decile);
/* Age in whole years to its codes_age_band_census index. */
int		 codes_age_band_census_of(int age);

#endif

/*
 * codes.c - code lists of the pcmds/1 data set.
 *
 * Ethnic categories and their grouping follow the NHS Data Dictionary
 * "ETHNIC CATEGORY" (2001 census categories; R Chinese sits in "Other").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codes.h"

#define LIST(var, nm, ttl, arr) \
	const struct codelist var = { nm, ttl, arr, sizeof(arr) / sizeof(arr[0]) }

static const struct code kind_v[] = {
	{"referral", "Referral"},
	{"assessment", "ONS4 assessment"},
	{"contact", "Contact"},
	{"support", "Support offered"},
	{"closure", "Closure"},
	{"correction", "Correction"},
};
LIST(codes_kind, "kind", "Record kind", kind_v);

static const struct code basis_v[] = {
	{"nhs_number", "Pseudonym of the NHS number"},
	{"local", "No NHS number: random local id"},
};
LIST(codes_person_basis, "person_basis", "Person identified by", basis_v);

static const struct code source_v[] = {
	{"general_practice", "General practice"},
	{"pharmacy", "Community pharmacy"},
	{"mdt", "Multidisciplinary team"},
	{"hospital_discharge", "Hospital discharge"},
	{"mental_health", "Mental health service"},
	{"community_health", "Community health service"},
	{"allied_health", "Allied health professional"},
	{"social_care", "Social care"},
	{"housing", "Housing provider"},
	{"job_centre", "Jobcentre"},
	{"police", "Police"},
	{"fire_service", "Fire service"},
	{"vcse", "Voluntary, community or social enterprise"},
	{"education", "School, college or university"},
	{"self", "Self-referral"},
	{"other", "Other"},
};
LIST(codes_source, "source", "Source of referral", source_v);

static const struct code reason_v[] = {
	{"loneliness_isolation", "Loneliness or isolation"},
	{"low_mood_anxiety", "Low mood or anxiety"},
	{"stress", "Stress"},
	{"bereavement", "Bereavement"},
	{"long_term_condition", "Living with a long-term condition"},
	{"physical_activity", "Physical activity"},
	{"weight_diet", "Weight or diet"},
	{"debt_money", "Debt or money worries"},
	{"benefits", "Welfare benefits"},
	{"housing", "Housing"},
	{"employment_training", "Employment or training"},
	{"carer_support", "Support as a carer"},
	{"family_relationships", "Family or relationships"},
	{"substance_use", "Alcohol or substance use"},
	{"digital_inclusion", "Digital inclusion"},
	{"legal_immigration", "Legal or immigration matters"},
	{"food_insecurity", "Food insecurity"},
	{"other", "Other"},
};
LIST(codes_reason, "reasons", "Reasons for referral", reason_v);

static const struct code service_v[] = {
	{"general", "General social prescribing"},
	{"children_young_people", "Children and young people"},
	{"violence_reduction", "Violence reduction"},
	{"mental_health", "Mental health"},
	{"hospital", "Hospital-based"},
	{"other", "Other"},
};
LIST(codes_service, "service", "Social prescribing service", service_v);

static const struct code gender_v[] = {
	{"female", "Female"},
	{"male", "Male"},
	{"non_binary_other", "Non-binary or other"},
	{"not_stated", "Not stated (asked, not given)"},
	{"not_known", "Not known (not asked)"},
};
LIST(codes_gender, "gender", "Gender", gender_v);

static const struct code ethnicity_v[] = {
	{"A", "White: British"},
	{"B", "White: Irish"},
	{"C", "White: any other White background"},
	{"D", "Mixed: White and Black Caribbean"},
	{"E", "Mixed: White and Black African"},
	{"F", "Mixed: White and Asian"},
	{"G", "Mixed: any other mixed background"},
	{"H", "Asian or Asian British: Indian"},
	{"J", "Asian or Asian British: Pakistani"},
	{"K", "Asian or Asian British: Bangladeshi"},
	{"L", "Asian or Asian British: any other Asian background"},
	{"M", "Black or Black British: Caribbean"},
	{"N", "Black or Black British: African"},
	{"P", "Black or Black British: any other Black background"},
	{"R", "Other ethnic groups: Chinese"},
	{"S", "Other ethnic groups: any other ethnic group"},
	{"Z", "Not stated (asked, not given)"},
	{"99", "Not known (not asked)"},
};
LIST(codes_ethnicity, "ethnicity", "Ethnic category (NHS Data Dictionary)",
    ethnicity_v);

static const struct code stage_v[] = {
	{"baseline", "Baseline (first assessment)"},
	{"review", "Review"},
	{"final", "Final (at or near closure)"},
};
LIST(codes_stage, "stage", "Assessment stage", stage_v);

static const struct code mode_v[] = {
	{"face_to_face", "Face to face"},
	{"phone", "Telephone"},
	{"video", "Video call"},
	{"home_visit", "Home visit"},
	{"group", "Group session"},
	{"message", "Message (text, email, letter)"},
};
LIST(codes_mode, "mode", "Contact mode", mode_v);

static const struct code support_v[] = {
	{"arts_culture", "Arts and culture"},
	{"physical_activity", "Physical activity"},
	{"nature_green", "Nature and green activities"},
	{"befriending_social", "Befriending and social groups"},
	{"peer_support", "Peer support"},
	{"advice_debt_benefits", "Advice: debt and benefits"},
	{"housing_support", "Housing support"},
	{"employment_skills", "Employment and skills"},
	{"learning", "Learning"},
	{"food", "Food support"},
	{"carers_support", "Carers' support"},
	{"mental_health_service", "Mental health service"},
	{"healthy_lifestyle", "Healthy lifestyle"},
	{"faith_community", "Faith community"},
	{"digital_skills", "Digital skills"},
	{"personal_health_budget", "Personal health budget"},
	{"community_chest", "Community chest grant"},
	{"other", "Other"},
};
LIST(codes_support, "category", "Support category (community asset)",
    support_v);

static const struct code outcome_v[] = {
	{"offered", "Offered"},
	{"taken_up", "Taken up"},
	{"declined", "Declined"},
	{"completed", "Completed"},
	{"unavailable", "Unavailable"},
};
LIST(codes_outcome, "outcome", "Support outcome", outcome_v);

static const struct code closure_v[] = {
	{"goals_met", "Goals met"},
	{"declined", "Declined social prescribing"},
	{"disengaged", "Disengaged"},
	{"moved_away", "Moved away"},
	{"referred_elsewhere", "Referred elsewhere"},
	{"not_appropriate", "Not appropriate"},
	{"died", "Died"},
	{"other", "Other"},
};
LIST(codes_closure, "reason", "Closure reason", closure_v);

static const struct code tristate_v[] = {
	{"true", "Yes"},
	{"false", "No"},
	{"unknown", "Not known"},
};
LIST(codes_tristate, "flag", "Yes, no or not known", tristate_v);

static const struct code ethnic_group_v[] = {
	{"white", "White"},
	{"mixed", "Mixed"},
	{"asian", "Asian or Asian British"},
	{"black", "Black or Black British"},
	{"other", "Other ethnic group"},
	{"not_stated", "Not stated or not known"},
};
LIST(codes_ethnic_group, "ethnic_group", "Ethnic group", ethnic_group_v);

static const struct code age_band_v[] = {
	{"0-17", "0 to 17"},
	{"18-24", "18 to 24"},
	{"25-34", "25 to 34"},
	{"35-44", "35 to 44"},
	{"45-54", "45 to 54"},
	{"55-64", "55 to 64"},
	{"65-74", "65 to 74"},
	{"75-84", "75 to 84"},
	{"85+", "85 and over"},
};
LIST(codes_age_band, "age_band", "Age band", age_band_v);

static const struct code imd_quintile_v[] = {
	{"1", "1 (most deprived 20%)"},
	{"2", "2"},
	{"3", "3"},
	{"4", "4"},
	{"5", "5 (least deprived 20%)"},
	{"unknown", "Not recorded"},
};
LIST(codes_imd_quintile, "imd_quintile", "IMD quintile", imd_quintile_v);

static const struct code imd_decile_v[] = {
	{"1", "1 (most deprived 10%)"},
	{"2", "2"},
	{"3", "3"},
	{"4", "4"},
	{"5", "5"},
	{"6", "6"},
	{"7", "7"},
	{"8", "8"},
	{"9", "9"},
	{"10", "10 (least deprived 10%)"},
	{"unknown", "Not recorded"},
};
LIST(codes_imd_decile, "imd_decile", "IMD decile", imd_decile_v);

/* Census 2021 publishes five-year bands: 15-19 spans 18, so no 0-17. */
static const struct code age_band_census_v[] = {
	{"0-14", "Under 15"},
	{"15-24", "15 to 24"},
	{"25-34", "25 to 34"},
	{"35-44", "35 to 44"},
	{"45-54", "45 to 54"},
	{"55-64", "55 to 64"},
	{"65-74", "65 to 74"},
	{"75-84", "75 to 84"},
	{"85+", "85 and over"},
};
LIST(codes_age_band_census, "age_band_census", "Age band (as the Census "
    "publishes it)", age_band_census_v);

int
code_index(const struct codelist *l, const char *code)
{
	size_t i;

	if (code == NULL)
		return -1;
	/* the first letters settle most: a fact's codes are looked up often */
	for (i = 0; i < l->n; i++)
		if (l->v[i].code[0] == code[0] &&
		    strcmp(l->v[i].code, code) == 0)
			return (int)i;
	return -1;
}

int
code_find(const struct codelist *l, const char *text)
{
	char *end;
	long n;
	size_t i;
	int k;

	if ((k = code_index(l, text)) >= 0)
		return k;
	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i].code, text) == 0 ||
		    strcasecmp(l->v[i].label, text) == 0)
			return (int)i;
	n = strtol(text, &end, 10);
	if (text[0] >= '0' && text[0] <= '9' && *end == '\0' && n >= 1 &&
	    (size_t)n <= l->n)
		return (int)n - 1;
	return -1;
}

const char *
code_label(const struct codelist *l, const char *code)
{
	int i = code_index(l, code);

	return i < 0 ? NULL : l->v[i].label;
}

void
code_choices(const struct codelist *l, char *out, size_t len)
{
	size_t i, off = 0;

	out[0] = '\0';
	for (i = 0; i < l->n && off < len; i++) {
		const char *sep = i == 0 ? "" : i + 1 == l->n ? " or " : ", ";
		int n = snprintf(out + off, len - off, "%s%s", sep,
		    l->v[i].code);

		if (n < 0)
			break;
		off += (size_t)n;
	}
}

int
codes_ethnic_group_of(const char *e)
{
	int i = code_index(&codes_ethnicity, e);

	if (i < 0)
		return 5;
	if (i <= 2)		/* A B C */
		return 0;
	if (i <= 6)		/* D E F G */
		return 1;
	if (i <= 10)		/* H J K L */
		return 2;
	if (i <= 13)		/* M N P */
		return 3;
	if (i <= 15)		/* R S */
		return 4;
	return 5;		/* Z 99 */
}

int
codes_age_band_of(int age)
{
	if (age < 18)
		return 0;
	if (age < 25)
		return 1;
	if (age >= 85)
		return 8;
	return 2 + (age - 25) / 10;
}

int
codes_imd_quintile_of(int decile)
{
	if (decile < 1 || decile > 10)
		return 5;
	return (decile - 1) / 2;
}

int
codes_imd_decile_of(int decile)
{
	return decile < 1 || decile > 10 ? 10 : decile - 1;
}

int
codes_age_band_census_of(int age)
{
	if (age < 15)
		return 0;
	if (age < 25)
		return 1;
	if (age >= 85)
		return 8;
	return 2 + (age - 25) / 10;
}

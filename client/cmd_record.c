/*
 * cmd_record.c - the commands that record: referral, assess, contact,
 * support, close and correct.
 *
 * Each takes every field as a flag. When a required field is missing and
 * stdin is a terminal, it is asked for; otherwise every missing flag is
 * named in one go and nothing is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "directory.h"
#include "due.h"
#include "nhs.h"
#include "prompt.h"
#include "sec.h"
#include "timeline.h"

#define PLACEHOLDER_PERSON \
	"0000000000000000000000000000000000000000000000000000000000000000"

static const struct flag_alias referral_alias[] = {
	{"reasons", "--reason"},
	{"person", "--nhs-number"},
	{"person_basis", "--no-nhs-number"},
	{"consent_evaluation", "--[no-]consent-evaluation"},
	{NULL, NULL},
};

static const struct flag_alias dated_alias[] = {
	{"assessed_on", "--on"},
	{"contact_on", "--on"},
	{"offered_on", "--on"},
	{"closed_on", "--on"},
	{"attended", "--[no-]attended"},
	{"referral", "REF"},
	{NULL, NULL},
};

/* The flag that sets field (without the leading dashes). */
static const char *
flag_name(const char *field, const struct flag_alias *aliases, char *buf,
    size_t len)
{
	size_t i;

	for (i = 0; aliases[i].field != NULL; i++)
		if (strcmp(aliases[i].field, field) == 0 &&
		    strncmp(aliases[i].flag, "--", 2) == 0 &&
		    aliases[i].flag[2] != '[') {
			snprintf(buf, len, "%s", aliases[i].flag + 2);
			return buf;
		}
	snprintf(buf, len, "%s", field);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == '_')
			buf[i] = '-';
	return buf;
}

/* Copies every kind field given as a flag into body. */
static void
fill_from_opts(cJSON *body, enum rec_kind k, const struct opt_result *o,
    const struct flag_alias *aliases)
{
	const struct kind_info *ki = rec_kind_info(k);
	char flag[64];
	size_t i;

	for (i = 0; i < ki->n; i++) {
		const char *v;

		/* the person comes from the NHS number, never as given */
		if (ki->fields[i].type == FT_HEX64 ||
		    strcmp(ki->fields[i].name, "person_basis") == 0)
			continue;
		v = opt_get(o, flag_name(ki->fields[i].name, aliases, flag,
		    sizeof(flag)));
		if (v != NULL)
			record_set(body, k, ki->fields[i].name, v);
	}
}

/* What the prompts of one record check beyond each field's own rules. */
struct early {
	struct ctx	*c;
	const char	*referral;	/* NULL for a new referral */
	enum rec_kind	 kind;
};

/* The event date, as soon as it is typed, against the referral's rules. */
static void
early_date(void *arg, const struct field *f, const cJSON *v,
    struct err_list *errs)
{
	struct early *e = arg;

	if (e->referral != NULL && (f->flags & FF_EVENT_DATE))
		(void)record_precheck(e->c, e->referral, e->kind, v, 0, errs);
}

/* Asks for the fields still missing (and optional ones when asked to). */
static pc_rc
prompt_missing(struct ctx *c, cJSON *body, enum rec_kind k, int optional,
    const char *referral)
{
	const struct kind_info *ki = rec_kind_info(k);
	struct early e = {c, referral, k};
	char answer[512];
	size_t i;
	pc_rc rc;

	for (i = 0; i < ki->n; i++) {
		const struct field *f = &ki->fields[i];

		if (cJSON_GetObjectItemCaseSensitive(body, f->name) != NULL ||
		    (f->flags & FF_SCORE) || f->type == FT_OBJECT ||
		    f->type == FT_HEX64 || f->type == FT_ASSET ||
		    strcmp(f->name, "person_basis") == 0 ||
		    strcmp(f->name, "declined") == 0)
			continue;
		if (!(f->flags & FF_REQUIRED) && !optional)
			continue;
		if ((rc = prompt_field(f, &c->ropts, NULL, early_date, &e,
		    answer, sizeof(answer))) != PC_OK)
			return rc;
		if (answer[0] != '\0')
			record_set(body, k, f->name, answer);
	}
	return PC_OK;
}

static int
finish(struct ctx *c, enum rec_kind k, cJSON *body, const char *referral,
    const struct flag_alias *aliases)
{
	struct err_list errs;
	char id[UUID_LEN];
	pc_rc rc;

	err_init(&errs);
	rc = record_add(c, k, body, referral, id, &errs);
	if (rc == PC_OK) {
		printf("%s\n", uuid_short(id).s);
		fflush(stdout);
		ctx_readback(c, id, 1);
	} else
		ctx_report(&errs, aliases);
	err_free(&errs);
	return exit_for(rc);
}

/* Sets person and person_basis from the NHS number (never kept). */
static pc_rc
person_from_nhs(struct ctx *c, cJSON *body, const char *nhs,
    struct err_list *errs)
{
	char person[SEC_HEX64_LEN];
	pc_rc rc;

	if ((rc = record_person(c, nhs, person, errs)) != PC_OK)
		return rc;
	cJSON_DeleteItemFromObjectCaseSensitive(body, "person");
	cJSON_DeleteItemFromObjectCaseSensitive(body, "person_basis");
	cJSON_AddStringToObject(body, "person", person);
	cJSON_AddStringToObject(body, "person_basis", "nhs_number");
	return PC_OK;
}

static pc_rc
person_local(cJSON *body)
{
	char person[SEC_HEX64_LEN];

	if (nhs_local_person(person) != PC_OK)
		return PC_EIO;
	cJSON_AddStringToObject(body, "person", person);
	cJSON_AddStringToObject(body, "person_basis", "local");
	return PC_OK;
}

/* Copies the person of an earlier referral (a re-referral). */
static pc_rc
person_same(struct ctx *c, cJSON *body, const char *ref, struct err_list *errs)
{
	struct timeline tl;
	struct tl_summary s;
	char id[UUID_LEN];
	pc_rc rc;

	if ((rc = record_referral(c, ref, id, errs)) != PC_OK)
		return rc;
	if ((rc = cstore_timeline(c->store, id, &tl, errs)) != PC_OK)
		return rc;
	tl_summarise(&tl, &s);
	if (s.referral != NULL) {
		cJSON_AddStringToObject(body, "person",
		    rec_str(s.referral, "person"));
		cJSON_AddStringToObject(body, "person_basis",
		    rec_str(s.referral, "person_basis"));
	}
	tl_free(&tl);
	return PC_OK;
}

static pc_rc
referral_person(struct ctx *c, const struct opt_result *o, cJSON *body,
    struct err_list *errs)
{
	const char *nhs = opt_get(o, "nhs-number");
	const char *same = opt_get(o, "same-person");
	int none = opt_has(o, "no-nhs-number");
	char answer[64];
	pc_rc rc;

	if ((nhs != NULL) + none + (same != NULL) > 1) {
		err_add(errs, E_RULE, "person", "give one of --nhs-number, "
		    "--no-nhs-number and --same-person");
		return PC_EUSAGE;
	}
	if (nhs != NULL)
		return person_from_nhs(c, body, nhs, errs);
	if (none)
		return person_local(body);
	if (same != NULL)
		return person_same(c, body, same, errs);
	if (!c->interactive)
		return PC_OK;	/* the validator names the missing flag */
	if ((rc = prompt_nhs_number(answer, sizeof(answer))) != PC_OK)
		return rc;
	rc = answer[0] ? person_from_nhs(c, body, answer, errs) :
	    person_local(body);
	sec_wipe(answer, sizeof(answer));
	return rc;
}

static int
run_referral(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	cJSON *body = cJSON_CreateObject();
	pc_rc rc;

	err_init(&errs);
	if ((rc = ctx_identity(c, &errs)) != PC_OK ||
	    (rc = ctx_store(c, &errs)) != PC_OK ||
	    ((rc = referral_person(c, o, body, &errs)) != PC_OK &&
	    rc != PC_EINVAL)) {
		ctx_report(&errs, referral_alias);
		err_free(&errs);
		cJSON_Delete(body);
		return exit_for(rc);
	}
	if (rc == PC_EINVAL) {
		/*
		 * A bad NHS number: check the other fields too, so that every
		 * problem is reported at once, but store nothing.
		 */
		ctx_report(&errs, referral_alias);
		c->check_only = 1;
		cJSON_AddStringToObject(body, "person", PLACEHOLDER_PERSON);
		cJSON_AddStringToObject(body, "person_basis", "nhs_number");
	}
	err_free(&errs);
	fill_from_opts(body, KIND_REFERRAL, o, referral_alias);
	if (c->interactive && !c->check_only &&
	    prompt_missing(c, body, KIND_REFERRAL, 1, NULL) != PC_OK) {
		cJSON_Delete(body);
		fprintf(stderr, "pcmds: input ended; nothing recorded\n");
		return EXIT_INVALID;
	}
	return finish(c, KIND_REFERRAL, body, NULL, referral_alias);
}

/* Resolves REF, reporting a bad one. */
static int
ref_arg(struct ctx *c, const struct opt_result *o, char id[UUID_LEN])
{
	struct err_list errs;
	pc_rc rc;

	err_init(&errs);
	if ((rc = ctx_identity(c, &errs)) == PC_OK)
		rc = record_referral(c, o->pos[0], id, &errs);
	if (rc != PC_OK)
		ctx_report(&errs, NULL);
	err_free(&errs);
	return exit_for(rc);
}

/*
 * The rules that make the prompts pointless, before any is asked: a
 * closed or voided referral, ONS4 for someone under 16, a date given
 * before the referral.
 */
static int
early_refusal(struct ctx *c, enum rec_kind k, const char *referral,
    const cJSON *body, int scores)
{
	struct err_list errs;
	pc_rc rc;

	err_init(&errs);
	rc = record_precheck(c, referral, k, rec_get(body, rec_date_field(k)),
	    scores, &errs);
	if (rc != PC_OK)
		ctx_report(&errs, dated_alias);
	err_free(&errs);
	return rc == PC_OK ? EXIT_OK : exit_for(rc);
}

static int
run_assess(struct ctx *c, struct opt_result *o)
{
	char id[UUID_LEN];
	cJSON *body;
	int m, need[ONS4_N], scores[ONS4_N], declined, any = 0, ex;

	if ((ex = ref_arg(c, o, id)) != EXIT_OK)
		return ex;
	body = cJSON_CreateObject();
	fill_from_opts(body, KIND_ASSESSMENT, o, dated_alias);
	if ((ex = early_refusal(c, KIND_ASSESSMENT, id, body,
	    !opt_has(o, "declined"))) != EXIT_OK) {
		cJSON_Delete(body);
		return ex;
	}
	if (c->interactive) {
		if (prompt_missing(c, body, KIND_ASSESSMENT, 0, id) != PC_OK)
			goto ended;
		for (m = 0; m < ONS4_N; m++) {
			need[m] = !opt_has(o, "declined") &&
			    cJSON_GetObjectItemCaseSensitive(body,
			    ons4_measures[m].field) == NULL;
			any |= need[m];
		}
		if (any && prompt_ons4(need, scores, &declined) != PC_OK)
			goto ended;
		for (m = 0; any && !declined && m < ONS4_N; m++)
			if (need[m])
				cJSON_AddNumberToObject(body,
				    ons4_measures[m].field, scores[m]);
		if (any && declined) {
			for (m = 0; m < ONS4_N; m++)
				cJSON_DeleteItemFromObjectCaseSensitive(body,
				    ons4_measures[m].field);
			cJSON_AddBoolToObject(body, "declined", 1);
		}
	}
	return finish(c, KIND_ASSESSMENT, body, id, dated_alias);
ended:
	cJSON_Delete(body);
	fprintf(stderr, "pcmds: input ended; nothing recorded\n");
	return EXIT_INVALID;
}

/*
 * Closing with no final ONS4 assessment loses the referral's change in
 * well-being: on a terminal pcmds asks first, as the app does.
 */
static int
close_confirmed(struct ctx *c, const char *ref)
{
	struct err_list errs;
	struct timeline tl;
	char answer[16];
	int ask = 0;

	err_init(&errs);
	if (cstore_timeline(c->store, ref, &tl, &errs) == PC_OK) {
		ask = due_final_missing(&tl);
		tl_free(&tl);
	}
	err_free(&errs);
	if (!ask)
		return 1;
	fprintf(stderr, "No final ONS4 assessment is recorded for this "
	    "referral, so its change in\nwell-being cannot be measured "
	    "(pcmds assess %s --stage final records it).\n", uuid_short(ref).s);
	return prompt_line("Close it without a final assessment? (yes/no): ",
	    answer, sizeof(answer)) == PC_OK && (answer[0] == 'y' ||
	    answer[0] == 'Y');
}

/* contact, support and close: REF, flags, prompts for what is missing. */
static int
run_simple(struct ctx *c, struct opt_result *o, enum rec_kind k)
{
	char id[UUID_LEN];
	cJSON *body;
	int ex;

	if ((ex = ref_arg(c, o, id)) != EXIT_OK)
		return ex;
	body = cJSON_CreateObject();
	fill_from_opts(body, k, o, dated_alias);
	dir_fill(c, k, body);
	if ((ex = early_refusal(c, k, id, body, 0)) != EXIT_OK) {
		cJSON_Delete(body);
		return ex;
	}
	if (k == KIND_CLOSURE && c->interactive && !close_confirmed(c, id)) {
		cJSON_Delete(body);
		fprintf(stderr, "pcmds: not closed; nothing recorded\n");
		return EXIT_INVALID;
	}
	if (c->interactive && prompt_missing(c, body, k, 0, id) != PC_OK) {
		cJSON_Delete(body);
		fprintf(stderr, "pcmds: input ended; nothing recorded\n");
		return EXIT_INVALID;
	}
	return finish(c, k, body, id, dated_alias);
}

static int
run_contact(struct ctx *c, struct opt_result *o)
{
	return run_simple(c, o, KIND_CONTACT);
}

static int
run_support(struct ctx *c, struct opt_result *o)
{
	return run_simple(c, o, KIND_SUPPORT);
}

static int
run_close(struct ctx *c, struct opt_result *o)
{
	return run_simple(c, o, KIND_CLOSURE);
}

static const struct opt_spec referral_opts[] = {
	{"nhs-number", OPT_VALUE, "N", "the person's NHS number (checked, "
	    "turned into a pseudonym, never stored)"},
	{"no-nhs-number", OPT_FLAG, NULL, "the person has no NHS number "
	    "(a random local id is used)"},
	{"same-person", OPT_VALUE, "REF", "the person of an earlier referral "
	    "(a re-referral)"},
	{"referred-on", OPT_VALUE, "DATE", "date of referral (DD/MM/YYYY, "
	    "YYYY-MM-DD, today, yesterday)"},
	{"source", OPT_VALUE, "CODE", "who referred (pcmds codes source)"},
	{"reason", OPT_VALUE, "CODES", "reasons, comma-separated (pcmds codes "
	    "reasons)"},
	{"service", OPT_VALUE, "CODE", "service (pcmds codes service)"},
	{"age", OPT_VALUE, "N", "age in whole years, 0-120"},
	{"gender", OPT_VALUE, "CODE", "gender (pcmds codes gender)"},
	{"ethnicity", OPT_VALUE, "CODE", "NHS ethnic category A-S, Z or 99"},
	{"imd-decile", OPT_VALUE, "N", "IMD decile of home area, 1 (most "
	    "deprived) to 10"},
	{"carer", OPT_TOGGLE, NULL, "an unpaid carer (=unknown if not known)"},
	{"learning-disability", OPT_TOGGLE, NULL, "has a learning disability"},
	{"autism", OPT_TOGGLE, NULL, "is autistic"},
	{"homeless", OPT_TOGGLE, NULL, "is homeless or at risk"},
	{"consent-evaluation", OPT_TOGGLE, NULL, "agrees to their data being "
	    "used in evaluation"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_referral = {
	"referral", "", 0, 0, "record a referral; prints its short id",
	referral_opts, run_referral,
	"Missing fields are asked for on a terminal. Example:\n"
	"  pcmds referral --nhs-number '943 476 5919' --referred-on today \\\n"
	"    --source general_practice --reason loneliness_isolation,debt_money "
	"\\\n    --service general --age 67 --gender female --ethnicity N \\\n"
	"    --imd-decile 2 --carer --consent-evaluation\n",
};

static const struct opt_spec assess_opts[] = {
	{"stage", OPT_VALUE, "STAGE", "baseline, review or final"},
	{"on", OPT_VALUE, "DATE", "date the questions were asked"},
	{"life-satisfaction", OPT_VALUE, "N", "0-10"},
	{"worthwhile", OPT_VALUE, "N", "0-10"},
	{"happy", OPT_VALUE, "N", "0-10"},
	{"anxious", OPT_VALUE, "N", "0-10 (lower is better)"},
	{"declined", OPT_FLAG, NULL, "the person declined to answer"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_assess = {
	"assess", "REF", 1, 1, "record ONS4 well-being scores for a referral",
	assess_opts, run_assess,
	"On a terminal, missing scores are asked with the ONS questions in "
	"their exact wording.\n",
};

static const struct opt_spec contact_opts[] = {
	{"on", OPT_VALUE, "DATE", "date of the contact"},
	{"mode", OPT_VALUE, "CODE", "face_to_face, phone, video, home_visit, "
	    "group or message"},
	{"minutes", OPT_VALUE, "N", "length, 1-600"},
	{"attended", OPT_TOGGLE, NULL, "the person attended (--no-attended: "
	    "did not)"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_contact = {
	"contact", "REF", 1, 1, "record a contact with the person", contact_opts,
	run_contact, NULL,
};

static const struct opt_spec support_opts[] = {
	{"on", OPT_VALUE, "DATE", "date the support was offered"},
	{"category", OPT_VALUE, "CODE", "kind of support (pcmds codes "
	    "category)"},
	{"asset", OPT_VALUE, "ID", "its entry in the place's directory of "
	    "community assets (pcmds sync receives it; the category comes "
	    "with it)"},
	{"provider", OPT_VALUE, "TEXT", "organisation providing it, when the "
	    "directory lacks it (no personal names)"},
	{"outcome", OPT_VALUE, "CODE", "offered, taken_up, declined, completed "
	    "or unavailable"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_support = {
	"support", "REF", 1, 1, "record support offered (a community asset)",
	support_opts, run_support, NULL,
};

static const struct opt_spec close_opts[] = {
	{"on", OPT_VALUE, "DATE", "date of closure"},
	{"reason", OPT_VALUE, "CODE", "why (pcmds codes reason)"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_close = {
	"close", "REF", 1, 1, "close a referral", close_opts, run_close, NULL,
};

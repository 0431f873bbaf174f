/*
 * cmd_caseload.c - pcmds due and pcmds find: the caseload as the app
 * shows it, for the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "describe.h"
#include "due.h"
#include "prompt.h"
#include "sec.h"

struct due_print {
	int	 now_only;
	int	 n;
	cJSON	*json;
};

/* "now", "overdue" or "from 12/06/2026". */
static void
when(const struct due *d, char *out, size_t len)
{
	char day[DATE_LEN];

	date_format_uk(d->from, day);
	if (d->overdue)
		snprintf(out, len, "overdue");
	else if (d->now)
		snprintf(out, len, "now");
	else
		snprintf(out, len, "from %s", day);
}

static void
due_json(cJSON *arr, const struct timeline *tl, const struct due *d)
{
	static const char *const kinds[DUE_N] = {"nothing", "contact",
	    "baseline", "review", "final"};
	cJSON *o = cJSON_CreateObject();
	char day[DATE_LEN];

	cJSON_AddStringToObject(o, "referral", tl->id);
	cJSON_AddStringToObject(o, "due", kinds[d->kind]);
	date_format(d->from, day);
	cJSON_AddStringToObject(o, "from", day);
	if (d->until >= 0) {
		date_format(d->until, day);
		cJSON_AddStringToObject(o, "until", day);
	}
	cJSON_AddBoolToObject(o, "now", d->now);
	cJSON_AddBoolToObject(o, "overdue", d->overdue);
	cJSON_AddItemToArray(arr, o);
}

static int
print_due(void *arg, const struct timeline *tl, const struct due *d)
{
	struct due_print *p = arg;
	struct tl_summary s;
	char w[32], ref[DATE_LEN], until[DATE_LEN + 16] = "";

	if (d->kind == DUE_NOTHING || (p->now_only && !d->now))
		return 0;
	p->n++;
	if (p->json != NULL) {
		due_json(p->json, tl, d);
		return 0;
	}
	tl_summarise(tl, &s);
	when(d, w, sizeof(w));
	date_format_uk(s.referred_on, ref);
	if (d->until >= 0) {
		date_format_uk(d->until, until + 8);
		memcpy(until, " (until ", 8);
		strcat(until, ")");
	}
	printf("%-18s %s  %s  %s%s\n", w, uuid_short(tl->id).s, ref, due_label(d->kind),
	    until);
	return 0;
}

static int
run_due(struct ctx *c, struct opt_result *o)
{
	struct due_print p = {opt_has(o, "now"), 0, NULL};
	struct due_rules r;
	struct err_list errs;
	pc_rc rc;

	err_init(&errs);
	if ((rc = due_rules(&c->cfg, &r, &errs)) != PC_OK)
		return ctx_fail(&errs, rc);
	if (opt_has(o, "json"))
		p.json = cJSON_CreateArray();
	else
		printf("%-18s %-8s  %-10s  %s\n", "DUE", "REFERRAL", "REFERRED",
		    "WHAT");
	if ((rc = due_each(c, &r, print_due, &p, &errs)) != PC_OK) {
		cJSON_Delete(p.json);
		return ctx_fail(&errs, rc);
	}
	err_free(&errs);
	if (p.json != NULL) {
		char *t = cJSON_Print(p.json);

		printf("%s\n", t);
		free(t);
		cJSON_Delete(p.json);
	} else if (p.n == 0)
		printf("(nothing %sdue)\n", p.now_only ? "" : "is ");
	return EXIT_OK;
}

static int
print_match(void *arg, const struct cstore_row *row)
{
	struct ctx *c = arg;
	struct err_list errs;
	struct timeline tl;
	struct tl_summary s;
	struct due_rules r;
	struct due d;
	char ref[DATE_LEN], w[32] = "";

	err_init(&errs);
	if (cstore_timeline(c->store, row->id, &tl, &errs) == PC_OK) {
		tl_summarise(&tl, &s);
		date_format_uk(s.referred_on, ref);
		if (due_rules(&c->cfg, &r, &errs) == PC_OK)
			due_of(&tl, &r, c->ropts.today, &d);
		else
			d.kind = DUE_NOTHING;
		if (d.kind != DUE_NOTHING)
			when(&d, w, sizeof(w));
		printf("%s  referred %s  %s%s%s%s\n", uuid_short(row->id).s, ref,
		    s.voided ? "voided" : s.closed_on >= 0 ? "closed" : "open",
		    d.kind != DUE_NOTHING ? "; " : "",
		    d.kind != DUE_NOTHING ? due_label(d.kind) : "",
		    w[0] ? (d.now ? " (now)" : "") : "");
		tl_free(&tl);
	}
	err_free(&errs);
	return 0;
}

static int
run_find(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	const char *nhs = opt_get(o, "nhs-number");
	char answer[64] = "";
	int found;
	pc_rc rc;

	if (nhs == NULL && c->interactive) {
		if (prompt_nhs_number(answer, sizeof(answer)) != PC_OK ||
		    answer[0] == '\0')
			return EXIT_USAGE;
		nhs = answer;
	}
	if (nhs == NULL) {
		fprintf(stderr, "pcmds: find needs --nhs-number N\n");
		return EXIT_USAGE;
	}
	err_init(&errs);
	rc = record_find_person(c, nhs, print_match, c, &found, &errs);
	sec_wipe(answer, sizeof(answer));
	if (rc != PC_OK)
		return ctx_fail(&errs, rc);
	err_free(&errs);
	if (found == 0) {
		fprintf(stderr, "pcmds: no referral on this device is for that "
		    "NHS number\n");
		return EXIT_INVALID;
	}
	return EXIT_OK;
}

static const struct opt_spec due_opts[] = {
	{"now", OPT_FLAG, NULL, "only what is due now (not what comes later)"},
	{"json", OPT_FLAG, NULL, "JSON instead of a table"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

static const struct opt_spec find_opts[] = {
	{"nhs-number", OPT_VALUE, "N", "the person's NHS number (turned into "
	    "the pseudonym and matched; never stored)"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_due = {
	"due", "", 0, 0, "what is due next for each open referral", due_opts,
	run_due,
	"First contact, baseline ONS4 (16 and over), review (review_weeks "
	    "after "
	"the\nbaseline, default 6-12) and final (final_weeks, default 12); set "
	"them in\nthe configuration file. The app's caseload shows the same.\n",
};

const struct command cmd_find = {
	"find", "", 0, 0, "find a person's referrals by NHS number", find_opts,
	run_find, NULL,
};

/*
 * cmd_correct.c - pcmds correct: new values for a record, or its void.
 *
 * The work is correct.c's, shared with the app; here are the flags and,
 * on a terminal with neither --set nor --void, the prompts that show
 * each field's current value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correct.h"
#include "describe.h"
#include "prompt.h"

/*
 * Every field asked for with its current value; what is answered
 * differently goes into the list of changes as "field=value".
 */
static pc_rc
prompt_changes(struct ctx *c, const struct correct_target *t,
    struct opt_result *o, char (*pairs)[600], struct err_list *errs)
{
	const struct kind_info *ki = rec_kind_info(rec_kind_parse(t->kind));
	char now[512], answer[512];
	cJSON *cur;
	size_t i;
	pc_rc rc = PC_OK;

	if ((cur = correct_current(c, t, errs)) == NULL)
		return PC_ESTORE;
	fprintf(stderr, "Correcting %s %s: Enter keeps a value, a new answer "
	    "replaces it.\n", ki->label, uuid_short(t->id).s);
	for (i = 0; i < ki->n && rc == PC_OK && o->nlist < OPT_LIST_MAX; i++) {
		const struct field *f = &ki->fields[i];

		if (!correct_field_ok(f))
			continue;
		describe_value(f, rec_get(cur, f->name), now, sizeof(now));
		if ((rc = prompt_field(f, &c->ropts, now[0] ? now : NULL, NULL,
		    NULL, answer, sizeof(answer))) != PC_OK ||
		    strcmp(answer, now) == 0)
			continue;
		snprintf(pairs[o->nlist], sizeof(pairs[0]), "%s=%s", f->name,
		    answer);
		o->list[o->nlist] = pairs[o->nlist];
		o->nlist++;
	}
	cJSON_Delete(cur);
	if (rc == PC_OK && o->nlist == 0) {
		err_add(errs, E_REQUIRED, "set", "nothing was changed, so "
		    "nothing "
		    "was recorded");
		return PC_EINVAL;
	}
	return rc;
}

static int
run_correct(struct ctx *c, struct opt_result *o)
{
	static const struct flag_alias alias[] = {
		{"target", "RECORD"}, {"set", "--set"}, {"void", "--void"},
		{NULL, NULL},
	};
	static char pairs[OPT_LIST_MAX][600];
	struct err_list errs;
	struct correct_target t;
	char id[UUID_LEN];
	pc_rc rc;

	err_init(&errs);
	if ((rc = correct_resolve(c, o->pos[0], &t, &errs)) == PC_OK &&
	    (o->nlist > 0 || opt_has(o, "void") || !c->interactive ||
	    strcmp(t.kind, "correction") == 0 ||
	    (rc = prompt_changes(c, &t, o, pairs, &errs)) == PC_OK))
		rc = correct_record(c, &t, o->list, o->nlist,
		    opt_has(o, "void"), opt_get(o, "reason"), id, &errs);
	if (rc == PC_OK) {
		printf("%s\n", uuid_short(id).s);
		fflush(stdout);
		ctx_readback(c, id, !(t.state == CS_QUARANTINED &&
		    opt_has(o, "void")));
		/* a withdrawn record is kept here and never sent: say so */
		if (t.state == CS_QUARANTINED && opt_has(o, "void"))
			fprintf(stderr, "pcmds: %s %s withdrawn: it never "
			    "reached the server and is not sent (kept on this "
			    "device, marked withdrawn)\n", t.kind,
			    uuid_short(t.id).s);
		else if (t.state == CS_QUARANTINED)
			fprintf(stderr, "pcmds: %s %s replaced by the corrected "
			    "version; it will be sent at the next sync\n",
			    t.kind, uuid_short(t.id).s);
	} else
		ctx_report(&errs, alias);
	err_free(&errs);
	return exit_for(rc);
}

static const struct opt_spec correct_opts[] = {
	{"set", OPT_LIST, "FIELD=VALUE", "new value (repeat for more fields; "
	    "FIELD= removes an optional field; nhs_number=N for a referral)"},
	{"void", OPT_FLAG, NULL, "withdraw the record (needs --reason)"},
	{"reason", OPT_VALUE, "TEXT", "why (no names or NHS numbers)"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_correct = {
	"correct", "RECORD", 1, 1, "correct or void a record (any kind)",
	correct_opts, run_correct,
	"Records are never edited: a correction record carries the new values "
	"and the\nserver applies it. A record the server refused (quarantined) "
	"is replaced by its\ncorrected version instead. Examples:\n"
	"  pcmds correct 3f2b8c1e --set age=68 --set imd_decile=3\n"
	"  pcmds correct 9a1b2c3d --void --reason 'recorded twice'\n",
};

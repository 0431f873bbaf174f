/*
 * cmd_view.c - reading the local store: list, show, status, export, codes.
 *
 * Everything here shows records as corrected (corrections applied, voided
 * records marked), from the same timeline code the server uses.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "describe.h"
#include "states.h"
#include "reccsv.h"
#include "ons4.h"
#include "timeline.h"

static int32_t
entry_date(const struct tl_entry *e)
{
	int64_t t;

	if (e->rec->kind != KIND_CORRECTION)
		return rec_day(tl_content(e), rec_date_field(e->rec->kind));
	if (time_parse(e->rec->recorded_at, &t) != 0)
		return 0;
	return (int32_t)(t / 86400);
}

static int
by_date(const void *a, const void *b)
{
	const struct tl_entry *x = *(const struct tl_entry *const *)a;
	const struct tl_entry *y = *(const struct tl_entry *const *)b;
	int32_t dx = entry_date(x), dy = entry_date(y);

	if (dx != dy)
		return dx < dy ? -1 : 1;
	return x->rec->device_seq < y->rec->device_seq ? -1 :
	    x->rec->device_seq > y->rec->device_seq;
}

static void
print_ons4_change(const struct tl_summary *s)
{
	char d1[DATE_LEN], d2[DATE_LEN];
	int m;

	if (!s->has_baseline) {
		printf("\nONS4: no scored baseline yet\n");
		return;
	}
	date_format(s->baseline.on, d1);
	if (!s->has_followup) {
		printf("\nONS4 baseline %s; no later review or final yet\n", d1);
		return;
	}
	date_format(s->followup.on, d2);
	printf("\nONS4 change, baseline %s -> %s %s\n", d1,
	    codes_stage.v[s->followup.stage].code, d2);
	for (m = 0; m < ONS4_N; m++) {
		const struct ons4_info *o = &ons4_measures[m];
		int b = s->baseline.score[m], f = s->followup.score[m];
		int gain = ons4_gain((enum ons4_measure)m, b, f);

		printf("  %-18s %2d -> %2d  %+3d  %s -> %s%s\n", o->label, b, f,
		    f - b, o->bands[ons4_band((enum ons4_measure)m, b)],
		    o->bands[ons4_band((enum ons4_measure)m, f)],
		    gain > 0 ? "  (better)" : gain < 0 ? "  (worse)" : "");
	}
}

static void
print_referral(const struct tl_summary *s, const char *id,
    const struct states *st)
{
	const cJSON *r = s->referral;
	const cJSON *it;
	char d[DATE_LEN];
	int dec = rec_int(r, "imd_decile", 0);

	printf("Referral %s%s  by %s  [%s]\n", uuid_short(id).s, s->voided ?
	    " (VOIDED)" : "", rec_str(r, "worker"),
	    cstore_state_name(st->v[states_find(st, id)].state));
	printf("  Person          %s %.12s...\n",
	    strcmp(rec_str(r, "person_basis"), "local") == 0 ?
	    "local id" : "NHS number pseudonym", rec_str(r, "person"));
	printf("  Referred on     %s by %s\n", rec_str(r, "referred_on"),
	    describe_label(&codes_source, rec_str(r, "source")));
	printf("  Reasons        ");
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r, "reasons"))
		printf(" %s%s", describe_label(&codes_reason, it->valuestring),
		    it->next ? ";" : "");
	printf("\n  Service         %s\n", describe_label(&codes_service,
	    rec_str(r, "service")));
	printf("  Age, gender     %d, %s\n", rec_int(r, "age", -1),
	    describe_label(&codes_gender, rec_str(r, "gender")));
	printf("  Ethnicity       %s %s\n", rec_str(r, "ethnicity"),
	    describe_label(&codes_ethnicity, rec_str(r, "ethnicity")));
	if (dec > 0)
		printf("  IMD decile      %d (quintile %d)\n", dec,
		    codes_imd_quintile_of(dec) + 1);
	printf("  Carer %s; learning disability %s; autism %s; homeless %s\n",
	    describe_yesno(r, "carer"),
	    describe_yesno(r, "learning_disability"),
	    describe_yesno(r, "autism"), describe_yesno(r, "homeless"));
	printf("  Consent to evaluation: %s\n",
	    rec_flag(r, "consent_evaluation", 0) == 1 ? "yes" : "no");
	if (s->closed_on >= 0) {
		date_format(s->closed_on, d);
		printf("  Status          closed %s: %s\n", d,
		    codes_closure.v[s->close_reason].label);
	} else
		printf("  Status          open\n");
}

static void
print_timeline(const struct timeline *tl, const struct states *st)
{
	const struct tl_entry **v;
	char line[512], d[DATE_LEN];
	size_t i, k;

	if ((v = calloc(tl->n ? tl->n : 1, sizeof(*v))) == NULL)
		return;
	for (i = 1; i < tl->n; i++)
		v[i - 1] = &tl->v[i];
	qsort(v, tl->n - 1, sizeof(*v), by_date);
	printf("\nTimeline\n");
	for (i = 0; i + 1 < tl->n; i++) {
		describe_entry(v[i], line, sizeof(line));
		date_format(entry_date(v[i]), d);
		k = states_find(st, v[i]->rec->id);
		/* who made each record: colleagues may correct each other */
		printf("  %s  %-10s  %s  %s%s  by %s  [%s]\n", d,
		    codes_kind.v[v[i]->rec->kind].code, uuid_short(v[i]->rec->id).s,
		    line,
		    v[i]->voided ? " (VOIDED)" : "", v[i]->rec->worker,
		    cstore_state_name(st->v[k].state));
	}
	free(v);
}

static void
print_timeline_raw(const struct timeline *tl, const struct states *st)
{
	size_t i;

	for (i = 0; i < tl->n; i++)
		printf("  %-10s  %s  [%s]\n",
		    codes_kind.v[tl->v[i].rec->kind].code,
		    uuid_short(tl->v[i].rec->id).s,
		    cstore_state_name(st->v[states_find(st, tl->v[i].rec->id)].
		    state));
}

static void
print_quarantine(const struct states *st)
{
	size_t i;
	int any = 0;

	for (i = 0; i < st->n; i++) {
		cJSON *errs, *e;

		if (st->v[i].state != CS_QUARANTINED)
			continue;
		if (!any++)
			printf("\nRefused by the server (fix with pcmds correct "
			    "ID --set field=value, or --void):\n");
		errs = st->v[i].reason ? cJSON_Parse(st->v[i].reason) : NULL;
		cJSON_ArrayForEach(e, errs)
			printf("  %s  %s: %s (%s)\n",
			    uuid_short(st->v[i].id).s,
			    rec_str(e, "field") ? rec_str(e, "field") : "",
			    rec_str(e, "message") ? rec_str(e, "message") : "",
			    rec_str(e, "code") ? rec_str(e, "code") : "");
		if (errs == NULL)
			printf("  %s  %s\n", uuid_short(st->v[i].id).s,
			    st->v[i].reason ? st->v[i].reason : "");
		cJSON_Delete(errs);
	}
}

static cJSON *
show_json(const struct timeline *tl, const struct tl_summary *s,
    const struct states *st)
{
	cJSON *o = cJSON_CreateObject(), *recs, *ch, *m1;
	size_t i, k;
	int m;

	cJSON_AddStringToObject(o, "referral", tl->id);
	cJSON_AddBoolToObject(o, "voided", s->voided);
	cJSON_AddBoolToObject(o, "open", s->closed_on < 0);
	recs = cJSON_AddArrayToObject(o, "records");
	for (i = 0; i < tl->n; i++) {
		cJSON *r = cJSON_CreateObject();

		k = states_find(st, tl->v[i].rec->id);
		cJSON_AddItemToObject(r, "record",
		    cJSON_Duplicate(tl->v[i].rec->json, 1));
		if (tl_content(&tl->v[i]) != NULL)
			cJSON_AddItemToObject(r, "effective",
			    cJSON_Duplicate(tl_content(&tl->v[i]), 1));
		cJSON_AddBoolToObject(r, "voided", tl->v[i].voided);
		cJSON_AddStringToObject(r, "sync",
		    cstore_state_name(st->v[k].state));
		if (st->v[k].reason != NULL)
			cJSON_AddItemToObject(r, "errors",
			    cJSON_Parse(st->v[k].reason));
		cJSON_AddItemToArray(recs, r);
	}
	if (s->has_baseline && s->has_followup) {
		ch = cJSON_AddObjectToObject(o, "ons4_change");
		for (m = 0; m < ONS4_N; m++) {
			m1 = cJSON_AddObjectToObject(ch, ons4_measures[m].field);
			cJSON_AddNumberToObject(m1, "baseline",
			    s->baseline.score[m]);
			cJSON_AddNumberToObject(m1, "followup",
			    s->followup.score[m]);
			cJSON_AddNumberToObject(m1, "change",
			    s->followup.score[m] - s->baseline.score[m]);
		}
	}
	return o;
}

static int
run_show(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	struct timeline tl;
	struct tl_summary s;
	struct states st = {0};
	char id[UUID_LEN], kind[16], referral[UUID_LEN];
	pc_rc rc;

	err_init(&errs);
	if ((rc = ctx_store(c, &errs)) != PC_OK ||
	    (rc = cstore_resolve(c->store, o->pos[0], id, kind, referral, NULL,
	    &errs)) != PC_OK ||
	    (rc = cstore_timeline(c->store, referral, &tl, &errs)) != PC_OK)
		return ctx_fail(&errs, rc);
	err_free(&errs);
	if ((rc = states_load(c->store, referral, &st)) != PC_OK) {
		fprintf(stderr, "pcmds: store: the sync states of this referral "
		    "could not be read (%s); nothing is shown\n",
		    pc_strerror(rc));
		states_free(&st);
		tl_free(&tl);
		return exit_for(rc);
	}
	tl_summarise(&tl, &s);
	if (s.referral == NULL) {
		/* records whose referral this device never held */
		printf("Referral %s is not on this device; its records here:\n",
		    uuid_short(referral).s);
		print_timeline_raw(&tl, &st);
		print_quarantine(&st);
		tl_free(&tl);
		states_free(&st);
		return EXIT_OK;
	}
	if (opt_has(o, "json")) {
		cJSON *j = show_json(&tl, &s, &st);
		char *text = cJSON_Print(j);

		printf("%s\n", text);
		free(text);
		cJSON_Delete(j);
	} else {
		print_referral(&s, referral, &st);
		print_timeline(&tl, &st);
		print_ons4_change(&s);
		print_quarantine(&st);
	}
	tl_free(&tl);
	states_free(&st);
	return EXIT_OK;
}

/* list: one line (or object) per referral. */
struct list_ctx {
	struct ctx	*c;
	int		 open_only;
	cJSON		*json;
	int		 count;
	pc_rc		 failed;	/* a referral could not be read */
};

static int
list_one(void *arg, const struct cstore_row *row)
{
	struct list_ctx *lc = arg;
	struct err_list errs;
	struct timeline tl;
	struct tl_summary s;
	struct states st = {0};
	char closed[DATE_LEN] = "open";
	size_t i;
	int pending = 0, quarantined = 0;

	err_init(&errs);
	if ((lc->failed = cstore_timeline(lc->c->store, row->id, &tl,
	    &errs)) != PC_OK) {
		err_free(&errs);
		return 1;
	}
	err_free(&errs);
	tl_summarise(&tl, &s);
	if ((lc->failed = states_load(lc->c->store, row->id, &st)) != PC_OK) {
		states_free(&st);
		tl_free(&tl);
		return 1;
	}
	for (i = 0; i < st.n; i++) {
		pending += st.v[i].state == CS_PENDING;
		quarantined += st.v[i].state == CS_QUARANTINED;
	}
	if (s.closed_on >= 0)
		date_format(s.closed_on, closed);
	if (s.referral != NULL && !s.voided &&
	    !(lc->open_only && s.closed_on >= 0)) {
		lc->count++;
		if (lc->json != NULL) {
			cJSON *j = cJSON_CreateObject();

			cJSON_AddStringToObject(j, "id", row->id);
			cJSON_AddStringToObject(j, "referred_on",
			    rec_str(s.referral, "referred_on"));
			cJSON_AddStringToObject(j, "source",
			    rec_str(s.referral, "source"));
			cJSON_AddNumberToObject(j, "age",
			    rec_int(s.referral, "age", -1));
			cJSON_AddStringToObject(j, "gender",
			    rec_str(s.referral, "gender"));
			if (s.closed_on >= 0)
				cJSON_AddStringToObject(j, "closed_on", closed);
			cJSON_AddNumberToObject(j, "records", (double)tl.n);
			cJSON_AddNumberToObject(j, "pending", pending);
			cJSON_AddNumberToObject(j, "quarantined", quarantined);
			cJSON_AddItemToArray(lc->json, j);
		} else
			printf("%s  %s  %-18s %3d  %-16s %-10s %3zu  %s\n",
			    uuid_short(row->id).s, rec_str(s.referral, "referred_on"),
			    rec_str(s.referral, "source"),
			    rec_int(s.referral, "age", -1),
			    rec_str(s.referral, "gender"), closed, tl.n,
			    quarantined ? "QUARANTINED" : pending ? "pending" :
			    "sent");
	}
	tl_free(&tl);
	states_free(&st);
	return 0;
}

static int
run_list(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	struct list_ctx lc = {c, opt_has(o, "open"), NULL, 0, PC_OK};
	pc_rc rc;

	err_init(&errs);
	if ((rc = ctx_store(c, &errs)) != PC_OK)
		return ctx_fail(&errs, rc);
	err_free(&errs);
	if (opt_has(o, "json"))
		lc.json = cJSON_CreateArray();
	else
		printf("%-8s  %-10s  %-18s %3s  %-16s %-10s %3s  %s\n", "ID",
		    "REFERRED", "SOURCE", "AGE", "GENDER", "CLOSED", "RECS",
		    "SYNC");
	if ((rc = cstore_each(c->store, CSF_REFERRALS, list_one, &lc)) ==
	    PC_OK && (rc = lc.failed) != PC_OK) {
		/* never a list that looks whole with referrals left out */
		cJSON_Delete(lc.json);
		fprintf(stderr, "pcmds: store: a referral could not be read "
		    "(%s); the list is not complete\n", pc_strerror(rc));
		return exit_for(rc);
	}
	if (lc.json != NULL) {
		char *text = cJSON_Print(lc.json);

		printf("%s\n", text);
		free(text);
		cJSON_Delete(lc.json);
	} else if (lc.count == 0)
		printf("(no %sreferrals)\n", lc.open_only ? "open " : "");
	return exit_for(rc);
}

static int
print_refused(void *arg, const struct cstore_row *row)
{
	cJSON *errs = row->reason ? cJSON_Parse(row->reason) : NULL, *e;

	(void)arg;
	cJSON_ArrayForEach(e, errs)
		printf("  %s %-10s %s: %s (%s)\n", uuid_short(row->id).s,
		    row->kind,
		    rec_str(e, "field") ? rec_str(e, "field") : "",
		    rec_str(e, "message") ? rec_str(e, "message") : "",
		    rec_str(e, "code") ? rec_str(e, "code") : "");
	if (cJSON_GetArraySize(errs) == 0)
		printf("  %s %-10s %s\n", uuid_short(row->id).s, row->kind,
		    row->reason ? row->reason : "no reason given");
	cJSON_Delete(errs);
	return 0;
}

static int
run_status(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	long n[CS_NSTATES];
	char last[64];
	pc_rc rc;
	int i;

	err_init(&errs);
	if ((rc = ctx_store(c, &errs)) != PC_OK ||
	    (rc = cstore_counts(c->store, n)) != PC_OK)
		return ctx_fail(&errs, rc);
	err_free(&errs);
	cstore_meta_get(c->store, "last_sync", last, sizeof(last));
	if (opt_has(o, "json")) {
		cJSON *j = cJSON_CreateObject();
		char *text;

		for (i = 0; i < CS_NSTATES; i++)
			cJSON_AddNumberToObject(j, cstore_state_name(
			    (enum cstore_state)i), (double)n[i]);
		cJSON_AddStringToObject(j, "worker", c->cfg.worker);
		cJSON_AddStringToObject(j, "place", c->cfg.place);
		cJSON_AddStringToObject(j, "server", c->cfg.server);
		cJSON_AddBoolToObject(j, "enrolled", c->cfg.token[0] != '\0');
		if (last[0] != '\0')
			cJSON_AddStringToObject(j, "last_sync", last);
		else
			cJSON_AddNullToObject(j, "last_sync");
		text = cJSON_Print(j);
		printf("%s\n", text);
		free(text);
		cJSON_Delete(j);
		return EXIT_OK;
	}
	if (c->cfg.worker[0])
		printf("Identity     worker %s, place %s%s%s\n", c->cfg.worker,
		    c->cfg.place, c->cfg.pcn[0] ? ", PCN " : "", c->cfg.pcn);
	else
		printf("Identity     none: run pcmds setup\n");
	printf("Server       %s\n", c->cfg.token[0] ? c->cfg.server :
	    "(not enrolled: offline only)");
	printf("Records      %ld pending, %ld sent, %ld quarantined\n",
	    n[CS_PENDING], n[CS_SENT], n[CS_QUARANTINED]);
	if (n[CS_SUPERSEDED] + n[CS_WITHDRAWN] > 0)
		printf("             (%ld superseded, %ld withdrawn: kept, not "
		    "sent)\n", n[CS_SUPERSEDED], n[CS_WITHDRAWN]);
	printf("Last sync    %s\n", last[0] ? last : "never");
	fflush(stdout);
	if (n[CS_QUARANTINED] > 0) {
		printf("\nRefused by the server (fix with pcmds correct ID "
		    "--set field=value, or --void;\npcmds show ID gives the "
		    "whole referral):\n");
		if ((rc = cstore_each(c->store, CSF_QUARANTINED, print_refused,
		    NULL)) != PC_OK) {
			fprintf(stderr, "pcmds: store: the refused records could "
			    "not all be read (%s)\n", pc_strerror(rc));
			return exit_for(rc);
		}
	}
	return EXIT_OK;
}

/* export: every live record, NDJSON as stored or CSV flattened. */
struct export_ctx {
	FILE	*out;
	int	 csv;
	long	 n;
};

static int
export_one(void *arg, const struct cstore_row *row)
{
	struct export_ctx *ec = arg;
	struct buf line;
	cJSON *j;

	ec->n++;
	if (!ec->csv) {
		fprintf(ec->out, "%s\n", row->json);
		return ferror(ec->out) != 0;
	}
	if ((j = cJSON_ParseWithLength(row->json, row->json_len)) == NULL)
		return 1;
	buf_init(&line, 0);
	if (reccsv_row(&line, j, cstore_state_name(row->state), NULL) != PC_OK ||
	    buf_failed(&line) != PC_OK) {
		buf_free(&line);
		cJSON_Delete(j);
		return 1;	/* stop: never a row left out */
	}
	fputs(buf_str(&line), ec->out);
	buf_free(&line);
	cJSON_Delete(j);
	return ferror(ec->out) != 0;
}

static int
run_export(struct ctx *c, struct opt_result *o)
{
	struct err_list errs;
	struct export_ctx ec = {stdout, 0, 0};
	const char *fmt = opt_get(o, "format"), *path = opt_get(o, "out");
	struct buf head;
	pc_rc rc;

	if (fmt != NULL && strcmp(fmt, "csv") != 0 && strcmp(fmt, "ndjson")) {
		fprintf(stderr, "pcmds: --format: must be csv or ndjson; got "
		    "\"%s\"\n", fmt);
		return EXIT_USAGE;
	}
	ec.csv = fmt != NULL && strcmp(fmt, "csv") == 0;
	err_init(&errs);
	if ((rc = ctx_store(c, &errs)) != PC_OK)
		return ctx_fail(&errs, rc);
	err_free(&errs);
	if (path != NULL && (ec.out = fopen(path, "wx")) == NULL) {
		fprintf(stderr, "pcmds: --out: cannot create %s (it must not "
		    "exist already)\n", path);
		return EXIT_INVALID;
	}
	if (ec.csv) {
		buf_init(&head, 0);
		reccsv_header(&head, "sync_state", NULL);
		fputs(buf_str(&head), ec.out);
		buf_free(&head);
	}
	rc = cstore_each(c->store, CSF_LIVE, export_one, &ec);
	if (ec.out != stdout && fclose(ec.out) != 0)
		rc = PC_EIO;
	if (path != NULL)
		fprintf(stderr, "pcmds: %ld records written to %s\n", ec.n,
		    path);
	return exit_for(rc);
}

static int
run_codes(struct ctx *c, struct opt_result *o)
{
	static const struct codelist *lists[] = {
		&codes_source, &codes_reason, &codes_service, &codes_gender,
		&codes_ethnicity, &codes_stage, &codes_mode, &codes_support,
		&codes_outcome, &codes_closure,
	};
	size_t i, k;

	(void)c;
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (o->npos > 0 && strcmp(o->pos[0], lists[i]->name) != 0)
			continue;
		printf("%s (%s)\n", lists[i]->title, lists[i]->name);
		for (k = 0; k < lists[i]->n; k++)
			printf("  %-24s %s\n", lists[i]->v[k].code,
			    lists[i]->v[k].label);
		printf("\n");
		if (o->npos > 0)
			return EXIT_OK;
	}
	if (o->npos > 0) {
		fprintf(stderr, "pcmds: no code list named %s\n", o->pos[0]);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static const struct opt_spec list_opts[] = {
	{"open", OPT_FLAG, NULL, "only referrals not yet closed"},
	{"json", OPT_FLAG, NULL, "JSON instead of a table"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

static const struct opt_spec json_opts[] = {
	{"json", OPT_FLAG, NULL, "JSON instead of text"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

static const struct opt_spec export_opts[] = {
	{"format", OPT_VALUE, "FMT", "ndjson (default: the records as stored) "
	    "or csv"},
	{"out", OPT_VALUE, "FILE", "write to FILE (made new) instead of "
	    "stdout"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

static const struct opt_spec codes_opts[] = {
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_list = {
	"list", "", 0, 0, "list the referrals on this device", list_opts,
	run_list, NULL,
};

const struct command cmd_show = {
	"show", "REF", 1, 1, "a referral's timeline, ONS4 change and any "
	"refusals", json_opts, run_show, NULL,
};

const struct command cmd_status = {
	"status", "", 0, 0, "records pending, sent and quarantined; last sync",
	json_opts, run_status, NULL,
};

const struct command cmd_export = {
	"export", "", 0, 0, "write this device's records (NDJSON or CSV)",
	export_opts, run_export, NULL,
};

const struct command cmd_codes = {
	"codes", "[LIST]", 0, 1, "the code lists and their meanings",
	codes_opts, run_codes, NULL,
};

/*
 * test_ingest.c - a follow-up checked against its referral's stored fact
 * (tl_add, agg_step_add) decides and counts exactly as its referral's
 * records do (tl_admit, agg_fact).
 *
 * Random referrals (ages either side of 16, dates out of order and on
 * the same day, declined assessments, closures, corrections of every
 * kind and voids, now and then a record of another place) are fed both
 * ways and must give the same reasons, record by record, and the same
 * fact, byte for byte, after every batch: first the two ways side by
 * side in memory, each batch starting from the fact the last one
 * stored; then through ingest itself on a real store (SQLite, or
 * PostgreSQL with PCMDS_TEST_STORE=postgresql), whose answers, stored
 * facts and take-up rows are held to a timeline that saw every record.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agg.h"
#include "harness.h"
#include "ingest.h"
#include "takeup.h"
#include "timeline.h"

#define PERSON	"5a1f9c0d2e3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5"
#define MAXREC	40

static struct rec_opts opts;
static uint64_t rng;
static int next_id;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11) % n;
}

/* One referral's records, as a device sends them, in order. */
struct gen {
	char		 ref[UUID_LEN];
	char		*text[MAXREC];
	char		 id[MAXREC][UUID_LEN];
	enum rec_kind	 kind[MAXREC];
	int		 stored[MAXREC];	/* through ingest: it was */
	int		 n;
	int32_t		 day0;
};

static void
day(int32_t d, char out[DATE_LEN])
{
	date_format(d, out);
}

static void
add(struct gen *g, enum rec_kind k, const char *place, const char *fields)
{
	char text[2048];

	if (k == KIND_REFERRAL)
		memcpy(g->id[g->n], g->ref, UUID_LEN);
	else
		snprintf(g->id[g->n], UUID_LEN, "00000000-0000-4000-8000-%012d",
		    ++next_id);
	snprintf(text, sizeof(text), "{\"id\":\"%s\",\"schema\":\"pcmds/1\","
	    "\"kind\":\"%s\",\"recorded_at\":\"2026-05-01T10:00:00Z\","
	    "\"device_seq\":%d,\"worker\":\"lw1\",\"place\":\"%s\","
	    "\"referral\":\"%s\",%s}", g->id[g->n], codes_kind.v[k].code,
	    next_id, place, g->ref, fields);
	g->text[g->n] = strdup(text);
	g->kind[g->n] = k;
	g->n++;
}

/* A date near the referral's: before it now and then, often the same. */
static int32_t
near(const struct gen *g)
{
	if (rnd(12) == 0)
		return g->day0 - (int32_t)rnd(4);
	return g->day0 + (int32_t)rnd(8) * (int32_t)rnd(12);
}

static const char *const stages[] = {"baseline", "review", "final"};
static const char *const cats[] = {"arts_culture", "food", "learning"};
static const char *const outcomes[] = {"offered", "taken_up", "declined",
    "completed"};
static const char *const assets[] = {"", "a1", "a2"};

static void
correction(struct gen *g, int t)
{
	char f[512], d[DATE_LEN];
	const char *p = "TH";

	day(near(g), d);
	if (rnd(10) < 3)
		snprintf(f, sizeof(f), "\"target\":\"%s\",\"void\":true,"
		    "\"reason\":\"entered in error\"", g->id[t]);
	else {
		char set[256];

		switch (g->kind[t]) {
		case KIND_REFERRAL:
			if (rnd(2))
				snprintf(set, sizeof(set), "\"age\":%u",
				    14 + rnd(4));
			else
				snprintf(set, sizeof(set), "\"referred_on\":"
				    "\"%s\"", d);
			break;
		case KIND_CONTACT:
			if (rnd(2))
				snprintf(set, sizeof(set), "\"contact_on\":"
				    "\"%s\"", d);
			else
				snprintf(set, sizeof(set), "\"attended\":%s",
				    rnd(2) ? "true" : "false");
			break;
		case KIND_ASSESSMENT:
			if (rnd(2))
				snprintf(set, sizeof(set), "\"assessed_on\":"
				    "\"%s\"", d);
			else
				snprintf(set, sizeof(set), "\"stage\":\"%s\"",
				    stages[rnd(3)]);
			break;
		case KIND_SUPPORT:
			snprintf(set, sizeof(set), "\"outcome\":\"%s\"",
			    outcomes[rnd(4)]);
			break;
		case KIND_CLOSURE:
			snprintf(set, sizeof(set), "\"closed_on\":\"%s\"", d);
			break;
		default:	/* a correction of a correction: refused */
			snprintf(set, sizeof(set), "\"reason\":\"other\"");
		}
		snprintf(f, sizeof(f), "\"target\":\"%s\",\"set\":{%s}",
		    g->id[t], set);
	}
	add(g, KIND_CORRECTION, p, f);
}

static void
generate(struct gen *g, int corrections)
{
	char f[1024], d[DATE_LEN];
	int n = 1 + (int)rnd(MAXREC - 1), k;
	const char *place;

	memset(g, 0, sizeof(*g));
	snprintf(g->ref, sizeof(g->ref), "11111111-0000-4000-8000-%012d",
	    ++next_id);
	g->day0 = date_from_ymd(2025, 1, 1) + (int32_t)rnd(300);
	day(g->day0, d);
	snprintf(f, sizeof(f), "\"person\":\"" PERSON "\",\"person_basis\":"
	    "\"nhs_number\",\"referred_on\":\"%s\",\"source\":\"pharmacy\","
	    "\"reasons\":[\"stress\"],\"service\":\"general\",\"age\":%u,"
	    "\"gender\":\"male\",\"ethnicity\":\"K\","
	    "\"consent_evaluation\":true", d, rnd(3) ? 14 + rnd(4) : 40);
	add(g, KIND_REFERRAL, "TH", f);
	while (g->n < n) {
		place = corrections && rnd(40) == 0 ? "NH" : "TH";
		day(near(g), d);
		k = (int)rnd(corrections ? 40 : 36);
		/* contacts, supports, assessments, closures, corrections */
		k = k < 14 ? 0 : k < 22 ? 3 : k < 34 ? 5 : k < 36 ? 9 : 11;
		switch (k) {
		case 0: case 1: case 2:
			snprintf(f, sizeof(f), "\"contact_on\":\"%s\",\"mode\":"
			    "\"phone\",\"minutes\":20,\"attended\":%s", d,
			    rnd(3) ? "true" : "false");
			add(g, KIND_CONTACT, place, f);
			break;
		case 3: case 4:
			k = (int)rnd(3);
			snprintf(f, sizeof(f), "\"offered_on\":\"%s\","
			    "\"category\":\"%s\",\"provider\":\"Hall\","
			    "\"outcome\":\"%s\"%s%s%s", d, cats[rnd(3)],
			    outcomes[rnd(4)], k ? ",\"asset\":\"" : "", assets[k],
			    k ? "\"" : "");
			add(g, KIND_SUPPORT, place, f);
			break;
		case 5: case 6: case 7: case 8:
			if (rnd(5) == 0)
				snprintf(f, sizeof(f), "\"assessed_on\":\"%s\","
				    "\"stage\":\"%s\",\"declined\":true", d,
				    stages[rnd(3)]);
			else
				snprintf(f, sizeof(f), "\"assessed_on\":\"%s\","
				    "\"stage\":\"%s\",\"life_satisfaction\":%u,"
				    "\"worthwhile\":%u,\"happy\":%u,"
				    "\"anxious\":%u", d, stages[rnd(3)], rnd(11),
				    rnd(11), rnd(11), rnd(11));
			add(g, KIND_ASSESSMENT, place, f);
			break;
		case 9: case 10:
			snprintf(f, sizeof(f), "\"closed_on\":\"%s\","
			    "\"reason\":\"goals_met\"", d);
			add(g, KIND_CLOSURE, place, f);
			break;
		default:
			correction(g, (int)rnd((uint32_t)g->n));
		}
	}
}

static void
gen_free(struct gen *g)
{
	int i;

	for (i = 0; i < g->n; i++)
		free(g->text[i]);
}

static struct rec *
parse(const char *text)
{
	struct err_list errs;
	struct rec *r = NULL;

	err_init(&errs);
	if (rec_parse(text, strlen(text), &opts, &r, &errs) != PC_OK)
		fail_msg("fixture invalid (%s): %s", errs.n ? errs.v[0].msg :
		    "?", text);
	err_free(&errs);
	return r;
}

/* Reasons as one line each, for comparing. */
static void
reasons(const struct err_list *e, char *out, size_t len)
{
	size_t i, at = 0;

	out[0] = '\0';
	for (i = 0; i < e->n && at < len; i++)
		at += (size_t)snprintf(out + at, len - at, "%s %s: %s\n",
		    err_code_name(e->v[i].code), e->v[i].field, e->v[i].msg);
}

static void
fact_blob(const struct fact *f, struct buf *b)
{
	buf_reset(b);
	assert_int_equal(agg_fact_encode(f, b), PC_OK);
}

static void
same_fact(const struct fact *a, const struct fact *b, const char *what)
{
	struct buf x, y;

	buf_init(&x, 0);
	buf_init(&y, 0);
	fact_blob(a, &x);
	fact_blob(b, &y);
	if (x.len != y.len || memcmp(x.p, y.p, x.len) != 0 ||
	    memcmp(a, b, sizeof(*a)) != 0)
		fail_msg("%s: the stepped fact differs from the timeline's "
		    "(records %d/%d, contacts %d/%d, pair %d/%d, closed %d/%d, "
		    "last %d/%d)", what, a->records, b->records, a->contacts,
		    b->contacts, a->has_pair, b->has_pair, a->closed_on,
		    b->closed_on, a->last_on, b->last_on);
	buf_free(&x);
	buf_free(&y);
}

/* What both ways did, over every referral. */
static long n_stepped, n_fell_back, n_rejected, n_batches;

/*
 * One referral both ways in memory. The timeline way sees every record;
 * the stepped way starts each batch from the fact stored at the end of
 * the last (encoded and read back, as the store holds it), and reads
 * the records admitted so far only when the fact cannot tell.
 */
static void
both_ways(const struct gen *g)
{
	struct timeline full, tl;
	struct agg_step step;
	struct fact ff, fs;
	struct buf stored;
	char ra[4096], rb[4096];
	const char *admitted[MAXREC];
	int nadm = 0, i = 0, j, k, fix, on_step, added, nb;

	tl_init(&full, g->ref);
	buf_init(&stored, 0);
	while (i < g->n) {
		nb = 1 + (int)rnd(8);
		if (i + nb > g->n)
			nb = g->n - i;
		n_batches++;
		/* as ingest: a batch with a correction or the referral reads
		   the records; others start from the stored fact, if any */
		fix = 0;
		for (j = i; j < i + nb; j++)
			fix |= g->kind[j] == KIND_REFERRAL ||
			    g->kind[j] == KIND_CORRECTION;
		on_step = !fix && stored.len > 0 &&
		    agg_step_init(&step, stored.p, stored.len) == PC_OK;
		tl_init(&tl, g->ref);
		if (!on_step)
			for (k = 0; k < nadm; k++)
				assert_int_equal(tl_load(&tl,
				    parse(admitted[k])), PC_OK);
		for (j = i; j < i + nb; j++) {
			struct err_list ea, eb;
			struct rec *a = parse(g->text[j]), *b = parse(g->text[j]);
			int oka, okb;

			err_init(&ea);
			err_init(&eb);
			oka = tl_admit(&full, a, &opts, &ea) == PC_OK;
			if (!oka)
				rec_free(a);
			added = 0;
			if (on_step) {
				assert_int_equal(agg_step_add(&step, b, &added),
				    PC_OK);
				if (!added) {
					agg_step_free(&step);
					on_step = 0;
					n_fell_back++;
					for (k = 0; k < nadm; k++)
						assert_int_equal(tl_load(&tl,
						    parse(admitted[k])), PC_OK);
				} else
					n_stepped++;
			}
			if (added) {
				okb = 1;
				rec_free(b);
			} else if (!(okb = tl_admit(&tl, b, &opts, &eb) ==
			    PC_OK))
				rec_free(b);
			reasons(&ea, ra, sizeof(ra));
			reasons(&eb, rb, sizeof(rb));
			if (oka != okb || strcmp(ra, rb) != 0)
				fail_msg("record %d of %s: admitted %d, %s; "
				    "stepped way %d, %s", j, g->ref, oka, ra,
				    okb, rb);
			n_rejected += !oka;
			if (okb)
				admitted[nadm++] = g->text[j];
			err_free(&ea);
			err_free(&eb);
		}
		agg_fact(&full, &ff);
		if (on_step) {
			fs = step.f;
			agg_step_free(&step);
		} else
			agg_fact(&tl, &fs);
		tl_free(&tl);
		same_fact(&fs, &ff, g->ref);
		if (ff.place[0] != '\0')
			fact_blob(&fs, &stored);
		i += nb;
	}
	tl_free(&full);
	buf_free(&stored);
}

static void
test_both_ways(void **state)
{
	struct gen g;
	/* memcheck is slow: a tenth as many there */
	long n = getenv("PCMDS_VALGRIND") != NULL ? 150 : 3000, i;

	(void)state;
	rng = 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < n; i++) {
		generate(&g, 1);
		both_ways(&g);
		gen_free(&g);
	}
	print_message("%ld batches; %ld records added to a fact, %ld times "
	    "the records decided instead; %ld refused\n", n_batches,
	    n_stepped, n_fell_back, n_rejected);
	/* both ways were really taken, and the rules did refuse */
	assert_true(n_stepped > 3 * n);
	assert_true(n_fell_back > n / 3);
	assert_true(n_rejected > 2 * n);
}

/* -- through ingest, on a store ------------------------------------------ */

static struct store *st;
static struct store_auth who;

/* The directory entries a1 and a2 of TH, that support records name. */
static void
assets_put(struct store *s)
{
	struct store_asset a;
	int i;

	memset(&a, 0, sizeof(a));
	snprintf(a.place, sizeof(a.place), "TH");
	snprintf(a.category, sizeof(a.category), "food");
	a.active = 1;
	assert_int_equal(store_begin(s), PC_OK);
	for (i = 1; i <= 2; i++) {
		snprintf(a.id, sizeof(a.id), "a%d", i);
		snprintf(a.name, sizeof(a.name), "Asset %d", i);
		assert_int_equal(store_asset_put(s, &a), PC_OK);
	}
	assert_int_equal(store_commit(s), PC_OK);
}

static int
open_store(void **state)
{
	static const uint8_t key[SEC_SHA256_LEN] = {7, 7, 7};
	struct err_list errs;
	const char *db = th_store_pg() ? th_pg_db(NULL) :
	    th_path(th_tmpdir(), "ingest.db");

	(void)state;
	err_init(&errs);
	if (store_open(db, &st, &errs) != PC_OK)
		fail_msg("store: %s", errs.n ? errs.v[0].msg : "?");
	err_free(&errs);
	store_audit_key_set(st, key);
	assets_put(st);
	memset(&who, 0, sizeof(who));
	who.user.id = 1;
	who.user.role = ROLE_LINK_WORKER;
	snprintf(who.user.place, sizeof(who.user.place), "TH");
	snprintf(who.user.worker, sizeof(who.user.worker), "lw1");
	snprintf(who.device, sizeof(who.device), "%s",
	    "22222222-0000-4000-8000-000000000001");
	return 0;
}

static int
close_store(void **state)
{
	(void)state;
	store_close(st);
	return 0;
}

struct staged {
	struct fact	*v;
	size_t		 n;
};

static pc_rc
stage(void *arg, struct store *s, struct ingest *in)
{
	struct staged *sg = arg;

	free(sg->v);
	return agg_stage(s, &in->timelines, &in->steps, &sg->v, &sg->n);
}

static int
one_blob(void *arg, const char *referral, const void *blob, size_t len)
{
	struct buf *b = arg;

	(void)referral;
	buf_reset(b);
	return buf_add(b, blob, len) != PC_OK;
}

/* The take-up rows the timeline says, as "asset=taken;" sorted. */
static int
by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct rows {
	char	*v[64];
	int	 n;
	const char *ref;
};

static int
one_row(void *arg, const char *referral, int64_t key,
    const struct store_takeup *u)
{
	struct rows *r = arg;
	char t[64];

	assert_true(key > 0);
	if (strcmp(referral, r->ref) != 0 || r->n == 64)
		return 0;
	snprintf(t, sizeof(t), "%s=%d", u->asset, u->taken != 0);
	r->v[r->n++] = strdup(t);
	return 0;
}

static void
rows_of_timeline(const struct timeline *tl, const struct fact *f,
    struct rows *r)
{
	size_t i;
	int k;

	r->n = 0;
	for (i = 1; !f->voided && i < tl->n; i++) {
		const char *asset;
		char t[64];
		int taken, found = 0;

		if (tl->v[i].voided || tl->v[i].rec->kind != KIND_SUPPORT)
			continue;
		taken = takeup_of(tl_content(&tl->v[i]), &asset);
		for (k = 0; k < r->n; k++)
			if (strncmp(r->v[k], asset, strlen(asset)) == 0 &&
			    r->v[k][strlen(asset)] == '=') {
				if (taken)
					r->v[k][strlen(asset) + 1] = '1';
				found = 1;
			}
		if (!found) {
			snprintf(t, sizeof(t), "%s=%d", asset, taken);
			r->v[r->n++] = strdup(t);
		}
	}
	qsort(r->v, (size_t)r->n, sizeof(r->v[0]), by_text);
}

static void
rows_free(struct rows *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		free(r->v[i]);
	r->n = 0;
}

/* The referral as stored, against the timeline that saw every record. */
static void
check_stored(const struct gen *g, const struct timeline *full)
{
	struct fact want, got;
	struct buf b;
	struct rows rw = {{0}, 0, g->ref}, rg = {{0}, 0, g->ref};
	const char *ref = g->ref;
	int v, i;

	agg_fact(full, &want);
	if (want.place[0] == '\0')
		return;
	buf_init(&b, 0);
	assert_int_equal(store_facts_of(st, &ref, 1, one_blob, &b), PC_OK);
	assert_true(b.len > 0);
	assert_int_equal(agg_fact_decode(b.p, b.len, &got, &v), 0);
	same_fact(&got, &want, g->ref);
	rows_of_timeline(full, &want, &rw);
	assert_int_equal(store_takeup_each(st, "TH", want.referred_on,
	    want.referred_on, one_row, &rg), PC_OK);
	qsort(rg.v, (size_t)rg.n, sizeof(rg.v[0]), by_text);
	assert_int_equal(rg.n, rw.n);
	for (i = 0; i < rw.n; i++)
		assert_string_equal(rg.v[i], rw.v[i]);
	rows_free(&rw);
	rows_free(&rg);
	buf_free(&b);
}

#define NREF	150

struct entry_find {
	int64_t	 chain, seq;
	char	*object;	/* the entry's, copied */
};

static int
entry_of(void *arg, const struct store_audit *a)
{
	struct entry_find *f = arg;

	if (a->chain == f->chain && a->seq == f->seq)
		f->object = strdup(a->object);
	return 0;
}

/*
 * The answer and the audit entry of a batch against what ingest_run
 * left in in: each result's index, id and status in its place, the
 * summary's counts, the entry naming each stored id in order.
 */
static void
check_answer_and_entry(const struct ingest *in)
{
	struct entry_find f = {in->audit_chain, in->audit_seq, NULL};
	const cJSON *res, *sum, *id;
	struct buf b, want;
	long count[MR_N] = {0};
	static const char *const names[MR_N] = {
		"stored", "duplicate", "conflict", "rejected",
	};
	cJSON *j;
	size_t k;

	buf_init(&b, 0);
	buf_init(&want, 0);
	assert_int_equal(ingest_answer(in, &b), PC_OK);
	j = th_json(buf_str(&b));
	res = cJSON_GetObjectItem(j, "results");
	assert_int_equal(cJSON_GetArraySize(res), (int)in->n);
	buf_addf(&want, "device %s; stored", who.device);
	for (k = 0; k < in->n; k++) {
		const cJSON *r = cJSON_GetArrayItem(res, (int)k);

		assert_int_equal(cJSON_GetObjectItem(r, "index")->valuedouble,
		    (double)k);
		id = cJSON_GetObjectItem(r, "id");
		if (in->v[k].id[0] != '\0')
			assert_string_equal(id->valuestring, in->v[k].id);
		else
			assert_true(cJSON_IsNull(id));
		assert_string_equal(cJSON_GetObjectItem(r, "status")->
		    valuestring, names[in->v[k].status]);
		count[in->v[k].status]++;
		if (in->v[k].status == MR_STORED)
			buf_addf(&want, " %s", in->v[k].id);
	}
	sum = cJSON_GetObjectItem(j, "summary");
	for (k = 0; k < MR_N; k++)
		assert_int_equal(cJSON_GetObjectItem(sum, names[k])->
		    valuedouble, (double)count[k]);
	assert_int_equal(store_audit_each(st, entry_of, &f), PC_OK);
	assert_non_null(f.object);
	assert_string_equal(f.object, buf_str(&want));
	free(f.object);
	cJSON_Delete(j);
	buf_free(&b);
	buf_free(&want);
}

/*
 * The id each result names: a valid record's, a rejected record's when
 * it is a valid id, none when the id is not one (or not text, or the
 * text not JSON).
 */
static void
test_answer_ids(void **state)
{
	static const char *const ids[] = {
		"0b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f",	/* valid */
		"1b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f",	/* age out of range */
		"not-a-uuid",
		"00000000-0000-0000-0000-000000000000",	/* nil */
		"2B7F3C2E-5D4A-4E6B-9C8D-1A2B3C4D5E6F",	/* not lowercase */
		"3b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f0",	/* too long */
	};
	static const char *const want[] = {
		"0b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f",
		"1b7f3c2e-5d4a-4e6b-9c8d-1a2b3c4d5e6f", "", "", "", "", "",
	};
	enum { N = sizeof(ids) / sizeof(ids[0]) };
	struct jsplit_span v[N + 1];
	char text[N + 1][1024];
	struct ingest in;
	size_t k;

	(void)state;
	for (k = 0; k < N; k++) {
		snprintf(text[k], sizeof(text[k]), "{\"age\":%d,"
		    "\"consent_evaluation\":true,\"device_seq\":%zu,"
		    "\"ethnicity\":\"K\",\"gender\":\"male\",\"id\":\"%s\","
		    "\"kind\":\"referral\",\"pcn\":\"U12345\","
		    "\"person\":\"" PERSON "\",\"person_basis\":\"local\","
		    "\"place\":\"TH\",\"reasons\":[\"stress\"],"
		    "\"recorded_at\":\"2026-03-02T10:15:00Z\","
		    "\"referral\":\"%s\",\"referred_on\":\"2026-03-01\","
		    "\"schema\":\"pcmds/1\",\"service\":\"general\","
		    "\"source\":\"pharmacy\",\"worker\":\"lw1\"}",
		    k == 1 ? 130 : 40, k + 1, ids[k], ids[k]);
		v[k].p = text[k];
		v[k].len = strlen(text[k]);
	}
	/* an id that is a number */
	snprintf(text[N], sizeof(text[N]), "{\"id\":7,\"kind\":\"contact\"}");
	v[N].p = text[N];
	v[N].len = strlen(text[N]);
	ingest_init(&in);
	assert_int_equal(ingest_check_text(&in, v, N + 1, &opts), PC_OK);
	assert_int_equal(in.n, N + 1);
	assert_int_equal(in.v[0].checked, PC_OK);
	for (k = 1; k <= N; k++)
		assert_int_equal(in.v[k].checked, PC_EINVAL);
	for (k = 0; k <= N; k++)
		assert_string_equal(in.v[k].id, want[k]);
	ingest_free(&in);
}

static void
test_through_ingest(void **state)
{
	static struct gen g[NREF];
	struct timeline full[NREF];
	int at[NREF], left = 0, i, k, n;
	/* memcheck is slow: fewer referrals there */
	int nref = getenv("PCMDS_VALGRIND") != NULL ? NREF / 5 : NREF;
	long count[MR_N] = {0};
	struct staged sg = {NULL, 0};

	(void)state;
	rng = 0x2545f4914f6cdd1dULL;
	for (i = 0; i < nref; i++) {
		/* places: one device's, so every record passes its checks */
		generate(&g[i], 1);
		for (k = 0; k < g[i].n; k++)
			if (strstr(g[i].text[k], "\"place\":\"NH\"") != NULL)
				memcpy(strstr(g[i].text[k], "\"NH\"") + 1, "TH",
				    2);
		tl_init(&full[i], g[i].ref);
		at[i] = 0;
		left += g[i].n;
	}
	while (left > 0) {
		struct ingest in;
		cJSON *arr = cJSON_CreateArray();
		int who_[80], idx[80];
		enum metrics_result want[80];
		char *said[80];

		/*
		 * A batch: the next records of referrals picked at random,
		 * each referral's in its order, what the timeline says of each
		 * worked out as it is added; now and then a record stored
		 * before sent again (a duplicate), or its id with other
		 * content (a conflict).
		 */
		for (n = 0; n < 64 && left > 0 && (n == 0 || rnd(30) != 0);) {
			struct err_list e;
			struct rec *r;
			char ra[4096];
			const char *text;

			i = (int)rnd((uint32_t)nref);
			k = at[i] > 0 ? (int)rnd((uint32_t)at[i]) : 0;
			if (at[i] > 0 && rnd(12) == 0 && g[i].stored[k]) {
				text = g[i].text[k];
				if (g[i].kind[k] == KIND_CONTACT && rnd(2) &&
				    strstr(text, "\"minutes\":20") != NULL) {
					static char other[2048];

					snprintf(other, sizeof(other), "%s", text);
					memcpy(strstr(other, "\"minutes\":20") +
					    10, "21", 2);
					cJSON_AddItemToArray(arr, th_json(other));
					want[n] = MR_CONFLICT;
					snprintf(ra, sizeof(ra), "E_CONFLICT id: a "
					    "different record with id %s is "
					    "already stored; it was kept, this "
					    "one was not\n", uuid_short(
					    g[i].id[k]).s);
				} else {
					cJSON_AddItemToArray(arr, th_json(text));
					want[n] = MR_DUPLICATE;
					ra[0] = '\0';
				}
				who_[n] = i;
				idx[n] = k;
				said[n++] = strdup(ra);
				continue;
			}
			if (at[i] == g[i].n)
				continue;
			cJSON_AddItemToArray(arr, th_json(g[i].text[at[i]]));
			r = parse(g[i].text[at[i]]);
			err_init(&e);
			if (!(g[i].stored[at[i]] = tl_admit(&full[i], r, &opts,
			    &e) == PC_OK))
				rec_free(r);
			want[n] = g[i].stored[at[i]] ? MR_STORED : MR_REJECTED;
			reasons(&e, ra, sizeof(ra));
			err_free(&e);
			who_[n] = i;
			said[n] = strdup(ra);
			idx[n++] = at[i]++;
			left--;
		}
		ingest_init(&in);
		assert_int_equal(ingest_run(&in, st, &who, arr, &opts,
		    1700000000, stage, &sg), PC_OK);
		assert_int_equal(in.n, n);
		for (k = 0; k < n; k++) {
			char rb[4096];

			reasons(&in.v[k].errs, rb, sizeof(rb));
			if (in.v[k].status != want[k] ||
			    strcmp(said[k], rb) != 0)
				fail_msg("%s: ingest said %d, %s; the timeline "
				    "%d, %s", g[who_[k]].text[idx[k]],
				    in.v[k].status, rb, want[k], said[k]);
			free(said[k]);
			count[want[k]]++;
		}
		check_answer_and_entry(&in);
		ingest_free(&in);
		cJSON_Delete(arr);
		for (k = 0; k < n; k++)
			check_stored(&g[who_[k]], &full[who_[k]]);
	}
	print_message("stored %ld, duplicate %ld, conflict %ld, rejected %ld\n",
	    count[MR_STORED], count[MR_DUPLICATE], count[MR_CONFLICT],
	    count[MR_REJECTED]);
	for (k = 0; k < MR_N; k++)
		assert_true(count[k] > nref / 10);
	free(sg.v);
	for (i = 0; i < nref; i++) {
		check_stored(&g[i], &full[i]);
		tl_free(&full[i]);
		gen_free(&g[i]);
	}
}

/*
 * The keys of the referrals' facts (store.h), by which the aggregates
 * find a fact again without its id: 1, 2, 3... one a referral, the same
 * after a restart and after the migration from the schema without them
 * (figures and cell keys as they were, take-up rows keyed as their
 * facts), and records ingested after either update their referral's
 * fact, not a new one: figures as a start from the store gives them, at
 * commit and (PostgreSQL) through another server's catch-up.
 */
#define KEYS_N	40

struct keyed {
	char	 id[UUID_LEN];
	int64_t	 key;
};

struct keys {
	struct keyed	 v[KEYS_N];
	int		 n;
};

static int
key_row(void *arg, int64_t key, const void *blob, size_t len)
{
	struct keys *k = arg;
	struct fact f;
	int v;

	assert_true(agg_fact_decode(blob, len, &f, &v) >= 0);
	assert_true(k->n < KEYS_N);
	memcpy(k->v[k->n].id, f.id, UUID_LEN);
	k->v[k->n++].key = key;
	return 0;
}

static int
by_id(const void *a, const void *b)
{
	return strcmp(((const struct keyed *)a)->id,
	    ((const struct keyed *)b)->id);
}

static int
by_key(const void *a, const void *b)
{
	int64_t x = ((const struct keyed *)a)->key;
	int64_t y = ((const struct keyed *)b)->key;

	return (x > y) - (x < y);
}

/* Every fact's key, by referral id; they are 1..n, each once. */
static void
keys_of(struct store *s, struct keys *k)
{
	struct keys sorted;
	int i;

	memset(k, 0, sizeof(*k));
	assert_int_equal(store_fact_each(s, key_row, k), PC_OK);
	sorted = *k;
	qsort(sorted.v, (size_t)sorted.n, sizeof(sorted.v[0]), by_key);
	for (i = 0; i < sorted.n; i++)
		assert_int_equal(sorted.v[i].key, i + 1);
	qsort(k->v, (size_t)k->n, sizeof(k->v[0]), by_id);
}

static void
same_keys(const struct keys *a, const struct keys *b)
{
	int i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_string_equal(a->v[i].id, b->v[i].id);
		assert_int_equal(a->v[i].key, b->v[i].key);
	}
}

static int
takeup_key(void *arg, const char *referral, int64_t key,
    const struct store_takeup *u)
{
	const struct keys *k = arg;
	struct keyed want, *f;

	(void)u;
	snprintf(want.id, sizeof(want.id), "%s", referral);
	f = bsearch(&want, k->v, (size_t)k->n, sizeof(k->v[0]), by_id);
	assert_non_null(f);
	assert_int_equal(key, f->key);
	return 0;
}

/* The figures of every place, cell keys too. */
static void
figures(struct agg *a, struct agg_cell *out)
{
	struct agg_query q = {-1, INT32_MIN, INT32_MAX, DIM_NONE};
	struct agg_result r;

	assert_int_equal(agg_run(a, &q, &r), PC_OK);
	*out = r.total;
	agg_result_free(&r);
}

/* What a start from the store holds: the figures of a. */
static void
same_as_start(struct store *s, struct agg *a)
{
	static const uint8_t cell[32] = {9, 8, 7};
	struct agg_cell *x, *y;
	struct err_list errs;
	char upto[STORE_SNAP_LEN];
	struct agg *b;

	x = malloc(sizeof(*x));
	y = malloc(sizeof(*y));
	assert_true(x != NULL && y != NULL);
	err_init(&errs);
	assert_int_equal(agg_open(&b, s, cell, upto, &errs), PC_OK);
	err_free(&errs);
	figures(a, x);
	figures(b, y);
	assert_true(x->referrals > 0);
	assert_memory_equal(x, y, sizeof(*x));
	agg_close(b);
	free(x);
	free(y);
}

/* Records (texts) through ingest on s, applied to a at commit. */
static long
ingest_texts(struct store *s, struct agg *a, char *const *texts, int n)
{
	struct staged sg = {NULL, 0};
	cJSON *arr = cJSON_CreateArray();
	struct ingest in;
	long stored = 0;
	size_t k;
	int i;

	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, th_json(texts[i]));
	ingest_init(&in);
	assert_int_equal(ingest_run(&in, s, &who, arr, &opts, 1700000000,
	    stage, &sg), PC_OK);
	for (k = 0; k < in.n; k++)
		stored += in.v[k].status == MR_STORED;
	if (a != NULL)
		agg_apply(a, sg.v, sg.n);
	free(sg.v);
	ingest_free(&in);
	cJSON_Delete(arr);
	return stored;
}

/* A contact on the day of each referral's first record: a change. */
static long
contacts_for(struct store *s, struct agg *a, struct gen *g, int n)
{
	char *texts[KEYS_N], d[DATE_LEN];
	long stored;
	int i;

	for (i = 0; i < n; i++) {
		char f[256];

		day(g[i].day0, d);
		snprintf(f, sizeof(f), "\"contact_on\":\"%s\",\"mode\":"
		    "\"phone\",\"minutes\":20,\"attended\":true", d);
		add(&g[i], KIND_CONTACT, "TH", f);
		texts[i] = g[i].text[g[i].n - 1];
	}
	stored = ingest_texts(s, a, texts, n);
	return stored;
}

static void
store_reopen(struct store **s, const char *db)
{
	struct err_list errs;

	store_close(*s);
	err_init(&errs);
	if (store_open(db, s, &errs) != PC_OK)
		fail_msg("store: %s", errs.n ? errs.v[0].msg : "?");
	err_free(&errs);
	store_audit_key_set(*s, (const uint8_t[SEC_SHA256_LEN]){7, 7, 7});
}

/* Back to the schema before keys, as an older pcmdsd left it. */
static void
unkey(const char *db)
{
	if (th_store_pg()) {
		th_sql(db, "DROP INDEX referrals_by_k; ALTER TABLE referrals "
		    "DROP COLUMN k; DELETE FROM pcmds_schema WHERE version = 5");
		return;
	}
	th_sql(db, "CREATE TABLE f8(referral TEXT PRIMARY KEY, place TEXT NOT "
	    "NULL, referred_on INTEGER NOT NULL, exportable INTEGER NOT NULL, "
	    "data BLOB NOT NULL) STRICT, WITHOUT ROWID;"
	    "INSERT INTO f8 SELECT referral, place, referred_on, exportable, "
	    "data FROM facts; DROP TABLE facts; ALTER TABLE f8 RENAME TO facts;"
	    "CREATE INDEX facts_by_place ON facts(place, referred_on);"
	    "CREATE TABLE t8(referral TEXT NOT NULL, asset TEXT NOT NULL, "
	    "place TEXT NOT NULL, referred_on INTEGER NOT NULL, taken INTEGER "
	    "NOT NULL, PRIMARY KEY (referral, asset)) STRICT, WITHOUT ROWID;"
	    "INSERT INTO t8 SELECT referral, asset, place, referred_on, taken "
	    "FROM takeup; DROP TABLE takeup; ALTER TABLE t8 RENAME TO takeup;"
	    "CREATE INDEX takeup_by_place ON takeup(place, referred_on, taken);"
	    "PRAGMA user_version = 8");
}

static void
test_keys(void **state)
{
	static const uint8_t cell[32] = {9, 8, 7};
	static struct gen g[KEYS_N];
	struct keys k0, k1;
	struct err_list errs;
	char upto[STORE_SNAP_LEN], dir[256], db[300], file[300];
	struct agg *a;
	long rows = 0;
	int i, j;

	(void)state;
	rng = 0x9e3779b97f4a7c15ULL;
	snprintf(dir, sizeof(dir), "%s", th_path(th_tmpdir(), "keys"));
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(file, sizeof(file), "%s", th_path(dir, "pcmds.db"));
	snprintf(db, sizeof(db), "%s", file);
	if (th_store_pg()) {
		char conf[512];

		/* th_sql finds the database beside its "file" */
		snprintf(conf, sizeof(conf), "database = %s\n", th_pg_db(NULL));
		th_write(th_path(dir, "pcmdsd.conf"), conf);
		snprintf(db, sizeof(db), "%s", th_db_uri(file));
	}
	store_close(st);
	st = NULL;
	store_reopen(&st, db);
	assets_put(st);
	err_init(&errs);
	assert_int_equal(agg_open(&a, st, cell, upto, &errs), PC_OK);
	err_free(&errs);
	/* referrals in batches of a few, facts applied as they commit */
	for (i = 0; i < KEYS_N; i++)
		generate(&g[i], 0);
	for (i = 0; i < KEYS_N; i += 4)
		for (j = 0; j < MAXREC; j++) {
			char *texts[4];
			int n = 0, m;

			for (m = i; m < i + 4 && m < KEYS_N; m++)
				if (j < g[m].n)
					texts[n++] = g[m].text[j];
			if (n > 0)
				rows += ingest_texts(st, a, texts, n);
		}
	assert_true(rows > KEYS_N);
	keys_of(st, &k0);
	assert_int_equal(k0.n, KEYS_N);
	assert_int_equal(store_takeup_each(st, "TH", INT32_MIN, INT32_MAX,
	    takeup_key, &k0), PC_OK);
	same_as_start(st, a);

	/* a restart: the same keys; a change updates its fact */
	store_reopen(&st, db);
	keys_of(st, &k1);
	same_keys(&k0, &k1);
	agg_close(a);
	err_init(&errs);
	assert_int_equal(agg_open(&a, st, cell, upto, &errs), PC_OK);
	err_free(&errs);
	assert_true(contacts_for(st, a, g, 10) > 0);
	same_as_start(st, a);
	keys_of(st, &k1);
	same_keys(&k0, &k1);

	/* the schema before keys, migrated: figures and take-up as they
	   were, every referral keyed once */
	agg_close(a);
	store_close(st);
	st = NULL;
	unkey(file);
	store_reopen(&st, db);
	keys_of(st, &k1);
	assert_int_equal(k1.n, KEYS_N);
	for (i = 0; i < KEYS_N; i++)
		assert_string_equal(k1.v[i].id, k0.v[i].id);
	assert_int_equal(store_takeup_each(st, "TH", INT32_MIN, INT32_MAX,
	    takeup_key, &k1), PC_OK);
	err_init(&errs);
	assert_int_equal(agg_open(&a, st, cell, upto, &errs), PC_OK);
	err_free(&errs);
	assert_true(contacts_for(st, a, g + 10, 10) > 0);
	same_as_start(st, a);
	keys_of(st, &k0);
	same_keys(&k0, &k1);

	/* another server's changes, as a catch-up reads them */
	if (th_store_pg()) {
		struct agg_catch c = {upto, NULL, 0, -1, "", 0};
		struct store *other = NULL;

		store_reopen(&other, db);
		assert_true(contacts_for(other, NULL, g + 20, 10) > 0);
		assert_int_equal(agg_catch_up(a, st, &c), PC_OK);
		assert_true(c.read > 0);
		same_as_start(st, a);
		store_close(other);
	}
	agg_close(a);
	for (i = 0; i < KEYS_N; i++)
		gen_free(&g[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_both_ways),
		cmocka_unit_test(test_answer_ids),
		cmocka_unit_test_setup_teardown(test_through_ingest,
		    open_store, close_store),
		cmocka_unit_test_setup_teardown(test_keys, open_store,
		    close_store),
	};

	opts.today = date_from_ymd(2026, 11, 22);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * takeup.c - take-up per community asset: each referral's, kept on
 * ingest beside its fact; a place's, added up per request.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "takeup.h"

/* One row: an entry of the directory, or the free text. */
struct row {
	struct store_asset	 a;
	struct sdc_n		 n_off, n_take;
};

struct takeup {
	struct agg	*agg;
	struct row	*v;		/* the directory's rows, then free text */
	size_t		 n, cap;
	struct map	 by_id;		/* asset id -> row index + 1 */
	struct seen	*seen;		/* the place's take-up rows */
	size_t		 nseen, capseen;
	pc_rc		 rc;
};

static struct row *
row_add(struct takeup *t, const struct store_asset *a)
{
	struct row *nv;

	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 32;

		if ((nv = realloc(t->v, ncap * sizeof(*nv))) == NULL)
			return NULL;
		t->v = nv;
		t->cap = ncap;
	}
	nv = &t->v[t->n];
	memset(nv, 0, sizeof(*nv));
	nv->a = *a;
	if (a->id[0] != '\0' && map_put(&t->by_id, a->id, (void *)(uintptr_t)
	    (t->n + 1)) != PC_OK)
		return NULL;
	t->n++;
	return nv;
}

static int
load_entry(void *arg, const struct store_asset *a)
{
	struct takeup *t = arg;

	if (row_add(t, a) == NULL) {
		t->rc = PC_ENOMEM;
		return 1;
	}
	return 0;
}

/*
 * The row an asset id counts in: its entry's, or the free text's ("",
 * row 0). An asset no longer in the directory cannot be (entries are
 * never deleted), but if it were it gets a row of its own, not lost.
 */
static struct row *
row_of(struct takeup *t, const char *id)
{
	uintptr_t i;
	struct store_asset a;

	if (id[0] == '\0')
		return &t->v[0];
	if ((i = (uintptr_t)map_get(&t->by_id, id)) != 0)
		return &t->v[i - 1];
	memset(&a, 0, sizeof(a));
	snprintf(a.id, sizeof(a.id), "%s", id);
	snprintf(a.name, sizeof(a.name), "%s", id);
	return row_add(t, &a);
}

/*
 * A row read from the store, counted once the aggregates are locked: a
 * place's rows can number several for each of its referrals, so each is
 * held in 20 bytes, its referral's id binary.
 */
struct seen {
	int64_t		 key;		/* its referral's (store.h) */
	uint32_t	 row;		/* its row, and SEEN_TAKEN */
};

#define SEEN_TAKEN	0x80000000u

static int
one_row(void *arg, const char *referral, int64_t key,
    const struct store_takeup *u)
{
	struct takeup *t = arg;
	struct row *r;
	struct seen *ns;

	if ((r = row_of(t, u->asset)) == NULL)
		goto nomem;
	if (t->nseen == t->capseen) {
		size_t cap = t->capseen + t->capseen / 2 + 1024;

		if ((ns = realloc(t->seen, cap * sizeof(*ns))) == NULL)
			goto nomem;
		t->seen = ns;
		t->capseen = cap;
	}
	(void)referral;
	ns = &t->seen[t->nseen];
	ns->key = key;
	if ((size_t)(r - t->v) >= SEEN_TAKEN)
		return 0;	/* never a fact's: the aggregates count none */
	ns->row = (uint32_t)(r - t->v) | (u->taken != 0 ? SEEN_TAKEN : 0);
	t->nseen++;
	return 0;
nomem:
	t->rc = PC_ENOMEM;
	return 1;
}

/*
 * Under the aggregates' lock: exactly the referrals the reach figures
 * count, each with its person's record key.
 */
static void
count_seen(struct takeup *t)
{
	size_t i;
	long key;

	for (i = 0; i < t->nseen; i++) {
		struct row *r = &t->v[t->seen[i].row & ~SEEN_TAKEN];

		if (!agg_referral_key(t->agg, t->seen[i].key, &key))
			continue;
		r->n_off.n++;
		r->n_off.key += key;
		if (t->seen[i].row & SEEN_TAKEN) {
			r->n_take.n++;
			r->n_take.key += key;
		}
	}
}

int
takeup_merge(struct store_takeup **v, size_t *n, size_t *cap, const char *id,
    int taken)
{
	struct store_takeup *nv;
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i].asset, id) == 0) {
			(*v)[i].taken |= taken;
			return 0;
		}
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;

		if ((nv = realloc(*v, ncap * sizeof(*nv))) == NULL)
			return -1;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = (struct store_takeup){id, taken};
	return 1;
}

int
takeup_of(const cJSON *c, const char **asset)
{
	const char *id = rec_str(c, "asset"), *out = rec_str(c, "outcome");

	*asset = id != NULL ? id : "";
	return out != NULL && (strcmp(out, "taken_up") == 0 ||
	    strcmp(out, "completed") == 0);
}

pc_rc
takeup_stage(struct store *st, const struct timeline *tl,
    const struct fact *f)
{
	struct store_takeup *v = NULL;
	size_t n = 0, cap = 0, i;
	pc_rc rc;

	for (i = 1; !f->voided && i < tl->n; i++) {
		const struct tl_entry *e = &tl->v[i];
		const char *id;
		int taken;

		if (e->voided || e->rec->kind != KIND_SUPPORT)
			continue;
		taken = takeup_of(tl_content(e), &id);
		if (takeup_merge(&v, &n, &cap, id, taken) < 0) {
			free(v);
			return PC_ENOMEM;
		}
	}
	rc = store_takeup_put(st, f->id, f->key, f->place, f->referred_on, v,
	    n);
	free(v);
	return rc;
}

/* How a row's two counts are published. */
struct shown {
	int	 hid_off, zero_off, hid_take, zero_take;
};

static cJSON *
pub(const struct sdc *s, struct sdc_n n, int hidden, int zero)
{
	if (hidden)
		return cJSON_CreateString("suppressed");
	if (zero)
		return cJSON_CreateNumber(0);
	return sdc_count(s, n);
}

/* Take-up as a share of the offers, from the published counts. */
static cJSON *
share(const struct sdc *s, const struct row *r, const struct shown *w)
{
	long o, k;

	if (w->hid_off || w->hid_take)
		return cJSON_CreateString("withheld");
	o = w->zero_off ? 0 : sdc_value(s, r->n_off);
	k = w->zero_take ? 0 : sdc_value(s, r->n_take);
	if (o <= 0)
		return cJSON_CreateNull();
	return sdc_stat(s, 100.0 * (double)k / (double)o, 1);
}

static void
add_counts(cJSON *o, const struct sdc *s, const struct row *r,
    const struct shown *w)
{
	cJSON_AddItemToObject(o, "offered", pub(s, r->n_off, w->hid_off,
	    w->zero_off));
	cJSON_AddItemToObject(o, "taken_up", pub(s, r->n_take, w->hid_take,
	    w->zero_take));
	cJSON_AddItemToObject(o, "taken_up_pct", share(s, r, w));
}

/* The rows as a breakdown of the period's referrals (sdc_breakdown). */
static int
hiding(const struct sdc *s, struct sdc_n total, const struct takeup *t,
    struct shown *w)
{
	struct sdc_n *v = calloc(t->n, sizeof(*v));
	int *h = calloc(t->n, sizeof(*h)), *z = calloc(t->n, sizeof(*z));
	size_t i;

	if (v == NULL || h == NULL || z == NULL) {
		free(v);
		free(h);
		free(z);
		return -1;
	}
	for (i = 0; i < t->n; i++)
		v[i] = t->v[i].n_off;
	sdc_breakdown(s, total, v, t->n, h, z);
	for (i = 0; i < t->n; i++) {
		w[i].hid_off = h[i];
		w[i].zero_off = z[i];
		v[i] = t->v[i].n_take;
	}
	sdc_breakdown(s, total, v, t->n, h, z);
	for (i = 0; i < t->n; i++) {
		/* an offer hidden hides its take-up: no bound on it */
		w[i].hid_take = h[i] || w[i].hid_off;
		w[i].zero_take = !w[i].hid_take && z[i];
	}
	free(v);
	free(h);
	free(z);
	return 0;
}

static cJSON *
document(struct agg *a, const struct impact_req *q, const struct takeup *t,
    const struct agg_result *r)
{
	struct sdc_n total = {r->total.referrals, r->total.key.referrals};
	struct shown *w = calloc(t->n, sizeof(*w));
	cJSON *doc, *reach, *arr, *o;
	size_t i;

	if (w == NULL || hiding(&q->sdc, total, t, w) != 0) {
		free(w);
		return NULL;
	}
	doc = cJSON_CreateObject();
	impact_scope(doc, a, q, r->population);
	reach = cJSON_AddObjectToObject(doc, "reach");
	cJSON_AddItemToObject(reach, "referrals", sdc_count(&q->sdc, total));
	arr = cJSON_AddArrayToObject(doc, "assets");
	for (i = 1; i < t->n; i++) {
		const struct store_asset *e = &t->v[i].a;

		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", e->id);
		cJSON_AddStringToObject(o, "name", e->name);
		cJSON_AddStringToObject(o, "category", e->category);
		cJSON_AddBoolToObject(o, "active", e->active);
		add_counts(o, &q->sdc, &t->v[i], &w[i]);
		cJSON_AddItemToArray(arr, o);
	}
	o = cJSON_AddObjectToObject(doc, "free_text");
	add_counts(o, &q->sdc, &t->v[0], &w[0]);
	free(w);
	return doc;
}

cJSON *
takeup_json(struct agg *a, struct store *st, const struct impact_req *q,
    pc_rc *rc)
{
	struct agg_query aq = {q->place, q->from, q->to, DIM_NONE};
	struct takeup t;
	struct store_asset free_text;
	struct agg_result r;
	char code[REC_PLACE_MAX + 1] = "";
	cJSON *doc = NULL;

	memset(&t, 0, sizeof(t));
	memset(&free_text, 0, sizeof(free_text));
	map_init(&t.by_id);
	t.agg = a;
	t.rc = PC_OK;
	agg_read_begin(a);
	if (q->place >= 0 && (size_t)q->place < a->nplaces)
		snprintf(code, sizeof(code), "%s", a->places[q->place].p.code);
	agg_read_end(a);
	*rc = PC_EINVAL;
	if (code[0] == '\0')
		return NULL;
	*rc = PC_ENOMEM;
	if (row_add(&t, &free_text) == NULL)
		goto out;
	/* the store first, without the lock: ingest goes on meanwhile */
	if ((*rc = store_asset_each(st, code, load_entry, &t)) != PC_OK ||
	    (*rc = t.rc) != PC_OK)
		goto out;
	if ((*rc = store_takeup_each(st, code, q->from, q->to, one_row, &t)) ==
	    PC_OK)
		*rc = t.rc;	/* a walk stopped short is no answer */
	if (*rc != PC_OK)
		goto out;
	agg_read_begin(a);
	count_seen(&t);
	if ((*rc = agg_run(a, &aq, &r)) == PC_OK) {
		if ((doc = document(a, q, &t, &r)) == NULL)
			*rc = PC_ENOMEM;
		agg_result_free(&r);
	}
	agg_read_end(a);
out:
	map_free(&t.by_id);
	free(t.seen);
	free(t.v);
	return doc;
}

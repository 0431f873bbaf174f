/*
 * fuzz_batch.c - the server's batch handler in process: a request body
 * parsed, checked and ingested into an in-memory store, facts staged and
 * applied to the aggregates, and the answer built.
 *
 * Invariants: one result per record; stored + duplicate + conflict +
 * rejected adds up to the batch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "audit.h"
#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static pc_rc
stage(void *arg, struct store *st, struct ingest *in)
{
	struct fact **f = arg;
	size_t n;

	return agg_stage(st, &in->timelines, &in->steps, f, &n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct secret secret;	/* a fixed one will do */
	struct store *st;
	struct err_list errs;
	struct store_auth who;
	struct ingest in;
	struct rec_opts o;
	struct fact *facts = NULL;
	cJSON *recs;
	cJSON *body, *ans;
	struct buf b;
	size_t nrec;
	long sum = 0;
	int k;

	if ((body = cJSON_ParseWithLength((const char *)data, size)) == NULL)
		return 0;
	recs = cJSON_GetObjectItemCaseSensitive(body, "records");
	if (!cJSON_IsArray(recs) || cJSON_GetArraySize(recs) > 1000) {
		cJSON_Delete(body);
		return 0;
	}
	nrec = (size_t)cJSON_GetArraySize(recs);
	err_init(&errs);
	if (store_open(":memory:", &st, &errs) != PC_OK ||
	    audit_open(st, &secret, &errs) != PC_OK)
		abort();
	memset(&who, 0, sizeof(who));
	who.user.id = 1;
	who.user.role = ROLE_LINK_WORKER;
	strcpy(who.user.worker, "w");
	strcpy(who.user.place, "BD");
	o.today = date_from_ymd(2026, 11, 22);
	ingest_init(&in);
	if (ingest_run(&in, st, &who, recs, &o, 1795000000, stage, &facts) ==
	    PC_OK) {
		for (k = 0; k < MR_N; k++)
			sum += in.count[k];
		if ((size_t)sum != in.n ||
		    in.n != nrec || cJSON_GetArraySize(recs) != 0)
			abort();
		buf_init(&b, 0);
		if (ingest_answer(&in, &b) != PC_OK ||
		    (ans = cJSON_Parse(buf_str(&b))) == NULL)
			abort();	/* the answer must be JSON */
		cJSON_Delete(ans);
		buf_free(&b);
	}
	free(facts);
	ingest_free(&in);
	store_close(st);
	cJSON_Delete(body);
	err_free(&errs);
	return 0;
}

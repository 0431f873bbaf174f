/*
 * fuzz_record.c - record JSON: decode, validate, canonical form, and the
 * cross-record rules against a stored referral.
 *
 * Invariants checked: a valid record's canonical text is valid again and
 * hashes the same (canonicalisation is idempotent); admission either
 * takes the record or leaves the timeline exactly as it was.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "timeline.h"

#define REF "11111111-1111-4111-8111-111111111111"

static const char referral[] = "{\"id\":\"" REF "\",\"schema\":\"pcmds/1\","
    "\"kind\":\"referral\",\"recorded_at\":\"2026-01-01T09:00:00Z\","
    "\"device_seq\":1,\"worker\":\"w\",\"place\":\"BD\",\"referral\":\"" REF
    "\",\"person\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456"
    "789abcdef\",\"person_basis\":\"local\",\"referred_on\":\"2026-01-01\","
    "\"source\":\"self\",\"reasons\":[\"stress\"],\"service\":\"general\","
    "\"age\":40,\"gender\":\"male\",\"ethnicity\":\"A\","
    "\"consent_evaluation\":true}";

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_opts o;
	struct err_list errs;
	struct rec *r = NULL, *again = NULL, *ref = NULL;
	struct timeline tl;
	size_t before;

	o.today = date_from_ymd(2026, 11, 22);
	err_init(&errs);
	if (rec_parse((const char *)data, size, &o, &r, &errs) != PC_OK) {
		if (err_count(&errs) == 0)
			abort();	/* refused without a reason */
		err_free(&errs);
		return 0;
	}
	if (rec_parse(r->canon, r->canon_len, &o, &again, &errs) != PC_OK ||
	    strcmp(again->hash, r->hash) != 0 ||
	    strcmp(again->canon, r->canon) != 0)
		abort();
	rec_free(again);
	tl_init(&tl, REF);
	if (rec_parse(referral, strlen(referral), &o, &ref, &errs) != PC_OK ||
	    tl_admit(&tl, ref, &o, &errs) != PC_OK)
		abort();
	before = tl.n;
	if (tl_admit(&tl, r, &o, &errs) != PC_OK) {
		if (tl.n != before)
			abort();
		rec_free(r);
	}
	tl_free(&tl);
	err_free(&errs);
	return 0;
}

/*
 * record.c - turning a link worker's input into a stored record.
 *
 * The same validator and cross-record rules as the server run here before
 * anything is stored, so a record that leaves this device has already
 * passed every check the server will make (except those that need other
 * devices' records).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "client.h"
#include "log.h"
#include "timeline.h"
#include "uuid.h"

pc_rc
ctx_identity(struct ctx *c, struct err_list *errs)
{
	if (c->cfg.worker[0] == '\0' || c->cfg.place[0] == '\0') {
		err_add(errs, E_REQUIRED, "", "no identity on this device: run "
		    "pcmds setup first (with --server and --code, or --worker "
		    "and --place for an offline trial)");
		return PC_EINVAL;
	}
	return PC_OK;
}

static const char *
flag_for(const char *field, const struct flag_alias *aliases, char *buf,
    size_t len)
{
	size_t i;

	for (i = 0; aliases != NULL && aliases[i].field != NULL; i++)
		if (strcmp(aliases[i].field, field) == 0)
			return aliases[i].flag;
	snprintf(buf, len, "--%s", field);
	for (i = 2; buf[i] != '\0'; i++)
		if (buf[i] == '_')
			buf[i] = '-';
	return buf;
}

void
ctx_report(const struct err_list *errs, const struct flag_alias *aliases)
{
	char flag[ERR_FIELD_MAX + 4];
	size_t i;

	for (i = 0; i < errs->n; i++) {
		const struct err_item *it = &errs->v[i];

		if (it->field[0] == '\0' || it->code == E_SYSTEM ||
		    strchr(it->field, ':') != NULL)
			fprintf(stderr, "pcmds: %s (%s)\n", it->msg,
			    err_code_name(it->code));
		else if (strchr(it->field, '.') != NULL)
			fprintf(stderr, "pcmds: %s: %s (%s)\n", it->field,
			    it->msg, err_code_name(it->code));
		else {
			char base[ERR_FIELD_MAX];

			/* reasons[2] is set by the reasons flag */
			snprintf(base, sizeof(base), "%.*s",
			    (int)strcspn(it->field, "["), it->field);
			fprintf(stderr, "pcmds: %s: %s (%s)\n",
			    flag_for(base, aliases, flag, sizeof(flag)),
			    it->msg, err_code_name(it->code));
		}
	}
	if (errs->dropped > 0)
		fprintf(stderr, "pcmds: ...and %zu more problems\n",
		    errs->dropped);
}

int
ctx_fail(struct err_list *errs, pc_rc rc)
{
	ctx_report(errs, NULL);
	err_free(errs);
	return exit_for(rc);
}

int
exit_for(pc_rc rc)
{
	switch (rc) {
	case PC_OK:
		return EXIT_OK;
	case PC_EUSAGE:
		return EXIT_USAGE;
	case PC_ESTORE:
	case PC_EIO:
	case PC_ENOMEM:
		return EXIT_STORE;
	case PC_ENET:
	case PC_ETLS:
		return EXIT_UNREACHABLE;
	case PC_EAUTH:
		return EXIT_AUTH;
	default:
		return EXIT_INVALID;
	}
}

void
record_local_date(int offset, char out[DATE_LEN])
{
	time_t t = time(NULL) + (time_t)offset * 86400;
	struct tm tm;

	localtime_r(&t, &tm);
	snprintf(out, DATE_LEN, "%04d-%02d-%02d", (tm.tm_year + 1900) % 10000,
	    (tm.tm_mon + 1) % 100, tm.tm_mday % 100);
}

static int
parse_int(const char *s, long *v)
{
	char *end;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	*v = strtol(s, &end, 10);
	return *end == '\0' ? 0 : -1;
}

/* yes/no words people type; -1 when it is none of them. */
static int
parse_yesno(const char *s)
{
	static const char *const yes[] = {"yes", "y", "true", "1"};
	static const char *const no[] = {"no", "n", "false", "0"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

static cJSON *
split_codes(const char *text)
{
	cJSON *arr = cJSON_CreateArray();
	char *copy = strdup(text), *p, *save = NULL;

	if (arr == NULL || copy == NULL) {
		cJSON_Delete(arr);
		free(copy);
		return NULL;
	}
	for (p = strtok_r(copy, ",;|", &save); p != NULL;
	    p = strtok_r(NULL, ",;|", &save)) {
		char *e;

		while (isspace((unsigned char)*p))
			p++;
		e = p + strlen(p);
		while (e > p && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*p != '\0')
			cJSON_AddItemToArray(arr, cJSON_CreateString(p));
	}
	free(copy);
	return arr;
}

cJSON *
record_value(const struct field *f, const char *text)
{
	char date[DATE_LEN];
	long v;
	int yn;

	switch (f->type) {
	case FT_INT:
	case FT_SEQ:
		if (parse_int(text, &v) == 0)
			return cJSON_CreateNumber((double)v);
		break;
	case FT_BOOL:
	case FT_TRISTATE:
		if ((yn = parse_yesno(text)) >= 0)
			return cJSON_CreateBool(yn);
		if (f->type == FT_TRISTATE && (strcasecmp(text, "unknown") == 0 ||
		    strcasecmp(text, "not known") == 0))
			return cJSON_CreateString("unknown");
		break;
	case FT_ENUM_SET:
		return split_codes(text);
	case FT_DATE:
		if (strcasecmp(text, "today") == 0) {
			record_local_date(0, date);
			return cJSON_CreateString(date);
		}
		if (strcasecmp(text, "yesterday") == 0) {
			record_local_date(-1, date);
			return cJSON_CreateString(date);
		}
		break;
	default:
		break;
	}
	return cJSON_CreateString(text);
}

void
record_set(cJSON *body, enum rec_kind k, const char *field, const char *text)
{
	const struct field *f = rec_field(k, field);
	cJSON *v;

	if (f == NULL || text == NULL)
		return;
	if ((v = record_value(f, text)) == NULL)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(body, field);
	cJSON_AddItemToObject(body, field, v);
}

static pc_rc
envelope(struct ctx *c, enum rec_kind k, cJSON *body, const char *referral,
    const char *id, char out_id[UUID_LEN], struct err_list *errs)
{
	char now[TIME_LEN];
	int64_t seq;
	pc_rc rc;

	if (id != NULL)
		snprintf(out_id, UUID_LEN, "%s", id);
	else if (uuid_v4(out_id) != PC_OK) {
		err_add(errs, E_SYSTEM, "", "no randomness available");
		return PC_EIO;
	}
	if ((rc = cstore_next_seq(c->store, &seq, errs)) != PC_OK)
		return rc;
	time_format((int64_t)time(NULL), now);
	cJSON_AddStringToObject(body, "id", out_id);
	cJSON_AddStringToObject(body, "schema", REC_SCHEMA);
	cJSON_AddStringToObject(body, "kind", rec_kind_info(k)->name);
	cJSON_AddStringToObject(body, "recorded_at", now);
	cJSON_AddNumberToObject(body, "device_seq", (double)seq);
	cJSON_AddStringToObject(body, "worker", c->cfg.worker);
	cJSON_AddStringToObject(body, "place", c->cfg.place);
	if (c->cfg.pcn[0] != '\0')
		cJSON_AddStringToObject(body, "pcn", c->cfg.pcn);
	cJSON_AddStringToObject(body, "referral", referral ? referral : out_id);
	return PC_OK;
}

pc_rc
record_make(struct ctx *c, enum rec_kind k, cJSON *body, const char *referral,
    const char *id, char out_id[UUID_LEN], struct err_list *errs)
{
	struct timeline tl;
	struct rec *r = NULL;
	pc_rc rc;

	if ((rc = envelope(c, k, body, referral, id, out_id, errs)) != PC_OK) {
		cJSON_Delete(body);
		return rc;
	}
	rc = rec_validate(body, &c->ropts, &r, errs);
	cJSON_Delete(body);
	if (rc != PC_OK)
		return rc;
	if (cstore_has(c->store, r->id) != 0) {
		err_add(errs, E_CONFLICT, "id", "a record with id %.8s is "
		    "already stored", r->id);
		rec_free(r);
		return PC_ECONFLICT;
	}
	if ((rc = cstore_timeline(c->store, r->referral, &tl, errs)) != PC_OK) {
		rec_free(r);
		return rc;
	}
	if ((rc = tl_admit(&tl, r, &c->ropts, errs)) != PC_OK) {
		rec_free(r);	/* still ours: the timeline refused it */
		tl_free(&tl);
		return rc;
	}
	rc = cstore_insert(c->store, r, errs);	/* r now belongs to tl */
	tl_free(&tl);
	return rc;
}

pc_rc
record_add(struct ctx *c, enum rec_kind k, cJSON *body, const char *referral,
    char out_id[UUID_LEN], struct err_list *errs)
{
	pc_rc rc;

	if ((rc = ctx_store(c, errs)) != PC_OK ||
	    (rc = cstore_begin(c->store, errs)) != PC_OK) {
		cJSON_Delete(body);
		return rc;
	}
	rc = record_make(c, k, body, referral, NULL, out_id, errs);
	if (rc == PC_OK && c->check_only)
		rc = PC_EINVAL;	/* an earlier problem: validate, never store */
	if (rc == PC_OK)
		rc = cstore_commit(c->store, errs);
	if (rc != PC_OK)
		cstore_rollback(c->store);
	return rc;
}

pc_rc
record_referral(struct ctx *c, const char *ref, char id[UUID_LEN],
    struct err_list *errs)
{
	char kind[16], referral[UUID_LEN];
	enum cstore_state st;
	pc_rc rc;

	if ((rc = ctx_store(c, errs)) != PC_OK ||
	    (rc = cstore_resolve(c->store, ref, id, kind, referral, &st,
	    errs)) != PC_OK)
		return rc;
	if (strcmp(kind, "referral") != 0) {
		err_add(errs, E_REFERRAL, "", "%s is a %s record, not a "
		    "referral (its referral is %.8s)", ref, kind, referral);
		return PC_EINVAL;
	}
	return PC_OK;
}

/*
 * directory.c - receiving and consulting the directory of community
 * assets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directory.h"

#define DIR_MAX	10000	/* entries one place's directory may hold */

/* One entry of the server's answer, checked as the server checked it. */
static pc_rc
entry_of(const cJSON *o, struct cstore_asset *a, struct err_list *errs)
{
	const struct field *f = rec_field(KIND_SUPPORT, "asset");
	const cJSON *active = cJSON_GetObjectItemCaseSensitive(o, "active");
	struct rec_opts ro = {0};
	size_t before = errs->n;

	memset(a, 0, sizeof(*a));
	a->id = rec_str(o, "id");
	a->name = rec_str(o, "name");
	a->category = rec_str(o, "category");
	a->contact = rec_str(o, "contact");
	a->notes = rec_str(o, "notes");
	a->active = !cJSON_IsFalse(active);
	rec_check_value(f, rec_get(o, "id"), "id", &ro, errs);
	if (a->name == NULL || a->name[0] == '\0' ||
	    code_index(&codes_support, a->category) < 0)
		err_add(errs, E_FORMAT, "assets", "the server's directory has "
		    "an entry without a name or a known category");
	return errs->n == before ? PC_OK : PC_EPROTO;
}

static pc_rc
store_directory(struct ctx *c, const cJSON *list, int *count,
    struct err_list *errs)
{
	struct cstore_asset *v;
	const cJSON *o;
	int n = cJSON_GetArraySize(list), i = 0;
	pc_rc rc = PC_OK;

	if (n > DIR_MAX) {
		err_add(errs, E_TOO_MANY, "assets", "the server's directory "
		    "has "
		    "%d entries, more than %d", n, DIR_MAX);
		return PC_EPROTO;
	}
	if ((v = calloc((size_t)n + 1, sizeof(*v))) == NULL)
		return PC_ENOMEM;
	cJSON_ArrayForEach(o, list)
		if (rc == PC_OK)
			rc = entry_of(o, &v[i++], errs);
	if (rc == PC_OK && (rc = cstore_begin(c->store, errs)) == PC_OK) {
		rc = cstore_assets_replace(c->store, v, (size_t)n, errs);
		if (rc == PC_OK)
			rc = cstore_commit(c->store, errs);
		if (rc != PC_OK)
			cstore_rollback(c->store);
	}
	free(v);
	*count = n;
	return rc;
}

pc_rc
dir_fetch(struct ctx *c, struct net *n, int *count, struct err_list *errs)
{
	struct net_resp r;
	cJSON *doc = NULL, *list;
	pc_rc rc;

	*count = 0;
	if ((rc = ctx_store(c, errs)) != PC_OK ||
	    (rc = net_request(n, "GET", "/v1/assets", c->cfg.token, NULL, 0, 0,
	    &r, errs)) != PC_OK)
		return rc;
	if (r.status == 200)
		doc = cJSON_ParseWithLength(buf_str(&r.body), r.body.len);
	list = cJSON_GetObjectItemCaseSensitive(doc, "assets");
	if (r.status != 200 || !cJSON_IsArray(list) ||
	    cJSON_GetArraySize(list) != rec_int(doc, "count", -1)) {
		err_add(errs, E_SYSTEM, "assets", "the server did not give the "
		    "directory of community assets (HTTP %ld)", r.status);
		rc = r.status == 401 || r.status == 403 ? PC_EAUTH : PC_EPROTO;
	} else
		rc = store_directory(c, list, count, errs);
	cJSON_Delete(doc);
	net_resp_free(&r);
	return rc;
}

void
dir_sync(struct ctx *c, struct net *n)
{
	struct err_list errs;
	int count;
	size_t i;

	err_init(&errs);
	if (dir_fetch(c, n, &count, &errs) != PC_OK) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "pcmds: warning: %s\n", errs.v[i].msg);
		fprintf(stderr, "pcmds: warning: the directory of community "
		    "assets was not updated; the copy on this device is "
		    "kept\n");
	}
	err_free(&errs);
}

static int
copy_name(void *arg, const struct cstore_asset *a)
{
	struct buf *b = arg;

	buf_adds(b, a->name);
	return 1;
}

void
dir_name(struct ctx *c, const char *id, char *out, size_t len)
{
	struct buf b;

	buf_init(&b, 0);
	out[0] = '\0';
	if (id != NULL && c->store != NULL &&
	    cstore_asset_each(c->store, id, copy_name, &b) == PC_OK)
		snprintf(out, len, "%s", buf_str(&b));
	buf_free(&b);
}

static int
copy_category(void *arg, const struct cstore_asset *a)
{
	snprintf(arg, 32, "%s", a->category);
	return 1;
}

void
dir_fill(struct ctx *c, enum rec_kind k, cJSON *body)
{
	const char *id = rec_str(body, "asset");
	char cat[32] = "";

	if (k != KIND_SUPPORT || id == NULL || rec_get(body, "category") ||
	    c->store == NULL)
		return;
	if (cstore_asset_each(c->store, id, copy_category, cat) == PC_OK &&
	    cat[0] != '\0')
		cJSON_AddStringToObject(body, "category", cat);
}

pc_rc
dir_check(struct ctx *c, enum rec_kind k, const cJSON *body,
    struct err_list *errs)
{
	const cJSON *j = k == KIND_CORRECTION ? rec_get(body, "set") :
	    k == KIND_SUPPORT ? body : NULL;
	const char *id = rec_str(j, "asset");
	char name[256];

	if (id == NULL)
		return PC_OK;
	dir_name(c, id, name, sizeof(name));
	if (name[0] != '\0')
		return PC_OK;
	err_add(errs, E_ENUM, k == KIND_CORRECTION ? "set.asset" :
	    "asset", "Community asset %s is not in this device's directory of "
	    "community assets; sync to receive the current one, then pick from "
	    "it", id);
	return PC_EINVAL;
}

/*
 * api_assets.c - GET /v1/assets: the place's directory of community
 * assets, for the link workers' devices of that place.
 *
 * Retired entries are included (marked), so that a device can still
 * name what its older records point at.
 */
#include <stdio.h>

#include "api_places.h"

struct listing {
	cJSON	*list;
	int	 failed;
};

static int
add_asset(void *arg, const struct store_asset *a)
{
	struct listing *l = arg;
	cJSON *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddItemToArray(l->list, o)) {
		cJSON_Delete(o);
		l->failed = 1;
		return 1;
	}
	cJSON_AddStringToObject(o, "id", a->id);
	cJSON_AddStringToObject(o, "name", a->name);
	cJSON_AddStringToObject(o, "category", a->category);
	if (a->contact[0] != '\0')
		cJSON_AddStringToObject(o, "contact", a->contact);
	if (a->notes[0] != '\0')
		cJSON_AddStringToObject(o, "notes", a->notes);
	cJSON_AddBoolToObject(o, "active", a->active);
	return 0;
}

void
api_assets(struct http_req *hr)
{
	struct listing l = {NULL, 0};
	const char *place;
	cJSON *doc;

	if (!auth_require(hr, AUTH_LINK_WORKER | AUTH_PLACE_LEAD))
		return;
	place = hr->auth.user.place;
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "place", place);
	l.list = cJSON_AddArrayToObject(doc, "assets");
	/* a partial list is never sent as a whole one */
	if (l.list == NULL || store_asset_each(hr->store, place,
	    add_asset, &l) != PC_OK || l.failed ||
	    !cJSON_AddNumberToObject(doc, "count",
	    cJSON_GetArraySize(l.list))) {
		cJSON_Delete(doc);
		http_reply_error(hr, 503, "E_SYSTEM", "cannot read the "
		    "directory "
		    "of community assets; try again");
		return;
	}
	http_reply_json(hr, 200, doc);
}

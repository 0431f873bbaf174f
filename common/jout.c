/*
 * jout.c - shortest round-trip numbers in JSON text.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "jout.h"

void
jout_double(double v, char out[JOUT_NUM_LEN])
{
	int prec;

	if (!isfinite(v)) {
		snprintf(out, JOUT_NUM_LEN, "null");
		return;
	}
	if (v == 0) {
		snprintf(out, JOUT_NUM_LEN, "0");	/* and -0 */
		return;
	}
	if (v == floor(v) && fabs(v) < 1e17) {
		snprintf(out, JOUT_NUM_LEN, "%.0f", v);	/* counts as counts */
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(out, JOUT_NUM_LEN, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
	snprintf(out, JOUT_NUM_LEN, "%.17g", v);
}

/* Every number below o becomes raw text in its exact form. */
static int
exact_numbers(cJSON *o)
{
	cJSON *c, *next, *raw;
	char num[JOUT_NUM_LEN];

	for (c = o->child; c != NULL; c = next) {
		next = c->next;
		if (cJSON_IsArray(c) || cJSON_IsObject(c)) {
			if (exact_numbers(c) != 0)
				return -1;
			continue;
		}
		if (!cJSON_IsNumber(c))
			continue;
		jout_double(c->valuedouble, num);
		if ((raw = cJSON_CreateRaw(num)) == NULL)
			return -1;
		/* the member's name moves to its replacement */
		raw->string = c->string;
		raw->type |= c->type & cJSON_StringIsConst;
		c->string = NULL;
		if (!cJSON_ReplaceItemViaPointer(o, c, raw)) {
			cJSON_Delete(raw);
			return -1;
		}
	}
	return 0;
}

char *
jout_print(const cJSON *doc, int pretty)
{
	cJSON *copy;
	char *text = NULL;

	if ((copy = cJSON_Duplicate(doc, 1)) == NULL)
		return NULL;
	if (cJSON_IsNumber(copy)) {
		char num[JOUT_NUM_LEN];

		jout_double(copy->valuedouble, num);
		cJSON_Delete(copy);
		copy = cJSON_CreateRaw(num);
	} else if (exact_numbers(copy) != 0) {
		cJSON_Delete(copy);
		return NULL;
	}
	if (copy != NULL)
		text = pretty ? cJSON_Print(copy) : cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	return text;
}

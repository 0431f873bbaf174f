/*
 * test_openapi.c - docs/openapi.yaml describes exactly the routes the
 * server serves, with the same methods.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"
#include "srv.h"

#define MAXP	64

struct doc_path {
	char	 path[128];
	char	 methods[64];	/* "get post" */
};

/* The paths section: two-space "/path:" lines, four-space "verb:" lines. */
static size_t
read_doc(struct doc_path *v)
{
	char *text = th_slurp("docs/openapi.yaml", NULL), *line, *save = NULL;
	int in_paths = 0;
	size_t n = 0;

	assert_non_null(text);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "paths:") == 0) {
			in_paths = 1;
			continue;
		}
		if (!in_paths || line[0] != ' ')
			continue;
		if (strncmp(line, "  /", 3) == 0 && n < MAXP) {
			snprintf(v[n].path, sizeof(v[n].path), "%.*s",
			    (int)(strchr(line, ':') - line - 2), line + 2);
			v[n++].methods[0] = '\0';
		} else if (n > 0 && strncmp(line, "    ", 4) == 0 &&
		    line[4] != ' ') {
			static const char *const verbs[] = {"get:", "post:",
			    "head:", "put:", "delete:", "patch:"};
			size_t k;

			for (k = 0; k < 6; k++)
				if (strcmp(line + 4, verbs[k]) == 0) {
					size_t m = strlen(v[n - 1].methods);

					snprintf(v[n - 1].methods + m,
					    sizeof(v[n - 1].methods) - m, "%.*s ",
					    (int)strlen(verbs[k]) - 1, verbs[k]);
				}
		}
	}
	free(text);
	return n;
}

/* "GET, HEAD" -> "get head " */
static void
lower_methods(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (; *in != '\0' && o + 2 < len; in++) {
		if (*in == ',')
			continue;
		if (*in == ' ') {
			out[o++] = ' ';
			continue;
		}
		out[o++] = (char)tolower((unsigned char)*in);
	}
	out[o++] = ' ';
	out[o] = '\0';
}

static int
same_set(const char *a, const char *b)
{
	char x[64], *t, *save = NULL;
	int n = 0, m = 0;

	snprintf(x, sizeof(x), "%s", a);
	for (t = strtok_r(x, " ", &save); t != NULL;
	    t = strtok_r(NULL, " ", &save)) {
		char w[16];

		snprintf(w, sizeof(w), "%s ", t);
		if (strstr(b, w) == NULL)
			return 0;
		n++;
	}
	snprintf(x, sizeof(x), "%s", b);
	for (t = strtok_r(x, " ", &save); t != NULL;
	    t = strtok_r(NULL, " ", &save))
		m++;
	return n == m;
}

static void
test_routes_documented(void **state)
{
	struct doc_path doc[MAXP];
	const char *paths[MAXP], *methods[MAXP];
	size_t nd = read_doc(doc), nr = api_routes(paths, methods, MAXP), i, k;
	char want[64];

	(void)state;
	assert_true(nr > 0 && nr < MAXP);
	assert_int_equal(nd, nr);
	for (i = 0; i < nr; i++) {
		for (k = 0; k < nd; k++)
			if (strcmp(doc[k].path, paths[i]) == 0)
				break;
		if (k == nd)
			fail_msg("route %s is not in docs/openapi.yaml", paths[i]);
		lower_methods(methods[i], want, sizeof(want));
		if (!same_set(want, doc[k].methods))
			fail_msg("%s: the server allows \"%s\", the document "
			    "describes \"%s\"", paths[i], want, doc[k].methods);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_documented),
	};

	return cmocka_run_group_tests_name("openapi", tests, NULL, NULL);
}

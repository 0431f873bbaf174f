/*
 * test_migrate.c - pcmdsd migrate --to postgresql://...: a SQLite
 * deployment with records, users, tokens, sessions' audit and facts,
 * moved to PostgreSQL; the same server then serves from there with the
 * same figures, the old tokens, an audit log that verifies against the
 * head logged before the move, and every record already there when the
 * client sends them all again. A database not empty is refused.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static struct th_server srv;
static char home[600], eval_auth[128];

static char *
figures(void)
{
	const char *hdr[] = {eval_auth, NULL};
	struct th_http h;
	char *text;
	cJSON *j;

	th_https(&srv, "GET", "/v1/places?suppress=false", hdr, NULL, 0, &h);
	if (h.status != 200)
		fail_msg("/v1/places: %ld %s", h.status, h.body);
	j = th_json(h.body);
	cJSON_DeleteItemFromObject(j, "generated_at");
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	th_http_free(&h);
	return text;
}

/* The deployment's database line set to uri. */
static void
point_at(const char *uri)
{
	char *text, *p;
	FILE *fp;

	assert_non_null(text = th_slurp(srv.conf, NULL));
	assert_non_null(p = strstr(text, "\ndatabase = "));
	assert_non_null(fp = fopen(srv.conf, "w"));
	fprintf(fp, "%.*s\ndatabase = %s%s", (int)(p - text), text, uri,
	    p + 1 + strcspn(p + 1, "\n"));
	fclose(fp);
	free(text);
}

static void
test_migrate(void **state)
{
	char cmd[1024], head[200], *before, *after, *p;
	const char *uri, *key;
	struct th_run r;

	(void)state;
	if (!th_have("pg_config"))
		skip();
	/* a SQLite deployment at work */
	unsetenv("PCMDS_TEST_STORE");
	th_server_init(&srv, NULL);
	th_server_start(&srv, NULL);
	snprintf(home, sizeof(home), "%s", th_tmpdir());
	key = th_path(home, "deploy.key");
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", key, NULL);
	th_run_free(&r);
	th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
	    "--key-file", key, "--server", srv.url, "--code",
	    th_server_user(&srv, "link_worker", "RB", NULL), "--cacert", srv.ca,
	    NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_unlock(home);
	snprintf(cmd, sizeof(cmd), "awk -v seed=3 -v place=RB -v n=60 -v "
	    "cmds=/dev/null -f packaging/caseload.awk > %s/c.csv", home);
	assert_int_equal(system(cmd), 0);
	th_cmd(&r, NULL, "pcmds", "--home", home, "import", th_path(home,
	    "c.csv"), NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--batch", "50",
	    NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
	snprintf(eval_auth, sizeof(eval_auth), "Authorization: Bearer %s",
	    th_enrol(&srv, th_server_user(&srv, "evaluator", NULL, NULL),
	    NULL));
	before = figures();
	assert_int_equal(th_server_stop(&srv, SIGTERM), 0);
	/* every table has rows to move: an identity at a provider too */
	th_sql(th_path(srv.dir, "pcmds.db"), "INSERT INTO oidc_links(issuer, "
	    "subject, user_id, linked_at) VALUES ('https://id.example', "
	    "'subject-1', 1, 1764547200)");
	th_server_admin(&srv, &r, "audit verify");
	assert_int_equal(r.status, 0);
	assert_non_null(p = strstr(r.out, "head "));
	snprintf(head, sizeof(head), "%.*s", (int)strcspn(p + 5, " \n"), p + 5);
	th_run_free(&r);

	/* moved: every table, counted, compared, the audit log verified */
	uri = th_pg_db(NULL);
	th_cmd(&r, NULL, "pcmdsd", "--config", srv.conf, "migrate", "--to",
	    uri, NULL);
	if (r.status != 0)
		fail_msg("migrate: %s%s", r.out, r.err);
	print_message("%s", r.out);
	assert_non_null(strstr(r.out, "moved and verified"));
	assert_non_null(strstr(r.out, head));
	th_run_free(&r);
	/* once: the database holds a deployment now */
	th_cmd(&r, NULL, "pcmdsd", "--config", srv.conf, "migrate", "--to",
	    uri, NULL);
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "empty one only"));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmdsd", "--config", srv.conf, "migrate", "--to",
	    "/tmp/elsewhere.db", NULL);
	assert_int_equal(r.status, 2);
	th_run_free(&r);

	/* the same server from PostgreSQL: the same figures, tokens, log */
	point_at(uri);
	th_server_start(&srv, NULL);
	after = figures();
	if (strcmp(before, after) != 0)
		fail_msg("figures changed in the move:\n%s\n%s", before, after);
	free(before);
	free(after);
	snprintf(cmd, sizeof(cmd), "audit verify --head %s", head);
	th_server_admin(&srv, &r, cmd);
	if (r.status != 0)
		fail_msg("audit verify after the move: %s%s", r.out, r.err);
	assert_non_null(strstr(r.out, "every head given found"));
	th_run_free(&r);
	th_cmd(&r, NULL, "pcmds", "--home", home, "sync", "--resend-all",
	    "--json", NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"stored\":0,"));
	th_run_free(&r);
	assert_int_equal(th_server_stop(&srv, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate),
	};

	return cmocka_run_group_tests_name("migrate", tests, NULL, NULL);
}

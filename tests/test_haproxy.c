/*
 * test_haproxy.c - a cluster: one PostgreSQL, three pcmdsd, HAProxy in
 * front of them (Debian's haproxy, TCP mode, TLS passed through to the
 * servers), four link workers' clients syncing through it at once while
 * one server is killed -9 and started again.
 *
 * Afterwards: every record on the server exactly once and every client
 * with nothing pending; the same figures from each server (asked
 * directly, with a watermark committed after the last sync); pcmdsd
 * audit verify intact over every chain. HAProxy sends the PROXY protocol
 * (send-proxy-v2) from an address of its own, which the servers trust
 * (proxy_from), so they log the clients' address, not HAProxy's.
 */
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "harness.h"

#define NSERVERS	3
#define NCLIENTS	4
#define ROWS		120	/* referrals per client (~4 records each) */
#define LB_FROM		"127.0.0.3"	/* HAProxy's address to the servers */

static struct th_server srv[NSERVERS];
static char db[700], eval_auth[128];
static int lb_port;
static pid_t lb;

static void
start_lb(void)
{
	char cfg[600], log[600];
	FILE *fp;
	int i, fd;

	snprintf(cfg, sizeof(cfg), "%s/haproxy.cfg", srv[0].dir);
	snprintf(log, sizeof(log), "%s/haproxy.log", srv[0].dir);
	lb_port = 20000 + (int)(getpid() % 20000);
	assert_non_null(fp = fopen(cfg, "w"));
	fprintf(fp, "global\n  maxconn 2000\n"
	    "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 60s\n"
	    "  timeout server 60s\n  retries 3\n  option redispatch\n"
	    "frontend pcmds\n  bind 127.0.0.1:%d\n  default_backend servers\n"
	    "backend servers\n  balance roundrobin\n", lb_port);
	for (i = 0; i < NSERVERS; i++)
		fprintf(fp, "  server s%d 127.0.0.1:%d check inter 200ms fall 1 "
		    "rise 1 send-proxy-v2 check-send-proxy source " LB_FROM "\n",
		    i, srv[i].port);
	fclose(fp);
	lb = fork();
	assert_true(lb >= 0);
	if (lb == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		execlp("haproxy", "haproxy", "-db", "-f", cfg, (char *)NULL);
		_exit(127);
	}
}

static int
up(void **state)
{
	const char *extra = "db_workers = 4\nrate_per_token = 1000\n";
	char conf_extra[128];
	FILE *fp;
	int i;

	(void)state;
	if (!th_have("haproxy"))
		return 0;
	th_server_init(&srv[0], extra);
	snprintf(db, sizeof(db), "%s/pcmds.db", srv[0].dir);
	snprintf(conf_extra, sizeof(conf_extra), "proxy_from = " LB_FROM);
	for (i = 1; i < NSERVERS; i++)
		th_server_twin(&srv[i], &srv[0], conf_extra);
	fp = fopen(srv[0].conf, "a");
	assert_non_null(fp);
	fprintf(fp, "\n%s\n", conf_extra);
	fclose(fp);
	for (i = 0; i < NSERVERS; i++)
		th_server_start(&srv[i], NULL);
	snprintf(eval_auth, sizeof(eval_auth), "Authorization: Bearer %s",
	    th_enrol(&srv[0], th_server_user(&srv[0], "evaluator", NULL, NULL),
	    NULL));
	start_lb();
	return 0;
}

static int
down(void **state)
{
	int i;

	(void)state;
	if (lb > 0)
		th_kill(lb, SIGTERM);
	for (i = 0; i < NSERVERS; i++)
		if (srv[i].pid > 0)
			th_server_stop(&srv[i], SIGTERM);
	return 0;
}

/* A client enrolled through the load balancer, with a caseload. */
static void
client(int k, const char *key, char *home, size_t len)
{
	static const char *const places[NCLIENTS] = {"NH", "BD", "TH", "NH"};
	char url[64], cmd[1024];
	struct th_run r;
	int i;

	snprintf(home, len, "%s", th_tmpdir());
	snprintf(url, sizeof(url), "https://localhost:%d", lb_port);
	/* HAProxy may still be starting: setup is retried a little */
	for (i = 0; i < 100; i++) {
		th_cmd(&r, TH_PASS "\n", "pcmds", "--home", home, TH_SETUP,
		    "--key-file", key, "--server", url, "--code",
		    th_server_user(&srv[0], "link_worker", places[k], NULL),
		    "--cacert", srv[0].ca, NULL);
		if (r.status == 0 || i == 99)
			break;	/* the last failure kept for its message */
		th_run_free(&r);
		usleep(50 * 1000);
	}
	if (r.status != 0)
		fail_msg("pcmds setup through HAProxy: %s", r.err);
	th_run_free(&r);
	th_unlock(home);
	snprintf(cmd, sizeof(cmd), "awk -v seed=%d -v place=%s -v n=%d -v "
	    "cmds=/dev/null -f packaging/caseload.awk > %s/c.csv", 11 + k,
	    places[k], ROWS, home);
	assert_int_equal(system(cmd), 0);
	th_cmd(&r, NULL, "pcmds", "--home", home, "import", th_path(home,
	    "c.csv"), NULL);
	assert_int_equal(r.status, 0);
	th_run_free(&r);
}

/* pcmds sync in the background, small batches so there are many. */
static pid_t
sync_start(const char *home)
{
	char exe[600];
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		th_quiet(1);
		snprintf(exe, sizeof(exe), "%s/pcmds", th_build());
		execl(exe, "pcmds", "--home", home, "sync", "--batch", "25",
		    "--timeout", "60", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static long
client_count(const char *home, const char *state)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM record_states WHERE "
	    "state = '%s'", state);
	return th_sql_long(th_path(home, "pcmds.db"), sql);
}

/* Each server's figures for everything, once it includes mark. */
static char *
figures(struct th_server *s, const char *mark)
{
	const char *hdr[] = {eval_auth, NULL};
	char path[128], *text;
	struct th_http h;
	cJSON *j;

	snprintf(path, sizeof(path), "/v1/places?suppress=false&watermark=%s",
	    mark);
	th_https(s, "GET", path, hdr, NULL, 0, &h);
	if (h.status != 200)
		fail_msg("%s on %s: %ld %s", path, s->url, h.status, h.body);
	j = th_json(h.body);
	cJSON_DeleteItemFromObject(j, "generated_at");
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	th_http_free(&h);
	return text;
}

/*
 * Batches the server logged as from the clients' own address (loopback
 * 127.0.0.1, which HAProxy's PROXY header carries); failing when one is
 * logged as from HAProxy's address instead.
 */
static long
client_batches(const struct th_server *s)
{
	char *text = th_slurp(s->log, NULL), *line, *save = NULL;
	long n = 0;

	assert_non_null(text);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "POST /v1/records ") == NULL)
			continue;
		if (strstr(line, "peer=" LB_FROM) != NULL)
			fail_msg("%s logged HAProxy as the client: %s", s->url,
			    line);
		n += strstr(line, "peer=127.0.0.1") != NULL;
	}
	free(text);
	return n;
}

static void
test_cluster_through_haproxy(void **state)
{
	char homes[NCLIENTS][600], key[600], mark[32], *f0, *f;
	pid_t pids[NCLIENTS];
	long total = 0, sent = 0, killed_at, batches;
	PGconn *c;
	PGresult *res;
	struct th_run r;
	int i, k, st, rounds = 0;

	(void)state;
	if (!th_have("haproxy"))
		skip();
	snprintf(key, sizeof(key), "%s/deploy.key", th_tmpdir());
	th_cmd(&r, NULL, "pcmds", "keygen", "--out", key, NULL);
	th_run_free(&r);
	for (k = 0; k < NCLIENTS; k++) {
		client(k, key, homes[k], sizeof(homes[k]));
		total += client_count(homes[k], "pending");
	}
	for (k = 0; k < NCLIENTS; k++)
		pids[k] = sync_start(homes[k]);
	/* a quarter stored: one server dies mid-batch, and comes back */
	for (i = 0; i < 6000 && th_sql_long(db, "SELECT COUNT(*) FROM "
	    "records") < total / 4; i++)
		usleep(10 * 1000);
	killed_at = th_sql_long(db, "SELECT COUNT(*) FROM records");
	th_server_stop(&srv[1], SIGKILL);
	th_server_start(&srv[1], NULL);
	/* each client syncs until it has nothing pending (a sync cut off by
	   the kill is simply run again, as a link worker would) */
	for (k = 0; k < NCLIENTS; k++) {
		waitpid(pids[k], &st, 0);
		while (client_count(homes[k], "pending") > 0 && rounds++ < 20) {
			pids[k] = sync_start(homes[k]);
			waitpid(pids[k], &st, 0);
		}
		assert_int_equal(client_count(homes[k], "pending"), 0);
		sent += client_count(homes[k], "sent");
	}
	print_message("%ld records from %d clients through HAProxy; server 2 "
	    "killed -9 at %ld stored and restarted; %d syncs run again\n",
	    total, NCLIENTS, killed_at, rounds);
	/* every record exactly once */
	assert_int_equal(sent, total);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(*) FROM records"),
	    total);
	assert_int_equal(th_sql_long(db, "SELECT COUNT(DISTINCT id) FROM "
	    "records"), total);
	/* a commit after every sync: each server's figures include them all */
	c = PQconnectdb(th_db_uri(db));
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	res = PQexec(c, "SELECT pg_current_xact_id()::text");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	snprintf(mark, sizeof(mark), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(c);
	f0 = figures(&srv[0], mark);
	assert_non_null(strstr(f0, "\"referrals\":"));
	for (i = 1; i < NSERVERS; i++) {
		f = figures(&srv[i], mark);
		if (strcmp(f, f0) != 0)
			fail_msg("server %d's figures differ from server 1's:\n%s\n"
			    "%s", i + 1, f, f0);
		free(f);
	}
	free(f0);
	/* HAProxy's PROXY header gave each server the client's address */
	for (i = 0, batches = 0; i < NSERVERS; i++)
		batches += client_batches(&srv[i]);
	assert_true(batches > 0);
	/* one audit log over every server's chains, intact */
	th_server_admin(&srv[0], &r, "audit verify");
	if (r.status != 0)
		fail_msg("audit verify: %s%s", r.out, r.err);
	print_message("%s", r.out);
	th_run_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cluster_through_haproxy),
	};

	setenv("PCMDS_TEST_STORE", "postgresql", 1);
	return cmocka_run_group_tests_name("haproxy", tests, up, down);
}

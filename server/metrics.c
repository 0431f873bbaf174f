/*
 * metrics.c - Prometheus exposition of request, record and batch figures.
 */
#include <string.h>

#include "metrics.h"
#include "version.h"

static const double bounds[METRICS_NBUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static const char *const result_names[MR_N] = {
	"stored", "duplicate", "conflict", "rejected",
};

void
metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->mu, NULL);
	m->started = time(NULL);
}

void
metrics_request(struct metrics *m, int status)
{
	pthread_mutex_lock(&m->mu);
	if (status >= 100 && status < 600)
		m->status[status]++;
	pthread_mutex_unlock(&m->mu);
}

void
metrics_batch(struct metrics *m, double s, const long counts[MR_N])
{
	int i;

	pthread_mutex_lock(&m->mu);
	for (i = 0; i < METRICS_NBUCKETS; i++)
		if (s <= bounds[i])
			m->batch_bucket[i]++;
	m->batch_count++;
	m->batch_sum += s;
	for (i = 0; i < MR_N; i++)
		m->records[i] += (uint64_t)counts[i];
	pthread_mutex_unlock(&m->mu);
}

pc_rc
metrics_render(struct metrics *m, struct buf *b)
{
	pc_rc rc;
	int i;

	pthread_mutex_lock(&m->mu);
	buf_addf(b, "# HELP pcmds_build_info pcmdsd version.\n"
	    "# TYPE pcmds_build_info gauge\n"
	    "pcmds_build_info{version=\"%s\"} 1\n", PCMDS_VERSION);
	buf_addf(b, "# HELP pcmds_start_time_seconds Start time of pcmdsd.\n"
	    "# TYPE pcmds_start_time_seconds gauge\n"
	    "pcmds_start_time_seconds %lld\n", (long long)m->started);
	buf_adds(b, "# HELP pcmds_http_requests_total HTTP requests answered, "
	    "by status.\n# TYPE pcmds_http_requests_total counter\n");
	for (i = 100; i < 600; i++)
		if (m->status[i] > 0)
			buf_addf(b, "pcmds_http_requests_total{status=\"%d\"} "
			    "%llu\n", i, (unsigned long long)m->status[i]);
	buf_adds(b, "# HELP pcmds_records_total Records received, by result.\n"
	    "# TYPE pcmds_records_total counter\n");
	for (i = 0; i < MR_N; i++)
		buf_addf(b, "pcmds_records_total{result=\"%s\"} %llu\n",
		    result_names[i], (unsigned long long)m->records[i]);
	buf_adds(b, "# HELP pcmds_batch_seconds Time to validate and commit a "
	    "batch.\n# TYPE pcmds_batch_seconds histogram\n");
	for (i = 0; i < METRICS_NBUCKETS; i++)
		buf_addf(b, "pcmds_batch_seconds_bucket{le=\"%g\"} %llu\n",
		    bounds[i], (unsigned long long)m->batch_bucket[i]);
	buf_addf(b, "pcmds_batch_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "pcmds_batch_seconds_sum %.6f\npcmds_batch_seconds_count %llu\n",
	    (unsigned long long)m->batch_count, m->batch_sum,
	    (unsigned long long)m->batch_count);
	buf_addf(b, "# HELP pcmds_db_jobs Requests waiting for a database "
	    "worker, and running on one.\n# TYPE pcmds_db_jobs gauge\n"
	    "pcmds_db_jobs{state=\"queued\"} %d\n"
	    "pcmds_db_jobs{state=\"running\"} %d\n", m->db_queued,
	    m->db_running);
	buf_addf(b, "# HELP pcmds_catchups_total Rounds of catching up on "
	    "other servers' facts.\n# TYPE pcmds_catchups_total counter\n"
	    "pcmds_catchups_total %ld\n", m->catchups);
	buf_addf(b, "# HELP pcmds_catchup_facts_total Facts the catch-ups "
	    "read back (this server's own only when not applied at "
	    "commit).\n# TYPE pcmds_catchup_facts_total counter\n"
	    "pcmds_catchup_facts_total %ld\n", m->catchup_facts);
	rc = buf_addf(b, "# HELP pcmds_open_connections Open client "
	    "connections.\n# TYPE pcmds_open_connections gauge\n"
	    "pcmds_open_connections %d\n", m->connections);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

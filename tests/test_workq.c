/*
 * test_workq.c - the work queue: jobs start in the order they were put,
 * a caller takes back its group's jobs no thread has started (and only
 * its own), and stopping runs what is still queued.
 *
 * A gate job holds the only thread, so that what is queued behind it
 * stays queued for as long as the test needs: nothing depends on timing.
 */
#include <pthread.h>
#include <string.h>

#include "harness.h"
#include "workq.h"

#define NJOBS	64

struct log {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 order[NJOBS + 8];
	int		 n;
	int		 gate_open, gate_held;
};

struct tjob {
	struct workq_job job;	/* first */
	struct log	*log;
	int		 id;
	pthread_t	 by;	/* the thread that ran it */
	int		 ran;
};

static pthread_t main_thread;

static void
log_init(struct log *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
}

static void
log_free(struct log *l)
{
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
}

static void
note(struct workq_job *j)
{
	struct tjob *t = (struct tjob *)j;

	pthread_mutex_lock(&t->log->mu);
	t->by = pthread_self();
	t->ran++;
	t->log->order[t->log->n++] = t->id;
	pthread_cond_broadcast(&t->log->cv);
	pthread_mutex_unlock(&t->log->mu);
}

/* Holds its thread until the gate opens. */
static void
gate(struct workq_job *j)
{
	struct tjob *t = (struct tjob *)j;

	pthread_mutex_lock(&t->log->mu);
	t->log->gate_held = 1;
	pthread_cond_broadcast(&t->log->cv);
	while (!t->log->gate_open)
		pthread_cond_wait(&t->log->cv, &t->log->mu);
	t->by = pthread_self();
	t->ran++;
	pthread_mutex_unlock(&t->log->mu);
}

static void
open_gate(struct workq_job *j)
{
	struct tjob *t = (struct tjob *)j;

	note(j);
	pthread_mutex_lock(&t->log->mu);
	t->log->gate_open = 1;
	pthread_cond_broadcast(&t->log->cv);
	pthread_mutex_unlock(&t->log->mu);
}

static void
tjob_init(struct tjob *t, struct log *l, int id,
    void (*run)(struct workq_job *))
{
	memset(t, 0, sizeof(*t));
	t->job.run = run;
	t->log = l;
	t->id = id;
}

/* The only thread taken by a gate job, which has started. */
static void
hold(struct workq *q, struct log *l, struct workq_group *g, struct tjob *t)
{
	tjob_init(t, l, -1, gate);
	workq_put(q, g, &t->job);
	pthread_mutex_lock(&l->mu);
	while (!l->gate_held)
		pthread_cond_wait(&l->cv, &l->mu);
	pthread_mutex_unlock(&l->mu);
}

/* A queue of one thread, which a gate job holds. */
static void
start_held(struct workq **q, struct log *l, struct workq_group *g,
    struct tjob *held)
{
	log_init(l);
	assert_int_equal(workq_start(q, 1, "test-workq"), PC_OK);
	hold(*q, l, g, held);
}

/* t[0..n-1] ran once each, in order, first in the log, here or not. */
static void
ran_in_order(const struct log *l, const struct tjob *t, int n, int here)
{
	int i;

	assert_true(l->n >= n);
	for (i = 0; i < n; i++) {
		assert_int_equal(l->order[i], t[i].id);
		assert_int_equal(t[i].ran, 1);
		assert_int_equal(pthread_equal(t[i].by, main_thread) != 0, here);
	}
}

/* One thread alone: the jobs run one after the other, as they were put. */
static void
test_order(void **state)
{
	struct tjob t[NJOBS];
	struct workq_group g = {0};
	struct workq *q;
	struct log l;
	int i;

	(void)state;
	log_init(&l);
	assert_int_equal(workq_start(&q, 1, "test-workq"), PC_OK);
	assert_int_equal(workq_threads(q), 1);
	for (i = 0; i < NJOBS; i++) {
		tjob_init(&t[i], &l, i, note);
		workq_put(q, &g, &t[i].job);
	}
	/* the thread runs them all, the caller none */
	pthread_mutex_lock(&l.mu);
	while (l.n < NJOBS)
		pthread_cond_wait(&l.cv, &l.mu);
	pthread_mutex_unlock(&l.mu);
	workq_finish(q, &g);
	assert_int_equal(g.left, 0);
	ran_in_order(&l, t, NJOBS, 0);
	workq_stop(q);
	log_free(&l);
}

/*
 * The thread held: finish runs the group's jobs here, in their order,
 * and leaves another group's job queued between them alone.
 */
static void
test_take_back(void **state)
{
	struct tjob held, t[3], other;
	struct workq_group g = {0}, h = {0}, o = {0};
	struct workq *q;
	struct log l;

	(void)state;
	start_held(&q, &l, &h, &held);
	tjob_init(&t[0], &l, 0, note);
	tjob_init(&other, &l, 100, note);
	tjob_init(&t[1], &l, 1, note);
	tjob_init(&t[2], &l, 2, note);
	workq_put(q, &g, &t[0].job);
	workq_put(q, &o, &other.job);
	workq_put(q, &g, &t[1].job);
	workq_put(q, &g, &t[2].job);
	workq_finish(q, &g);
	assert_int_equal(l.n, 3);
	ran_in_order(&l, t, 3, 1);
	assert_int_equal(other.ran, 0);
	assert_int_equal(held.ran, 0);
	/* the gate opens: the thread finishes its job, then the other one */
	pthread_mutex_lock(&l.mu);
	l.gate_open = 1;
	pthread_cond_broadcast(&l.cv);
	pthread_mutex_unlock(&l.mu);
	workq_finish(q, &h);
	assert_int_equal(held.ran, 1);
	pthread_mutex_lock(&l.mu);
	while (other.ran == 0)
		pthread_cond_wait(&l.cv, &l.mu);
	pthread_mutex_unlock(&l.mu);
	workq_finish(q, &o);
	assert_false(pthread_equal(other.by, main_thread));
	workq_stop(q);
	log_free(&l);
}

/*
 * Stopping with jobs queued behind a held thread: they run on the
 * stopping thread, in order, the last opening the gate; then the held
 * job ends and the thread is joined.
 */
static void
test_stop_queued(void **state)
{
	struct tjob held, t[3];
	struct workq_group g = {0};
	struct workq *q;
	struct log l;
	int i;

	(void)state;
	start_held(&q, &l, &g, &held);
	tjob_init(&t[0], &l, 0, note);
	tjob_init(&t[1], &l, 1, note);
	tjob_init(&t[2], &l, 2, open_gate);
	for (i = 0; i < 3; i++)
		workq_put(q, &g, &t[i].job);
	workq_stop(q);
	assert_int_equal(held.ran, 1);
	assert_false(pthread_equal(held.by, main_thread));
	assert_int_equal(l.n, 3);
	ran_in_order(&l, t, 3, 1);
	assert_int_equal(g.left, 0);
	log_free(&l);
}

/* No threads: the jobs wait for the caller, who runs them all. */
static void
test_no_threads(void **state)
{
	struct tjob t[4];
	struct workq_group g = {0};
	struct workq *q;
	struct log l;
	int i;

	(void)state;
	log_init(&l);
	assert_int_equal(workq_threads(NULL), 0);
	workq_stop(NULL);
	assert_int_equal(workq_start(&q, 0, "test-workq"), PC_OK);
	assert_int_equal(workq_threads(q), 0);
	for (i = 0; i < 4; i++) {
		tjob_init(&t[i], &l, i, note);
		workq_put(q, &g, &t[i].job);
	}
	assert_int_equal(l.n, 0);
	workq_finish(q, &g);
	assert_int_equal(l.n, 4);
	ran_in_order(&l, t, 4, 1);
	workq_stop(q);
	log_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_take_back),
		cmocka_unit_test(test_stop_queued),
		cmocka_unit_test(test_no_threads),
	};

	main_thread = pthread_self();
	return cmocka_run_group_tests_name("workq", tests, NULL, NULL);
}

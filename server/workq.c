/*
 * workq.c - the queue: one lock, a list in the order jobs were put, one
 * condition for threads waiting for work and one for callers waiting
 * for their group.
 */
#include <pthread.h>
#include <stdlib.h>

#include "workq.h"

#define WORKQ_MAX	16

struct workq {
	pthread_mutex_t		 mu;
	pthread_cond_t		 work;	/* a job was put, or stop */
	pthread_cond_t		 done;	/* a job was finished */
	struct workq_job	*head, *tail;	/* put, not started */
	pthread_t		 th[WORKQ_MAX];
	int			 n, stop;
};

/* Takes *at off the queue; under the lock. */
static struct workq_job *
unlink_at(struct workq *q, struct workq_job **at, struct workq_job *prev)
{
	struct workq_job *j = *at;

	*at = j->next;
	if (q->tail == j)
		q->tail = prev;
	return j;
}

/* Runs j, taken off the queue, without the lock; under it on return. */
static void
run_one(struct workq *q, struct workq_job *j)
{
	struct workq_group *g = j->group;

	pthread_mutex_unlock(&q->mu);
	j->run(j);
	pthread_mutex_lock(&q->mu);
	/* j and g may be gone once the caller sees left reach 0 */
	g->left--;
	pthread_cond_broadcast(&q->done);
}

static void *
thread_main(void *arg)
{
	struct workq *q = arg;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->head == NULL && !q->stop)
			pthread_cond_wait(&q->work, &q->mu);
		if (q->head == NULL)
			break;	/* stopping, and nothing left */
		run_one(q, unlink_at(q, &q->head, NULL));
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

pc_rc
workq_start(struct workq **out, int n, const char *name)
{
	struct workq *q;

	if ((*out = q = calloc(1, sizeof(*q))) == NULL)
		return PC_ENOMEM;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->done, NULL);
	n = n < WORKQ_MAX ? n : WORKQ_MAX;
	while (q->n < n && pthread_create(&q->th[q->n], NULL, thread_main,
	    q) == 0) {
		pthread_setname_np(q->th[q->n], name);
		q->n++;
	}
	return PC_OK;
}

int
workq_threads(const struct workq *q)
{
	return q != NULL ? q->n : 0;
}

void
workq_put(struct workq *q, struct workq_group *g, struct workq_job *j)
{
	j->group = g;
	j->next = NULL;
	pthread_mutex_lock(&q->mu);
	g->left++;
	if (q->tail != NULL)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&q->mu);
}

void
workq_finish(struct workq *q, struct workq_group *g)
{
	struct workq_job **at, *prev;

	pthread_mutex_lock(&q->mu);
	for (at = &q->head, prev = NULL; *at != NULL;) {
		if ((*at)->group != g) {
			prev = *at;
			at = &(*at)->next;
			continue;
		}
		run_one(q, unlink_at(q, at, prev));
		/* the queue may have changed while the lock was let go */
		at = &q->head;
		prev = NULL;
	}
	while (g->left > 0)
		pthread_cond_wait(&q->done, &q->mu);
	pthread_mutex_unlock(&q->mu);
}

void
workq_stop(struct workq *q)
{
	int i;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stop = 1;
	pthread_cond_broadcast(&q->work);
	while (q->head != NULL)
		run_one(q, unlink_at(q, &q->head, NULL));
	pthread_mutex_unlock(&q->mu);
	for (i = 0; i < q->n; i++)
		pthread_join(q->th[i], NULL);
	pthread_cond_destroy(&q->done);
	pthread_cond_destroy(&q->work);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

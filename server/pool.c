/*
 * pool.c - worker threads for the database, and the way back to the
 * loop: a pipe whose read end the loop watches.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "pool.h"

struct worker {
	pthread_t	 thread;
	struct store	*st;
	struct pool	*pool;
	int		 started;
};

struct pool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct pool_job	*head, *tail;	/* waiting for a worker */
	struct pool_job	*dhead, *dtail;	/* finished, for the loop */
	int		 queued, running;
	int		 stop, stopped;
	struct worker	*w;
	int		 n;
	int		 nostore;	/* workers without a connection */
	int		 wake[2];	/* worker -> loop */
	struct event	*ev;
};

static _Thread_local int on_worker;

int
pool_on_worker(void)
{
	return on_worker;
}

static void
push(struct pool_job **head, struct pool_job **tail, struct pool_job *j)
{
	j->next = NULL;
	if (*tail != NULL)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static void *
work_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;
	struct pool_job *j;
	char c = 1;

	on_worker = 1;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->head == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if ((j = p->head) == NULL)
			break;	/* stopping, and nothing left */
		if ((p->head = j->next) == NULL)
			p->tail = NULL;
		p->queued--;
		p->running++;
		pthread_mutex_unlock(&p->mu);
		j->work(j, w->st);
		pthread_mutex_lock(&p->mu);
		p->running--;
		push(&p->dhead, &p->dtail, j);
		/* full pipe: the loop has a wake-up pending anyway */
		(void)!write(p->wake[1], &c, 1);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* Runs the done of every finished job, on the calling thread. */
static void
finish(struct pool *p)
{
	struct pool_job *j, *next;

	pthread_mutex_lock(&p->mu);
	j = p->dhead;
	p->dhead = p->dtail = NULL;
	pthread_mutex_unlock(&p->mu);
	for (; j != NULL; j = next) {
		next = j->next;
		j->done(j);
	}
}

static void
on_wake(evutil_socket_t fd, short ev, void *arg)
{
	char b[256];

	(void)ev;
	while (read(fd, b, sizeof(b)) > 0)
		;
	finish(arg);
}

static pc_rc
worker_open(struct worker *w, const char *database, const char *export_db,
    int cache_mib, const struct secret *sec, struct err_list *errs)
{
	pc_rc rc;

	if (database == NULL)
		return PC_OK;	/* jobs that read through their own handle */
	if ((rc = store_open(database, &w->st, errs)) != PC_OK)
		return rc;
	if ((rc = store_cache_size(w->st, cache_mib)) != PC_OK)
		err_add(errs, E_SYSTEM, "cache_size", "cannot set a database "
		    "worker's page cache: %s", pc_strerror(rc));
	if (rc != PC_OK || (rc = audit_open(w->st, sec, errs)) != PC_OK ||
	    (rc = store_export_source(w->st, export_db)) != PC_OK) {
		if (rc == PC_EUSAGE)
			err_add(errs, E_SYSTEM, "export_database", "export_"
			    "database must name a PostgreSQL database");
		store_close(w->st);
		w->st = NULL;
	}
	return rc;
}

pc_rc
pool_start(struct pool **out, struct event_base *base, int n,
    const char *database, const char *export_db, int cache_mib,
    const struct secret *sec, struct err_list *errs)
{
	struct pool *p;
	int i;
	pc_rc rc = PC_OK;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->w = calloc((size_t)n, sizeof(*p->w))) == NULL) {
		free(p);
		return PC_ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->n = n;
	p->nostore = database == NULL;
	p->wake[0] = p->wake[1] = -1;
	if (pipe(p->wake) != 0 || fcntl(p->wake[0], F_SETFL, O_NONBLOCK) != 0 ||
	    fcntl(p->wake[1], F_SETFL, O_NONBLOCK) != 0 ||
	    (p->ev = event_new(base, p->wake[0], EV_READ | EV_PERSIST, on_wake,
	    p)) == NULL || event_add(p->ev, NULL) != 0) {
		err_add(errs, E_SYSTEM, "", "cannot set up the database workers: "
		    "%s", strerror(errno));
		rc = PC_EIO;
	}
	for (i = 0; rc == PC_OK && i < n; i++) {
		p->w[i].pool = p;
		if ((rc = worker_open(&p->w[i], database, export_db,
		    cache_mib, sec, errs)) != PC_OK)
			break;
		if (pthread_create(&p->w[i].thread, NULL, work_main,
		    &p->w[i]) != 0) {
			err_add(errs, E_SYSTEM, "", "cannot start a database "
			    "worker thread");
			rc = PC_EIO;
			break;
		}
		p->w[i].started = 1;
	}
	if (rc != PC_OK) {
		pool_stop(p);
		return rc;
	}
	*out = p;
	return PC_OK;
}

void
pool_submit(struct pool *p, struct pool_job *j)
{
	pthread_mutex_lock(&p->mu);
	if (p->stopped) {
		/* the workers are gone: the last jobs run here */
		pthread_mutex_unlock(&p->mu);
		j->work(j, p->w[0].st);
		j->done(j);
		return;
	}
	push(&p->head, &p->tail, j);
	p->queued++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void
pool_load(struct pool *p, int *queued, int *running)
{
	pthread_mutex_lock(&p->mu);
	*queued = p->queued;
	*running = p->running;
	pthread_mutex_unlock(&p->mu);
}

void
pool_stop(struct pool *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n; i++)
		if (p->w[i].started)
			pthread_join(p->w[i].thread, NULL);
	pthread_mutex_lock(&p->mu);
	p->stopped = p->nostore || p->w[0].st != NULL;
	pthread_mutex_unlock(&p->mu);
	finish(p);
	if (p->ev != NULL)
		event_free(p->ev);
	for (i = 0; i < p->n; i++)
		store_close(p->w[i].st);
	if (p->wake[0] >= 0)
		close(p->wake[0]);
	if (p->wake[1] >= 0)
		close(p->wake[1]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->w);
	free(p);
}

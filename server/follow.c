/*
 * follow.c - the catch-up thread and the requests waiting for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "failpoint.h"
#include "follow.h"
#include "log.h"

#define RETRY_MS	1000	/* after a failed catch-up */
#define OWN_MAX		4096	/* own commits held; an older one is read */

/* One of this server's commits, its facts applied at commit. */
struct own {
	char		 mark[STORE_MARK_LEN];
	int		 safe;		/* the next catch-up leaves it out */
};

struct follow {
	pthread_t	 thread;
	int		 started;
	struct store	*st;
	struct agg	*agg;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* the snapshot moved on */
	char		 snap[STORE_SNAP_LEN];	/* reflected in agg */
	long		 rounds, read;
	int		 stop;
	int		 failing;	/* said once per outage */
	int		 wake[2];	/* a request asks for a catch-up */
	/* under mu: own commits a catch-up may still read, oldest first */
	struct own	*own;
	size_t		 nown;
	int		 in_round;	/* a catch-up is reading and applying */
	long		 ended;		/* catch-ups ended, however */
	long		 begun;		/* own commits begun (follow_begin) */
	int		 inflight;	/* ...and not yet said applied */
	/* the catch-up thread's own */
	char		(*skip)[STORE_MARK_LEN];	/* OWN_MAX */
	int64_t		 places;	/* store_places_version() held */
};

static void
kick(struct follow *f)
{
	char c = 1;

	(void)!write(f->wake[1], &c, 1);
}

static void
drain(struct follow *f)
{
	char b[64];

	while (read(f->wake[0], b, sizeof(b)) > 0)
		;
}

/* A pause that a stop (or a request) cuts short. */
static void
pause_ms(struct follow *f, int ms)
{
	struct pollfd p = {f->wake[0], POLLIN, 0};

	(void)poll(&p, 1, ms);
}

/* Under mu: the own commits the next catch-up leaves out, into c. */
static void
round_begin(struct follow *f, struct agg_catch *c)
{
	size_t i;

	c->nskip = 0;
	for (i = 0; i < f->nown; i++)
		if (f->own[i].safe)
			memcpy(f->skip[c->nskip++], f->own[i].mark,
			    STORE_MARK_LEN);
	c->skip = f->skip;
	f->in_round = 1;
}

/*
 * Under mu, after a catch-up that read snapshot upto: own commits no
 * catch-up from it reads are dropped; one upto covers is safe to leave
 * out (upto's facts are no older than its), one it does not is read
 * once more, since this catch-up may have applied older facts of its
 * referrals after it did.
 */
static void
round_end(struct follow *f, const char *upto)
{
	size_t i, k = 0;

	for (i = 0; i < f->nown; i++) {
		if (!store_may_read(f->st, upto, f->own[i].mark))
			continue;
		f->own[i].safe = store_covers(f->st, upto, f->own[i].mark);
		f->own[k++] = f->own[i];
	}
	f->nown = k;
}

static void *
follow_main(void *arg)
{
	struct follow *f = arg;
	struct agg_catch c;
	char since[STORE_SNAP_LEN];
	pc_rc rc;

	for (;;) {
		pthread_mutex_lock(&f->mu);
		if (f->stop) {
			pthread_mutex_unlock(&f->mu);
			break;
		}
		memcpy(since, f->snap, sizeof(since));
		pthread_mutex_unlock(&f->mu);
		rc = store_wait_change(f->st, f->wake[0], f->failing ?
		    RETRY_MS : FOLLOW_POLL_MS);
		drain(f);
		if (rc != PC_OK && rc != PC_ENOTFOUND)
			pause_ms(f, RETRY_MS);	/* reconnected on next use */
		memset(&c, 0, sizeof(c));
		c.since = since;
		c.places = f->places;
		pthread_mutex_lock(&f->mu);
		round_begin(f, &c);
		pthread_mutex_unlock(&f->mu);
		rc = agg_catch_up(f->agg, f->st, &c);
		f->places = c.places;
		pthread_mutex_lock(&f->mu);
		f->in_round = 0;
		f->ended++;
		f->read += c.read;
		if (rc == PC_OK)
			round_end(f, c.upto);
		pthread_mutex_unlock(&f->mu);
		if (rc != PC_OK) {
			if (!f->failing++)
				log_warnx("catching up on other servers: %s; "
				    "trying again", pc_strerror(rc));
			continue;
		}
		if (f->failing)
			log_info("catching up on other servers again");
		f->failing = 0;
		pthread_mutex_lock(&f->mu);
		memcpy(f->snap, c.upto, sizeof(f->snap));
		f->rounds++;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		/* test builds: held after a round that read something */
		if (c.read > 0)
			FAILPOINT_PAUSE("catch-up-ended");
	}
	return NULL;
}

pc_rc
follow_start(struct follow **out, const char *database, struct agg *a,
    const char *upto, struct err_list *errs)
{
	struct follow *f;
	pthread_condattr_t ca;
	pc_rc rc;

	*out = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return PC_ENOMEM;
	f->agg = a;
	f->wake[0] = f->wake[1] = -1;
	f->places = -1;		/* the first catch-up reads them */
	snprintf(f->snap, sizeof(f->snap), "%s", upto);
	pthread_mutex_init(&f->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((f->own = calloc(OWN_MAX, sizeof(*f->own))) == NULL ||
	    (f->skip = calloc(OWN_MAX, sizeof(*f->skip))) == NULL) {
		follow_stop(f);
		return PC_ENOMEM;
	}
	if (pipe(f->wake) != 0 || fcntl(f->wake[0], F_SETFL, O_NONBLOCK) != 0 ||
	    fcntl(f->wake[1], F_SETFL, O_NONBLOCK) != 0) {
		err_add(errs, E_SYSTEM, "", "cannot set up catching up: %s",
		    strerror(errno));
		follow_stop(f);
		return PC_EIO;
	}
	if ((rc = store_open(database, &f->st, errs)) != PC_OK) {
		follow_stop(f);
		return rc;
	}
	if (pthread_create(&f->thread, NULL, follow_main, f) != 0) {
		err_add(errs, E_SYSTEM, "", "cannot start the catch-up thread");
		follow_stop(f);
		return PC_EIO;
	}
	f->started = 1;
	*out = f;
	return PC_OK;
}

int
follow_wait(struct follow *f, const char *mark, int ms)
{
	struct timespec until;
	int ok;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&f->mu);
	while (!(ok = store_covers(f->st, f->snap, mark)) && !f->stop) {
		kick(f);
		if (pthread_cond_timedwait(&f->cv, &f->mu, &until) ==
		    ETIMEDOUT) {
			ok = store_covers(f->st, f->snap, mark);
			break;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return ok;
}

void
follow_begin(struct follow *f, struct follow_ticket *t)
{
	memset(t, 0, sizeof(*t));
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	t->ended = f->ended;
	t->alone = !f->in_round && f->inflight == 0;
	t->begun = ++f->begun;
	f->inflight++;
	pthread_mutex_unlock(&f->mu);
}

void
follow_applied(struct follow *f, const struct follow_ticket *t,
    const char *mark)
{
	struct own *o;

	if (f == NULL)
		return;
	pthread_mutex_lock(&f->mu);
	f->inflight--;
	if (mark == NULL || mark[0] == '\0') {
		pthread_mutex_unlock(&f->mu);
		return;
	}
	if (f->nown == OWN_MAX) {	/* the oldest is read again: harmless */
		memmove(f->own, f->own + 1, (OWN_MAX - 1) * sizeof(*f->own));
		f->nown--;
	}
	o = &f->own[f->nown++];
	snprintf(o->mark, sizeof(o->mark), "%s", mark);
	/*
	 * Left out at once only if nothing could have put an older fact of
	 * its referrals over the ones it applied: no catch-up ran at any
	 * moment from before its commit to now, and no other own commit was
	 * on its way (two may apply in the other order than they
	 * committed). Otherwise the next catch-up covering it reads it
	 * back, putting right what was overwritten (round_end).
	 */
	o->safe = t->alone && !f->in_round && f->ended == t->ended &&
	    f->begun == t->begun;
	pthread_mutex_unlock(&f->mu);
}

void
follow_counts(struct follow *f, long *rounds, long *facts)
{
	pthread_mutex_lock(&f->mu);
	*rounds = f->rounds;
	*facts = f->read;
	pthread_mutex_unlock(&f->mu);
}

void
follow_stop(struct follow *f)
{
	if (f == NULL)
		return;
	if (f->started) {
		pthread_mutex_lock(&f->mu);
		f->stop = 1;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		kick(f);
		pthread_join(f->thread, NULL);
	}
	store_close(f->st);
	if (f->wake[0] >= 0)
		close(f->wake[0]);
	if (f->wake[1] >= 0)
		close(f->wake[1]);
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f->own);
	free(f->skip);
	free(f);
}

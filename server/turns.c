/*
 * turns.c - a ticket lock: each taker draws the next number and waits
 * until it is served.
 */
#include "turns.h"

void
turns_init(struct turns *t)
{
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	t->next = t->serving = 0;
}

void
turns_destroy(struct turns *t)
{
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
}

void
turns_take(struct turns *t)
{
	unsigned long me;

	pthread_mutex_lock(&t->mu);
	me = t->next++;
	while (t->serving != me)
		pthread_cond_wait(&t->cv, &t->mu);
	pthread_mutex_unlock(&t->mu);
}

void
turns_give(struct turns *t)
{
	pthread_mutex_lock(&t->mu);
	t->serving++;
	/* every waiter checks its number: the one served goes on */
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

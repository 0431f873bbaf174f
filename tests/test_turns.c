/*
 * test_turns.c - the ticket lock: takers are served in the order they
 * asked, and one at a time.
 *
 * Each taker is started only once the one before it has drawn its
 * number (seen in the lock's next ticket), so the order asked is known
 * and nothing depends on timing.
 */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "harness.h"
#include "turns.h"

#define NTAKERS	6
#define ROUNDS	20000

struct run {
	struct turns	 t;
	int		 order[NTAKERS];
	int		 n;		/* under the turns */
	long		 count;		/* under the turns */
};

struct taker {
	struct run	*run;
	int		 id;
};

static unsigned long
drawn(struct turns *t)
{
	unsigned long n;

	pthread_mutex_lock(&t->mu);
	n = t->next;
	pthread_mutex_unlock(&t->mu);
	return n;
}

static void *
take_once(void *arg)
{
	struct taker *k = arg;

	turns_take(&k->run->t);
	k->run->order[k->run->n++] = k->id;
	turns_give(&k->run->t);
	return NULL;
}

static void
test_order_asked(void **state)
{
	struct run r;
	struct taker k[NTAKERS];
	pthread_t th[NTAKERS];
	int i;

	(void)state;
	memset(&r, 0, sizeof(r));
	turns_init(&r.t);
	turns_take(&r.t);	/* held: every taker waits in line */
	for (i = 0; i < NTAKERS; i++) {
		k[i].run = &r;
		k[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, take_once, &k[i]),
		    0);
		while (drawn(&r.t) != (unsigned long)i + 2)
			sched_yield();
	}
	turns_give(&r.t);
	for (i = 0; i < NTAKERS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(r.n, NTAKERS);
	for (i = 0; i < NTAKERS; i++)
		assert_int_equal(r.order[i], i);
	turns_destroy(&r.t);
}

static void *
count_many(void *arg)
{
	struct run *r = arg;
	long v;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		turns_take(&r->t);
		v = r->count;	/* read, yield, write: lost without the lock */
		if (i % 1000 == 0)
			sched_yield();
		r->count = v + 1;
		turns_give(&r->t);
	}
	return NULL;
}

static void
test_one_at_a_time(void **state)
{
	struct run r;
	pthread_t th[4];
	int i;

	(void)state;
	memset(&r, 0, sizeof(r));
	turns_init(&r.t);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, count_many, &r),
		    0);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(r.count, 4L * ROUNDS);
	turns_destroy(&r.t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_asked),
		cmocka_unit_test(test_one_at_a_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

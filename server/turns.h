/*
 * turns.h - a lock taken in the order it was asked for (a ticket lock):
 * no one waiting is passed over, and no one sleeps on a timer as in
 * SQLite's busy handler. Used for the writers of a SQLite database
 * (store_sqlite.c) and for the server's connection for batches (srv.c).
 *
 * The caller owns the struct: turns_init() before use, turns_destroy()
 * once no one holds or waits for it.
 */
#ifndef PCMDS_TURNS_H
#define PCMDS_TURNS_H

#include <pthread.h>

struct turns {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	unsigned long	 next, serving;	/* the next ticket; whose turn */
};

void	 turns_init(struct turns *);
void	 turns_destroy(struct turns *);
/* Waits for this caller's turn: held until turns_give(). */
void	 turns_take(struct turns *);
/* The next in line's turn. */
void	 turns_give(struct turns *);

#endif

/*
 * sync.c - pcmds sync: pending records to the server, exactly once.
 *
 * Records go in device_seq order, in batches. Each is marked only from
 * the server's per-record answer, after that answer arrives: stored or
 * duplicate -> sent; rejected or conflict -> quarantined with the
 * server's errors. A sync killed at any moment leaves the unanswered
 * records pending; sending them again is harmless (the server answers
 * duplicate). A connection refused, reset or cut short (a server
 * restarting), 5xx and 429 are retried with exponential backoff and
 * jitter, honouring Retry-After, for up to the time budget (--timeout,
 * default 60 s) without an answer. A 413 (a batch larger than the server
 * takes) halves the batch, down to one record. One sync at a time per
 * device (a lock file).
 *
 * Two batches are with the server at once, each on a connection of its
 * own, so that one is read and checked there while the other commits:
 * the server may store them in either order, so a batch never holds a
 * record of a referral that the batch in flight holds (such rows wait
 * for the next batch; the records of a referral keep their order).
 * Threads do nothing but the requests, so the store stays with this one.
 */
#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "client.h"
#include "crash.h"
#include "date.h"
#include "directory.h"
#include "jscan.h"
#include "map.h"
#include "net.h"
#include "sec.h"

#define BACKOFF_BASE	0.25	/* s */
#define BACKOFF_CAP	15.0	/* s */
#define BUDGET_DEFAULT	60	/* s of retrying without an answer */
/*
 * Records a request: the most a server takes by default (its max_batch).
 * The server's commit writes every page the batch touched, and most are
 * pages of the referrals' facts and of the index of records by referral,
 * scattered; a larger batch shares more of them among its records and
 * fsyncs less often: 1000 a batch write a quarter fewer pages a record
 * than 500, 2000 a quarter fewer again. A server that takes fewer
 * answers 413, and the batch is halved for the rest of the sync.
 */
#define BATCH_DEFAULT	2000
#define STR(x)		#x
#define STR_OF(x)	STR(x)
#define LATER_MAX(s)	(2 * (s)->batch)	/* rows put off, at most */

/* A row put off: its referral is in the batch in flight. */
struct later {
	int64_t		 seq;
	char		 id[UUID_LEN];
	char		 referral[UUID_LEN];
	char		*json;		/* the record's text, wiped when freed */
	size_t		 len;
};

struct sync {
	struct ctx	*c;
	struct net	 net[2];	/* a connection for each batch in flight */
	int		 batch;		/* records per request; 413 halves it */
	double		 budget;	/* s of retrying one batch */
	double		 deadline;	/* for the lock */
	double		 started;
	int		 tty;
	int		 json;
	int		 resend;	/* sent records too: the server restored */
	int		 progress_fd;	/* "done "
	    "total" lines for pcmds ui, -1 */
	long		 total;		/* pending at the start */
	long		 done;		/* answered in this run */
	long		 sent, duplicate, quarantined, held, batches;
	long		 unrecorded;	/* answered, but not marked here */
	int		 shrink;	/* a 413: send again, smaller */
	int64_t		 after;		/* last seq taken */
	int64_t		 held_seen;	/* last held seq counted */
	char		 held_as[128];
	struct later	*later;		/* in seq order, LATER_MAX of them */
	int		 nlater;
};

/* One batch: its rows, its request body and, once sent, the answer. */
struct batch {
	char		(*ids)[UUID_LEN];
	int64_t		*seqs;		/* of the rows sent, beside their ids */
	int		 n;
	int		 oom;		/* a row could not be kept */
	struct map	 refs;		/* the referrals of its rows */
	const struct batch *fly;	/* while made: the batch in flight */
	struct buf	 body;
	struct buf	 gz;
	struct sync	*s;
	/* the request, made by the sender thread on net */
	struct net	*net;
	pthread_t	 thread;
	int		 threaded;
	pc_rc		 sent_rc;
	struct net_resp	 resp;	/* when sent_rc is PC_OK */
	struct err_list	 errs;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
take_lock(struct ctx *c, double deadline, struct err_list *errs)
{
	int fd = open(c->home.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	int said = 0;

	if (fd < 0) {
		err_add(errs, E_SYSTEM, "", "cannot open %s: %s", c->home.lock,
		    strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (now() >= deadline) {
			err_add(errs, E_SYSTEM, "", "another pcmds sync is still "
			    "running on this device; nothing was sent twice");
			close(fd);
			return -1;
		}
		if (!said++)
			fprintf(stderr, "pcmds: another sync is running; "
			    "waiting for it\n");
		usleep(100 * 1000);
	}
	return fd;
}

static void
progress(struct sync *s, int final)
{
	double rate = s->done / fmax(now() - s->started, 1e-3);
	int width = 30, fill = s->total ? (int)(width * s->done / s->total) : 0;

	if (s->progress_fd >= 0)
		dprintf(s->progress_fd, "%ld %ld\n", s->done, s->total);
	if (!s->tty || s->json)
		return;
	fprintf(stderr, "\rsync [%.*s%*s] %ld/%ld records, %.0f/s%s", fill,
	    "##############################", width - fill, "", s->done,
	    s->total, rate, final ? "\n" : "");
	fflush(stderr);
}

/* Puts a row into the batch: 1 when out of memory. */
static int
batch_put(struct batch *b, int64_t seq, const char *id, const char *referral,
    const char *json, size_t len)
{
	if (map_put(&b->refs, referral, &b->refs) != PC_OK ||
	    (b->n > 0 && buf_adds(&b->body, ",") != PC_OK) ||
	    buf_add(&b->body, json, len) != PC_OK)
		return 1;
	b->seqs[b->n] = seq;
	snprintf(b->ids[b->n++], UUID_LEN, "%s", id);
	return 0;
}

static int
in_flight(const struct batch *b, const char *referral)
{
	return b->fly != NULL && map_get(&b->fly->refs, referral) != NULL;
}

/* Keeps a row for a later batch: 1 when out of memory. */
static int
put_off(struct sync *s, const struct cstore_row *row)
{
	struct later *l;

	/* the batch only shrinks: the first size is the largest */
	if (s->later == NULL && (s->later = calloc((size_t)LATER_MAX(s),
	    sizeof(*s->later))) == NULL)
		return 1;
	l = &s->later[s->nlater];
	if ((l->json = malloc(row->json_len + 1)) == NULL)
		return 1;
	memcpy(l->json, row->json, row->json_len);
	l->len = row->json_len;
	l->seq = row->seq;
	snprintf(l->id, sizeof(l->id), "%s", row->id);
	snprintf(l->referral, sizeof(l->referral), "%s", row->referral);
	s->nlater++;
	return 0;
}

static void
later_free(struct later *l)
{
	sec_wipe(l->json, l->len);
	free(l->json);
	memset(l, 0, sizeof(*l));
}

static void
later_clear(struct sync *s)
{
	int i;

	for (i = 0; i < s->nlater; i++)
		later_free(&s->later[i]);
	s->nlater = 0;
}

/* 1 when made as this device is enrolled; else the first is kept to say. */
static int
made_here(struct sync *s, const char *w, const char *p)
{
	int mine = w && p && strcmp(w, s->c->cfg.worker) == 0 &&
	    strcmp(p, s->c->cfg.place) == 0;

	if (!mine && s->held_as[0] == '\0')
		snprintf(s->held_as, sizeof(s->held_as), "worker %s, place %s",
		    w ? w : "?", p ? p : "?");
	return mine;
}

/* The members made_here reads, in the order canonical text has them. */
static const char *const who_names[] = {"place", "worker"};

/*
 * Adds a pending row to the batch, unless made under another identity or
 * its referral is in the batch in flight (then it is put off). 1: stop,
 * the row not taken (the batch or the rows put off are full), or out of
 * memory (b->oom).
 */
static int
add_row(void *arg, const struct cstore_row *row)
{
	struct batch *b = arg;
	struct sync *s = b->s;
	struct jscan_span f[2];
	char w[REC_WORKER_MAX + 1], p[REC_PLACE_MAX + 1];
	cJSON *j;
	int mine;

	if (b->n >= s->batch || s->nlater >= LATER_MAX(s))
		return 1;
	s->after = row->seq;
	/* the stored text is canonical: read in one pass, not parsed (a
	   tree for each record cost a fifth of a sync); else the parser */
	if (jscan_members(row->json, row->json_len, who_names, 2, f) ==
	    PC_OK && (f[0].len == 0 || jscan_string(&f[0], p, sizeof(p)) ==
	    PC_OK) && (f[1].len == 0 || jscan_string(&f[1], w, sizeof(w)) ==
	    PC_OK))
		mine = made_here(s, f[1].len ? w : NULL, f[0].len ? p : NULL);
	else if ((j = cJSON_ParseWithLength(row->json, row->json_len)) !=
	    NULL) {
		mine = made_here(s, rec_str(j, "worker"), rec_str(j, "place"));
		cJSON_Delete(j);
	} else
		return 1;
	if (!mine) {
		if (row->seq > s->held_seen) {	/* once, if read again */
			s->held++;
			s->held_seen = row->seq;
		}
		return 0;
	}
	if (in_flight(b, row->referral) ? put_off(s, row) :
	    batch_put(b, row->seq, row->id, row->referral, row->json,
	    row->json_len)) {
		b->oom = 1;
		return 1;
	}
	return 0;
}

static double
backoff(int attempt)
{
	double cap = fmin(BACKOFF_CAP, BACKOFF_BASE * pow(2, attempt));
	uint32_t r;

	if (sec_random(&r, sizeof(r)) != PC_OK)
		r = (uint32_t)rand();
	return cap * (0.5 + 0.5 * (r / 4294967295.0));	/* jitter */
}

/* An answer of 429 or 5xx, in words, with the server's own sentence. */
static void
busy_said(struct err_list *e, const struct net_resp *r)
{
	char msg[ERR_MSG_MAX];

	net_message(r, msg, sizeof(msg));
	if (r->status == 429)
		err_add(e, E_SYSTEM, "server", "the server is busy (HTTP 429)%s%s",
		    msg[0] ? ": " : "", msg);
	else
		err_add(e, E_SYSTEM, "server", "the server answered %ld: %s",
		    r->status, msg[0] ? msg : "no reason given");
}

/*
 * Sends one batch until it is answered (any status but 429 and 5xx),
 * retrying for up to s->budget seconds from the first try. PC_OK: r holds
 * the answer; PC_ETLS: the certificate failed; PC_EPROTO: the answer was
 * too large; PC_ENET: nothing answered in time; PC_EBUSY: the server
 * answered, but only that it was busy or failing (errs says what).
 */
static pc_rc
send_batch(struct sync *s, struct net *net, const struct buf *gz,
    struct net_resp *r, struct err_list *errs)
{
	double start = now(), wait, asked;
	int attempt = 0;
	pc_rc rc;

	net->ask_first = 0;
	for (;;) {
		struct err_list e;

		err_init(&e);
		rc = net_request(net, "POST", "/v1/records", s->c->cfg.token,
		    gz->p, gz->len, 1, r, &e);
		/*
		 * A connection broken under the upload may be a server that
		 * refused the body as too large and closed: the tries after
		 * ask first, so a 413 comes back as a 413.
		 */
		net->ask_first |= rc == PC_ENET;
		if (rc == PC_ETLS || rc == PC_EPROTO || (rc == PC_OK &&
		    r->status != 429 && r->status < 500)) {
			err_move(errs, &e);
			err_free(&e);
			return rc;
		}
		wait = backoff(attempt++);
		asked = 0;
		if (rc == PC_OK) {
			busy_said(&e, r);
			if ((asked = r->retry_after) > wait)
				wait = asked;
			net_resp_free(r);
			rc = PC_EBUSY;
		}
		if (now() + wait > start + s->budget) {
			if (asked > 0 && now() + asked > start + s->budget)
				err_add(&e, E_SYSTEM, "", "the server asked to "
				    "wait %.0f s, longer than the sync's time "
				    "budget of %.0f s allows (pcmds sync --timeout "
				    "SECONDS sets it)", asked, s->budget);
			else
				err_add(&e, E_SYSTEM, "", "gave up after %.0f s "
				    "of trying: another try would pass the sync's "
				    "time budget of %.0f s (default %d; pcmds sync "
				    "--timeout SECONDS sets it)", now() - start,
				    s->budget, BUDGET_DEFAULT);
			err_move(errs, &e);
			err_free(&e);
			return rc;
		}
		err_free(&e);
		usleep((useconds_t)(wait * 1e6));
	}
}

static cJSON *
reason_of(const cJSON *result)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(result, "errors");

	return e ? cJSON_Duplicate(e, 1) : cJSON_CreateArray();
}

/*
 * Marks, in the transaction begun, the records of an answer read in
 * full: those stored or duplicate go into a->sent, the others are
 * quarantined with the server's errors.
 */
static pc_rc
mark_each(struct cstore *cs, const struct batch *b, const cJSON *res,
    struct answer_plain *a, long *quar, struct err_list *errs)
{
	const cJSON *it;
	int i = 0;
	pc_rc rc = PC_OK;

	cJSON_ArrayForEach(it, res) {
		const char *id = rec_str(it, "id"), *st = rec_str(it, "status");
		char *why;

		if (id == NULL || st == NULL || strcmp(id, b->ids[i]) != 0)
			return PC_EPROTO;
		if (strcmp(st, "stored") == 0 || strcmp(st, "duplicate") == 0) {
			a->sent[a->nsent++] = b->seqs[i];
			*(strcmp(st, "stored") == 0 ? &a->stored :
			    &a->duplicate) += 1;
		} else {
			cJSON *reason = reason_of(it);

			why = cJSON_PrintUnformatted(reason);
			rc = cstore_mark(cs, id, CS_QUARANTINED, why, errs);
			free(why);
			cJSON_Delete(reason);
			(*quar)++;
		}
		i++;
		if (rc != PC_OK)
			return rc;
	}
	return PC_OK;
}

/*
 * Marks every record of the batch from the server's answer: the common
 * one (all stored or duplicate) read in one pass, any other parsed.
 */
static pc_rc
apply(struct sync *s, const struct batch *b, const struct net_resp *r,
    struct err_list *errs)
{
	struct cstore *cs = s->c->store;
	struct answer_plain a = {NULL, 0, 0, 0};
	cJSON *j = NULL, *res = NULL;
	long quar = 0;
	pc_rc rc;

	if ((a.sent = calloc((size_t)b->n + 1, sizeof(*a.sent))) == NULL)
		return PC_ENOMEM;
	if (!answer_plain(r->body.p, r->body.len, (const char (*)[UUID_LEN])
	    b->ids, b->seqs, b->n, &a)) {
		j = cJSON_Parse(buf_str(&r->body));
		res = cJSON_GetObjectItemCaseSensitive(j, "results");
		if (cJSON_GetArraySize(res) != b->n) {
			cJSON_Delete(j);
			free(a.sent);
			err_add(errs, E_SYSTEM, "", "the server's answer did not "
			    "match the batch; the records stay pending");
			return PC_EPROTO;
		}
	}
	if ((rc = cstore_begin(cs, errs)) != PC_OK) {
		cJSON_Delete(j);
		free(a.sent);
		return rc;
	}
	if (j != NULL)
		rc = mark_each(cs, b, res, &a, &quar, errs);
	cJSON_Delete(j);
	if (rc == PC_OK)
		rc = cstore_mark_sent(cs, a.sent, a.nsent, errs);
	free(a.sent);
	if (rc == PC_OK) {
		/* killed on either side: the batch is marked whole, or not */
		crash_point("sync.marking");
		if ((rc = cstore_commit(cs, errs)) == PC_OK)
			crash_point("sync.marked");
	}
	if (rc == PC_OK) {
		/* counted once marked: the summary says what this device holds */
		s->sent += a.stored;
		s->duplicate += a.duplicate;
		s->quarantined += quar;
		return PC_OK;
	}
	cstore_rollback(cs);
	if (rc == PC_EPROTO)
		err_add(errs, E_SYSTEM, "", "the server's answer did not match "
		    "the batch; the records stay pending");
	else
		s->unrecorded += a.stored + a.duplicate;	/* said by run_sync */
	return rc;
}

/* Answers other than 200 that end the sync. */
static pc_rc
refusal(const struct batch *b, const struct net_resp *r,
    struct err_list *errs)
{
	char text[ERR_MSG_MAX];
	const char *msg = net_message(r, text, sizeof(text))[0] ? text : NULL;
	pc_rc rc = PC_EPROTO;

	if (r->status == 401) {
		err_add(errs, E_SYSTEM, "", "enrolment expired or revoked: run "
		    "pcmds setup again (with a new code from your "
		    "administrator)");
		rc = PC_EAUTH;
	} else if (r->status == 403) {
		err_add(errs, E_SYSTEM, "", "this device's enrolment may not send "
		    "records: %s", msg ? msg : "forbidden");
		rc = PC_EAUTH;
	} else if (r->status == 413 && b->n == 1 && msg != NULL)
		/* the server's sentence names the size and its limit */
		err_add(errs, E_SYSTEM, "", "record %s is larger than the server "
		    "takes in one request (HTTP 413: %s): it stays pending; the "
		    "server's administrator can raise max_body",
		    uuid_short(b->ids[0]).s, msg);
	else if (r->status == 413 && b->n == 1)
		err_add(errs, E_SYSTEM, "", "record %s is larger than the server "
		    "takes in one request (HTTP 413; the request was %zu bytes, "
		    "compressed): it stays pending; the server's administrator "
		    "can raise max_body", uuid_short(b->ids[0]).s, b->gz.len);
	else
		err_add(errs, E_SYSTEM, "", "the server refused the batch (HTTP "
		    "%ld): %s", r->status, msg ? msg : "no reason given");
	return rc;
}

static void
batch_free(struct batch *b)
{
	map_free(&b->refs);
	buf_free(&b->body);
	buf_free(&b->gz);
	free(b->ids);
	free(b->seqs);
	err_free(&b->errs);
	memset(b, 0, sizeof(*b));
}

/*
 * The rows put off that may go now (their referral not in fly), in
 * order, while the batch has room; the others stay put off.
 */
static pc_rc
take_later(struct sync *s, struct batch *b)
{
	int i, kept = 0;

	for (i = 0; i < s->nlater; i++) {
		struct later *l = &s->later[i];

		if (b->n < s->batch && !in_flight(b, l->referral)) {
			if (batch_put(b, l->seq, l->id, l->referral, l->json,
			    l->len) != 0)
				return PC_ENOMEM;
			later_free(l);
		} else {
			if (kept != i) {
				s->later[kept] = *l;
				memset(l, 0, sizeof(*l));
			}
			kept++;
		}
	}
	s->nlater = kept;
	return PC_OK;
}

/*
 * The next rows, gzipped: those put off first, then the pending ones
 * after s->after; none of a referral of fly, the batch in flight (or
 * NULL). b->n == 0: none left, or all that are left wait for fly.
 */
static pc_rc
batch_build(struct sync *s, struct batch *b, const struct batch *fly)
{
	pc_rc rc;

	memset(b, 0, sizeof(*b));
	b->s = s;
	b->fly = fly;
	map_init(&b->refs);
	err_init(&b->errs);
	buf_init(&b->body, 0);
	buf_init(&b->gz, 0);
	if ((b->ids = calloc((size_t)s->batch, sizeof(*b->ids))) == NULL ||
	    (b->seqs = calloc((size_t)s->batch, sizeof(*b->seqs))) == NULL ||
	    buf_adds(&b->body, "{\"records\":[") != PC_OK ||
	    (rc = take_later(s, b)) != PC_OK)
		return PC_ENOMEM;
	/* until full: rows held or put off leave room to look further on */
	while (b->n < s->batch && s->nlater < LATER_MAX(s)) {
		int64_t before = s->after;

		if ((rc = cstore_pending(s->c->store, s->after, s->batch -
		    b->n, s->resend, add_row, b)) != PC_OK)
			return rc;
		if (b->oom)
			return PC_ENOMEM;
		if (s->after == before)
			break;
	}
	b->fly = NULL;	/* it may be gone before this one is */
	if (b->n == 0)
		return PC_OK;
	if ((rc = buf_adds(&b->body, "]}")) != PC_OK)
		return rc;
	return net_gzip(b->body.p, b->body.len, &b->gz);
}

static void *
batch_send(void *arg)
{
	struct batch *b = arg;

	b->sent_rc = send_batch(b->s, b->net, &b->gz, &b->resp, &b->errs);
	return NULL;
}

static void
batch_start(struct batch *b, struct net *net)
{
	b->net = net;
	b->threaded = pthread_create(&b->thread, NULL, batch_send, b) == 0;
	if (!b->threaded)
		batch_send(b);	/* no thread: the same, one at a time */
}

static void
batch_wait(struct batch *b)
{
	if (b->threaded)
		pthread_join(b->thread, NULL);
	b->threaded = 0;
}

/* Waits for the answer and marks the records from it. */
static pc_rc
batch_finish(struct sync *s, struct batch *b, struct err_list *errs)
{
	pc_rc rc;

	batch_wait(b);
	err_move(errs, &b->errs);
	s->batches++;
	if ((rc = b->sent_rc) != PC_OK)
		return rc;
	if (b->resp.status == 413 && b->n > 1) {
		/* too large for the server: from this batch on, half as many
		   (send_run says where to start again) */
		s->batch = b->n / 2;
		s->shrink = 1;
		net_resp_free(&b->resp);
		return PC_OK;
	}
	if (b->resp.status == 200)
		rc = apply(s, b, &b->resp, errs);
	else
		rc = refusal(b, &b->resp, errs);
	net_resp_free(&b->resp);
	if (rc == PC_OK) {
		s->done += b->n;
		progress(s, 0);
	}
	return rc;
}

/*
 * The other batch in flight, once the one before it ended the run (an
 * error, or a 413): its answer, if it was stored, is marked (no record
 * of it is of a referral of that one); otherwise its records stay
 * pending. PC_OK unless marking failed.
 */
static pc_rc
batch_settle(struct sync *s, struct batch *b, struct err_list *errs)
{
	pc_rc rc = PC_OK;

	batch_wait(b);
	if (b->sent_rc != PC_OK)
		return PC_OK;
	s->batches++;
	if (b->resp.status == 200 && (rc = apply(s, b, &b->resp, errs)) ==
	    PC_OK) {
		s->done += b->n;
		progress(s, 0);
	}
	net_resp_free(&b->resp);
	return rc;
}

/*
 * After a 413: the run starts again at the first row not answered, of
 * the batches a and b (NULL: answered) and the rows put off.
 */
static void
start_again(struct sync *s, const struct batch *a, const struct batch *b)
{
	int64_t low = INT64_MAX;

	if (a != NULL && a->n > 0)
		low = a->seqs[0];
	if (b != NULL && b->n > 0 && b->seqs[0] < low)
		low = b->seqs[0];
	if (s->nlater > 0 && s->later[0].seq < low)
		low = s->later[0].seq;
	if (low != INT64_MAX)
		s->after = low - 1;
	later_clear(s);
}

/*
 * Every batch in turn, two at a time with the server: once one is sent
 * the answer to the one before it is waited for and marked, and the
 * next is made (of no referral of the one in flight) and sent. When
 * all that is left waits for the batch in flight, its answer comes
 * first. After an error, the other batch's answer is still marked if it
 * was stored; what is not marked stays pending and the next sync sends
 * it again. After a 413 the run stops (s->shrink) to start again from
 * the first record not answered, in smaller batches.
 */
static pc_rc
send_run(struct sync *s, struct err_list *errs)
{
	struct batch v[2], *fly = NULL, *next;
	size_t k = 0;
	pc_rc rc = PC_OK, also;

	memset(v, 0, sizeof(v));
	for (;;) {
		next = &v[k % 2];
		batch_free(next);
		if ((rc = batch_build(s, next, fly)) != PC_OK)
			break;
		if (next->n == 0 && fly == NULL)
			break;			/* all sent */
		if (next->n == 0) {
			/* all that is left waits for the batch in flight */
			rc = batch_finish(s, fly, errs);
			if (s->shrink)
				start_again(s, fly, NULL);
			fly = NULL;
			if (rc != PC_OK || s->shrink)
				break;
			continue;
		}
		batch_start(next, &s->net[k++ % 2]);
		if (fly != NULL) {
			rc = batch_finish(s, fly, errs);
			if (rc != PC_OK || s->shrink) {
				also = batch_settle(s, next, errs);
				if (s->shrink)
					start_again(s, fly, next->sent_rc ==
					    PC_OK && next->resp.status == 200 ?
					    NULL : next);
				if (rc == PC_OK)
					rc = also;
				fly = NULL;
				break;
			}
		}
		fly = next;
	}
	/* a batch could not be made: the one in flight is still marked */
	if (fly != NULL)
		(void)batch_settle(s, fly, errs);
	later_clear(s);
	batch_free(&v[0]);
	batch_free(&v[1]);
	return rc;
}

static pc_rc
send_all(struct sync *s, struct err_list *errs)
{
	pc_rc rc;

	do {
		s->shrink = 0;
		rc = send_run(s, errs);
	} while (rc == PC_OK && s->shrink);
	return rc;
}

static void
summary(struct sync *s, pc_rc rc, long pending, long quarantined)
{
	char when[TIME_LEN];

	if (s->json) {
		cJSON *j = cJSON_CreateObject();
		char *t;

		cJSON_AddStringToObject(j, "result", rc == PC_OK ? "ok" :
		    pc_strerror(rc));
		cJSON_AddNumberToObject(j, "stored", (double)s->sent);
		cJSON_AddNumberToObject(j, "duplicate", (double)s->duplicate);
		cJSON_AddNumberToObject(j, "quarantined", (double)s->quarantined);
		cJSON_AddNumberToObject(j, "held", (double)s->held);
		cJSON_AddNumberToObject(j, "unrecorded", (double)s->unrecorded);
		cJSON_AddNumberToObject(j, "pending", (double)pending);
		cJSON_AddNumberToObject(j, "quarantined_total",
		    (double)quarantined);
		cJSON_AddNumberToObject(j, "batches", (double)s->batches);
		cJSON_AddNumberToObject(j, "seconds", now() - s->started);
		t = cJSON_PrintUnformatted(j);
		printf("%s\n", t);
		free(t);
		cJSON_Delete(j);
	} else {
		progress(s, 1);
		printf("sent %ld (%ld new, %ld already there), quarantined %ld, "
		    "pending %ld\n", s->sent + s->duplicate, s->sent,
		    s->duplicate, s->quarantined, pending);
	}
	if (s->held > 0)
		fprintf(stderr, "pcmds: %ld records were made as %s, not as this "
		    "device is enrolled (worker %s, place %s); they were not "
		    "sent and stay on this device\n", s->held, s->held_as,
		    s->c->cfg.worker, s->c->cfg.place);
	if (quarantined > 0)
		fprintf(stderr, "pcmds: %ld records were refused by the server; "
		    "pcmds status and pcmds show REF give the reasons, pcmds "
		    "correct fixes them\n", quarantined);
	if (rc == PC_OK) {
		time_format((int64_t)time(NULL), when);
		cstore_meta_set(s->c->store, "last_sync", when, NULL);
	}
}

static int
run_sync(struct ctx *c, struct opt_result *o)
{
	struct sync s;
	struct err_list errs;
	long counts[CS_NSTATES];
	const char *v;
	double batch;
	int lock = -1, ex;
	pc_rc rc;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.started = now();
	if (opt_number(o, "batch", 1, 10000, 1, BATCH_DEFAULT, &batch) != 0) {
		fprintf(stderr, "pcmds: --batch must be a whole number from 1 to "
		    "10000; got \"%s\"\n", opt_get(o, "batch"));
		return EXIT_USAGE;
	}
	if (opt_number(o, "timeout", 0, 86400, 0, BUDGET_DEFAULT,
	    &s.budget) != 0) {
		fprintf(stderr, "pcmds: --timeout must be 0 to 86400 seconds; "
		    "got \"%s\"\n", opt_get(o, "timeout"));
		return EXIT_USAGE;
	}
	s.batch = (int)batch;
	s.deadline = s.started + s.budget;
	s.json = opt_has(o, "json");
	s.resend = opt_has(o, "resend-all");
	s.tty = isatty(STDERR_FILENO);
	s.progress_fd = (v = opt_get(o, "progress-fd")) ? atoi(v) : -1;
	err_init(&errs);
	if (c->cfg.token[0] == '\0') {
		fprintf(stderr, "pcmds: this device is not enrolled: run pcmds "
		    "setup --server URL --code CODE first\n");
		return EXIT_AUTH;
	}
	if ((rc = ctx_store(c, &errs)) != PC_OK ||
	    (rc = cstore_lazy_commits(c->store, &errs)) != PC_OK ||
	    (rc = net_init(&s.net[0], c->cfg.server, c->cfg.pinned ?
	    c->home.cacert : NULL, &errs)) != PC_OK ||
	    (rc = net_init(&s.net[1], c->cfg.server, c->cfg.pinned ?
	    c->home.cacert : NULL, &errs)) != PC_OK ||
	    (lock = take_lock(c, s.deadline, &errs)) < 0) {
		ctx_report(&errs, NULL);
		err_free(&errs);
		net_free(&s.net[0]);
		net_free(&s.net[1]);
		return lock < 0 && rc == PC_OK ? EXIT_INVALID : exit_for(rc);
	}
	(void)cstore_requeue_orphans(c->store);
	cstore_counts(c->store, counts);
	s.total = counts[CS_PENDING] + (s.resend ? counts[CS_SENT] : 0);
	if (rc == PC_OK)
		rc = send_all(&s, &errs);
	if (rc == PC_OK)
		dir_sync(c, &s.net[0]);	/* the place's community assets */
	cstore_counts(c->store, counts);
	summary(&s, rc, counts[CS_PENDING] - s.held, counts[CS_QUARANTINED]);
	if (rc != PC_OK)
		ctx_report(&errs, NULL);
	if (rc == PC_ENET && (s.net[0].reached || s.net[1].reached))
		fprintf(stderr, "pcmds: the server answered but the connection "
		    "kept breaking; %ld records kept pending for the next "
		    "sync\n", counts[CS_PENDING]);
	else if (rc == PC_ENET && (s.net[0].answered || s.net[1].answered))
		fprintf(stderr, "pcmds: something answered at the server's "
		    "address but no TLS handshake with it completed; %ld "
		    "records kept pending for the next sync\n",
		    counts[CS_PENDING]);
	else if (rc == PC_ENET)
		fprintf(stderr, "pcmds: server unreachable; %ld records kept "
		    "pending for the next sync\n", counts[CS_PENDING]);
	else if (rc == PC_EBUSY)
		fprintf(stderr, "pcmds: the server could not take the records "
		    "now; %ld records kept pending for the next sync\n",
		    counts[CS_PENDING]);
	if (s.unrecorded > 0)
		fprintf(stderr, "pcmds: the server has %ld records that this "
		    "device could not mark as sent; here they stay pending, and "
		    "the next sync settles it (the server answers that it has "
		    "them)\n", s.unrecorded);
	/* busy or failing: as for unreachable, try again later */
	ex = rc == PC_EBUSY ? EXIT_UNREACHABLE : exit_for(rc);
	if (ex == EXIT_OK && counts[CS_QUARANTINED] > 0)
		ex = EXIT_QUARANTINED;
	else if (ex == EXIT_OK && s.held > 0)
		ex = EXIT_INVALID;
	else if (rc == PC_EPROTO)
		ex = EXIT_INVALID;
	err_free(&errs);
	net_free(&s.net[0]);
	net_free(&s.net[1]);
	free(s.later);
	close(lock);
	return ex;
}

static const struct opt_spec sync_opts[] = {
	{"batch", OPT_VALUE, "N", "records per request (default "
	    STR_OF(BATCH_DEFAULT) ")"},
	{"timeout", OPT_VALUE, "SECONDS", "the time budget: how long to keep "
	    "retrying while the server cannot be reached or is busy (default "
	    "60)"},
	{"json", OPT_FLAG, NULL, "a JSON summary on stdout"},
	{"resend-all", OPT_FLAG, NULL, "send records already sent too (after "
	    "the server was restored from a backup)"},
	{"progress-fd", OPT_VALUE, "FD", "write \"done total\" lines to this "
	    "file descriptor as records are answered (for pcmds ui)"},
	{"home", OPT_VALUE, "DIR", "the client's directory"},
	{NULL, 0, NULL, NULL},
};

const struct command cmd_sync = {
	"sync", "", 0, 0, "send pending records to the server", sync_opts,
	run_sync,
	"Exit codes: 0 everything sent; 4 some records quarantined (refused by "
	"the\nserver: see pcmds status); 5 server unreachable, not trusted (its "
	"certificate),\nbusy or failing (records kept pending); 6 enrolment "
	"expired or revoked.\n",
};

/*
 * fetch.c - HTTPS requests off the event loop (see fetch.h).
 *
 * The loop thread makes each request's curl handle and queues it; the
 * fetch thread adds queued handles to its multi handle, drives them all
 * and queues the finished ones back; a byte down a pipe wakes the loop,
 * which runs their callbacks. The two queues are the only shared state,
 * under one mutex. curl_multi_wakeup() interrupts the thread's wait when
 * a request is queued or the fetcher stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "fetch.h"
#include "fs.h"
#include "log.h"
#include "version.h"

#define CA_MAX	(4 * 1024 * 1024)

struct job {
	struct job		*next;
	CURL			*easy;
	struct curl_slist	*headers;
	struct buf		 body;
	CURLcode		 cc;
	long			 status;
	char			 url[256];	/* for messages, cut */
	char			 errbuf[CURL_ERROR_SIZE];
	fetch_cb		 cb;
	void			*arg;
};

struct fetch {
	pthread_mutex_t		 mu;
	pthread_t		 th;
	int			 started;
	int			 stop;
	struct job		*todo;		/* queued by the loop */
	struct job		*done;		/* finished, for the loop */
	struct job		*active;	/* the thread's, in the multi */
	CURLM			*multi;
	int			 pipe[2];
	struct event		*ev;
	char			*ca;		/* PEM, or NULL: the system's */
	size_t			 ca_len;
	int			 timeout;
};

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	curl_easy_cleanup(j->easy);
	curl_slist_free_all(j->headers);
	buf_free(&j->body);
	free(j);
}

static void
jobs_free(struct job *j)
{
	struct job *next;

	for (; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct job *j = arg;

	/* a short count ends the transfer (CURLE_WRITE_ERROR) */
	return buf_add(&j->body, p, size * n) == PC_OK ? size * n : 0;
}

/* In the fetch thread: j has ended; the loop is told. */
static void
finished(struct fetch *f, struct job *j)
{
	pthread_mutex_lock(&f->mu);
	j->next = f->done;
	f->done = j;
	pthread_mutex_unlock(&f->mu);
	/* the pipe is non-blocking: a full one wakes the loop anyway */
	if (write(f->pipe[1], "", 1) < 0 && errno != EAGAIN)
		log_warn("fetch: cannot wake the event loop");
}

/* The fetch thread: drives every request until told to stop. */
static void *
fetch_main(void *arg)
{
	struct fetch *f = arg;
	struct job *in, *j, **pp;
	CURLMsg *m;
	char *priv;
	int running, left;

	for (;;) {
		pthread_mutex_lock(&f->mu);
		if (f->stop) {
			pthread_mutex_unlock(&f->mu);
			break;
		}
		in = f->todo;
		f->todo = NULL;
		pthread_mutex_unlock(&f->mu);
		for (; in != NULL; in = j) {
			j = in->next;
			if (curl_multi_add_handle(f->multi, in->easy) !=
			    CURLM_OK) {
				in->cc = CURLE_OUT_OF_MEMORY;
				finished(f, in);
				continue;
			}
			in->next = f->active;
			f->active = in;
		}
		curl_multi_perform(f->multi, &running);
		while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    &priv);
			j = (struct job *)(void *)priv;
			j->cc = m->data.result;
			curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE,
			    &j->status);
			curl_multi_remove_handle(f->multi, j->easy);
			for (pp = &f->active; *pp != j; pp = &(*pp)->next)
				;
			*pp = j->next;
			finished(f, j);
		}
		curl_multi_poll(f->multi, NULL, 0, 1000, NULL);
	}
	return NULL;
}

/* What went wrong, as a sentence, and the pc_rc for it. */
static pc_rc
job_error(const struct job *j, char *out, size_t len)
{
	const char *detail = j->errbuf[0] ? j->errbuf :
	    curl_easy_strerror(j->cc);

	switch (j->cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(out, len, "the name in %s could not be resolved", j->url);
		return PC_ENET;
	case CURLE_COULDNT_CONNECT:
		snprintf(out, len, "nothing accepted the connection to %s",
		    j->url);
		return PC_ENET;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(out, len, "%s did not answer in time", j->url);
		return PC_ENET;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		snprintf(out, len, "the TLS connection to %s could not be "
		    "verified (%s)", j->url, detail);
		return PC_ETLS;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		snprintf(out, len, "the answer from %s is larger than %d bytes",
		    j->url, FETCH_MAX);
		return PC_ELIMIT;
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(out, len, "%s is not an https:// address", j->url);
		return PC_EUSAGE;
	default:
		snprintf(out, len, "the request to %s failed (%s)", j->url, detail);
		return PC_ENET;
	}
}

/* On the loop: the finished requests' callbacks, in the order they ended. */
static void
on_done(evutil_socket_t fd, short ev, void *arg)
{
	struct fetch *f = arg;
	struct fetch_result r;
	struct job *list, *rev = NULL, *j;
	char drain[64];

	(void)ev;
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&f->mu);
	list = f->done;
	f->done = NULL;
	pthread_mutex_unlock(&f->mu);
	for (; list != NULL; list = j) {
		j = list->next;
		list->next = rev;
		rev = list;
	}
	for (; rev != NULL; rev = j) {
		j = rev->next;
		memset(&r, 0, sizeof(r));
		r.status = rev->status;
		r.body = buf_str(&rev->body);
		r.len = rev->body.len;
		r.rc = rev->cc == CURLE_OK ? PC_OK : job_error(rev, r.error,
		    sizeof(r.error));
		rev->cb(rev->arg, &r);
		job_free(rev);
	}
}

static pc_rc
read_ca(struct fetch *f, const char *path, struct err_list *errs)
{
	struct buf b;
	pc_rc rc;

	buf_init(&b, CA_MAX);
	if ((rc = fs_read_file(path, &b, errs)) != PC_OK) {
		buf_free(&b);
		return rc;
	}
	if (strstr(buf_str(&b), "-----BEGIN CERTIFICATE-----") == NULL) {
		err_add(errs, E_FORMAT, "oidc_ca_file", "oidc_ca_file %s holds "
		    "no PEM certificate", path);
		buf_free(&b);
		return PC_EINVAL;
	}
	f->ca_len = b.len;
	f->ca = buf_detach(&b);
	return f->ca != NULL ? PC_OK : PC_ENOMEM;
}

pc_rc
fetch_start(struct event_base *base, const char *ca_file, int timeout,
    struct fetch **out, struct err_list *errs)
{
	static int global;
	struct fetch *f;

	*out = NULL;
	if (!global && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		err_add(errs, E_SYSTEM, "", "libcurl could not start");
		return PC_ENOMEM;
	}
	global = 1;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return PC_ENOMEM;
	f->pipe[0] = f->pipe[1] = -1;
	f->timeout = timeout;
	pthread_mutex_init(&f->mu, NULL);
	if ((ca_file != NULL && read_ca(f, ca_file, errs) != PC_OK) ||
	    (f->multi = curl_multi_init()) == NULL ||
	    pipe2(f->pipe, O_NONBLOCK | O_CLOEXEC) != 0 ||
	    (f->ev = event_new(base, f->pipe[0], EV_READ | EV_PERSIST, on_done,
	    f)) == NULL || event_add(f->ev, NULL) != 0 ||
	    pthread_create(&f->th, NULL, fetch_main, f) != 0) {
		if (errs->n == 0)
			err_add(errs, E_SYSTEM, "", "cannot start the thread "
			    "that speaks to the sign-in provider");
		fetch_stop(f);
		return PC_ENOMEM;
	}
	pthread_setname_np(f->th, "pcmdsd-fetch");
	f->started = 1;
	*out = f;
	return PC_OK;
}

void
fetch_stop(struct fetch *f)
{
	struct job *j;

	if (f == NULL)
		return;
	if (f->started) {
		pthread_mutex_lock(&f->mu);
		f->stop = 1;
		pthread_mutex_unlock(&f->mu);
		curl_multi_wakeup(f->multi);
		pthread_join(f->th, NULL);
	}
	for (j = f->active; j != NULL; j = j->next)
		curl_multi_remove_handle(f->multi, j->easy);
	jobs_free(f->active);
	jobs_free(f->todo);
	jobs_free(f->done);
	if (f->multi != NULL)
		curl_multi_cleanup(f->multi);
	if (f->ev != NULL)
		event_free(f->ev);
	if (f->pipe[0] >= 0)
		close(f->pipe[0]);
	if (f->pipe[1] >= 0)
		close(f->pipe[1]);
	pthread_mutex_destroy(&f->mu);
	free(f->ca);
	free(f);
}

/* The curl handle for one request, every safety set. */
static CURL *
easy_for(struct fetch *f, struct job *j, const char *url)
{
	CURL *e = curl_easy_init();
	struct curl_blob ca;

	if (e == NULL)
		return NULL;
	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK) {
		curl_easy_cleanup(e);
		return NULL;
	}
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (f->ca != NULL) {
		ca.data = f->ca;
		ca.len = f->ca_len;
		ca.flags = CURL_BLOB_COPY;
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &ca);
	}
	curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)f->timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)f->timeout);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FETCH_MAX);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, j);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)j);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "pcmdsd/" PCMDS_VERSION);
	return e;
}

pc_rc
fetch_http(struct fetch *f, const char *url, const char *form,
    const char *basic, fetch_cb cb, void *arg)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return PC_ENOMEM;
	buf_init(&j->body, FETCH_MAX);
	j->cb = cb;
	j->arg = arg;
	snprintf(j->url, sizeof(j->url), "%s", url);
	if ((j->easy = easy_for(f, j, url)) == NULL ||
	    (j->headers = curl_slist_append(NULL, "Accept: application/json")) ==
	    NULL || curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers) !=
	    CURLE_OK || (form != NULL && curl_easy_setopt(j->easy,
	    CURLOPT_COPYPOSTFIELDS, form) != CURLE_OK) || (basic != NULL &&
	    (curl_easy_setopt(j->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) !=
	    CURLE_OK || curl_easy_setopt(j->easy, CURLOPT_USERPWD, basic) !=
	    CURLE_OK))) {
		job_free(j);
		return PC_ENOMEM;
	}
	pthread_mutex_lock(&f->mu);
	j->next = f->todo;
	f->todo = j;
	pthread_mutex_unlock(&f->mu);
	curl_multi_wakeup(f->multi);
	return PC_OK;
}

/*
 * ui_sync.c - syncing from the app: pcmds sync itself, run as a child
 * process (the same code as the command, and its lock), reporting its
 * progress on a pipe; the page shows a progress bar, then the result.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "ui.h"

static void
close_pipe(struct event **ev, int *fd)
{
	if (*ev != NULL)
		event_free(*ev);
	*ev = NULL;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Both pipes closed: the child is done; its status is collected. */
static void
reap(struct ui_sync *s)
{
	int st;

	if (s->pid == 0 || s->progress_fd >= 0 || s->out_fd >= 0)
		return;
	while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
		;
	s->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	s->pid = 0;
	s->finished = 1;
}

static void
on_progress(evutil_socket_t fd, short what, void *arg)
{
	struct ui *u = arg;
	char b[512], *line, *save = NULL;
	ssize_t n;

	(void)what;
	if ((n = read(fd, b, sizeof(b) - 1)) <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		close_pipe(&u->sync.ev_progress, &u->sync.progress_fd);
		reap(&u->sync);
		return;
	}
	b[n] = '\0';
	for (line = strtok_r(b, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		(void)sscanf(line, "%ld %ld", &u->sync.done, &u->sync.total);
}

static void
on_out(evutil_socket_t fd, short what, void *arg)
{
	struct ui *u = arg;
	char b[4096];
	ssize_t n;

	(void)what;
	if ((n = read(fd, b, sizeof(b))) <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		close_pipe(&u->sync.ev_out, &u->sync.out_fd);
		reap(&u->sync);
		return;
	}
	(void)buf_add(&u->sync.out, b, (size_t)n);
}

/* In the child: pcmds sync with its progress on fd 3. */
static void
child(struct ui *u, int prog, int out)
{
	const char *argv[10];
	int n = 0, fd = open("/dev/null", O_RDONLY);

	if (fd >= 0)
		dup2(fd, STDIN_FILENO);
	dup2(out, STDOUT_FILENO);
	dup2(out, STDERR_FILENO);
	dup2(prog, 3);
	closefrom(4);	/* the listener and the event loop are not its */
	signal(SIGPIPE, SIG_DFL);
	argv[n++] = u->exe;
	if (u->c->home_opt != NULL) {
		argv[n++] = "--home";
		argv[n++] = u->c->home_opt;
	}
	argv[n++] = "sync";
	argv[n++] = "--json";
	argv[n++] = "--progress-fd";
	argv[n++] = "3";
	argv[n] = NULL;
	execv(u->exe, (char *const *)argv);
	_exit(127);
}

static int
start(struct ui *u)
{
	int prog[2], out[2];
	pid_t pid;

	if (pipe2(prog, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(prog[0]);
		close(prog[1]);
		return -1;
	}
	if ((pid = fork()) == 0)
		child(u, prog[1], out[1]);
	close(prog[1]);
	close(out[1]);
	if (pid < 0) {
		close(prog[0]);
		close(out[0]);
		return -1;
	}
	u->sync = (struct ui_sync){.pid = pid, .progress_fd = prog[0],
	    .out_fd = out[0], .out = u->sync.out};
	buf_reset(&u->sync.out);
	fcntl(prog[0], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	u->sync.ev_progress = event_new(u->base, prog[0], EV_READ | EV_PERSIST,
	    on_progress, u);
	u->sync.ev_out = event_new(u->base, out[0], EV_READ | EV_PERSIST,
	    on_out, u);
	if (u->sync.ev_progress == NULL || u->sync.ev_out == NULL ||
	    event_add(u->sync.ev_progress, NULL) != 0 ||
	    event_add(u->sync.ev_out, NULL) != 0)
		return -1;
	return 0;
}

void
ui_sync_stop(struct ui *u)
{
	if (u->sync.pid > 0)
		kill(u->sync.pid, SIGTERM);	/* sync is safe to stop */
	close_pipe(&u->sync.ev_progress, &u->sync.progress_fd);
	close_pipe(&u->sync.ev_out, &u->sync.out_fd);
	reap(&u->sync);
}

void
ui_sync_post(struct ui_req *r)
{
	struct ui *u = r->ui;

	if (u->sync.pid == 0 && u->c->cfg.token[0] == '\0') {
		ui_error(r, 422, "This computer is not enrolled", "Records are "
		    "kept here until it is: run pcmds setup with the server's "
		    "address and a code from your administrator.");
		return;
	}
	if (u->sync.pid == 0)
		ui_share_keys(u);	/* the child opens the store through it */
	if (u->sync.pid == 0 && start(u) != 0) {
		ui_sync_stop(u);
		ui_error(r, 500, "Sync could not start", "Nothing was sent; "
		    "your records are kept. Try again.");
		return;
	}
	ui_redirect(r, "/sync");
}

/* The summary line and the messages of the finished sync. */
static void
result(struct html *h, const struct ui_sync *s)
{
	char *copy = strdup(buf_str(&s->out)), *line, *save = NULL;
	cJSON *sum = NULL;

	for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (line[0] == '{' && sum == NULL)
			sum = cJSON_Parse(line);
	if (sum != NULL)
		html_f(h, "<ul class=\"counts\"><li><strong>%d</strong> "
		    "sent</li>"
		    "<li><strong>%d</strong> already there</li><li><strong>%d"
		    "</strong> refused</li><li><strong>%d</strong> still "
		    "waiting"
		    "</li></ul>", rec_int(sum, "stored", 0),
		    rec_int(sum, "duplicate", 0),
		    rec_int(sum, "quarantined", 0),
		    rec_int(sum, "pending", 0));
	cJSON_Delete(sum);
	free(copy);
	copy = strdup(buf_str(&s->out));
	save = NULL;
	for (line = copy ? strtok_r(copy, "\n", &save) : NULL; line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "pcmds: ", 7) == 0)
			html_f(h, "<p>%s</p>", line + 7);
	free(copy);
}

static const char *
outcome(int status)
{
	switch (status) {
	case EXIT_OK:
		return "Everything was sent.";
	case EXIT_QUARANTINED:
		return "Sent, but the server refused some records: they are "
		    "kept here, listed under Refused records, to fix.";
	case EXIT_UNREACHABLE:
		/* exit 5 is also busy, or a connection that kept breaking */
		return "The records could not be sent now (the messages below "
		    "say why). Nothing is lost: they wait here for the next "
		    "sync.";
	case EXIT_AUTH:
		return "The server no longer accepts this computer's "
		    "enrolment: "
		    "ask your administrator for a new code and run pcmds "
		    "setup.";
	default:
		return "The sync did not finish; nothing is lost. The messages "
		    "below say why.";
	}
}

void
ui_sync_page(struct ui_req *r)
{
	struct ui_sync *s = &r->ui->sync;
	struct html h;

	if (ui_open(r) != 0)
		return;
	html_init(&h);
	html_m(&h, "<h1>Sync</h1>");
	if (s->pid != 0) {
		html_f(&h, "<div id=\"sync-running\" "
		    "role=\"status\"><p>Sending "
		    "records: %ld of %ld answered.</p><progress max=\"%ld\" "
		    "value=\"%ld\">%ld of %ld</progress></div><p><a "
		    "href=\"/sync\">Show the progress now</a></p>", s->done,
		    s->total, s->total ? s->total : 1, s->done, s->done,
		    s->total);
	} else if (s->finished) {
		html_f(&h, "<div class=\"notice\" role=\"status\"><h2>%m</h2>",
		    s->status == EXIT_OK ? "Sync finished" : "Sync ended");
		html_f(&h, "<p>%s</p>", outcome(s->status));
		result(&h, s);
		html_m(&h, "</div>");
	}
	if (s->pid == 0) {
		html_m(&h, "<p>Sending needs a connection; recording does not. "
		    "Records are marked sent only when the server has them, so "
		    "a sync can be stopped at any moment.</p><form "
		    "method=\"post\" "
		    "action=\"/sync\">");
		ui_csrf_field(r, &h);
		html_m(&h, "<button type=\"submit\">Sync now</button></form>");
	}
	ui_page(r, 200, "Sync", &h);
	html_free(&h);
}

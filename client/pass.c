/*
 * pass.c - passphrases from a file descriptor or the terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "pass.h"
#include "sec.h"

pc_rc
pass_alloc(struct pass *p)
{
	p->len = 0;
	if ((p->p = vault_locked_alloc(VAULT_PASS_MAX + 1)) == NULL)
		return PC_ENOMEM;
	return PC_OK;
}

void
pass_free(struct pass *p)
{
	vault_locked_free(p->p, VAULT_PASS_MAX + 1);
	p->p = NULL;
	p->len = 0;
}

/* One line from fd into p: 1 read, 0 end of input, -1 error, -2 too long. */
static int
read_line(int fd, struct pass *p)
{
	ssize_t r;
	char c;
	int any = 0;

	p->len = 0;
	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		any = 1;
		if (c == '\n')
			break;
		if (p->len >= VAULT_PASS_MAX)
			return -2;
		p->p[p->len++] = c;
	}
	if (p->len > 0 && p->p[p->len - 1] == '\r')
		p->len--;
	p->p[p->len] = '\0';
	return any;
}

pc_rc
pass_read_fd(int fd, struct pass *p, const char *what, struct err_list *errs)
{
	int r = read_line(fd, p);

	if (r == -2) {
		err_add(errs, E_LENGTH, "passphrase-fd", "the %s from "
		    "--passphrase-fd %d is longer than %d bytes", what, fd,
		    VAULT_PASS_MAX);
		return PC_EINVAL;
	}
	if (r < 0) {
		err_add(errs, E_SYSTEM, "passphrase-fd", "cannot read %s from "
		    "--passphrase-fd %d: %s", what, fd, strerror(errno));
		return PC_EIO;
	}
	if (r == 0) {
		err_add(errs, E_REQUIRED, "passphrase-fd", "--passphrase-fd %d "
		    "ended before the %s", fd, what);
		return PC_EIO;
	}
	return PC_OK;
}

int
pass_tty_available(void)
{
	int fd;

	if (!isatty(STDIN_FILENO))
		return 0;
	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0)
		return 0;
	close(fd);
	return 1;
}

pc_rc
pass_read_tty(const char *question, struct pass *p, struct err_list *errs)
{
	struct termios old, quiet;
	int fd, r, restore = 0;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY)) < 0) {
		err_add(errs, E_SYSTEM, "", "cannot ask for the passphrase: no "
		    "terminal (give it with --passphrase-fd N)");
		return PC_EIO;
	}
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	(void)!write(fd, question, strlen(question));
	r = read_line(fd, p);
	if (restore)
		(void)tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	if (r <= 0) {
		err_add(errs, E_REQUIRED, "", "no passphrase given");
		return PC_EIO;
	}
	return PC_OK;
}

static pc_rc
check_new(const struct pass *p, struct err_list *errs)
{
	if (vault_pass_chars(p->p, p->len) < VAULT_PASS_MIN) {
		err_add(errs, E_LENGTH, "passphrase", "a passphrase needs at "
		    "least %d characters (three random words make a good one)",
		    VAULT_PASS_MIN);
		return PC_EINVAL;
	}
	return PC_OK;
}

pc_rc
pass_read_new(int fd, const char *question, struct pass *p,
    struct err_list *errs)
{
	struct pass again;
	struct err_list mine;
	pc_rc rc;
	int tries;

	if (fd >= 0) {
		if ((rc = pass_read_fd(fd, p, "new passphrase", errs)) != PC_OK)
			return rc;
		return check_new(p, errs);
	}
	if (!pass_tty_available()) {
		err_add(errs, E_REQUIRED, "passphrase-fd", "a passphrase for the "
		    "store is needed: give it with --passphrase-fd N (before the "
		    "command), or run this on a terminal");
		return PC_EUSAGE;
	}
	if ((rc = pass_alloc(&again)) != PC_OK)
		return rc;
	err_init(&mine);
	for (tries = 0; tries < 3; tries++) {
		err_clear(&mine);
		if ((rc = pass_read_tty(question, p, errs)) != PC_OK ||
		    (rc = pass_read_tty("The same passphrase again: ", &again,
		    errs)) != PC_OK)
			break;
		if (p->len != again.len || !sec_equal(p->p, again.p, p->len)) {
			fprintf(stderr, "pcmds: the two passphrases differ; "
			    "again\n");
			rc = PC_EINVAL;
			continue;
		}
		if ((rc = check_new(p, &mine)) == PC_OK)
			break;
		fprintf(stderr, "pcmds: %s\n", mine.v[0].msg);
	}
	if (rc == PC_EINVAL)
		err_move(errs, &mine);
	if (rc == PC_EINVAL && err_count(errs) == 0)
		err_add(errs, E_REQUIRED, "", "the two passphrases "
		    "differed three times; nothing was changed");
	err_free(&mine);
	pass_free(&again);
	return rc;
}

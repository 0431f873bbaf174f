/*
 * fs.c - directories, whole-file reads and atomic replacement.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"

int
fs_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

pc_rc
fs_mkdirs(const char *path, mode_t mode, struct err_list *errs)
{
	char tmp[PATH_MAX];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(tmp)) {
		err_add(errs, E_SYSTEM, path, "directory path is empty or too "
		    "long");
		return PC_EIO;
	}
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
			err_add(errs, E_SYSTEM, path, "cannot create directory "
			    "%s: %s", tmp, strerror(errno));
			return PC_EIO;
		}
		if (i < n)
			tmp[i] = '/';
	}
	return PC_OK;
}

pc_rc
fs_read_file(const char *path, struct buf *b, struct err_list *errs)
{
	char chunk[8192];
	ssize_t r;
	int fd;
	pc_rc rc = PC_OK;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		err_add(errs, E_SYSTEM, path, "cannot read %s: %s", path,
		    strerror(errno));
		return errno == ENOENT ? PC_ENOTFOUND : PC_EIO;
	}
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err_add(errs, E_SYSTEM, path, "cannot read %s: %s",
			    path, strerror(errno));
			rc = PC_EIO;
			break;
		}
		if ((rc = buf_add(b, chunk, (size_t)r)) != PC_OK) {
			err_add(errs, E_TOO_MANY, path, "%s is larger than "
			    "%zu bytes", path, b->max);
			break;
		}
	}
	close(fd);
	return rc;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

pc_rc
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    struct err_list *errs)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >=
	    (int)sizeof(tmp)) {
		err_add(errs, E_SYSTEM, path, "path too long");
		return PC_EIO;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		err_add(errs, E_SYSTEM, path, "cannot create %s: %s", tmp,
		    strerror(errno));
		return PC_EIO;
	}
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		err_add(errs, E_SYSTEM, path, "cannot write %s: %s", path,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		return PC_EIO;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		err_add(errs, E_SYSTEM, path, "cannot replace %s: %s", path,
		    strerror(errno));
		unlink(tmp);
		return PC_EIO;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return PC_OK;
}

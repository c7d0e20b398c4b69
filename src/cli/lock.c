/* SPDX-License-Identifier: MIT */
/*
 * The per-device lock of the commands that change a device (upload, dfu, test, confirm, erase, reset,
 * settings erase): $XDG_RUNTIME_DIR/smpctl/<transport>-<address>.lock, or /tmp/smpctl-$UID/ without a
 * runtime directory. flock(2) ends with the process however it ends, so a killed smpctl leaves no stale
 * lock; the file stays, holding the last holder's pid for the message of the next one that has to wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli-lock.h"
#include "log.h"
#include "util.h"

/* "udp:127.0.0.1:1337" → "udp-127.0.0.1_1337.lock": the device as named, lowercased, the first ':'
 * a '-', anything else outside [a-z0-9._-] a '_'. Long names are cut: NAME_MAX is 255. */
static void lock_file_name(const char *device, char *out, size_t size)
{
	const char *colon = strchr(device, ':');
	size_t n = 0;

	for (const char *p = device; *p && n + sizeof(".lock") < size && n < 200; p++) {
		char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;

		if (p == colon)
			c = '-';
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			c = '_';
		out[n++] = c;
	}
	snprintf(out + n, size - n, ".lock");
}

/* The pid the holder wrote, or 0 while it has not yet. */
static long lock_holder(int fd)
{
	char text[24];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	if (n <= 0)
		return 0;
	text[n] = '\0';
	return strtol(text, NULL, 10);
}

static int lock_busy(Cli *cli, int fd)
{
	long pid = lock_holder(fd);

	close(fd);
	if (pid > 0)
		return cli_fail(cli, EXIT_LOCKED, "another smpctl is updating this device (pid %ld): wait for it to end, "
						  "then run this again", pid);
	return cli_fail(cli, EXIT_LOCKED, "another smpctl is updating this device: wait for it to end, then run "
					  "this again");
}

int cli_lock_device(Cli *cli)
{
	char dir[PATH_MAX - 256], name[256], path[PATH_MAX], pid[24];
	int fd, r = runtime_dir(dir, sizeof(dir));

	if (r == -EPERM)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "%s, where smpctl keeps its device locks, is not a directory "
				"that only you can write to: remove it, or set XDG_RUNTIME_DIR", dir);
	if (r < 0)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "cannot make %s for smpctl's device locks: %s (set "
				"XDG_RUNTIME_DIR to a directory of yours)", dir, strerror(-r));
	lock_file_name(cli->device, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "cannot open the device lock %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return lock_busy(cli, fd);
		close(fd);
		return cli_fail(cli, EXIT_FAILURE_GENERIC, "cannot lock %s: %s", path, strerror(errno));
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
		log_debug("lock: cannot write the pid into %s: %s", path, strerror(errno));
	cli->lock_fd = fd;
	return 0;
}

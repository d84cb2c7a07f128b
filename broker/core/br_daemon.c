#define _GNU_SOURCE		/* pipe2 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "br_daemon.h"

#define READY_MSG_MAX 512	/* under PIPE_BUF: one atomic write */
#define PIDFILE_TRIES 4
#define PIDFILE_WAIT_MS 1000

static char sd_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static bool sd_inited;

/* ---- systemd notification ---- */

void
br_sd_init(void)
{
	const char *e;

	if (sd_inited)
		return;
	sd_inited = true;
	e = getenv("NOTIFY_SOCKET");
	if (e != NULL && strlen(e) < sizeof(sd_path))
		memcpy(sd_path, e, strlen(e) + 1);
	/* an actor must not be able to tell systemd we are ready */
	unsetenv("NOTIFY_SOCKET");
}

int
br_sd_notify(const char *state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n;
	ssize_t rv;
	int fd, saved;

	br_sd_init();
	if ((n = strlen(sd_path)) == 0)
		return 0;
	memcpy(sa.sun_path, sd_path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	rv = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sa,
	    offsetof(struct sockaddr_un, sun_path) + n);
	saved = errno;
	close(fd);
	errno = saved;
	return rv < 0 ? -1 : 1;
}

/* ---- pidfile ---- */

int
br_abs_path(const char *path, char *out, size_t len)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/')
		n = snprintf(out, len, "%s", path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	else
		n = snprintf(out, len, "%s/%s", cwd, path);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The holder writes its pid only once it has detached: give it a moment
 * before saying we do not know who it is. */
static long
br_pidfile_holder(int fd)
{
	char buf[32];
	ssize_t n;
	long pid;

	for (int ms = 0; ms < PIDFILE_WAIT_MS; ms += 20) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0) {
			buf[n] = '\0';
			if ((pid = strtol(buf, NULL, 10)) > 0)
				return pid;
		}
		usleep(20000);
	}
	return 0;
}

static void
br_pidfile_busy(int fd, const char *path, char *err, size_t len)
{
	long pid = br_pidfile_holder(fd);

	if (pid > 0)
		snprintf(err, len, "already running as pid %ld (pidfile %s)",
		    pid, path);
	else
		snprintf(err, len, "already running (pidfile %s is locked)",
		    path);
}

/* An exiting holder unlinks the file after we opened it but before it
 * unlocked it: our lock would then be on a file nobody else sees. */
static bool
br_pidfile_is_current(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int
br_pidfile_try(struct br_daemon *d, char *err, size_t len)
{
	const char *path = d->d_pidfile;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0) {
		snprintf(err, len, "cannot open pidfile %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			br_pidfile_busy(fd, path, err, len);
		else
			snprintf(err, len, "cannot lock pidfile %s: %s",
			    path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!br_pidfile_is_current(fd, path)) {
		close(fd);
		return 1;
	}
	d->d_pid_fd = fd;
	return 0;
}

static int
br_pidfile_lock(struct br_daemon *d, const char *path, char *err,
    size_t len)
{
	int rv = 1;

	if (br_abs_path(path, d->d_pidfile, sizeof(d->d_pidfile)) != 0) {
		snprintf(err, len, "pidfile path too long: %s", path);
		return -1;
	}
	for (int i = 0; i < PIDFILE_TRIES && rv == 1; i++)
		rv = br_pidfile_try(d, err, len);
	if (rv == 1)
		snprintf(err, len, "pidfile %s keeps being replaced",
		    d->d_pidfile);
	return rv == 0 ? 0 : -1;
}

static int
br_pidfile_write(struct br_daemon *d, char *err, size_t len)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(d->d_pid_fd, 0) != 0 ||
	    pwrite(d->d_pid_fd, buf, n, 0) != n) {
		snprintf(err, len, "cannot write pidfile %s: %s",
		    d->d_pidfile, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- readiness pipe ---- */

/* The parent may be gone (killed from its terminal): that must not kill
 * the daemon with SIGPIPE. */
static void
send_ready_msg(struct br_daemon *d, const char *m, size_t n)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;

	sigaction(SIGPIPE, &ign, &old);
	while (write(d->d_ready_fd, m, n) < 0 && errno == EINTR)
		;
	sigaction(SIGPIPE, &old, NULL);
	close(d->d_ready_fd);
	d->d_ready_fd = -1;
}

void
br_daemon_ready(struct br_daemon *d)
{
	char st[64];

	if (d->d_ready_fd >= 0)
		send_ready_msg(d, "OK\n", 3);
	/* under a forking unit systemd must learn who the main process is */
	if (d->d_detached)
		snprintf(st, sizeof(st), "READY=1\nMAINPID=%ld",
		    (long)getpid());
	else
		snprintf(st, sizeof(st), "READY=1");
	br_sd_notify(st);
}

void
br_daemon_fail(struct br_daemon *d, const char *msg)
{
	char m[READY_MSG_MAX];
	int n;

	if (d->d_ready_fd < 0)
		return;
	if (msg == NULL || *msg == '\0')
		msg = "daemon failed to start";
	n = snprintf(m, sizeof(m) - 1, "ERR %s", msg);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(m) - 2)
		n = sizeof(m) - 2;
	for (int i = 0; i < n; i++)
		if (m[i] == '\n' || m[i] == '\r')
			m[i] = ' ';
	m[n++] = '\n';
	send_ready_msg(d, m, n);
}

/* The original process: waits for the daemon's word and exits with it. */
static void __attribute__((noreturn))
parent_wait(int fd, pid_t child)
{
	char buf[READY_MSG_MAX + 1];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(buf) - 1 && memchr(buf, '\n', got) == NULL) {
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	waitpid(child, NULL, 0);
	if (strcmp(buf, "OK") == 0)
		exit(0);
	if (strncmp(buf, "ERR ", 4) == 0)
		fprintf(stderr, "trouped: %s\n", buf + 4);
	else
		fprintf(stderr, "trouped: daemon exited before it was "
		    "ready\n");
	exit(1);
}

static void __attribute__((noreturn))
child_die(struct br_daemon *d, const char *what)
{
	char m[256];

	snprintf(m, sizeof(m), "%s: %s", what, strerror(errno));
	br_daemon_fail(d, m);
	_exit(1);
}

static int
null_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (fd != i && dup2(fd, i) < 0)
			return -1;
	if (fd > 2)
		close(fd);
	return 0;
}

/* The classic double fork: setsid drops the terminal, the second fork
 * makes sure we are not a session leader and can never get one back. */
static int
detach(struct br_daemon *d, char *err, size_t len)
{
	int p[2];
	pid_t pid;

	fflush(NULL);
	if (pipe2(p, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		snprintf(err, len, "cannot detach: %s", strerror(errno));
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		parent_wait(p[0], pid);
	}
	close(p[0]);
	d->d_ready_fd = p[1];
	d->d_detached = true;
	if (setsid() < 0)
		child_die(d, "setsid");
	if ((pid = fork()) < 0)
		child_die(d, "fork");
	if (pid > 0)
		_exit(0);
	umask(027);
	if (chdir("/") != 0)
		child_die(d, "chdir /");
	if (null_stdio() != 0)
		child_die(d, "/dev/null");
	return 0;
}

int
br_daemon_detach(struct br_daemon *d, const struct br_daemon_opts *o,
    char *err, size_t len)
{
	d->d_ready_fd = -1;
	d->d_pid_fd = -1;
	d->d_detached = false;
	d->d_pidfile[0] = '\0';
	br_sd_init();
	if (o->do_pidfile != NULL &&
	    br_pidfile_lock(d, o->do_pidfile, err, len) != 0)
		return -1;
	if (o->do_detach && detach(d, err, len) != 0)
		goto out_unlock;
	if (d->d_pid_fd >= 0 && br_pidfile_write(d, err, len) != 0) {
		br_daemon_fail(d, err);
		goto out_unlock;
	}
	return 0;
out_unlock:
	br_daemon_close(d);
	return -1;
}

void
br_daemon_close(struct br_daemon *d)
{
	if (d->d_pid_fd >= 0) {
		unlink(d->d_pidfile);
		close(d->d_pid_fd);
		d->d_pid_fd = -1;
	}
	if (d->d_ready_fd >= 0) {
		close(d->d_ready_fd);
		d->d_ready_fd = -1;
	}
}

/*
 * br_daemon — detaching trouped from its terminal (--daemon), holding its
 * pidfile (--pidfile), and telling a waiting parent or systemd
 * (NOTIFY_SOCKET) when it is ready, reloading or stopping.
 *
 * nng is not fork-safe: br_daemon_detach must run before the first nng
 * call (and before any thread is started).
 *
 * Typical use in main:
 *	br_daemon_detach(&d, &opts, err, sizeof(err))	-- early
 *	...open the control socket...
 *	br_daemon_ready(&d)			-- parent exits 0
 *	  or br_daemon_fail(&d, reason)	-- parent prints it, exits 1
 *	...event loop...
 *	br_daemon_close(&d)			-- removes the pidfile
 */
#ifndef BR_DAEMON_H
#define BR_DAEMON_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct br_daemon_opts {
	bool		 do_detach;	/* --daemon */
	const char	*do_pidfile;	/* --pidfile FILE, or NULL */
};

struct br_daemon {
	int	d_ready_fd;	/* readiness pipe's write end, or -1 */
	int	d_pid_fd;	/* the locked pidfile, or -1 */
	bool	d_detached;
	char	d_pidfile[PATH_MAX];	/* absolute: we chdir to / */
};

/*
 * Reads NOTIFY_SOCKET (and removes it from the environment so actors do
 * not inherit it), locks the pidfile if any, and detaches if asked: fork,
 * setsid, fork, umask 027, chdir /, stdin/stdout/stderr on /dev/null.
 *
 * With do_detach the ORIGINAL process never returns: it waits until the
 * daemon calls br_daemon_ready (exits 0) or br_daemon_fail or dies (prints
 * "trouped: REASON" on stderr, exits 1). The caller goes on as the daemon.
 *
 * The pidfile is opened O_CREAT|O_CLOEXEC 0644 and locked with flock()
 * before the fork (the lock belongs to the open file description, which
 * the daemon inherits); the final process writes its pid into it. A stale
 * pidfile (lock free) is taken over.
 *
 * Returns 0, or -1 with a one-line reason in err (len bytes), e.g.
 * "already running as pid 123 (pidfile /run/t.pid)"; the caller prints it
 * ("trouped: %s") and exits non-zero. Always initializes d, so
 * br_daemon_close is safe after a failure.
 */
int br_daemon_detach(struct br_daemon *d, const struct br_daemon_opts *o,
    char *err, size_t len);

/*
 * The daemon is up (control socket open): releases the waiting parent
 * with exit 0 and sends "READY=1" to systemd if NOTIFY_SOCKET was set.
 * Call once; later calls only notify systemd again.
 */
void br_daemon_ready(struct br_daemon *d);

/*
 * Start-up failed: the waiting parent prints "trouped: MSG" and exits 1.
 * msg NULL or "" gives a generic reason. No-op once ready (or when not
 * detached). Does not exit: the caller cleans up and exits.
 */
void br_daemon_fail(struct br_daemon *d, const char *msg);

/*
 * Clean exit: removes and unlocks the pidfile (if we hold it) and closes
 * the readiness pipe (an un-signalled parent sees EOF and exits 1).
 */
void br_daemon_close(struct br_daemon *d);

/*
 * Sends state (e.g. "READY=1", "STOPPING=1", "RELOADING=1",
 * "STATUS=draining") as one datagram to the AF_UNIX socket named by
 * NOTIFY_SOCKET as it was at br_daemon_detach / br_sd_init time (a
 * leading '@' means the abstract namespace). Returns 1 if sent, 0 if
 * NOTIFY_SOCKET was unset, -1 on error (errno set).
 */
int br_sd_notify(const char *state);

/*
 * Captures NOTIFY_SOCKET and unsets it. br_daemon_detach calls it; call
 * it yourself only if you do not call br_daemon_detach. Idempotent.
 */
void br_sd_init(void);

/*
 * Writes path made absolute against the current directory into out (len
 * bytes): the daemon chdirs to / after opening its pidfile and log, and
 * must find the same files again (removal, SIGHUP reopen).  Returns 0, or
 * -1 when getcwd fails or the result does not fit.
 */
int br_abs_path(const char *path, char *out, size_t len);

#endif

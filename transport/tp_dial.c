/*
 * tp_dial — dial, then wait for the pipe or for the reason there is none.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tp_dial.h"
#include "tp_nng.h"

/* nng thread: only the watch state, under its lock. */
static void
on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct tp_dialw *w = arg;
	uint32_t id = (uint32_t)nng_pipe_id(p);

	pthread_mutex_lock(&w->dw_mu);
	if (ev == NNG_PIPE_EV_ADD_POST)
		w->dw_pipe = id;
	else if (w->dw_pipe == id)
		w->dw_pipe = 0;
	else
		w->dw_rejected++;	/* started and dropped: wrong peer */
	pthread_cond_broadcast(&w->dw_cv);
	pthread_mutex_unlock(&w->dw_mu);
}

/* An ipc path that is not there or not a socket fails here at once.
 * Nothing connects to it: see tp_dial_wait. */
static int
ipc_check(const char *path, struct tp_err *err)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return tp_err_set(err, errno == EACCES ? TP_EPERM :
		    TP_EUNREACH, "%s", strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return tp_err_set(err, TP_EPEER, "%s is not a socket", path);
	return 0;
}

/* The first dial, blocking, as nng does it: its result says "refused"
 * or "permission denied" at once. */
static void *
dial_main(void *arg)
{
	struct tp_dialw *w = arg;
	int rv = nng_dial(w->dw_sock, w->dw_url, NULL, 0);

	pthread_mutex_lock(&w->dw_mu);
	w->dw_dial_rv = rv;
	w->dw_dialed = true;
	pthread_cond_broadcast(&w->dw_cv);
	pthread_mutex_unlock(&w->dw_mu);
	return NULL;
}

static int
dial_result(int rv, struct tp_err *err)
{
	if (rv == NNG_EPERM)
		return tp_err_set(err, TP_EPERM, "%s", nng_strerror(rv));
	if (rv == NNG_ECONNREFUSED || rv == NNG_ENOENT ||
	    rv == NNG_EADDRINVAL || rv == NNG_EUNREACHABLE)
		return tp_err_set(err, TP_EUNREACH, "%s", nng_strerror(rv));
	if (rv == NNG_EPROTO)
		return tp_err_set(err, TP_EPEER, "not a troupe socket: the peer "
		    "does not speak nng's protocol");
	return tp_err_set(err, TP_ENNG, "%s", nng_strerror(rv));
}

static void
deadline_of(struct timespec *ts, nng_duration ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	if (ms < 0)
		ms = 24 * 3600 * 1000;	/* "infinite": a day */
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int
watch_init(struct tp_dialw *w, nng_socket s, struct tp_err *err)
{
	pthread_condattr_t ca;
	int rv;

	memset(w, 0, sizeof(*w));
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->dw_mu, NULL);
	pthread_cond_init(&w->dw_cv, &ca);
	pthread_condattr_destroy(&ca);
	w->dw_init = true;
	if ((rv = nng_pipe_notify(s, NNG_PIPE_EV_ADD_POST, on_pipe, w)) != 0 ||
	    (rv = nng_pipe_notify(s, NNG_PIPE_EV_REM_POST, on_pipe, w)) != 0)
		return tp_nng_err(err, rv, "watch pipes of", NULL);
	return 0;
}

/* Waits for a pipe, a rejected one, or the deadline. */
static int
watch_wait(struct tp_dialw *w, nng_duration timeout, bool accepts,
    struct tp_err *err)
{
	struct timespec ts;
	int rv = 0;

	deadline_of(&ts, timeout);
	pthread_mutex_lock(&w->dw_mu);
	while (w->dw_pipe == 0 && w->dw_rejected == 0 && rv == 0 &&
	    !(w->dw_dialed && w->dw_dial_rv != 0))
		rv = pthread_cond_timedwait(&w->dw_cv, &w->dw_mu, &ts);
	if (w->dw_pipe != 0)
		rv = 0;
	else if (w->dw_dialed && w->dw_dial_rv != 0)
		rv = dial_result(w->dw_dial_rv, err);
	else if (w->dw_rejected != 0)
		rv = tp_err_set(err, TP_EPEER, "not a troupe socket of this "
		    "kind: the peer speaks another nng protocol");
	else if (accepts)
		rv = tp_err_set(err, TP_EPEER, "no nng handshake within %d ms: "
		    "not a troupe socket, or its process is stuck",
		    (int)timeout);
	else
		rv = tp_err_set(err, TP_EUNREACH, "nothing answered within "
		    "%d ms", (int)timeout);
	pthread_mutex_unlock(&w->dw_mu);
	return rv;
}

int
tp_dial_wait(struct tp_dialw *w, nng_socket s, const char *url,
    nng_duration timeout, struct tp_err *err)
{
	bool ipc = strncmp(url, "ipc://", 6) == 0;
	int rv;

	if ((rv = watch_init(w, s, err)) != 0)
		return rv;
	if (ipc && (rv = ipc_check(url + 6, err)) != 0)
		return rv;
	w->dw_sock = s;
	w->dw_url = url;
	if ((rv = pthread_create(&w->dw_thread, NULL, dial_main, w)) != 0)
		return tp_err_set(err, TP_ESYS, "dial thread: %s",
		    strerror(rv));
	w->dw_running = true;
	return watch_wait(w, timeout, ipc, err);
}

void
tp_dial_fini(struct tp_dialw *w)
{
	if (!w->dw_init)
		return;
	if (w->dw_running)
		pthread_join(w->dw_thread, NULL);
	w->dw_running = false;
	pthread_cond_destroy(&w->dw_cv);
	pthread_mutex_destroy(&w->dw_mu);
	w->dw_init = false;
}

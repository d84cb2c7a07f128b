/*
 * bn_nng — the bare transports, each between two processes of its own
 * (the driver started again as the peer), raw bytes with no envelope:
 *
 *   B0   nng pair1 over ipc, the socket options troupe uses
 *        (tp_sock_open).  One-way: a start message, N messages, a done
 *        reply; round trip: ping-pong, one at a time.
 *   B0z  ZeroMQ over ipc with its default options (when built with
 *        libzmq, BN_HAVE_ZMQ).  One-way: PUSH/PULL, a REQ/REP start
 *        before the N messages and a REQ/REP ping after them, which the
 *        peer answers once it has pulled all N; round trip: REQ/REP.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>
#ifdef BN_HAVE_ZMQ
#include <zmq.h>
#endif

#include "bn_nng.h"
#include "tp_nng.h"

enum { M_START = 'S', M_DATA = 'D', M_PING = 'P', M_DONE = 'K',
    M_QUIT = 'Q' };

#define MAX_MSG 65536
#define ZMQ_RUNS 3		/* B0z one-way: the median of these */

/* A round-trip socket of either transport: send a buffer, then wait for
 * one answer and drop it. */
struct link {
	void		 (*l_send)(void *, const void *, size_t);
	void		 (*l_recv)(void *);
	void		*l_sock;
};

/* ---- both transports ---------------------------------------------------- */

static void
round_trip(const struct link *l, uint32_t n, size_t size, struct bn_pct *p)
{
	static char buf[MAX_MSG] = { M_PING };
	uint64_t *v, t0;

	if ((v = calloc(n, sizeof(*v))) == NULL)
		bn_die("out of memory");
	for (uint32_t i = 0; i < n; i++) {
		t0 = bn_now_ns();
		l->l_send(l->l_sock, buf, size);
		l->l_recv(l->l_sock);
		v[i] = bn_now_ns() - t0;
	}
	bn_pct(v, n, p);
	free(v);
}

/* Starts `self flag arg` (the peer role of this program); tracked. */
static pid_t
peer_start(const char *self, const char *flag, const char *arg)
{
	char prog[PATH_MAX], f[32], a[PATH_MAX];
	char *argv[] = { prog, f, a, NULL };
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s", self);
	snprintf(f, sizeof(f), "%s", flag);
	snprintf(a, sizeof(a), "%s", arg);
	if ((pid = bn_proc_spawn(argv, NULL, NULL, NULL, NULL)) < 0)
		bn_die("%s: cannot start the peer: %s", flag, strerror(errno));
	return pid;
}

/* The peer exits once told to quit; else it is stopped. */
static void
peer_end(pid_t pid)
{
	if (bn_proc_wait(pid, 5000, NULL) != 0)
		bn_proc_stop(pid, 1000);
}

/* ---- B0: nng ------------------------------------------------------------ */

static void
send_buf(nng_socket s, const void *buf, size_t len)
{
	int rv;

	if ((rv = nng_send(s, (void *)(uintptr_t)buf, len, 0)) != 0)
		bn_die("B0 send: %s", nng_strerror(rv));
}

static nng_msg *
recv_msg(nng_socket s)
{
	nng_msg *m;
	int rv;

	if ((rv = nng_recvmsg(s, &m, 0)) != 0)
		bn_die("B0 receive: %s", nng_strerror(rv));
	return m;
}

static void
nng_link_send(void *s, const void *buf, size_t len)
{
	send_buf(*(nng_socket *)s, buf, len);
}

static void
nng_link_recv(void *s)
{
	nng_msg_free(recv_msg(*(nng_socket *)s));
}

static nng_socket
open_pair(void)
{
	struct tp_err err;
	nng_socket s;

	if (tp_sock_open(&s, TP_PAIR, NULL, &err) != 0)
		bn_die("B0: %s", err.e_msg);
	return s;
}

int
bn_nng_peer(const char *url)
{
	nng_socket s = open_pair();
	struct tp_err err;
	uint64_t want = 0, got = 0;
	char done = M_DONE;

	if (tp_listen(s, url, 0600, &err) != 0)
		bn_die("B0 peer: %s", err.e_msg);
	for (;;) {
		nng_msg *m = recv_msg(s);
		const char *b = nng_msg_body(m);

		if (nng_msg_len(m) == 0 || b[0] == M_QUIT) {
			nng_msg_free(m);
			break;
		}
		if (b[0] == M_START) {
			memcpy(&want, b + 1, sizeof(want));
			got = 0;
			nng_msg_free(m);
		} else if (b[0] == M_PING) {
			if (nng_sendmsg(s, m, 0) != 0)
				nng_msg_free(m);
		} else {
			nng_msg_free(m);
			if (++got == want)
				send_buf(s, &done, 1);
		}
	}
	nng_close(s);
	return 0;
}

static double
one_way(nng_socket s, uint32_t n, size_t size)
{
	static char buf[MAX_MSG] = { M_DATA };
	char start[1 + sizeof(uint64_t)] = { M_START };
	uint64_t want = n, t0;
	nng_msg *m;

	memcpy(start + 1, &want, sizeof(want));
	t0 = bn_now_ns();
	send_buf(s, start, sizeof(start));
	for (uint32_t i = 0; i < n; i++)
		send_buf(s, buf, size);
	m = recv_msg(s);
	nng_msg_free(m);
	return (double)n * 1e9 / (double)(bn_now_ns() - t0);
}

void
bn_nng_run(const char *self, const char *dir, const struct bn_nng_args *a,
    struct bn_nng_result *r)
{
	char url[300], quit = M_QUIT;
	struct link l = { nng_link_send, nng_link_recv, NULL };
	struct tp_err err;
	nng_socket s;
	pid_t pid;
	int i;

	snprintf(url, sizeof(url), "ipc://%s/b0.sock", dir);
	pid = peer_start(self, "--nng-peer", url);
	s = open_pair();
	l.l_sock = &s;
	for (i = 0; i < 200 && tp_dial(s, url, true, &err) != 0; i++)
		nng_msleep(10);
	if (i == 200)
		bn_die("B0: %s", err.e_msg);
	one_way(s, a->a_count / 10, a->a_size);		/* warm up */
	r->r_msgs_s = one_way(s, a->a_count, a->a_size);
	round_trip(&l, a->a_rtt_count / 10, a->a_size, &r->r_rtt);
	round_trip(&l, a->a_rtt_count, a->a_size, &r->r_rtt);
	send_buf(s, &quit, 1);
	nng_msleep(20);		/* nng has no flush: let QUIT leave */
	nng_close(s);
	peer_end(pid);
}

/* ---- B0z: ZeroMQ -------------------------------------------------------- */

#ifdef BN_HAVE_ZMQ

#define ZMQ_PULL_SOCK "b0z-pull.sock"
#define ZMQ_REP_SOCK "b0z-rep.sock"
#define ZMQ_WAIT_MS 30000
#define ZMQ_LINGER_MS 1000

/* A socket of type on ipc://dir/name, bound (the peer) or connected;
 * ZeroMQ connects in the background, so the peer may bind later.  A
 * side whose other one died fails after ZMQ_WAIT_MS instead of hanging;
 * a close waits up to ZMQ_LINGER_MS for what is still queued (the
 * peer's answer to quit). */
static void *
zsock(void *ctx, int type, const char *dir, const char *name, bool bind)
{
	char url[PATH_MAX + 16];
	int linger = ZMQ_LINGER_MS, wait = ZMQ_WAIT_MS;
	void *s;

	snprintf(url, sizeof(url), "ipc://%s/%s", dir, name);
	if ((s = zmq_socket(ctx, type)) == NULL ||
	    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_setsockopt(s, ZMQ_RCVTIMEO, &wait, sizeof(wait)) != 0 ||
	    zmq_setsockopt(s, ZMQ_SNDTIMEO, &wait, sizeof(wait)) != 0 ||
	    (bind ? zmq_bind(s, url) : zmq_connect(s, url)) != 0)
		bn_die("B0z %s: %s", url, zmq_strerror(zmq_errno()));
	return s;
}

static void
unlink_sock(const char *dir, const char *name)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	unlink(path);
}

static void
zsend(void *s, const void *buf, size_t len)
{
	if (zmq_send(s, buf, len, 0) != (int)len)
		bn_die("B0z send: %s", zmq_strerror(zmq_errno()));
}

/* Receives one message into buf (cut at len); returns its size. */
static size_t
zrecv(void *s, void *buf, size_t len)
{
	int n;

	if ((n = zmq_recv(s, buf, len, 0)) < 0)
		bn_die("B0z receive: %s", zmq_strerror(zmq_errno()));
	return (size_t)n < len ? (size_t)n : len;
}

static void
zmq_link_recv(void *s)
{
	char ack[16];

	zrecv(s, ack, sizeof(ack));
}

int
bn_zmq_peer(const char *dir)
{
	static char buf[MAX_MSG];
	void *ctx = zmq_ctx_new();
	void *pull = zsock(ctx, ZMQ_PULL, dir, ZMQ_PULL_SOCK, true);
	void *rep = zsock(ctx, ZMQ_REP, dir, ZMQ_REP_SOCK, true);
	uint64_t want;
	size_t n;

	for (;;) {
		n = zrecv(rep, buf, sizeof(buf));
		zsend(rep, buf, n);	/* start, ping and quit: echoed */
		if (n == 0 || buf[0] == M_QUIT)
			break;
		if (buf[0] != M_START || n < 1 + sizeof(want))
			continue;
		memcpy(&want, buf + 1, sizeof(want));
		for (uint64_t i = 0; i < want; i++)
			zrecv(pull, buf, sizeof(buf));
	}
	zmq_close(pull);
	zmq_close(rep);
	zmq_ctx_term(ctx);
	return 0;
}

/* N messages pushed between a start and a ping on req: the ping's
 * answer comes once the peer has pulled all N. */
static double
zmq_one_way(void *req, void *push, uint32_t n, size_t size)
{
	static char buf[MAX_MSG] = { M_DATA };
	char start[1 + sizeof(uint64_t)] = { M_START }, ping = M_PING;
	uint64_t want = n, t0;

	memcpy(start + 1, &want, sizeof(want));
	t0 = bn_now_ns();
	zsend(req, start, sizeof(start));
	zmq_link_recv(req);
	for (uint32_t i = 0; i < n; i++)
		zsend(push, buf, size);
	zsend(req, &ping, 1);
	zmq_link_recv(req);
	return (double)n * 1e9 / (double)(bn_now_ns() - t0);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
bn_zmq_run(const char *self, const char *dir, const struct bn_nng_args *a,
    struct bn_nng_result *r, char *why, size_t len)
{
	struct link l = { zsend, zmq_link_recv, NULL };
	pid_t pid = peer_start(self, "--zmq-peer", dir);
	void *ctx = zmq_ctx_new();
	void *push = zsock(ctx, ZMQ_PUSH, dir, ZMQ_PULL_SOCK, false);
	void *req = zsock(ctx, ZMQ_REQ, dir, ZMQ_REP_SOCK, false);
	double runs[ZMQ_RUNS];
	char quit = M_QUIT;

	l.l_sock = req;
	zmq_one_way(req, push, a->a_count / 10, a->a_size);	/* warm up */
	for (int i = 0; i < ZMQ_RUNS; i++)
		runs[i] = zmq_one_way(req, push, a->a_count, a->a_size);
	qsort(runs, ZMQ_RUNS, sizeof(runs[0]), cmp_double);
	r->r_msgs_s = runs[ZMQ_RUNS / 2];
	round_trip(&l, a->a_rtt_count / 10, a->a_size, &r->r_rtt);
	round_trip(&l, a->a_rtt_count, a->a_size, &r->r_rtt);
	zsend(req, &quit, 1);
	zmq_link_recv(req);
	zmq_close(push);
	zmq_close(req);
	zmq_ctx_term(ctx);
	peer_end(pid);
	unlink_sock(dir, ZMQ_PULL_SOCK);	/* ZeroMQ leaves them */
	unlink_sock(dir, ZMQ_REP_SOCK);
	return 0;
}

#else

int
bn_zmq_peer(const char *dir)
{
	bn_die("--zmq-peer: built without libzmq");
}

int
bn_zmq_run(const char *self, const char *dir, const struct bn_nng_args *a,
    struct bn_nng_result *r, char *why, size_t len)
{
	snprintf(why, len, "built without libzmq (`make bench` installs "
	    "libzmq3-dev as root)");
	return -1;
}

#endif

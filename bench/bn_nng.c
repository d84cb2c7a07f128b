/*
 * bn_nng — B0, the transport's own limit: two processes, one nng pair1
 * link over ipc, the same socket options troupe uses (tp_sock_open), raw
 * bytes with no envelope.  One-way: a start message, N messages, a done
 * reply; round trip: ping-pong, one at a time.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "bn_nng.h"
#include "tp_nng.h"

enum { M_START = 'S', M_DATA = 'D', M_PING = 'P', M_DONE = 'K',
    M_QUIT = 'Q' };

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
	char buf[65536] = { M_DATA };
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

static void
round_trip(nng_socket s, uint32_t n, size_t size, struct bn_pct *p)
{
	char buf[65536] = { M_PING };
	uint64_t *v, t0;

	if ((v = calloc(n, sizeof(*v))) == NULL)
		bn_die("out of memory");
	for (uint32_t i = 0; i < n; i++) {
		t0 = bn_now_ns();
		send_buf(s, buf, size);
		nng_msg_free(recv_msg(s));
		v[i] = bn_now_ns() - t0;
	}
	bn_pct(v, n, p);
	free(v);
}

void
bn_nng_run(const char *self, const char *dir, const struct bn_nng_args *a,
    struct bn_nng_result *r)
{
	char url[300], quit = M_QUIT, prog[PATH_MAX];
	char *argv[] = { prog, "--nng-peer", url, NULL };
	struct tp_err err;
	nng_socket s;
	pid_t pid;
	int i;

	snprintf(url, sizeof(url), "ipc://%s/b0.sock", dir);
	snprintf(prog, sizeof(prog), "%s", self);
	if ((pid = bn_proc_spawn(argv, NULL, NULL, NULL, NULL)) < 0)
		bn_die("B0: cannot start the peer: %s", strerror(errno));
	s = open_pair();
	for (i = 0; i < 200 && tp_dial(s, url, true, &err) != 0; i++)
		nng_msleep(10);
	if (i == 200)
		bn_die("B0: %s", err.e_msg);
	one_way(s, a->a_count / 10, a->a_size);		/* warm up */
	r->r_msgs_s = one_way(s, a->a_count, a->a_size);
	round_trip(s, a->a_rtt_count / 10, a->a_size, &r->r_rtt);
	round_trip(s, a->a_rtt_count, a->a_size, &r->r_rtt);
	send_buf(s, &quit, 1);
	nng_msleep(20);		/* nng has no flush: let QUIT leave */
	nng_close(s);
	if (bn_proc_wait(pid, 5000, NULL) != 0)	/* it exits on QUIT */
		bn_proc_stop(pid, 1000);
}

/*
 * test_nng — tp_nng over real ipc:// (in a private temp dir) and
 * tcp://127.0.0.1 sockets: envelopes travel, limits hold, errors say what
 * failed and where.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <nng/nng.h>

#include "tp_env.h"
#include "tp_nng.h"

static char tmpdir[64];

static void
dir_setup(void)
{
	strcpy(tmpdir, "/tmp/tp-nng-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

/* Sockets are closed by each test; the ipc files nng leaves go here. */
static void
dir_teardown(void)
{
	static const char *names[] = { "a.sock", "b.sock", "c.sock" };
	char p[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, names[i]);
		unlink(p);
	}
	rmdir(tmpdir);
}

TestSuite(nng, .init = dir_setup, .fini = dir_teardown, .timeout = 20);

static void
ipc_url(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "ipc://%s/%s", tmpdir, name);
}

/* Asks the kernel for a free port, then lets it go for nng to take. */
static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sa);
	int fd, port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &slen), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static struct tp_sockopts
opts_timeout(int ms)
{
	struct tp_sockopts o = tp_sockopts_default;

	o.o_recv_timeout = ms;
	o.o_send_timeout = ms;
	return o;
}

static struct tp_env
sample(uint32_t kind, uint64_t id, const void *body, size_t blen)
{
	struct tp_env e;

	memset(&e, 0, sizeof(e));
	e.e_kind = kind;
	e.e_id = id;
	e.e_from = tp_slice_str("cli");
	e.e_to = tp_slice_str("echo");
	e.e_body = body;
	e.e_body_len = blen;
	return e;
}

/* Receives one message and decodes it as one envelope into *env; the
 * message is returned for the caller to free (env points into it). */
static nng_msg *
recv_env(nng_socket s, struct tp_env *env)
{
	struct tp_err err = { 0 };
	nng_msg *msg;

	cr_assert_eq(tp_recv_msg(s, &msg, 0, &err), 0, "%s", err.e_msg);
	cr_assert_eq(tp_env_decode(nng_msg_body(msg), nng_msg_len(msg),
	    &tp_limits_default, env, &err), 0, "%s", err.e_msg);
	return msg;
}

static void
connect_pair(nng_socket *l, nng_socket *d, const char *url, int perm)
{
	struct tp_sockopts o = opts_timeout(3000);
	struct tp_err err = { 0 };

	cr_assert_eq(tp_sock_open(l, TP_PAIR, &o, &err), 0, "%s", err.e_msg);
	cr_assert_eq(tp_sock_open(d, TP_PAIR, &o, &err), 0, "%s", err.e_msg);
	cr_assert_eq(tp_listen(*l, url, perm, &err), 0, "%s", err.e_msg);
	cr_assert_eq(tp_dial(*d, url, true, &err), 0, "%s", err.e_msg);
}

static void
exchange(nng_socket a, nng_socket b)
{
	static const uint8_t body[] = { 0xa5, 'h', 'e', 'l', 'l', 'o' };
	struct tp_env e = sample(TP_K_ASK, 77, body, sizeof(body)), got;
	struct tp_err err = { 0 };
	nng_msg *msg;

	cr_assert_eq(tp_send_env(a, &e, 0, &err), 0, "%s", err.e_msg);
	msg = recv_env(b, &got);
	cr_assert_eq(got.e_kind, TP_K_ASK);
	cr_assert_eq(got.e_id, 77);
	cr_assert_eq(got.e_body_len, sizeof(body));
	cr_assert(memcmp(got.e_body, body, sizeof(body)) == 0);
	nng_msg_free(msg);
	e = sample(TP_K_REPLY, 78, NULL, 0);
	e.e_corr = 77;
	cr_assert_eq(tp_send_env(b, &e, 0, &err), 0, "%s", err.e_msg);
	msg = recv_env(a, &got);
	cr_assert_eq(got.e_kind, TP_K_REPLY);
	cr_assert_eq(got.e_corr, 77);
	nng_msg_free(msg);
}

static void
check_ipc_mode(int perm)
{
	char url[128];
	struct stat st;
	nng_socket l, d;

	ipc_url(url, sizeof(url), "a.sock");
	connect_pair(&l, &d, url, perm);
	cr_assert_eq(stat(url + 6, &st), 0, "no socket file %s", url + 6);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, (unsigned)perm, "mode %o, want %o",
	    st.st_mode & 0777, perm);
	exchange(d, l);
	nng_close(d);
	nng_close(l);
}

Test(nng, ipc_pair_mode_0600)
{
	check_ipc_mode(0600);
}

Test(nng, ipc_pair_mode_0660)
{
	check_ipc_mode(0660);
}

Test(nng, tcp_pair)
{
	char url[64];
	nng_socket l, d;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", free_port());
	connect_pair(&l, &d, url, 0);
	exchange(d, l);
	exchange(l, d);
	nng_close(d);
	nng_close(l);
}

/*
 * The limit is on the troupe frame (the message body): a frame of exactly
 * o_max_frame bytes arrives, one byte more never does (nng drops it and
 * the connection), so the receiver times out.
 */
static void
check_recvmax(const char *url, enum tp_proto lp, enum tp_proto dp)
{
	struct tp_sockopts o = opts_timeout(500);
	struct tp_err err = { 0 };
	uint8_t body[1100];
	struct tp_env e;
	nng_socket l, d;
	nng_msg *msg;
	size_t hdr;

	body[0] = 0xc5;			/* bin16 */
	memset(body + 3, 'z', sizeof(body) - 3);
	e = sample(TP_K_SEND, 1, body, 0);
	o.o_max_frame = 1024;
	cr_assert_eq(tp_sock_open(&l, lp, &o, &err), 0);
	cr_assert_eq(tp_sock_open(&d, dp, NULL, &err), 0);
	cr_assert_eq(tp_listen(l, url, 0600, &err), 0, "%s", err.e_msg);
	cr_assert_eq(tp_dial(d, url, true, &err), 0, "%s", err.e_msg);
	/* array, version, kind, id, "cli", "echo", corr, flags: 15 bytes,
	 * and the bin16 head that carries a version 2 body: 3 */
	hdr = 1 + 1 + 1 + 1 + 4 + 5 + 1 + 1 + 3;
	e.e_body_len = 1024 - hdr;
	body[1] = (uint8_t)((e.e_body_len - 3) >> 8);
	body[2] = (uint8_t)(e.e_body_len - 3);
	cr_assert_eq(tp_send_env(d, &e, 0, &err), 0, "%s", err.e_msg);
	cr_assert_eq(tp_recv_msg(l, &msg, 0, &err), 0,
	    "frame of exactly o_max_frame lost: %s", err.e_msg);
	cr_assert_eq(nng_msg_len(msg), 1024);
	nng_msg_free(msg);
	e.e_body_len++;
	body[2]++;
	cr_assert_eq(tp_send_env(d, &e, 0, &err), 0, "%s", err.e_msg);
	cr_assert_eq(tp_recv_msg(l, &msg, 0, &err), TP_ETIMEDOUT,
	    "oversized frame arrived");
	cr_assert(strstr(err.e_msg, "receive") != NULL, "%s", err.e_msg);
	nng_close(d);
	nng_close(l);
}

Test(nng, recvmaxsz_ipc)
{
	char url[128];

	ipc_url(url, sizeof(url), "b.sock");
	check_recvmax(url, TP_PAIR, TP_PAIR);
}

Test(nng, recvmaxsz_raw_rep)
{
	char url[128];

	ipc_url(url, sizeof(url), "c.sock");
	check_recvmax(url, TP_REP_RAW, TP_REQ);
}

Test(nng, recvmaxsz_tcp)
{
	char url[64];

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", free_port());
	check_recvmax(url, TP_PAIR, TP_PAIR);
}

Test(nng, recv_fd_turns_readable)
{
	struct tp_env e = sample(TP_K_SEND, 5, NULL, 0), got;
	struct tp_err err = { 0 };
	char url[128];
	nng_socket l, d;
	nng_msg *msg;
	struct pollfd pfd = { .events = POLLIN };

	ipc_url(url, sizeof(url), "a.sock");
	connect_pair(&l, &d, url, 0600);
	cr_assert_eq(tp_recv_fd(l, &pfd.fd, &err), 0, "%s", err.e_msg);
	cr_assert_eq(poll(&pfd, 1, 100), 0, "readable with nothing sent");
	cr_assert_eq(tp_recv_msg(l, &msg, NNG_FLAG_NONBLOCK, &err),
	    TP_EAGAIN);
	cr_assert_eq(tp_send_env(d, &e, 0, &err), 0);
	cr_assert_eq(poll(&pfd, 1, 3000), 1, "fd never turned readable");
	cr_assert(pfd.revents & POLLIN);
	cr_assert_eq(tp_recv_msg(l, &msg, NNG_FLAG_NONBLOCK, &err), 0,
	    "%s", err.e_msg);
	cr_assert_eq(tp_env_decode(nng_msg_body(msg), nng_msg_len(msg),
	    &tp_limits_default, &got, &err), 0);
	cr_assert_eq(got.e_id, 5);
	nng_msg_free(msg);
	cr_assert_eq(poll(&pfd, 1, 100), 0, "still readable once drained");
	nng_close(d);
	nng_close(l);
}

Test(nng, dial_missing_ipc_path)
{
	struct tp_err err = { 0 };
	char url[128];
	nng_socket d;
	int rv;

	ipc_url(url, sizeof(url), "nobody-listens.sock");
	cr_assert_eq(tp_sock_open(&d, TP_REQ, NULL, &err), 0);
	rv = tp_dial(d, url, true, &err);
	cr_assert(rv == TP_ENNG || rv == TP_EINVAL, "dial gave %d", rv);
	cr_assert_eq(err.e_code, rv);
	cr_assert(strstr(err.e_msg, url) != NULL, "message \"%s\" lacks the "
	    "URL", err.e_msg);
	cr_assert(strstr(err.e_msg, "connect to") != NULL, "%s", err.e_msg);
	/* without wait, nng redials in the background: no error now */
	cr_assert_eq(tp_dial(d, url, false, &err), 0, "%s", err.e_msg);
	nng_close(d);
}

Test(nng, listen_errors_name_the_url)
{
	struct tp_err err = { 0 };
	char url[128];
	nng_socket l, l2;

	cr_assert_eq(tp_sock_open(&l, TP_PAIR, NULL, &err), 0);
	cr_assert_eq(tp_sock_open(&l2, TP_PAIR, NULL, &err), 0);
	cr_assert_neq(tp_listen(l, "bogus://x", 0600, &err), 0);
	cr_assert(strstr(err.e_msg, "bogus://x") != NULL, "%s", err.e_msg);
	ipc_url(url, sizeof(url), "c.sock");
	cr_assert_eq(tp_listen(l, url, 0600, &err), 0, "%s", err.e_msg);
	cr_assert_eq(tp_listen(l2, url, 0600, &err), TP_ENNG);
	cr_assert(strstr(err.e_msg, url) != NULL, "%s", err.e_msg);
	cr_assert(strstr(err.e_msg, "listen on") != NULL, "%s", err.e_msg);
	nng_close(l2);
	nng_close(l);
}

Test(nng, bad_options_refused)
{
	struct tp_sockopts o = tp_sockopts_default;
	struct tp_err err = { 0 };
	nng_socket s = NNG_SOCKET_INITIALIZER;

	o.o_sendbuf = 100000;		/* nng allows 0..8192 */
	cr_assert_eq(tp_sock_open(&s, TP_PAIR, &o, &err), TP_EINVAL);
	cr_assert(strstr(err.e_msg, "socket options") != NULL, "%s",
	    err.e_msg);
	cr_assert_eq(nng_socket_id(s), -1, "*s touched on failure");
}

Test(nng, timeouts_and_closed)
{
	struct tp_sockopts o = opts_timeout(100);
	struct tp_env e = sample(TP_K_SEND, 1, NULL, 0);
	struct tp_err err = { 0 };
	nng_socket s;
	nng_msg *msg;

	o.o_sendbuf = 0;	/* no peer, no buffer: a send cannot go */
	cr_assert_eq(tp_sock_open(&s, TP_PAIR, &o, &err), 0, "%s", err.e_msg);
	cr_assert_eq(tp_recv_msg(s, &msg, 0, &err), TP_ETIMEDOUT);
	cr_assert(strstr(err.e_msg, "receive") != NULL, "%s", err.e_msg);
	cr_assert_eq(tp_send_env(s, &e, NNG_FLAG_NONBLOCK, &err), TP_EAGAIN,
	    "%s", err.e_msg);
	cr_assert_eq(tp_send_env(s, &e, 0, &err), TP_ETIMEDOUT, "%s",
	    err.e_msg);
	nng_close(s);
	cr_assert_eq(tp_recv_msg(s, &msg, 0, &err), TP_ECLOSED);
	cr_assert_eq(tp_send_env(s, &e, 0, &err), TP_ECLOSED);
}

/* Replies to a raw rep request, keeping its backtrace header. */
static void
raw_reply(nng_socket rep, nng_msg *req, uint64_t corr)
{
	struct tp_env e = sample(TP_K_REPLY, 1000 + corr, NULL, 0);
	msgpack_packer pk;
	nng_msg *ans;

	e.e_corr = corr;
	cr_assert_eq(nng_msg_alloc(&ans, 0), 0);
	cr_assert_eq(nng_msg_header_append(ans, nng_msg_header(req),
	    nng_msg_header_len(req)), 0);
	tp_packer_init_msg(&pk, ans);
	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	cr_assert_eq(nng_sendmsg(rep, ans, 0), 0);
}

/*
 * Two CLIs (req0) ask the broker (raw rep0); it holds the first request,
 * answers the second, then the first: each CLI gets its own answer.
 */
Test(nng, raw_rep_answers_out_of_order)
{
	struct tp_sockopts o = opts_timeout(3000);
	struct tp_env e, got[2];
	struct tp_err err = { 0 };
	nng_socket rep, req[2];
	nng_msg *in[2], *m;
	char url[128];

	ipc_url(url, sizeof(url), "a.sock");
	cr_assert_eq(tp_sock_open(&rep, TP_REP_RAW, &o, &err), 0, "%s",
	    err.e_msg);
	cr_assert_eq(tp_listen(rep, url, 0600, &err), 0, "%s", err.e_msg);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(tp_sock_open(&req[i], TP_REQ, &o, &err), 0);
		cr_assert_eq(tp_dial(req[i], url, true, &err), 0);
		e = sample(TP_K_ASK, i + 1, NULL, 0);
		cr_assert_eq(tp_send_env(req[i], &e, 0, &err), 0, "%s",
		    err.e_msg);
		in[i] = recv_env(rep, &got[i]);
		cr_assert_gt(nng_msg_header_len(in[i]), 0, "raw rep keeps "
		    "the backtrace in the header");
	}
	raw_reply(rep, in[1], got[1].e_id);
	m = recv_env(req[1], &e);
	cr_assert_eq(e.e_corr, got[1].e_id);
	nng_msg_free(m);
	raw_reply(rep, in[0], got[0].e_id);
	m = recv_env(req[0], &e);
	cr_assert_eq(e.e_corr, got[0].e_id);
	nng_msg_free(m);
	nng_msg_free(in[0]);
	nng_msg_free(in[1]);
	nng_close(req[0]);
	nng_close(req[1]);
	nng_close(rep);
}

/* pub/sub: a subscriber sees everything (subscribed to ""). */
Test(nng, pub_sub_tap)
{
	struct tp_sockopts o = opts_timeout(100);
	struct tp_env e = sample(TP_K_SEND, 9, NULL, 0), got;
	struct tp_err err = { 0 };
	nng_socket pub, sub;
	nng_msg *msg = NULL;
	char url[128];
	int rv = TP_ETIMEDOUT;

	ipc_url(url, sizeof(url), "b.sock");
	cr_assert_eq(tp_sock_open(&pub, TP_PUB, NULL, &err), 0, "%s",
	    err.e_msg);
	cr_assert_eq(tp_sock_open(&sub, TP_SUB, &o, &err), 0, "%s",
	    err.e_msg);
	cr_assert_eq(tp_listen(pub, url, 0600, &err), 0);
	cr_assert_eq(tp_dial(sub, url, true, &err), 0);
	/* the subscription races the first publish: retry for 3 s */
	for (int i = 0; i < 30 && rv == TP_ETIMEDOUT; i++) {
		cr_assert_eq(tp_send_env(pub, &e, 0, &err), 0);
		rv = tp_recv_msg(sub, &msg, 0, &err);
	}
	cr_assert_eq(rv, 0, "%s", err.e_msg);
	cr_assert_eq(tp_env_decode(nng_msg_body(msg), nng_msg_len(msg),
	    &tp_limits_default, &got, &err), 0);
	cr_assert_eq(got.e_id, 9);
	nng_msg_free(msg);
	nng_close(sub);
	nng_close(pub);
}

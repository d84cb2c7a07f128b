/*
 * test_tp_link — the one link layer over real nng pair1 ipc sockets in a
 * private temp dir: batching limits (count, bytes, a lone envelope, an
 * envelope bigger than the byte limit), credit (spent, returned, CREDIT
 * first), bad frames counted while the link keeps working, seal/open
 * hooks applied once per frame, and a full socket that keeps frames in
 * order and says "full" when the ring is full.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "tp_env.h"
#include "tp_link.h"
#include "tp_nng.h"

static char tmpdir[64];
static char url[128];
static nng_socket s_tx, s_rx;

/* What the receiving side saw, in order. */
struct seen {
	uint32_t	 kinds[4096];
	uint64_t	 ids[4096];
	uint32_t	 n;
	uint32_t	 frames[512];	/* envelopes per good frame */
	uint8_t		 first[512];	/* first byte of each frame */
	uint32_t	 nframes;
	uint32_t	 cur;		/* envelopes in the frame so far */
	uint64_t	 credit;
	uint32_t	 bad;
	int		 seals, opens;
};

static struct seen rx;

static int
on_env(void *arg, const struct tp_env *env)
{
	struct seen *s = arg;

	s->kinds[s->n] = env->e_kind;
	s->ids[s->n++] = env->e_id;
	s->cur++;
	return 0;
}

static void
on_credit(void *arg, uint64_t n)
{
	struct seen *s = arg;

	s->kinds[s->n] = TP_K_CREDIT;
	s->ids[s->n++] = n;
	s->credit += n;
	s->cur++;
}

static bool
on_keep(void *arg, nng_msg *msg)
{
	struct seen *s = arg;

	s->first[s->nframes] = *(uint8_t *)nng_msg_body(msg);
	s->frames[s->nframes++] = s->cur;
	s->cur = 0;
	return false;
}

static void
on_bad(void *arg, nng_msg *msg, int code, const struct tp_err *err)
{
	struct seen *s = arg;

	cr_assert(code < 0);
	cr_assert(err->e_msg[0] != '\0');
	s->bad++;
	s->cur = 0;
}

/* A toy seal: a marker byte in front, every byte flipped. */
static int
seal(void *arg, nng_msg **msgp)
{
	uint8_t *p = nng_msg_body(*msgp);

	for (size_t i = 0; i < nng_msg_len(*msgp); i++)
		p[i] ^= 0xff;
	((struct seen *)arg)->seals++;
	return nng_msg_insert(*msgp, "S", 1) == 0 ? 0 : TP_ENOMEM;
}

static int
unseal(void *arg, nng_msg **msgp, struct tp_err *err)
{
	uint8_t *p = nng_msg_body(*msgp);

	if (nng_msg_len(*msgp) < 1)
		return tp_err_set(err, TP_EINVAL, "empty");
	if (p[0] != 'S')
		return 0;	/* plain: a hello */
	nng_msg_trim(*msgp, 1);
	p = nng_msg_body(*msgp);
	for (size_t i = 0; i < nng_msg_len(*msgp); i++)
		p[i] ^= 0xff;
	((struct seen *)arg)->opens++;
	return 0;
}

static const struct tp_link_ops rx_ops = {
	.lo_name = "test-rx", .lo_env = on_env, .lo_credit = on_credit,
	.lo_keep = on_keep, .lo_bad = on_bad,
};
static const struct tp_link_ops rx_sealed_ops = {
	.lo_name = "test-rx", .lo_env = on_env, .lo_credit = on_credit,
	.lo_keep = on_keep, .lo_bad = on_bad, .lo_open = unseal,
};

static struct seen tx_seen;
static int tx_dirty;

static void
on_dirty(void *arg)
{
	tx_dirty++;
}

static const struct tp_link_ops tx_ops = {
	.lo_name = "test-tx", .lo_env = on_env, .lo_dirty = on_dirty,
};
static const struct tp_link_ops tx_sealed_ops = {
	.lo_name = "test-tx", .lo_env = on_env, .lo_seal = seal,
	.lo_dirty = on_dirty,
};

static void
open_pair(int bufs)
{
	struct tp_sockopts o = tp_sockopts_default;

	o.o_sendbuf = bufs;
	o.o_recvbuf = bufs;
	cr_assert_eq(tp_sock_open(&s_rx, TP_PAIR, &o, NULL), 0);
	cr_assert_eq(tp_sock_open(&s_tx, TP_PAIR, &o, NULL), 0);
	cr_assert_eq(tp_listen(s_rx, url, 0600, NULL), 0);
	cr_assert_eq(tp_dial(s_tx, url, true, NULL), 0);
}

static void
setup(void)
{
	strcpy(tmpdir, "/tmp/tp-link-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(url, sizeof(url), "ipc://%s/l.sock", tmpdir);
	memset(&rx, 0, sizeof(rx));
	memset(&tx_seen, 0, sizeof(tx_seen));
	tx_dirty = 0;
}

static void
teardown(void)
{
	nng_close(s_tx);
	nng_close(s_rx);
	unlink(url + 6);
	rmdir(tmpdir);
}

TestSuite(link, .init = setup, .fini = teardown, .timeout = 30);

static struct tp_env
env_of(uint64_t id, const uint8_t *body, size_t len)
{
	struct tp_env e = { .e_kind = TP_K_SEND, .e_id = id,
	    .e_body = body, .e_body_len = len };

	e.e_from = tp_slice_str("a@n");
	e.e_to = tp_slice_str("b");
	return e;
}

/* Receives until want envelopes (and credits) arrived or 5 s passed. */
static void
recv_until(struct tp_link *lk, uint32_t want)
{
	int fd;

	cr_assert_eq(tp_recv_fd(tp_link_socket(lk), &fd, NULL), 0);
	for (int i = 0; i < 500 && rx.n < want; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		poll(&p, 1, 10);
		cr_assert(tp_link_recv(lk, 64) >= 0);
	}
	cr_assert_eq(rx.n, want, "got %u of %u envelopes", rx.n, want);
}

/* A body of n bytes: a msgpack bin 32. */
static uint8_t *
bin_body(size_t n, size_t *len)
{
	uint8_t *b = calloc(1, n + 5);

	b[0] = 0xc6;
	b[1] = (uint8_t)(n >> 24);
	b[2] = (uint8_t)(n >> 16);
	b[3] = (uint8_t)(n >> 8);
	b[4] = (uint8_t)n;
	*len = n + 5;
	return b;
}

Test(link, lone_envelope_leaves_alone)
{
	struct tp_link *tx, *rl;
	struct tp_env e = env_of(7, NULL, 0);

	open_pair(64);
	tx = tp_link_new(s_tx, &tx_ops, NULL, NULL);
	rl = tp_link_new(s_rx, &rx_ops, &rx, NULL);
	cr_assert_eq(tp_link_put(tx, &e, 0), 0);
	cr_assert_eq(tx_dirty, 1);
	cr_assert_eq(tp_link_pending(tx), 1);
	cr_assert_eq(tp_link_flush(tx), 0);
	cr_assert_eq(tp_link_pending(tx), 0);
	recv_until(rl, 1);
	cr_assert_eq(rx.nframes, 1);
	cr_assert_eq(rx.first[0], 0x98, "a lone envelope, not a batch");
	cr_assert_eq(rx.ids[0], 7);
	tp_link_free(tx);
	tp_link_free(rl);
}

Test(link, count_limit_batches)
{
	struct tp_link_conf c = { .lc_max_env = 3 };
	struct tp_link *tx, *rl;
	struct tp_link_stats st;

	open_pair(64);
	tx = tp_link_new(s_tx, &tx_ops, NULL, &c);
	rl = tp_link_new(s_rx, &rx_ops, &rx, NULL);
	for (uint64_t i = 1; i <= 7; i++) {
		struct tp_env e = env_of(i, NULL, 0);

		cr_assert_eq(tp_link_put(tx, &e, 0), 0);
	}
	tp_link_stats(tx, &st);
	cr_assert_eq(st.ls_frames_out, 2, "two full frames left by count");
	cr_assert_eq(tp_link_flush(tx), 0);
	recv_until(rl, 7);
	cr_assert_eq(rx.nframes, 3);
	cr_assert_eq(rx.frames[0], 3);
	cr_assert_eq(rx.frames[1], 3);
	cr_assert_eq(rx.frames[2], 1);
	cr_assert_eq(rx.first[0], 0x93, "a batch frame");
	for (uint32_t i = 0; i < 7; i++)
		cr_assert_eq(rx.ids[i], i + 1);
	tp_link_stats(rl, &st);
	cr_assert_eq(st.ls_frames_in, 3);
	cr_assert_eq(st.ls_envs_in, 7);
	tp_link_free(tx);
	tp_link_free(rl);
}

Test(link, byte_limit_and_big_envelope_alone)
{
	struct tp_link_conf c = { .lc_max_bytes = 1000 };
	struct tp_link *tx, *rl;
	size_t blen, biglen;
	uint8_t *body = bin_body(300, &blen), *big = bin_body(2000, &biglen);

	open_pair(64);
	tx = tp_link_new(s_tx, &tx_ops, NULL, &c);
	rl = tp_link_new(s_rx, &rx_ops, &rx, NULL);
	for (uint64_t i = 1; i <= 4; i++) {
		struct tp_env e = env_of(i, body, blen);

		cr_assert_eq(tp_link_put(tx, &e, 0), 0);
	}
	{
		struct tp_env e = env_of(5, big, biglen);

		cr_assert_eq(tp_link_put(tx, &e, 0), 0);
	}
	/* the big one left at once, alone: nothing is built */
	cr_assert_eq(tp_link_pending(tx), 0);
	recv_until(rl, 5);
	cr_assert_eq(rx.nframes, 3);
	cr_assert_eq(rx.frames[0], 3, "3 x 316 bytes fit in 1000, 4 not");
	cr_assert_eq(rx.frames[1], 1);
	cr_assert_eq(rx.frames[2], 1);
	cr_assert_eq(rx.first[2], 0x98, "the big envelope alone");
	cr_assert_eq(rx.ids[4], 5);
	free(body);
	free(big);
	tp_link_free(tx);
	tp_link_free(rl);
}

Test(link, envelope_over_frame_limit_refused)
{
	struct tp_limits lim = tp_limits_default;
	struct tp_link_conf c = { .lc_lim = &lim };
	struct tp_link *tx;
	size_t blen;
	uint8_t *body = bin_body(4096, &blen);
	struct tp_env e = env_of(1, body, blen);

	lim.l_max_frame = 4096;
	open_pair(64);
	tx = tp_link_new(s_tx, &tx_ops, NULL, &c);
	cr_assert_eq(tp_link_put(tx, &e, 0), TP_ETOOBIG);
	cr_assert_eq(tp_link_pending(tx), 0);
	free(body);
	tp_link_free(tx);
}

Test(link, credit_spent_returned_and_first)
{
	struct tp_link *tx, *rl;
	struct tp_env e = env_of(9, NULL, 0);

	open_pair(64);
	tx = tp_link_new(s_tx, &tx_ops, NULL, NULL);
	rl = tp_link_new(s_rx, &rx_ops, &rx, NULL);
	/* owed with nothing else to say: a CREDIT frame of its own */
	tp_link_credit_owe(tx, 2);
	cr_assert_eq(tx_dirty, 1);
	cr_assert_eq(tp_link_credit_due(tx), 2);
	cr_assert_eq(tp_link_flush(tx), 0);
	cr_assert_eq(tp_link_credit_due(tx), 0);
	recv_until(rl, 1);
	cr_assert_eq(tp_link_credit(rl), 2);
	cr_assert(tp_link_credit_take(rl));
	cr_assert(tp_link_credit_take(rl));
	cr_assert(!tp_link_credit_take(rl), "the window is spent");
	/* owed after an envelope was put: it still goes first */
	cr_assert_eq(tp_link_put(tx, &e, 0), 0);
	tp_link_credit_owe(tx, 3);
	cr_assert_eq(tp_link_flush(tx), 0);
	recv_until(rl, 3);
	cr_assert_eq(rx.kinds[1], TP_K_CREDIT);
	cr_assert_eq(rx.ids[1], 3);
	cr_assert_eq(rx.kinds[2], TP_K_SEND);
	cr_assert_eq(rx.frames[1], 2, "CREDIT and the envelope, one frame");
	cr_assert_eq(tp_link_credit(rl), 3, "returned");
	tp_link_free(tx);
	tp_link_free(rl);
}

Test(link, bad_frames_counted_link_works)
{
	struct tp_link *tx, *rl;
	struct tp_link_stats st;
	struct tp_env e = env_of(3, NULL, 0);
	uint8_t junk[] = { 0x93, 0x07, 0x01 };
	uint8_t badcredit[] = { 0x98, 1, TP_K_CREDIT, 0, 0xa0, 0xa0, 0, 0,
	    0xa1, 'x' };

	open_pair(64);
	tx = tp_link_new(s_tx, &tx_ops, NULL, NULL);
	rl = tp_link_new(s_rx, &rx_ops, &rx, NULL);
	cr_assert_eq(nng_send(s_tx, junk, sizeof(junk), 0), 0);
	cr_assert_eq(nng_send(s_tx, badcredit, sizeof(badcredit), 0), 0);
	cr_assert_eq(tp_link_put(tx, &e, 0), 0);
	cr_assert_eq(tp_link_flush(tx), 0);
	recv_until(rl, 1);
	cr_assert_eq(rx.ids[0], 3);
	tp_link_stats(rl, &st);
	cr_assert_eq(st.ls_bad_frames, 2);
	cr_assert_eq(rx.bad, 2);
	cr_assert_eq(st.ls_frames_in, 3);
	cr_assert_eq(tp_link_credit(rl), 0);
	tp_link_free(tx);
	tp_link_free(rl);
}

Test(link, seal_once_open_once_plain_first)
{
	struct tp_link *tx, *rl;
	struct tp_link_conf c = { .lc_max_env = 2 };
	struct tp_env hello = env_of(1, NULL, 0);

	hello.e_kind = TP_K_CONTROL;
	open_pair(64);
	tx = tp_link_new(s_tx, &tx_sealed_ops, &tx_seen, &c);
	rl = tp_link_new(s_rx, &rx_sealed_ops, &rx, NULL);
	cr_assert_eq(tp_link_put(tx, &hello, TP_LINK_PLAIN), 0);
	for (uint64_t i = 2; i <= 4; i++) {
		struct tp_env e = env_of(i, NULL, 0);

		cr_assert_eq(tp_link_put(tx, &e, 0), 0);
	}
	tp_link_credit_owe(tx, 1);
	cr_assert_eq(tp_link_flush(tx), 0);
	/* frames: [hello] plain, [2,3] sealed, [credit,4] sealed */
	cr_assert_eq(tx_seen.seals, 2);
	recv_until(rl, 5);
	cr_assert_eq(rx.opens, 2);
	cr_assert_eq(rx.bad, 0);
	cr_assert_eq(rx.kinds[0], TP_K_CONTROL, "the plain hello first");
	cr_assert_eq(rx.ids[1], 2);
	cr_assert_eq(rx.ids[2], 3);
	cr_assert_eq(rx.kinds[3], TP_K_CREDIT);
	cr_assert_eq(rx.ids[4], 4);
	tp_link_free(tx);
	tp_link_free(rl);
}

/* The listener side of a peer: one receive link picks the link by pipe. */
static struct tp_link *picked;

static int
admit_pick(void *arg, struct tp_link *lk, nng_msg *msg,
    struct tp_link **target, struct tp_err *err)
{
	cr_assert_eq(nng_pipe_id(tp_link_pipe(lk)),
	    nng_pipe_id(nng_msg_get_pipe(msg)));
	*target = picked;
	return 0;
}

static int
admit_drop(void *arg, struct tp_link *lk, nng_msg *msg,
    struct tp_link **target, struct tp_err *err)
{
	return TP_LINK_DROP;
}

Test(link, shared_listener_picks_the_link)
{
	static const struct tp_link_ops lops = { .lo_env = on_env,
	    .lo_admit = admit_pick };
	struct tp_link *tx, *lst, *rl;
	struct tp_link_stats st;
	struct tp_env e = env_of(5, NULL, 0);

	open_pair(64);
	tx = tp_link_new(s_tx, &tx_ops, NULL, NULL);
	lst = tp_link_new(s_rx, &lops, NULL, NULL);
	/* a send-side-only link whose hooks take what the listener picks */
	rl = tp_link_new(s_tx, &rx_ops, &rx, NULL);
	picked = rl;
	cr_assert_eq(tp_link_put(tx, &e, 0), 0);
	cr_assert_eq(tp_link_flush(tx), 0);
	recv_until(lst, 1);
	tp_link_stats(rl, &st);
	cr_assert_eq(st.ls_frames_in, 1, "counted on the picked link");
	tp_link_stats(lst, &st);
	cr_assert_eq(st.ls_frames_in, 0);
	tp_link_free(lst);
	tp_link_free(rl);
	tp_link_free(tx);
}

Test(link, admit_drops_without_counting)
{
	static const struct tp_link_ops dops = { .lo_env = on_env,
	    .lo_admit = admit_drop };
	struct tp_link *tx, *rl;
	struct tp_link_stats st;
	struct tp_env e = env_of(5, NULL, 0);
	int fd;

	open_pair(64);
	tx = tp_link_new(s_tx, &tx_ops, NULL, NULL);
	rl = tp_link_new(s_rx, &dops, &rx, NULL);
	cr_assert_eq(tp_link_put(tx, &e, 0), 0);
	cr_assert_eq(tp_link_flush(tx), 0);
	cr_assert_eq(tp_recv_fd(s_rx, &fd, NULL), 0);
	{
		struct pollfd p = { .fd = fd, .events = POLLIN };

		cr_assert_eq(poll(&p, 1, 2000), 1);
	}
	cr_assert_eq(tp_link_recv(rl, 8), 1);
	tp_link_stats(rl, &st);
	cr_assert_eq(st.ls_bad_frames, 0);
	cr_assert_eq(st.ls_frames_in, 0);
	cr_assert_eq(rx.n, 0);
	tp_link_free(tx);
	tp_link_free(rl);
}

Test(link, full_socket_keeps_order_and_says_full)
{
	struct tp_link_conf c = { .lc_max_env = 1, .lc_ring = 4 };
	struct tp_link *tx, *rl;
	uint64_t id = 0;
	uint32_t ring_seals;
	int rv = 0;

	open_pair(1);
	tx = tp_link_new(s_tx, &tx_sealed_ops, &tx_seen, &c);
	rl = tp_link_new(s_rx, &rx_sealed_ops, &rx, NULL);
	/* nobody reads: the socket's buffers fill, then the ring */
	while (id < 10000) {
		struct tp_env e = env_of(id + 1, NULL, 0);

		if ((rv = tp_link_put(tx, &e, 0)) != 0)
			break;
		id++;
		nng_msleep(id < 3 ? 20 : 0);	/* the pipe comes up */
	}
	cr_assert_eq(rv, TP_LINK_FULL);
	cr_assert_eq(tp_link_pending(tx), 4 + 1, "ring full, one built");
	cr_assert(!tp_link_room(tx, 16));
	cr_assert_eq(tp_link_flush(tx), TP_LINK_FULL);
	ring_seals = (uint32_t)tx_seen.seals;
	/* the reader drains; flushing again sends what waited, in order */
	for (int i = 0; i < 500 && rx.n < id; i++) {
		nng_msleep(5);
		tp_link_recv(rl, 64);
		tp_link_flush(tx);
	}
	cr_assert_eq(rx.n, id);
	for (uint32_t i = 0; i < id; i++)
		cr_assert_eq(rx.ids[i], i + 1, "order kept at %u", i);
	cr_assert_eq(tp_link_pending(tx), 0);
	/* only the one built frame was sealed after the ring filled */
	cr_assert_eq((uint32_t)tx_seen.seals, ring_seals + 1);
	cr_assert_eq((uint32_t)tx_seen.seals, id, "each frame sealed once");
	cr_assert_eq(rx.opens, (int)id);
	tp_link_free(tx);
	tp_link_free(rl);
}

Test(link, credit_capped_at_the_window)
{
	struct tp_link_conf c = { .lc_max_credit = 10 };
	struct tp_link *lk;

	open_pair(64);
	lk = tp_link_new(s_rx, &rx_ops, &rx, &c);
	tp_link_credit_add(lk, 4);
	tp_link_credit_add(lk, 40);
	cr_assert_eq(tp_link_credit(lk), 10);
	tp_link_free(lk);
}

Test(link, reset_drops_and_zeroes)
{
	struct tp_link *tx;
	struct tp_env e = env_of(1, NULL, 0);

	open_pair(64);
	tx = tp_link_new(s_tx, &tx_ops, NULL, NULL);
	cr_assert_eq(tp_link_put(tx, &e, 0), 0);
	tp_link_credit_owe(tx, 4);
	tp_link_credit_add(tx, 9);
	cr_assert_eq(tp_link_credit(tx), 9);
	tp_link_reset(tx);
	cr_assert_eq(tp_link_pending(tx), 0);
	cr_assert_eq(tp_link_credit(tx), 0);
	cr_assert_eq(tp_link_credit_due(tx), 0);
	cr_assert_eq(tp_link_flush(tx), 0);
	tp_link_free(tx);
}

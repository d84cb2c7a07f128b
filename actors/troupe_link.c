/*
 * troupe_link — the actor side of the actor link over tp_link (see
 * troupe_link.h): the hooks that take the broker's frames, the credit and
 * answer waits, the ACK, hello and bye.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "tp_link.h"
#include "tp_nng.h"
#include "troupe.h"
#include "troupe_link.h"
#include "troupe_queue.h"

#define DIAL_TRIES	100		/* x 20 ms: the broker may be late */
#define DIAL_PAUSE_MS	20
#define SHUTDOWN_SEND_MS 1000
#define SMALL_BODY	256		/* ACK, hello, bye bodies */
/* {"op":"unsubscribe","topic":P}: a 255-byte pattern and the keys */
#define TOPIC_BODY	320
#define BYE_MS		1000		/* see troupe_link_close */
#define BYE_POLL_MS	5
/* An actor's frames leave at 64 KiB: the broker routes the start of a
 * burst while the actor still builds the rest, and frames stay under
 * malloc's mmap threshold (256 KiB frames cost B1 a quarter at 1 KiB
 * sends: mmap/trim churn and a pipeline that runs in window steps). */
#define ACTOR_FRAME_BYTES (64u << 10)
/* Envelopes of a received frame decoded once (a window's deliveries, its
 * credit and answers fit): 88 bytes each. */
#define TROUPE_FRAME_CACHE 512

struct troupe_link {
	struct troupe_link_conf tl_conf;
	struct tp_limits tl_lim;
	nng_socket	 tl_sock;
	bool		 tl_open;
	int		 tl_recvfd;
	struct tp_link	*tl_link;
	struct troupe_queue *tl_q;
	struct troupe_await *tl_await;
	msgpack_zone	 tl_zone;	/* ERROR bodies */
	struct tp_frame_cache tl_fcache;	/* a frame's envelopes */
	uint64_t	 tl_unacked;	/* handled, not yet ACKed */
	bool		 tl_credited;	/* the first CREDIT came */
	bool		 tl_closing;	/* bye sent: deliveries ignored */
	bool		 tl_bye;	/* the broker answered our bye */
	bool		 tl_fatal;
	int		 tl_err;	/* what made it fatal */
};

int64_t
troupe_link_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
troupe_link_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
troupe_link_fail(struct troupe_link *l, const char *what, const char *why,
    int rv)
{
	fprintf(stderr, "troupe-actor %s: %s: %s\n", l->tl_conf.tc_name ?
	    l->tl_conf.tc_name : "?", what, why);
	if (!l->tl_fatal)
		l->tl_err = rv < 0 ? rv : TP_ECLOSED;
	l->tl_fatal = true;
	return rv;
}

bool
troupe_link_fatal(const struct troupe_link *l)
{
	return l->tl_fatal;
}

const struct tp_limits *
troupe_link_limits(const struct troupe_link *l)
{
	return &l->tl_lim;
}

/* ---- frames from the broker (the tp_link hooks) ---- */

static int
error_code(struct troupe_link *l, const struct tp_env *env)
{
	const msgpack_object *c;
	msgpack_object o;
	int64_t v;

	msgpack_zone_clear(&l->tl_zone);
	if (tp_env_body(env, &l->tl_zone, &o, NULL) != 0 ||
	    (c = troupe_obj_map_get(&o, "code")) == NULL ||
	    troupe_obj_as_int64(c, &v) != 0 || v <= 0 || v > INT32_MAX)
		return TROUPE_ERR_BAD_REQUEST;
	return (int)v;
}

/* An answer to our pending ASK is kept; any other (a late answer after a
 * timeout, an ERROR for a SEND) has nobody waiting for it. */
static int
on_answer(struct troupe_link *l, const struct tp_env *env)
{
	struct troupe_await *w = l->tl_await;

	if (w == NULL || w->w_done || env->e_corr != w->w_corr)
		return 0;
	w->w_code = env->e_kind == TP_K_ERROR ? error_code(l, env) : 0;
	if (tp_env_body_check(env, NULL) != 0) {
		/* the replier's body is no msgpack value: the asker hears
		 * that, never the bytes */
		w->w_code = TROUPE_ERR_BAD_REQUEST;
		w->w_done = true;
		return 0;
	}
	if (env->e_body_len > 0) {
		if ((w->w_body = malloc(env->e_body_len)) == NULL)
			return troupe_link_fail(l, "ask", "out of memory",
			    TP_ENOMEM);
		memcpy(w->w_body, env->e_body, env->e_body_len);
		w->w_len = env->e_body_len;
	}
	w->w_done = true;
	return 0;
}

static int
on_delivery(struct troupe_link *l, const struct tp_env *env)
{
	int rv;

	if (l->tl_closing)
		return 0;	/* never ACKed: the next instance gets it */
	if ((rv = troupe_queue_add(l->tl_q, env)) == TP_ETOOBIG)
		return troupe_link_fail(l, "link", "broker exceeded the "
		    "in-flight window", rv);
	if (rv != 0)
		return troupe_link_fail(l, "queue", "out of memory", rv);
	return 0;
}

static int
link_env(void *arg, const struct tp_env *env)
{
	struct troupe_link *l = arg;

	switch (env->e_kind) {
	case TP_K_SEND:
	case TP_K_ASK:
		return on_delivery(l, env);
	case TP_K_REPLY:
	case TP_K_ERROR:
	case TP_K_ACK:		/* a confirmed send was accepted */
		return on_answer(l, env);
	case TP_K_CONTROL:	/* the broker's answer to our bye */
		/* only once it was sent: an answer to anything else (a
		 * subscribe) must not cut the bye's wait short */
		if (l->tl_closing)
			l->tl_bye = true;
		return 0;
	default:		/* nothing the actor asked for */
		return 0;
	}
}

static void
link_credit(void *arg, uint64_t n)
{
	((struct troupe_link *)arg)->tl_credited = true;
}

static bool
link_keep(void *arg, nng_msg *msg)
{
	struct troupe_link *l = arg;
	int rv = troupe_queue_commit(l->tl_q, msg);

	if (rv < 0)
		troupe_link_fail(l, "queue", "out of memory", rv);
	return rv > 0;
}

/* The broker is trusted: a frame it should never send is fatal (the
 * broker redelivers what we did not ACK to the next instance). */
static void
link_bad(void *arg, nng_msg *msg, int code, const struct tp_err *err)
{
	struct troupe_link *l = arg;

	troupe_queue_abort(l->tl_q);
	if (!l->tl_fatal && !l->tl_closing)
		troupe_link_fail(l, "bad frame from broker", err->e_msg, code);
}

static const struct tp_link_ops actor_link_ops = {
	.lo_name = "actor",
	.lo_env = link_env,
	.lo_credit = link_credit,
	.lo_keep = link_keep,
	.lo_bad = link_bad,
};

/* ---- sending ---- */

int
troupe_link_send(struct troupe_link *l, uint32_t kind, uint64_t id,
    const char *to, uint64_t corr, uint32_t flags, const void *body,
    size_t len)
{
	struct tp_env env = { .e_kind = kind, .e_id = id, .e_corr = corr,
	    .e_flags = flags, .e_body = body, .e_body_len = len };
	int rv;

	env.e_from = tp_slice_str(l->tl_conf.tc_self);
	env.e_to = tp_slice_str(to);
	if ((rv = tp_link_put(l->tl_link, &env, 0)) != 0)
		return troupe_link_fail(l, "send", tp_strerror(rv), rv < 0 ?
		    rv : TP_ECLOSED);
	return 0;
}

static int
flush_ack(struct troupe_link *l)
{
	uint8_t sbuf[SMALL_BODY];
	struct tp_fixbuf sb = { sbuf, sizeof(sbuf), 0 };
	msgpack_packer pk;
	uint64_t n = l->tl_unacked;

	if (n == 0)
		return 0;
	msgpack_packer_init(&pk, &sb, tp_fixbuf_write);
	msgpack_pack_uint64(&pk, n);
	l->tl_unacked = 0;
	return troupe_link_send(l, TP_K_ACK, 0, "", 0, 0, sb.fb_buf,
	    sb.fb_len);
}

int
troupe_link_flush(struct troupe_link *l)
{
	int rv;

	if (l->tl_fatal)
		return TP_ECLOSED;
	if ((rv = flush_ack(l)) != 0)
		return rv;
	if ((rv = tp_link_flush(l->tl_link)) != 0)
		return troupe_link_fail(l, "send", tp_strerror(rv), rv < 0 ?
		    rv : TP_ECLOSED);
	return 0;
}

/* ---- waiting ---- */

/* TROUPE_SPIN_US (the node's spin_us, set by the broker; at most 1000):
 * how long to look for a frame without sleeping before poll(), yielding
 * between looks (the broker loop's idle strategy, br_loop.c). */
static long
spin_us(void)
{
	static long us = -1;
	const char *s;
	char *end;

	if (us < 0) {
		us = 0;
		if ((s = getenv("TROUPE_SPIN_US")) != NULL && *s != '\0') {
			us = strtol(s, &end, 10);
			if (*end != '\0' || us < 0 || us > 1000)
				us = 0;
		}
	}
	return us;
}

/* 1 when a frame came in while spinning, 0 when the time ran out, < 0 on
 * a receive error (pump reports it on its next receive). */
static int
spin(struct troupe_link *l)
{
	int64_t end = troupe_link_now_us() + spin_us();
	int rv;

	while (troupe_link_now_us() < end && !*l->tl_conf.tc_stop) {
		if ((rv = tp_link_recv(l->tl_link, 1)) != 0)
			return rv;
		sched_yield();
	}
	return 0;
}

int
troupe_link_pump(struct troupe_link *l, int timeout_ms)
{
	struct pollfd pfd[2] = { { .fd = l->tl_recvfd, .events = POLLIN },
	    { .fd = l->tl_conf.tc_stop_fd, .events = POLLIN } };
	int rv;

	if ((rv = troupe_link_flush(l)) != 0)	/* we are about to wait */
		return rv;
	for (;;) {
		if (*l->tl_conf.tc_stop)
			return TP_ECLOSED;
		if ((rv = tp_link_recv(l->tl_link, 1)) == 1)
			return l->tl_fatal ? l->tl_err : 0;
		if (rv < 0)
			return troupe_link_fail(l, "receive", tp_strerror(rv),
			    rv);
		if (spin_us() > 0 && timeout_ms != 0 && spin(l) == 1)
			return l->tl_fatal ? l->tl_err : 0;
		rv = poll(pfd, 2, timeout_ms);
		if (rv < 0 && errno != EINTR)
			return troupe_link_fail(l, "poll", strerror(errno),
			    TP_ESYS);
		if (rv == 0)
			return 0;
	}
}

/* Pumps until done(l, arg) holds or the deadline (< 0: none) passes. */
static int
link_wait(struct troupe_link *l, bool (*done)(const struct troupe_link *),
    int64_t deadline)
{
	int64_t left;
	int rv;

	while (!done(l)) {
		if (l->tl_fatal)
			return TP_ECLOSED;
		left = deadline < 0 ? -1 : deadline - troupe_link_now_ms();
		if (deadline >= 0 && left <= 0)
			return TP_ETIMEDOUT;
		if ((rv = troupe_link_pump(l, left > INT32_MAX ? INT32_MAX :
		    (int)left)) != 0)
			return rv;
	}
	return 0;
}

static bool
have_credit(const struct troupe_link *l)
{
	return tp_link_credit(l->tl_link) > 0;
}

static bool
was_credited(const struct troupe_link *l)
{
	return l->tl_credited;
}

static bool
was_answered(const struct troupe_link *l)
{
	return l->tl_await->w_done;
}

int
troupe_link_take_credit(struct troupe_link *l, int64_t deadline)
{
	int rv;

	if ((rv = link_wait(l, have_credit, deadline)) != 0)
		return rv;
	tp_link_credit_take(l->tl_link);
	return 0;
}

int
troupe_link_await(struct troupe_link *l, struct troupe_await *w,
    int64_t deadline)
{
	int rv;

	if (l->tl_await != NULL)
		return TP_EINVAL;
	l->tl_await = w;
	rv = link_wait(l, was_answered, deadline);
	l->tl_await = NULL;
	return rv;
}

bool
troupe_link_awaiting(const struct troupe_link *l)
{
	return l->tl_await != NULL;
}

bool
troupe_link_next(struct troupe_link *l, struct tp_env *env)
{
	return troupe_queue_next(l->tl_q, env);
}

/* Half a window handled is said at once, not after the whole frame: the
 * broker hands on more while the rest is handled (a pool instance's
 * window is 16: acked per frame, it idled a round trip per 16, and a
 * pool of 2 on 2 cores did 1.35x one actor instead of about 2x). */
void
troupe_link_done(struct troupe_link *l)
{
	troupe_queue_done(l->tl_q);
	if (++l->tl_unacked * 2 >= l->tl_conf.tc_window &&
	    l->tl_conf.tc_window > 1)
		troupe_link_flush(l);
}

/* ---- life cycle ---- */

struct troupe_link *
troupe_link_new(const struct troupe_link_conf *conf)
{
	struct troupe_link *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->tl_conf = *conf;
	l->tl_lim = tp_limits_default;
	l->tl_recvfd = -1;
	if ((l->tl_q = troupe_queue_new(conf->tc_window)) == NULL ||
	    !msgpack_zone_init(&l->tl_zone, 256)) {
		troupe_queue_free(l->tl_q);
		free(l);
		return NULL;
	}
	/* without it every envelope is decoded twice: slower, not wrong */
	(void)tp_frame_cache_init(&l->tl_fcache, TROUPE_FRAME_CACHE);
	return l;
}

void
troupe_link_free(struct troupe_link *l)
{
	if (l == NULL)
		return;
	tp_link_free(l->tl_link);
	troupe_queue_free(l->tl_q);
	msgpack_zone_destroy(&l->tl_zone);
	tp_frame_cache_free(&l->tl_fcache);
	free(l);
}

static int
link_dial(struct troupe_link *l)
{
	/* skimmed: a body another actor sent unchecked through the broker
	 * (version 2) is refused alone when it is read (fill_msg,
	 * on_answer), not with its whole frame, which would end the link */
	struct tp_link_conf c = { .lc_block = true, .lc_lim = &l->tl_lim,
	    .lc_max_bytes = ACTOR_FRAME_BYTES, .lc_cache = &l->tl_fcache,
	    .lc_skim = true };
	struct tp_err err;
	int i, rv;

	if ((rv = tp_sock_open(&l->tl_sock, TP_PAIR, NULL, &err)) != 0)
		return troupe_link_fail(l, "socket", err.e_msg, rv);
	for (i = 0; i < DIAL_TRIES && !*l->tl_conf.tc_stop; i++) {
		if ((rv = tp_dial(l->tl_sock, l->tl_conf.tc_url, true,
		    &err)) == 0)
			break;
		nng_msleep(DIAL_PAUSE_MS);
	}
	if (rv == 0 && !*l->tl_conf.tc_stop)
		rv = tp_recv_fd(l->tl_sock, &l->tl_recvfd, &err);
	if (rv == 0 && !*l->tl_conf.tc_stop && (l->tl_link = tp_link_new(
	    l->tl_sock, &actor_link_ops, l, &c)) == NULL)
		rv = tp_err_set(&err, TP_ENOMEM, "out of memory");
	if (rv != 0 || *l->tl_conf.tc_stop) {
		nng_close(l->tl_sock);
		return rv ? troupe_link_fail(l, "dial", err.e_msg, rv) :
		    TP_ECLOSED;
	}
	l->tl_open = true;
	return 0;
}

/* {"op":op, ...}: the head of every CONTROL body the actor sends, with
 * room for npairs - 1 more pairs. */
static void
pack_op(msgpack_packer *pk, const char *op, uint32_t npairs)
{
	msgpack_pack_map(pk, npairs);
	msgpack_pack_str_with_body(pk, "op", 2);
	msgpack_pack_str_with_body(pk, op, strlen(op));
}

static int
send_op(struct troupe_link *l, const char *op, bool pid)
{
	uint8_t sbuf[SMALL_BODY];
	struct tp_fixbuf sb = { sbuf, sizeof(sbuf), 0 };
	msgpack_packer pk;

	msgpack_packer_init(&pk, &sb, tp_fixbuf_write);
	pack_op(&pk, op, pid ? 2 : 1);
	if (pid) {
		msgpack_pack_str_with_body(&pk, "pid", 3);
		msgpack_pack_int64(&pk, getpid());
	}
	return troupe_link_send(l, TP_K_CONTROL, 0, "", 0, 0, sb.fb_buf,
	    sb.fb_len);
}

int
troupe_link_topic_op(struct troupe_link *l, const char *op,
    const char *pattern)
{
	uint8_t sbuf[TOPIC_BODY];
	struct tp_fixbuf sb = { sbuf, sizeof(sbuf), 0 };
	msgpack_packer pk;

	msgpack_packer_init(&pk, &sb, tp_fixbuf_write);
	pack_op(&pk, op, 2);
	msgpack_pack_str_with_body(&pk, "topic", 5);
	/* the packer reports a body over the buffer: never sent cut */
	if (msgpack_pack_str_with_body(&pk, pattern, strlen(pattern)) != 0)
		return TP_ETOOBIG;
	return troupe_link_send(l, TP_K_CONTROL, 0, "", 0, 0, sb.fb_buf,
	    sb.fb_len);
}

int
troupe_link_open(struct troupe_link *l)
{
	int rv;

	if ((rv = link_dial(l)) != 0)
		return rv;
	if ((rv = send_op(l, "hello", true)) != 0)
		return rv;
	return link_wait(l, was_credited, -1);
}

/* The broker may die between spawning us and our prctl: then our parent
 * is already someone else and no PDEATHSIG will ever come. */
int
troupe_link_check_parent(void)
{
	const char *s = getenv("TROUPE_BROKER_PID");
	char *end;
	long pid;

	if (s == NULL || *s == '\0')
		return 0;
	pid = strtol(s, &end, 10);
	if (*end != '\0' || pid <= 0)
		return TP_EINVAL;
	return getppid() == (pid_t)pid ? 0 : TP_ECLOSED;
}

/*
 * The link is ordered, so the broker's answer to our bye proves that
 * everything before it arrived.  A broker that does not answer within
 * BYE_MS is waited for no longer.  Frames that arrive after the bye are
 * only searched for that answer: deliveries in them were never
 * acknowledged, so the broker hands them to the next instance.
 */
void
troupe_link_close(struct troupe_link *l)
{
	struct pollfd pfd = { .fd = l->tl_recvfd, .events = POLLIN };
	int64_t deadline = troupe_link_now_ms() + BYE_MS;

	if (!l->tl_open)
		return;
	/* A broker that died (the PDEATHSIG that stops us) answers nobody */
	if (l->tl_fatal || troupe_link_check_parent() != 0)
		goto out_close;
	nng_socket_set_ms(l->tl_sock, NNG_OPT_SENDTIMEO, SHUTDOWN_SEND_MS);
	if (flush_ack(l) != 0 || send_op(l, "bye", false) != 0 ||
	    troupe_link_flush(l) != 0)
		goto out_close;
	l->tl_closing = true;
	/* PDEATHSIG fires when the spawning THREAD of the broker dies: the
	 * other threads may still be ours for a moment, so getppid() only
	 * changes later.  Look again every few milliseconds. */
	while (!l->tl_bye && troupe_link_now_ms() < deadline &&
	    troupe_link_check_parent() == 0) {
		int rv = tp_link_recv(l->tl_link, 1);

		if (rv == 1)
			continue;
		if (rv < 0 || (poll(&pfd, 1, BYE_POLL_MS) < 0 &&
		    errno != EINTR))
			break;
	}
out_close:
	tp_link_reset(l->tl_link);
	nng_close(l->tl_sock);
	l->tl_open = false;
}

/*
 * troupe_actor — the actor side of the actor link (docs/ARCHITECTURE.md
 * "Actor link"): hello, credits, deliveries, cumulative ACKs, replies.
 *
 * Every frame from the broker goes through one place, link_pump: CREDITs
 * and answers to our own ASK are consumed at once, and a frame holding
 * deliveries is queued whole (the nng message stays alive, its envelopes
 * point into it).  The main loop hands the queued deliveries to receive()
 * in order.  So a handler that blocks in troupe_send/troupe_ask keeps
 * reading the link without ever running a handler inside another one.
 * The queue holds at most the broker's in-flight window of deliveries:
 * more is a protocol violation and the actor exits (the broker redelivers).
 *
 * Outgoing envelopes (sends, asks, replies, ACKs) are packed into one
 * buffer and leave together, as one envelope or one batch frame, whenever
 * the library is about to wait (for a frame, a credit or an answer), when
 * OUT_MAX_ENV or OUT_MAX_BYTES are pending, or on troupe_flush: the
 * transport's per-message cost is paid once per burst, not per envelope,
 * and an idle actor's lone message still leaves at once.
 */
#define _GNU_SOURCE		/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/prctl.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "tp_env.h"
#include "tp_mpck.h"
#include "tp_nng.h"
#include "troupe.h"

_Static_assert((int)TROUPE_SEND == (int)TP_K_SEND &&
    (int)TROUPE_ASK == (int)TP_K_ASK,
    "troupe kinds follow the wire kinds");

#define DIAL_TRIES	100		/* x 20 ms: the broker may be late */
#define DIAL_PAUSE_MS	20
#define QUEUE_MIN	16
#define QUEUE_MAX_DEF	4096		/* deliveries, unless TROUPE_INFLIGHT */
#define QUEUE_MAX_LIM	65536
#define SHUTDOWN_SEND_MS 1000
#define SMALL_BODY	256		/* ACK, ERROR, hello, bye bodies */
#define BYE_MS		1000		/* see link_close */
#define BYE_POLL_MS	5
#define OUT_MAX_ENV	256		/* envelopes in one outgoing batch */
#define OUT_MAX_BYTES	(64u << 10)	/* bytes pending before a flush */

/* A frame holding deliveries not yet handed to receive(); the decoded
 * deliveries wait in the ctx's c_d ring and point into q_msg. */
struct qframe {
	nng_msg		*q_msg;
	uint32_t	 q_left;	/* deliveries in it not yet handled */
};

/* What troupe_ask is waiting for; filled by link_pump. */
struct await {
	uint64_t	 w_corr;
	bool		 w_done;
	int		 w_code;	/* 0 REPLY, >0 ERROR code */
	uint8_t		*w_body;
	size_t		 w_len;
};

struct troupe_ctx {
	const struct troupe_actor_ops *c_ops;
	void		*c_arg;
	void		*c_state;
	const char	*c_name;
	const char	*c_node;
	const char	*c_url;
	char		 c_self[TROUPE_NAME_MAX + 1];	/* name@node */
	nng_socket	 c_sock;
	int		 c_recvfd;
	struct tp_limits c_lim;
	msgpack_sbuffer	 c_out;		/* envelopes not yet sent */
	msgpack_packer	 c_out_pk;
	uint32_t	 c_out_n;
	uint64_t	 c_credits;
	uint32_t	 c_out_flags;	/* the next envelope's flags */
	bool		 c_credited;	/* the first CREDIT came */
	uint64_t	 c_next_id;
	uint64_t	 c_unacked;	/* handled, not yet ACKed */
	bool		 c_fatal;
	bool		 c_bye;		/* the broker answered our bye */
	struct qframe	*c_q;		/* ring */
	size_t		 c_qcap, c_qhead, c_qlen;
	size_t		 c_qdeliv;	/* deliveries in the ring */
	size_t		 c_qmax;
	struct tp_env	*c_d;		/* ring: deliveries, decoded once */
	size_t		 c_dcap, c_dhead, c_dlen;
	struct await	*c_await;
	msgpack_zone	 c_zone;	/* the current message's body */
	msgpack_zone	 c_tzone;	/* small bodies: CREDIT, ERROR */
	struct troupe_msg c_msg;
	bool		 c_in_ask;	/* c_msg is an ASK being handled */
	bool		 c_replied;
	char		 c_from[TROUPE_NAME_MAX + 1];
	char		 c_to[TROUPE_NAME_MAX + 1];
};

/* Signals only set a flag and wake the poll through a pipe; the flag is
 * checked between messages. */
static volatile sig_atomic_t stop_flag;
static int stop_pipe[2] = { -1, -1 };

static void
on_stop(int sig)
{
	int saved = errno;
	ssize_t n;

	stop_flag = 1;
	n = write(stop_pipe[1], "", 1);
	(void)n;
	errno = saved;
}

static void
actor_log(const struct troupe_ctx *ctx, const char *what, const char *why)
{
	fprintf(stderr, "troupe-actor %s: %s: %s\n",
	    ctx && ctx->c_name ? ctx->c_name : "?", what, why);
}

static int
fatal(struct troupe_ctx *ctx, const char *what, const char *why, int rv)
{
	actor_log(ctx, what, why);
	ctx->c_fatal = true;
	return rv;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Small fixed buffer behind a msgpack packer for ACK/ERROR bodies. */

static int flush_ack(struct troupe_ctx *ctx);

/* Sends what is pending: one envelope alone, several as a batch frame.
 * Blocks while nng's send queue is full. */
static int
out_flush(struct troupe_ctx *ctx)
{
	msgpack_packer pk;
	struct tp_err err;
	nng_msg *msg;
	int rv;

	if (ctx->c_out_n == 0)
		return 0;
	if ((rv = nng_msg_alloc(&msg, 0)) != 0)
		return fatal(ctx, "send", nng_strerror(rv), TP_ENOMEM);
	if ((rv = nng_msg_reserve(msg, ctx->c_out.size + 16)) != 0) {
		nng_msg_free(msg);
		return fatal(ctx, "send", nng_strerror(rv), TP_ENOMEM);
	}
	tp_packer_init_msg(&pk, msg);
	if ((ctx->c_out_n > 1 && tp_batch_pack_head(&pk, ctx->c_out_n) != 0)
	    || nng_msg_append(msg, ctx->c_out.data, ctx->c_out.size) != 0) {
		nng_msg_free(msg);
		return fatal(ctx, "send", "out of memory", TP_ENOMEM);
	}
	ctx->c_out.size = 0;
	ctx->c_out_n = 0;
	if ((rv = nng_sendmsg(ctx->c_sock, msg, 0)) != 0) {
		nng_msg_free(msg);
		tp_nng_err(&err, rv, "send", NULL);
		return fatal(ctx, "send", err.e_msg, TP_ECLOSED);
	}
	return 0;
}

static int
link_send(struct troupe_ctx *ctx, uint32_t kind, uint64_t id, const char *to,
    uint64_t corr, const void *body, size_t len)
{
	struct tp_env env;

	memset(&env, 0, sizeof(env));
	env.e_kind = kind;
	env.e_id = id;
	env.e_from = tp_slice_str(ctx->c_self);
	env.e_to = tp_slice_str(to);
	env.e_corr = corr;
	env.e_flags = ctx->c_out_flags;
	ctx->c_out_flags = 0;
	env.e_body = body;
	env.e_body_len = len;
	if (tp_env_pack(&ctx->c_out_pk, &env) != 0)
		return fatal(ctx, "send", "out of memory", TP_ENOMEM);
	if (++ctx->c_out_n >= OUT_MAX_ENV || ctx->c_out.size >= OUT_MAX_BYTES)
		return out_flush(ctx);
	return 0;
}

int
troupe_flush(struct troupe_ctx *ctx)
{
	int rv;

	if (ctx->c_fatal)
		return TP_ECLOSED;
	if ((rv = flush_ack(ctx)) != 0)
		return rv;
	return out_flush(ctx);
}

static int
flush_ack(struct troupe_ctx *ctx)
{
	uint8_t sbuf[SMALL_BODY];
	struct tp_fixbuf sb = { sbuf, sizeof(sbuf), 0 };
	msgpack_packer pk;
	uint64_t n = ctx->c_unacked;

	if (n == 0)
		return 0;
	msgpack_packer_init(&pk, &sb, tp_fixbuf_write);
	msgpack_pack_uint64(&pk, n);
	ctx->c_unacked = 0;
	return link_send(ctx, TP_K_ACK, 0, "", 0, sb.fb_buf, sb.fb_len);
}

/* --- the delivery queue ------------------------------------------------ */

static struct qframe *
queue_at(struct troupe_ctx *ctx, size_t i)
{
	return &ctx->c_q[(ctx->c_qhead + i) % ctx->c_qcap];
}

static int
queue_grow(struct troupe_ctx *ctx)
{
	size_t ncap = ctx->c_qcap ? ctx->c_qcap * 2 : QUEUE_MIN;
	struct qframe *nq;
	size_t i;

	if ((nq = calloc(ncap, sizeof(*nq))) == NULL)
		return TP_ENOMEM;
	for (i = 0; i < ctx->c_qlen; i++)
		nq[i] = *queue_at(ctx, i);
	free(ctx->c_q);
	ctx->c_q = nq;
	ctx->c_qcap = ncap;
	ctx->c_qhead = 0;
	return 0;
}

/* On success the queue owns msg (scan_frame checked the window). */
static int
queue_push(struct troupe_ctx *ctx, nng_msg *msg, uint32_t ndeliv)
{
	struct qframe *q;
	int rv;

	if (ctx->c_qlen == ctx->c_qcap && (rv = queue_grow(ctx)) != 0)
		return fatal(ctx, "queue", "out of memory", rv);
	q = queue_at(ctx, ctx->c_qlen++);
	q->q_msg = msg;
	q->q_left = ndeliv;
	ctx->c_qdeliv += ndeliv;
	return 0;
}

static void
queue_pop(struct troupe_ctx *ctx)
{
	struct qframe *q = queue_at(ctx, 0);

	nng_msg_free(q->q_msg);
	ctx->c_qdeliv -= q->q_left;
	ctx->c_qhead = (ctx->c_qhead + 1) % ctx->c_qcap;
	ctx->c_qlen--;
}

static void
queue_free(struct troupe_ctx *ctx)
{
	while (ctx->c_qlen > 0)
		queue_pop(ctx);
	free(ctx->c_d);
	ctx->c_d = NULL;
	ctx->c_dcap = ctx->c_dlen = 0;
	free(ctx->c_q);
	ctx->c_q = NULL;
	ctx->c_qcap = 0;
}

/* The deliveries are decoded once, when their frame arrives; the ring
 * holds at most c_qmax of them (queue_push's check). */
static int
dring_push(struct troupe_ctx *ctx, const struct tp_env *env)
{
	if (ctx->c_dlen == ctx->c_dcap) {
		size_t ncap = ctx->c_dcap ? ctx->c_dcap * 2 : 64;
		struct tp_env *nd;

		if ((nd = calloc(ncap, sizeof(*nd))) == NULL)
			return TP_ENOMEM;
		for (size_t i = 0; i < ctx->c_dlen; i++)
			nd[i] = ctx->c_d[(ctx->c_dhead + i) % ctx->c_dcap];
		free(ctx->c_d);
		ctx->c_d = nd;
		ctx->c_dcap = ncap;
		ctx->c_dhead = 0;
	}
	ctx->c_d[(ctx->c_dhead + ctx->c_dlen++) % ctx->c_dcap] = *env;
	return 0;
}

static void
dring_pop(struct troupe_ctx *ctx, struct tp_env *env)
{
	*env = ctx->c_d[ctx->c_dhead];
	ctx->c_dhead = (ctx->c_dhead + 1) % ctx->c_dcap;
	ctx->c_dlen--;
}

/* --- frames from the broker -------------------------------------------- */

static int
on_credit(struct troupe_ctx *ctx, const struct tp_env *env)
{
	uint64_t n;

	if (tp_env_body_uint(env, &ctx->c_tzone, &n) != 0)
		return fatal(ctx, "link", "CREDIT without a count", TP_ETYPE);
	ctx->c_credits += n;
	ctx->c_credited = true;
	return 0;
}

static int
error_code(struct troupe_ctx *ctx, const struct tp_env *env)
{
	const msgpack_object *c;
	msgpack_object o;
	int64_t v;

	msgpack_zone_clear(&ctx->c_tzone);
	if (tp_env_body(env, &ctx->c_tzone, &o, NULL) != 0 ||
	    (c = troupe_obj_map_get(&o, "code")) == NULL ||
	    troupe_obj_as_int64(c, &v) != 0 || v <= 0 || v > INT32_MAX)
		return TROUPE_ERR_BAD_REQUEST;
	return (int)v;
}

/* An answer to our pending ASK is kept; any other (a late answer after a
 * timeout, an ERROR for a SEND) has nobody waiting for it. */
static int
on_answer(struct troupe_ctx *ctx, const struct tp_env *env)
{
	struct await *w = ctx->c_await;

	if (w == NULL || w->w_done || env->e_corr != w->w_corr)
		return 0;
	w->w_code = env->e_kind == TP_K_ERROR ? error_code(ctx, env) : 0;
	if (env->e_body_len > 0) {
		if ((w->w_body = malloc(env->e_body_len)) == NULL)
			return fatal(ctx, "ask", "out of memory", TP_ENOMEM);
		memcpy(w->w_body, env->e_body, env->e_body_len);
		w->w_len = env->e_body_len;
	}
	w->w_done = true;
	return 0;
}

/* Handles what must be handled now and queues the deliveries (in the
 * ring, counted in *ndeliv: the caller takes them back on failure). */
static int
scan_frame(struct troupe_ctx *ctx, struct tp_frame fr, uint32_t *ndeliv)
{
	struct tp_env env;
	struct tp_err err;
	int rv;

	*ndeliv = 0;
	while ((rv = tp_frame_next(&fr, &env, &err)) == 1) {
		switch (env.e_kind) {
		case TP_K_SEND:
		case TP_K_ASK:
			if (ctx->c_qdeliv + *ndeliv >= ctx->c_qmax)
				return fatal(ctx, "link", "broker exceeded "
				    "the in-flight window", TP_ETOOBIG);
			if ((rv = dring_push(ctx, &env)) != 0)
				return fatal(ctx, "queue", "out of memory",
				    rv);
			(*ndeliv)++;
			break;
		case TP_K_CREDIT:
			rv = on_credit(ctx, &env);
			break;
		case TP_K_REPLY:
		case TP_K_ERROR:
		case TP_K_ACK:		/* a confirmed send was accepted */
			rv = on_answer(ctx, &env);
			break;
		case TP_K_CONTROL:	/* the broker's answer to our bye */
			ctx->c_bye = true;
			break;
		default:	/* nothing the actor asked for */
			break;
		}
		if (rv < 0)
			return rv;
	}
	if (rv < 0)
		return fatal(ctx, "bad frame from broker", err.e_msg, rv);
	return 0;
}

static int
take_frame(struct troupe_ctx *ctx, nng_msg *msg)
{
	struct tp_frame fr;
	struct tp_err err;
	uint32_t ndeliv;
	int rv;

	if ((rv = tp_frame_open(&fr, nng_msg_body(msg), nng_msg_len(msg),
	    &ctx->c_lim, &err)) != 0) {
		nng_msg_free(msg);
		return fatal(ctx, "bad frame from broker", err.e_msg, rv);
	}
	if ((rv = scan_frame(ctx, fr, &ndeliv)) != 0 || ndeliv == 0 ||
	    (rv = queue_push(ctx, msg, ndeliv)) != 0) {
		ctx->c_dlen -= ndeliv;	/* they pointed into msg */
		nng_msg_free(msg);
		return rv;
	}
	return 0;
}

/*
 * Waits up to timeout_ms (< 0 forever) for one frame and takes it.
 * Returns 0 (a frame was taken, or the time ran out), TP_ECLOSED when a
 * stop signal came, or an error that made the link fatal.
 */
static int
link_pump(struct troupe_ctx *ctx, int timeout_ms)
{
	struct pollfd pfd[2];
	struct tp_err err;
	nng_msg *msg;
	int rv;

	pfd[0].fd = ctx->c_recvfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = stop_pipe[0];
	pfd[1].events = POLLIN;
	if ((rv = out_flush(ctx)) != 0)		/* we are about to wait */
		return rv;
	for (;;) {
		if (stop_flag)
			return TP_ECLOSED;
		rv = tp_recv_msg(ctx->c_sock, &msg, NNG_FLAG_NONBLOCK, &err);
		if (rv == 0)
			return take_frame(ctx, msg);
		if (rv != TP_EAGAIN)
			return fatal(ctx, "receive", err.e_msg, rv);
		rv = poll(pfd, 2, timeout_ms);
		if (rv < 0 && errno != EINTR)
			return fatal(ctx, "poll", strerror(errno), TP_ESYS);
		if (rv == 0)
			return 0;
	}
}

/* Pumps until done(ctx) holds or the deadline (< 0: none) passes. */
static int
link_wait(struct troupe_ctx *ctx, bool (*done)(const struct troupe_ctx *),
    int64_t deadline)
{
	int64_t left;
	int rv;

	while (!done(ctx)) {
		if (ctx->c_fatal)
			return TP_ECLOSED;
		left = deadline < 0 ? -1 : deadline - now_ms();
		if (deadline >= 0 && left <= 0)
			return TP_ETIMEDOUT;
		if ((rv = flush_ack(ctx)) != 0 ||
		    (rv = link_pump(ctx, left > INT32_MAX ? INT32_MAX :
		    (int)left)) != 0)
			return rv;
	}
	return 0;
}

static bool
have_credit(const struct troupe_ctx *ctx)
{
	return ctx->c_credits > 0;
}

static bool
was_credited(const struct troupe_ctx *ctx)
{
	return ctx->c_credited;
}

static bool
was_answered(const struct troupe_ctx *ctx)
{
	return ctx->c_await->w_done;
}

/* --- sending ------------------------------------------------------------ */

static int
check_body(struct troupe_ctx *ctx, const void *body, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return 0;
	if (body == NULL || len > ctx->c_lim.l_max_body)
		return TP_EINVAL;
	if (tp_mpck_walk(body, len, &off, ctx->c_lim.l_max_depth, NULL) != 0
	    || off != len)
		return TP_EINVAL;
	return 0;
}

static int
check_out(struct troupe_ctx *ctx, const char *to, const void *body,
    size_t len)
{
	if (to == NULL || *to == '\0' || strlen(to) > ctx->c_lim.l_max_name)
		return TP_EINVAL;
	return check_body(ctx, body, len);
}

static int
spend_credit(struct troupe_ctx *ctx, int64_t deadline)
{
	int rv;

	if ((rv = link_wait(ctx, have_credit, deadline)) != 0)
		return rv;
	ctx->c_credits--;
	return 0;
}

int
troupe_send(struct troupe_ctx *ctx, const char *to, const void *body,
    size_t len)
{
	int rv;

	if ((rv = check_out(ctx, to, body, len)) != 0)
		return rv;
	if ((rv = spend_credit(ctx, -1)) != 0)
		return rv;
	return link_send(ctx, TP_K_SEND, ctx->c_next_id++, to, 0, body, len);
}

static int
reply_fill(struct troupe_reply *out, struct await *w)
{
	size_t off = 0;

	out->r_code = w->w_code;
	out->r_body = w->w_body;
	out->r_len = w->w_len;
	w->w_body = NULL;
	if (out->r_len == 0) {
		out->r_obj.type = MSGPACK_OBJECT_NIL;
		return w->w_code;
	}
	if ((out->r_zone = msgpack_zone_new(256)) == NULL)
		return TP_ENOMEM;
	if (msgpack_unpack((const char *)out->r_body, out->r_len, &off,
	    out->r_zone, &out->r_obj) != MSGPACK_UNPACK_SUCCESS)
		return TP_ETYPE;
	return w->w_code;
}

/*
 * Sends kind with flags and waits for the envelope answering it (REPLY,
 * ACK or ERROR with corr = its id) in *w.  Returns 0 (w filled; the
 * caller frees w->w_body) or a negative TP_E* code.
 */
static int
request(struct troupe_ctx *ctx, uint32_t kind, uint32_t flags,
    const char *to, const void *body, size_t len, int timeout_ms,
    struct await *w)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int rv;

	memset(w, 0, sizeof(*w));
	if ((rv = check_out(ctx, to, body, len)) != 0)
		return rv;
	if (ctx->c_await != NULL)	/* asked from inside an ask */
		return TP_EINVAL;
	if ((rv = spend_credit(ctx, deadline)) != 0)
		return rv;
	w->w_corr = ctx->c_next_id++;
	ctx->c_out_flags = flags;
	if ((rv = link_send(ctx, kind, w->w_corr, to, 0, body, len)) != 0)
		return rv;
	ctx->c_await = w;
	rv = link_wait(ctx, was_answered, deadline);
	ctx->c_await = NULL;
	return rv;
}

int
troupe_ask(struct troupe_ctx *ctx, const char *to, const void *body,
    size_t len, int timeout_ms, struct troupe_reply *out)
{
	struct await w;
	int rv;

	memset(out, 0, sizeof(*out));
	if ((rv = request(ctx, TP_K_ASK, 0, to, body, len, timeout_ms,
	    &w)) == 0)
		return reply_fill(out, &w);
	free(w.w_body);
	return rv;
}

int
troupe_send_confirmed(struct troupe_ctx *ctx, const char *to,
    const void *body, size_t len, int timeout_ms)
{
	struct await w;
	int rv;

	rv = request(ctx, TP_K_SEND, TP_F_CONFIRM, to, body, len, timeout_ms,
	    &w);
	free(w.w_body);
	return rv != 0 ? rv : w.w_code;
}

void
troupe_reply_free(struct troupe_reply *r)
{
	if (r == NULL)
		return;
	free(r->r_body);
	if (r->r_zone != NULL)
		msgpack_zone_free(r->r_zone);
	memset(r, 0, sizeof(*r));
}

static int
answer(struct troupe_ctx *ctx, const struct troupe_msg *req, uint32_t kind,
    const void *body, size_t len)
{
	int rv;

	if (req != &ctx->c_msg || !ctx->c_in_ask || ctx->c_replied)
		return TP_EINVAL;
	if ((rv = check_body(ctx, body, len)) != 0)
		return rv;
	ctx->c_replied = true;
	return link_send(ctx, kind, ctx->c_next_id++, req->m_from, req->m_id,
	    body, len);
}

int
troupe_reply(struct troupe_ctx *ctx, const struct troupe_msg *req,
    const void *body, size_t len)
{
	return answer(ctx, req, TP_K_REPLY, body, len);
}

static int
send_error(struct troupe_ctx *ctx, const struct troupe_msg *req, int code,
    const char *message)
{
	uint8_t sbuf[SMALL_BODY];
	struct tp_fixbuf sb = { sbuf, sizeof(sbuf), 0 };
	msgpack_packer pk;
	size_t mlen = strnlen(message, 200);

	msgpack_packer_init(&pk, &sb, tp_fixbuf_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str_with_body(&pk, "code", 4);
	msgpack_pack_int(&pk, code);
	msgpack_pack_str_with_body(&pk, "message", 7);
	msgpack_pack_str_with_body(&pk, message, mlen);
	return answer(ctx, req, TP_K_ERROR, sb.fb_buf, sb.fb_len);
}

int
troupe_reply_error(struct troupe_ctx *ctx, const struct troupe_msg *req,
    int code, const char *message)
{
	return send_error(ctx, req, code, message ? message : "");
}

/* --- delivering --------------------------------------------------------- */

static void
copy_name(char *dst, const struct tp_slice *s)
{
	size_t n = s->s_len > TROUPE_NAME_MAX ? TROUPE_NAME_MAX : s->s_len;

	memcpy(dst, s->s_ptr, n);
	dst[n] = '\0';
}

static int
fill_msg(struct troupe_ctx *ctx, const struct tp_env *env)
{
	struct troupe_msg *m = &ctx->c_msg;

	memset(m, 0, sizeof(*m));
	copy_name(ctx->c_from, &env->e_from);
	copy_name(ctx->c_to, &env->e_to);
	m->m_kind = (enum troupe_kind)env->e_kind;
	m->m_id = env->e_id;
	m->m_from = ctx->c_from;
	m->m_to = ctx->c_to;
	m->m_corr = env->e_corr;
	m->m_flags = env->e_flags;
	m->m_redelivered = (env->e_flags & TP_F_REDELIVERED) != 0;
	m->m_body = env->e_body;
	m->m_body_len = env->e_body_len;
	msgpack_zone_clear(&ctx->c_zone);
	return tp_env_body(env, &ctx->c_zone, &m->m_obj, NULL);
}

/* Hands one delivery to receive(); answers an ASK the handler left
 * unanswered, or one whose body does not decode. */
static int
deliver(struct troupe_ctx *ctx, const struct tp_env *env)
{
	int bad;

	bad = fill_msg(ctx, env);
	ctx->c_in_ask = env->e_kind == TP_K_ASK;
	ctx->c_replied = false;
	if (bad == 0)
		ctx->c_ops->receive(ctx, &ctx->c_msg);
	if (ctx->c_in_ask && !ctx->c_replied && !ctx->c_fatal)
		send_error(ctx, &ctx->c_msg, bad ? TROUPE_ERR_BAD_REQUEST :
		    TROUPE_ERR_NO_REPLY, bad ? "body does not decode" :
		    "no reply");
	ctx->c_in_ask = false;
	ctx->c_unacked++;
	return ctx->c_fatal ? TP_ECLOSED : 0;
}

/* Delivers the next queued message.  The frame is popped only after its
 * last handler returned: the envelope points into it. */
static int
deliver_next(struct troupe_ctx *ctx)
{
	struct qframe *q;
	struct tp_env env;
	int rv;

	dring_pop(ctx, &env);
	rv = deliver(ctx, &env);
	q = queue_at(ctx, 0);		/* the ring may have grown */
	q->q_left--;
	ctx->c_qdeliv--;
	if (q->q_left == 0)
		queue_pop(ctx);
	return rv;
}

static int
actor_loop(struct troupe_ctx *ctx)
{
	int rv;

	while (!stop_flag && !ctx->c_fatal) {
		if (ctx->c_qlen > 0) {
			if ((rv = deliver_next(ctx)) != 0)
				return rv;
			continue;
		}
		if ((rv = flush_ack(ctx)) != 0)
			return rv;
		if ((rv = link_pump(ctx, -1)) != 0 && rv != TP_ECLOSED)
			return rv;
	}
	return ctx->c_fatal ? TP_ECLOSED : 0;
}

/* --- setup and teardown ------------------------------------------------- */

static int
stop_signals_init(void)
{
	struct sigaction sa;

	stop_flag = 0;
	if (pipe2(stop_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		return TP_ESYS;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	return 0;
}

static void
stop_signals_fini(void)
{
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	stop_pipe[0] = stop_pipe[1] = -1;
}

/* The broker may die between spawning us and our prctl: then our parent
 * is already someone else and no PDEATHSIG will ever come. */
static int
check_parent(void)
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

static size_t
queue_limit(void)
{
	const char *s = getenv("TROUPE_INFLIGHT");
	char *end;
	long n;

	if (s == NULL || *s == '\0')
		return QUEUE_MAX_DEF;
	n = strtol(s, &end, 10);
	if (*end != '\0' || n <= 0 || n > QUEUE_MAX_LIM)
		return QUEUE_MAX_DEF;
	return (size_t)n;
}

static int
ctx_init(struct troupe_ctx *ctx, const struct troupe_actor_ops *ops,
    void *arg)
{
	const char *node;

	memset(ctx, 0, sizeof(*ctx));
	ctx->c_ops = ops;
	ctx->c_arg = arg;
	ctx->c_name = getenv("TROUPE_ACTOR");
	ctx->c_url = getenv("TROUPE_MAILBOX");
	node = getenv("TROUPE_NODE");
	ctx->c_node = node ? node : "";
	if (ctx->c_name == NULL || *ctx->c_name == '\0' ||
	    ctx->c_url == NULL || *ctx->c_url == '\0') {
		actor_log(ctx, "environment", "TROUPE_ACTOR and "
		    "TROUPE_MAILBOX must be set (run under trouped)");
		return TP_EINVAL;
	}
	if ((size_t)snprintf(ctx->c_self, sizeof(ctx->c_self), "%s%s%s",
	    ctx->c_name, *ctx->c_node ? "@" : "", ctx->c_node) >=
	    sizeof(ctx->c_self)) {
		actor_log(ctx, "environment", "actor name too long");
		return TP_EINVAL;
	}
	ctx->c_lim = tp_limits_default;
	ctx->c_qmax = queue_limit();
	ctx->c_next_id = 1;
	if (!msgpack_zone_init(&ctx->c_zone, 4096))
		return TP_ENOMEM;
	if (!msgpack_zone_init(&ctx->c_tzone, 256)) {
		msgpack_zone_destroy(&ctx->c_zone);
		return TP_ENOMEM;
	}
	msgpack_sbuffer_init(&ctx->c_out);
	msgpack_packer_init(&ctx->c_out_pk, &ctx->c_out,
	    msgpack_sbuffer_write);
	return 0;
}

static void
ctx_fini(struct troupe_ctx *ctx)
{
	queue_free(ctx);
	msgpack_zone_destroy(&ctx->c_zone);
	msgpack_zone_destroy(&ctx->c_tzone);
	msgpack_sbuffer_destroy(&ctx->c_out);
}

static int
link_dial(struct troupe_ctx *ctx)
{
	struct tp_err err;
	int i, rv;

	if ((rv = tp_sock_open(&ctx->c_sock, TP_PAIR, NULL, &err)) != 0)
		return fatal(ctx, "socket", err.e_msg, rv);
	for (i = 0; i < DIAL_TRIES && !stop_flag; i++) {
		if ((rv = tp_dial(ctx->c_sock, ctx->c_url, true, &err)) == 0)
			break;
		nng_msleep(DIAL_PAUSE_MS);
	}
	if (rv == 0 && !stop_flag)
		rv = tp_recv_fd(ctx->c_sock, &ctx->c_recvfd, &err);
	if (rv != 0 || stop_flag) {
		nng_close(ctx->c_sock);
		return rv ? fatal(ctx, "dial", err.e_msg, rv) : TP_ECLOSED;
	}
	return 0;
}

static int
link_hello(struct troupe_ctx *ctx)
{
	uint8_t sbuf[SMALL_BODY];
	struct tp_fixbuf sb = { sbuf, sizeof(sbuf), 0 };
	msgpack_packer pk;

	msgpack_packer_init(&pk, &sb, tp_fixbuf_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str_with_body(&pk, "op", 2);
	msgpack_pack_str_with_body(&pk, "hello", 5);
	msgpack_pack_str_with_body(&pk, "pid", 3);
	msgpack_pack_int64(&pk, getpid());
	return link_send(ctx, TP_K_CONTROL, 0, "", 0, sb.fb_buf, sb.fb_len);
}

/* Frames that arrive after the stop are only searched for the broker's
 * answer to our bye: deliveries in them were never acknowledged, so the
 * broker hands them to the next instance. */
static void
bye_frame(struct troupe_ctx *ctx, nng_msg *msg)
{
	struct tp_frame fr;
	struct tp_env env;

	if (tp_frame_open(&fr, nng_msg_body(msg), nng_msg_len(msg),
	    &ctx->c_lim, NULL) == 0)
		while (tp_frame_next(&fr, &env, NULL) == 1)
			if (env.e_kind == TP_K_CONTROL)
				ctx->c_bye = true;
	nng_msg_free(msg);
}

/*
 * nng 1.5.2 has no flush: nng_close drops messages still in the socket's
 * send queue, such as the last ACK, and the broker would then redeliver
 * them.  So a clean stop ends with a bye the broker answers: the link is
 * ordered, so its answer proves everything before it arrived.  A broker
 * that does not answer within BYE_MS is waited for no longer.
 */
static void
link_close(struct troupe_ctx *ctx)
{
	struct pollfd pfd = { .fd = ctx->c_recvfd, .events = POLLIN };
	int64_t deadline = now_ms() + BYE_MS;
	uint8_t sbuf[SMALL_BODY];
	struct tp_fixbuf sb = { sbuf, sizeof(sbuf), 0 };
	msgpack_packer pk;
	nng_msg *msg;

	/* A broker that died (the PDEATHSIG that stops us) answers nobody */
	if (ctx->c_fatal || check_parent() != 0)
		goto out_close;
	nng_socket_set_ms(ctx->c_sock, NNG_OPT_SENDTIMEO, SHUTDOWN_SEND_MS);
	msgpack_packer_init(&pk, &sb, tp_fixbuf_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "op", 2);
	msgpack_pack_str_with_body(&pk, "bye", 3);
	if (flush_ack(ctx) != 0 || link_send(ctx, TP_K_CONTROL, 0, "", 0,
	    sb.fb_buf, sb.fb_len) != 0 || out_flush(ctx) != 0)
		goto out_close;
	/* PDEATHSIG fires when the spawning THREAD of the broker dies: the
	 * other threads may still be ours for a moment, so getppid() only
	 * changes later.  Look again every few milliseconds. */
	while (!ctx->c_bye && now_ms() < deadline && check_parent() == 0) {
		if (nng_recvmsg(ctx->c_sock, &msg, NNG_FLAG_NONBLOCK) == 0)
			bye_frame(ctx, msg);
		else if (poll(&pfd, 1, BYE_POLL_MS) < 0 && errno != EINTR)
			break;
	}
out_close:
	nng_close(ctx->c_sock);
}

static int
actor_run(struct troupe_ctx *ctx)
{
	enum troupe_reason why = TROUPE_STOP_SIGNAL;
	int rv;

	if ((rv = link_dial(ctx)) != 0)
		return stop_flag && !ctx->c_fatal ? 0 : 1;
	if ((rv = link_hello(ctx)) == 0)
		rv = link_wait(ctx, was_credited, -1);
	if (rv != 0) {
		link_close(ctx);
		return stop_flag && !ctx->c_fatal ? 0 : 1;
	}
	if (ctx->c_ops->init != NULL && ctx->c_ops->init(ctx) != 0)
		why = TROUPE_STOP_INIT;
	else if (actor_loop(ctx) != 0 || ctx->c_fatal)
		why = TROUPE_STOP_ERROR;
	if (ctx->c_ops->terminate != NULL)
		ctx->c_ops->terminate(ctx, why);
	link_close(ctx);
	return why == TROUPE_STOP_SIGNAL ? 0 : 1;
}

int
troupe_actor_main(const struct troupe_actor_ops *ops, void *arg)
{
	struct troupe_ctx *ctx;
	int status;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (check_parent() != 0) {
		fprintf(stderr, "troupe-actor: the broker is gone\n");
		return 1;
	}
	if (ops == NULL || ops->receive == NULL)
		return 1;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return 1;
	if (ctx_init(ctx, ops, arg) != 0) {
		free(ctx);
		return 1;
	}
	if (stop_signals_init() != 0) {
		ctx_fini(ctx);
		free(ctx);
		return 1;
	}
	status = actor_run(ctx);
	stop_signals_fini();
	ctx_fini(ctx);
	free(ctx);
	nng_fini();	/* the actor is the process: leave valgrind clean */
	return status;
}

const char *
troupe_self(const struct troupe_ctx *ctx)
{
	return ctx->c_name;
}

const char *
troupe_node(const struct troupe_ctx *ctx)
{
	return ctx->c_node;
}

void *
troupe_arg(const struct troupe_ctx *ctx)
{
	return ctx->c_arg;
}

void
troupe_set_state(struct troupe_ctx *ctx, void *state)
{
	ctx->c_state = state;
}

void *
troupe_state(const struct troupe_ctx *ctx)
{
	return ctx->c_state;
}

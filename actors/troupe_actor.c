/*
 * troupe_actor — the actor library's main loop and its API: send, ask,
 * reply, publish and subscribe, and the handing of deliveries to
 * receive().  The link itself (hello, credits, ACKs, the deliveries'
 * queue, bye) is troupe_link's;
 * frames and batching are tp_link's.
 *
 * The main loop hands the queued deliveries to receive() in order; a
 * handler that blocks in troupe_send/troupe_ask keeps the link pumping
 * (troupe_link.h) without ever running a handler inside another one.
 */
#define _GNU_SOURCE		/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/prctl.h>

#include <nng/nng.h>

#include "tp_env.h"
#include "tp_mpck.h"
#include "tp_topic.h"
#include "troupe.h"
#include "troupe_link.h"

_Static_assert((int)TROUPE_SEND == (int)TP_K_SEND &&
    (int)TROUPE_ASK == (int)TP_K_ASK,
    "troupe kinds follow the wire kinds");

#define QUEUE_MAX_DEF	4096		/* deliveries, unless TROUPE_INFLIGHT */
#define QUEUE_MAX_LIM	65536
#define SMALL_BODY	256		/* ERROR bodies */

struct troupe_ctx {
	const struct troupe_actor_ops *c_ops;
	void		*c_arg;
	void		*c_state;
	const char	*c_name;
	const char	*c_node;
	char		 c_self[TROUPE_NAME_MAX + 1];	/* name@node */
	struct troupe_link *c_link;
	const struct tp_limits *c_lim;
	uint64_t	 c_next_id;
	msgpack_zone	 c_zone;	/* the current message's body */
	bool		 c_zone_used;	/* holds a body's objects: clear */
	uint64_t	 c_bad_bodies;	/* SENDs dropped: body no msgpack */
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
actor_log(const char *name, const char *what, const char *why)
{
	fprintf(stderr, "troupe-actor %s: %s: %s\n", name ? name : "?", what,
	    why);
}

int
troupe_flush(struct troupe_ctx *ctx)
{
	return troupe_link_flush(ctx->c_link);
}

/* --- sending ------------------------------------------------------------ */

static int
check_body(struct troupe_ctx *ctx, const void *body, size_t len)
{
	if (len == 0)
		return 0;
	if (body == NULL || len > ctx->c_lim->l_max_body)
		return TP_EINVAL;
	if (tp_mpck_walk_one(body, len, ctx->c_lim->l_max_depth, NULL) != 0)
		return TP_EINVAL;
	return 0;
}

static int
check_out(struct troupe_ctx *ctx, const char *to, const void *body,
    size_t len)
{
	if (to == NULL || *to == '\0' || strlen(to) > ctx->c_lim->l_max_name)
		return TP_EINVAL;
	return check_body(ctx, body, len);
}

/* A SEND (checked) that spends one credit, waiting for it. */
static int
send_flags(struct troupe_ctx *ctx, const char *to, uint32_t flags,
    const void *body, size_t len)
{
	int rv;

	if ((rv = troupe_link_take_credit(ctx->c_link, -1)) != 0)
		return rv;
	return troupe_link_send(ctx->c_link, TP_K_SEND, ctx->c_next_id++, to,
	    0, flags, body, len);
}

int
troupe_send(struct troupe_ctx *ctx, const char *to, const void *body,
    size_t len)
{
	int rv;

	if ((rv = check_out(ctx, to, body, len)) != 0)
		return rv;
	return send_flags(ctx, to, 0, body, len);
}

int
troupe_publish(struct troupe_ctx *ctx, const char *topic, const void *body,
    size_t len)
{
	int rv;

	if (topic == NULL || !tp_topic_name_ok(topic, strlen(topic)))
		return TP_EINVAL;
	if ((rv = check_body(ctx, body, len)) != 0)
		return rv;
	return send_flags(ctx, topic, TP_F_TOPIC, body, len);
}

/* subscribe and unsubscribe: fire and forget on the ordered link. */
static int
topic_op(struct troupe_ctx *ctx, const char *op, const char *pattern)
{
	if (pattern == NULL || !tp_topic_pattern_ok(pattern,
	    strlen(pattern)))
		return TP_EINVAL;
	return troupe_link_topic_op(ctx->c_link, op, pattern);
}

int
troupe_subscribe(struct troupe_ctx *ctx, const char *pattern)
{
	return topic_op(ctx, "subscribe", pattern);
}

int
troupe_unsubscribe(struct troupe_ctx *ctx, const char *pattern)
{
	return topic_op(ctx, "unsubscribe", pattern);
}

static int
reply_fill(struct troupe_reply *out, struct troupe_await *w)
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
    struct troupe_await *w)
{
	int64_t deadline = timeout_ms < 0 ? -1 :
	    troupe_link_now_ms() + timeout_ms;
	int rv;

	memset(w, 0, sizeof(*w));
	if ((rv = check_out(ctx, to, body, len)) != 0)
		return rv;
	if (troupe_link_awaiting(ctx->c_link))	/* asked inside an ask */
		return TP_EINVAL;
	if ((rv = troupe_link_take_credit(ctx->c_link, deadline)) != 0)
		return rv;
	w->w_corr = ctx->c_next_id++;
	if ((rv = troupe_link_send(ctx->c_link, kind, w->w_corr, to, 0, flags,
	    body, len)) != 0)
		return rv;
	return troupe_link_await(ctx->c_link, w, deadline);
}

int
troupe_ask(struct troupe_ctx *ctx, const char *to, const void *body,
    size_t len, int timeout_ms, struct troupe_reply *out)
{
	struct troupe_await w;
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
	struct troupe_await w;
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
	return troupe_link_send(ctx->c_link, kind, ctx->c_next_id++,
	    req->m_from, req->m_id, 0, body, len);
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
	int rv;

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
	/* a str or bin body (most) takes nothing from the zone */
	if (ctx->c_zone_used) {
		msgpack_zone_clear(&ctx->c_zone);
		ctx->c_zone_used = false;
	}
	if ((rv = tp_env_body(env, &ctx->c_zone, &m->m_obj, NULL)) == 0)
		ctx->c_zone_used = m->m_obj.type != MSGPACK_OBJECT_BIN &&
		    m->m_obj.type != MSGPACK_OBJECT_STR;
	else
		ctx->c_zone_used = true;
	return rv;
}

/* A SEND whose body does not decode has nobody to answer: it is said
 * on stderr the 1st, 2nd, 4th, 8th... time, so a flood stays a few
 * lines. */
static bool
bad_body_news(struct troupe_ctx *ctx)
{
	uint64_t n = ++ctx->c_bad_bodies;

	return (n & (n - 1)) == 0;
}

/* Hands one delivery to receive(); answers an ASK the handler left
 * unanswered, or one whose body does not decode.  Its frame is freed
 * only after the handler returned (troupe_link_done): env points into
 * it. */
static int
deliver(struct troupe_ctx *ctx, const struct tp_env *env)
{
	int bad;

	bad = fill_msg(ctx, env);
	ctx->c_in_ask = env->e_kind == TP_K_ASK;
	ctx->c_replied = false;
	if (bad == 0)
		ctx->c_ops->receive(ctx, &ctx->c_msg);
	if (ctx->c_in_ask && !ctx->c_replied &&
	    !troupe_link_fatal(ctx->c_link))
		send_error(ctx, &ctx->c_msg, bad ? TROUPE_ERR_BAD_REQUEST :
		    TROUPE_ERR_NO_REPLY, bad ? "body does not decode" :
		    "no reply");
	else if (bad && bad_body_news(ctx))
		fprintf(stderr, "troupe: %s: dropped a message from %s whose "
		    "body does not decode (%llu so far)\n", ctx->c_to,
		    ctx->c_from, (unsigned long long)ctx->c_bad_bodies);
	ctx->c_in_ask = false;
	troupe_link_done(ctx->c_link);
	return troupe_link_fatal(ctx->c_link) ? TP_ECLOSED : 0;
}

static int
actor_loop(struct troupe_ctx *ctx)
{
	struct tp_env env;
	int rv;

	while (!stop_flag && !troupe_link_fatal(ctx->c_link)) {
		if (troupe_link_next(ctx->c_link, &env)) {
			if ((rv = deliver(ctx, &env)) != 0)
				return rv;
			continue;
		}
		if ((rv = troupe_link_pump(ctx->c_link, -1)) != 0 &&
		    rv != TP_ECLOSED)
			return rv;
	}
	return troupe_link_fatal(ctx->c_link) ? TP_ECLOSED : 0;
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

/* The link is made here, after the stop pipe exists (it polls it). */
static int
ctx_init(struct troupe_ctx *ctx, const struct troupe_actor_ops *ops,
    void *arg)
{
	struct troupe_link_conf lc = { .tc_stop_fd = stop_pipe[0],
	    .tc_stop = &stop_flag, .tc_window = queue_limit() };
	const char *node;

	memset(ctx, 0, sizeof(*ctx));
	ctx->c_ops = ops;
	ctx->c_arg = arg;
	ctx->c_name = getenv("TROUPE_ACTOR");
	lc.tc_url = getenv("TROUPE_MAILBOX");
	node = getenv("TROUPE_NODE");
	ctx->c_node = node ? node : "";
	if (ctx->c_name == NULL || *ctx->c_name == '\0' ||
	    lc.tc_url == NULL || *lc.tc_url == '\0') {
		actor_log(ctx->c_name, "environment", "TROUPE_ACTOR and "
		    "TROUPE_MAILBOX must be set (run under trouped)");
		return TP_EINVAL;
	}
	if ((size_t)snprintf(ctx->c_self, sizeof(ctx->c_self), "%s%s%s",
	    ctx->c_name, *ctx->c_node ? "@" : "", ctx->c_node) >=
	    sizeof(ctx->c_self)) {
		actor_log(ctx->c_name, "environment", "actor name too long");
		return TP_EINVAL;
	}
	lc.tc_name = ctx->c_name;
	lc.tc_self = ctx->c_self;
	ctx->c_next_id = 1;
	if (!msgpack_zone_init(&ctx->c_zone, 4096))
		return TP_ENOMEM;
	if ((ctx->c_link = troupe_link_new(&lc)) == NULL) {
		msgpack_zone_destroy(&ctx->c_zone);
		return TP_ENOMEM;
	}
	ctx->c_lim = troupe_link_limits(ctx->c_link);
	return 0;
}

static void
ctx_fini(struct troupe_ctx *ctx)
{
	troupe_link_free(ctx->c_link);
	msgpack_zone_destroy(&ctx->c_zone);
}

static int
actor_run(struct troupe_ctx *ctx)
{
	enum troupe_reason why = TROUPE_STOP_SIGNAL;
	bool fatal;

	if (troupe_link_open(ctx->c_link) != 0) {
		fatal = troupe_link_fatal(ctx->c_link);
		troupe_link_close(ctx->c_link);
		return stop_flag && !fatal ? 0 : 1;
	}
	if (ctx->c_ops->init != NULL && ctx->c_ops->init(ctx) != 0)
		why = TROUPE_STOP_INIT;
	else if (actor_loop(ctx) != 0 || troupe_link_fatal(ctx->c_link))
		why = TROUPE_STOP_ERROR;
	if (ctx->c_ops->terminate != NULL)
		ctx->c_ops->terminate(ctx, why);
	troupe_link_close(ctx->c_link);
	return why == TROUPE_STOP_SIGNAL ? 0 : 1;
}

int
troupe_actor_main(const struct troupe_actor_ops *ops, void *arg)
{
	struct troupe_ctx *ctx;
	int status;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (troupe_link_check_parent() != 0) {
		fprintf(stderr, "troupe-actor: the broker is gone\n");
		return 1;
	}
	if (ops == NULL || ops->receive == NULL)
		return 1;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return 1;
	if (stop_signals_init() != 0) {
		free(ctx);
		return 1;
	}
	if (ctx_init(ctx, ops, arg) != 0) {
		stop_signals_fini();
		free(ctx);
		return 1;
	}
	status = actor_run(ctx);
	ctx_fini(ctx);
	stop_signals_fini();
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

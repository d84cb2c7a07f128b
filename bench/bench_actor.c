/*
 * bench_actor — the actor every benchmark runs, in whatever role the
 * driver asks of it (all requests are ASKs with a map body):
 *
 *   any SEND, any bin body  data: counted, first and last arrival stamped
 *                           (B9c sends the CLI's JSON lines as maps; a
 *                           topic's copies arrive as SENDs too, B11);
 *                           with BN_SPIN_US=N, N us of this thread's CPU
 *                           burnt first (B10's CPU-bound handler)
 *   {"op":"stats"}          -> {count, first_ns, last_ns, pid}
 *   {"op":"reset"}          -> {count: 0}
 *   {"op":"ping", ...}      -> the request body itself (an echo)
 *   {"op":"run", "to": NAME | [NAME...], "count": N, "size": S}
 *       sends N bin bodies of S bytes round-robin to the targets as fast
 *       as credits allow, then asks each target "stats" (which it answers
 *       only after every earlier message: one mailbox, in order)
 *       -> {t0_ns, sent, last_ns}
 *   {"op":"publish", "to": TOPIC, "count": N, "size": S, "ms": T}
 *       publishes up to N bin bodies of S bytes to TOPIC as fast as
 *       credits allow (B11), stopping after T ms (0: no limit); the
 *       driver asks the subscribers -> {t0_ns, sent}
 *   {"op":"asks", "to": NAME, "count": N, "size": S}
 *       N pings of about S bytes to NAME, one at a time
 *       -> {n, p50_ns, p90_ns, p99_ns, mean_ns}
 *
 * Times are CLOCK_MONOTONIC, comparable across the machine's processes.
 *
 * Arguments KEY=VALUE set those variables for this actor alone (the
 * actors of one broker share its environment, their exec lines are
 * their own): `bench_actor BN_SPIN_US=50`.
 *
 * With BN_CALLGRIND_OUT=PREFIX in its environment (B8s, B8k) the actor
 * first runs itself again under callgrind, by exec, so it keeps the pid
 * the broker spawned and admits; the profile goes to PREFIX.NAME.PID.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bn.h"
#include "troupe.h"

#define MAX_TARGETS 64
#define MAX_ARGS 16
#define VALGRIND "/usr/bin/valgrind"

struct bstate {
	uint64_t	 s_count;
	uint64_t	 s_first_ns;
	uint64_t	 s_last_ns;
	uint64_t	 s_spin_ns;	/* BN_SPIN_US, per data message */
};

struct targets {
	char		 t_name[MAX_TARGETS][TROUPE_NAME_MAX + 1];
	uint32_t	 t_n;
};

static void
reply_body(struct troupe_ctx *ctx, const struct troupe_msg *msg,
    struct troupe_body *b)
{
	if (troupe_body_error(b) == 0)
		troupe_reply(ctx, msg, troupe_body_data(b),
		    troupe_body_len(b));
	else
		troupe_reply_error(ctx, msg, TROUPE_ERR_BUSY,
		    "out of memory");
	troupe_body_free(b);
}

/* Replies a map of n pairs keys[i]: vals[i]. */
static void
reply_u64s(struct troupe_ctx *ctx, const struct troupe_msg *msg,
    uint32_t n, const char *const *keys, const uint64_t *vals)
{
	struct troupe_body b;

	troupe_body_init(&b);
	troupe_body_map(&b, n);
	for (uint32_t i = 0; i < n; i++) {
		troupe_body_str(&b, keys[i]);
		troupe_body_uint(&b, vals[i]);
	}
	reply_body(ctx, msg, &b);
}

static void
copy_str(char *dst, const msgpack_object *o)
{
	size_t n = o->via.str.size > TROUPE_NAME_MAX ? TROUPE_NAME_MAX :
	    o->via.str.size;

	memcpy(dst, o->via.str.ptr, n);
	dst[n] = '\0';
}

static int
get_targets(const msgpack_object *req, struct targets *t)
{
	const msgpack_object *to = troupe_obj_map_get(req, "to");

	t->t_n = 0;
	if (to != NULL && to->type == MSGPACK_OBJECT_STR)
		copy_str(t->t_name[t->t_n++], to);
	else if (to != NULL && to->type == MSGPACK_OBJECT_ARRAY)
		for (uint32_t i = 0; i < to->via.array.size &&
		    t->t_n < MAX_TARGETS; i++)
			if (to->via.array.ptr[i].type == MSGPACK_OBJECT_STR)
				copy_str(t->t_name[t->t_n++],
				    &to->via.array.ptr[i]);
	return t->t_n > 0 ? 0 : -1;
}

/* Asks `to` for its stats; returns its last_ns (0 on failure). */
static uint64_t
target_last(struct troupe_ctx *ctx, const char *to)
{
	struct troupe_reply r;
	struct troupe_body b;
	uint64_t last = 0;

	troupe_body_init(&b);
	troupe_body_map(&b, 1);
	troupe_body_str(&b, "op");
	troupe_body_str(&b, "stats");
	if (troupe_ask(ctx, to, troupe_body_data(&b), troupe_body_len(&b),
	    -1, &r) == 0)
		last = bn_get_u64(&r.r_obj, "last_ns");
	troupe_reply_free(&r);
	troupe_body_free(&b);
	return last;
}

static void
op_run(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	static const char *keys[] = { "t0_ns", "sent", "last_ns" };
	uint64_t n = bn_get_u64(&msg->m_obj, "count");
	uint64_t size = bn_get_u64(&msg->m_obj, "size");
	uint64_t vals[3] = { 0, 0, 0 }, last;
	struct targets *t;
	struct troupe_body b;

	if ((t = malloc(sizeof(*t))) == NULL || get_targets(&msg->m_obj,
	    t) != 0 || size < 2) {
		free(t);
		troupe_reply_error(ctx, msg, TROUPE_ERR_BAD_REQUEST, "run: "
		    "needs to, count, size >= 2");
		return;
	}
	troupe_body_init(&b);
	bn_pack_bin_exact(&b.b_pk, size);
	vals[0] = bn_now_ns();
	for (uint64_t i = 0; i < n; i++, vals[1]++)
		if (troupe_send(ctx, t->t_name[i % t->t_n],
		    troupe_body_data(&b), troupe_body_len(&b)) != 0)
			break;
	for (uint32_t i = 0; i < t->t_n; i++)
		if ((last = target_last(ctx, t->t_name[i])) > vals[2])
			vals[2] = last;
	troupe_body_free(&b);
	free(t);
	reply_u64s(ctx, msg, 3, keys, vals);
}

static void
op_publish(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	static const char *keys[] = { "t0_ns", "sent" };
	uint64_t n = bn_get_u64(&msg->m_obj, "count");
	uint64_t size = bn_get_u64(&msg->m_obj, "size");
	uint64_t ms = bn_get_u64(&msg->m_obj, "ms"), end;
	uint64_t vals[2] = { 0, 0 };
	struct troupe_body b;
	struct targets t;

	if (get_targets(&msg->m_obj, &t) != 0 || size < 2) {
		troupe_reply_error(ctx, msg, TROUPE_ERR_BAD_REQUEST,
		    "publish: needs to, count, size >= 2");
		return;
	}
	troupe_body_init(&b);
	bn_pack_bin_exact(&b.b_pk, size);
	vals[0] = bn_now_ns();
	end = ms > 0 ? vals[0] + ms * 1000000 : UINT64_MAX;
	for (; vals[1] < n; vals[1]++)
		if ((vals[1] % 256 == 0 && bn_now_ns() > end) ||
		    troupe_publish(ctx, t.t_name[0], troupe_body_data(&b),
		    troupe_body_len(&b)) != 0)
			break;
	troupe_body_free(&b);
	reply_u64s(ctx, msg, 2, keys, vals);
}

static void
op_asks(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	static const char *keys[] = { "n", "p50_ns", "p90_ns", "p99_ns",
	    "mean_ns" };
	uint64_t n = bn_get_u64(&msg->m_obj, "count");
	uint64_t size = bn_get_u64(&msg->m_obj, "size"), *rtt, t0;
	struct troupe_reply r;
	struct troupe_body b;
	struct targets t;
	struct bn_pct p;
	uint64_t i;

	if (get_targets(&msg->m_obj, &t) != 0 || n == 0 ||
	    (rtt = calloc(n, sizeof(*rtt))) == NULL) {
		troupe_reply_error(ctx, msg, TROUPE_ERR_BAD_REQUEST, "asks: "
		    "needs to, count");
		return;
	}
	troupe_body_init(&b);
	troupe_body_map(&b, 2);
	troupe_body_str(&b, "op");
	troupe_body_str(&b, "ping");
	troupe_body_str(&b, "pad");
	bn_pack_bin_exact(&b.b_pk, size > 20 ? size - 16 : 4);
	for (i = 0; i < n; i++) {
		t0 = bn_now_ns();
		if (troupe_ask(ctx, t.t_name[0], troupe_body_data(&b),
		    troupe_body_len(&b), 10000, &r) != 0) {
			troupe_reply_free(&r);
			break;
		}
		rtt[i] = bn_now_ns() - t0;
		troupe_reply_free(&r);
	}
	bn_pct(rtt, i, &p);
	free(rtt);
	troupe_body_free(&b);
	reply_u64s(ctx, msg, 5, keys, (uint64_t[]){ p.p_n, p.p_p50, p.p_p90,
	    p.p_p99, (uint64_t)p.p_mean });
}

static void
op_stats(struct troupe_ctx *ctx, const struct troupe_msg *msg,
    struct bstate *s)
{
	static const char *keys[] = { "count", "first_ns", "last_ns", "pid" };

	reply_u64s(ctx, msg, 4, keys, (uint64_t[]){ s->s_count,
	    s->s_first_ns, s->s_last_ns, (uint64_t)getpid() });
}

static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* Busy until ns of this thread's CPU time went by: the handler's own
 * work, not nng's threads, and not the time another process had the
 * core (a pool of 4 on 2 cores still costs 50 us a message). */
static void
spin(uint64_t ns)
{
	uint64_t t0 = thread_cpu_ns();

	while (thread_cpu_ns() - t0 < ns)
		;
}

static void
bench_receive(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	struct bstate *s = troupe_state(ctx);
	const msgpack_object *op = troupe_obj_map_get(&msg->m_obj, "op");

	if (msg->m_obj.type == MSGPACK_OBJECT_BIN ||
	    msg->m_kind == TROUPE_SEND) {
		if (s->s_spin_ns > 0)
			spin(s->s_spin_ns);
		s->s_last_ns = bn_now_ns();
		if (s->s_count++ == 0)
			s->s_first_ns = s->s_last_ns;
		return;
	}
	if (msg->m_kind != TROUPE_ASK)
		return;
	if (troupe_obj_str_eq(op, "ping"))
		troupe_reply(ctx, msg, msg->m_body, msg->m_body_len);
	else if (troupe_obj_str_eq(op, "stats"))
		op_stats(ctx, msg, s);
	else if (troupe_obj_str_eq(op, "reset")) {
		s->s_count = s->s_first_ns = s->s_last_ns = 0;
		op_stats(ctx, msg, s);
	} else if (troupe_obj_str_eq(op, "run"))
		op_run(ctx, msg);
	else if (troupe_obj_str_eq(op, "publish"))
		op_publish(ctx, msg);
	else if (troupe_obj_str_eq(op, "asks"))
		op_asks(ctx, msg);
	else
		troupe_reply_error(ctx, msg, TROUPE_ERR_BAD_REQUEST,
		    "unknown op");
}

static int
bench_init(struct troupe_ctx *ctx)
{
	struct bstate *s = troupe_arg(ctx);
	const char *us = getenv("BN_SPIN_US");

	if (us != NULL && *us != '\0')
		s->s_spin_ns = strtoull(us, NULL, 10) * 1000;
	troupe_set_state(ctx, s);
	return 0;
}

/* KEY=VALUE arguments into the environment, before init reads it. */
static void
set_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq != NULL) {
			*eq = '\0';
			setenv(argv[i], eq + 1, 1);
			*eq = '=';
		}
	}
}

/*
 * execv keeps the pid (the broker admits the mailbox only from the pid
 * it spawned) and the parent.  The variable is dropped first: that is
 * the marker that the program under valgrind is the second run.  Should
 * the exec fail, the actor runs bare and B8 misses its profile.
 */
static void
callgrind_self(int argc, char **argv)
{
	const char *prefix = getenv("BN_CALLGRIND_OUT");
	const char *name = getenv("TROUPE_ACTOR");
	char tool[] = "--tool=callgrind", quiet[] = "-q", prog[] = VALGRIND;
	char fair[] = "--fair-sched=yes";	/* see bn_life.c cg_run */
	char out[PATH_MAX + 64];
	char *vg[MAX_ARGS + 6] = { prog, tool, quiet, fair, out };
	int n = 5;

	if (prefix == NULL || *prefix == '\0' || name == NULL)
		return;
	snprintf(out, sizeof(out), "--callgrind-out-file=%s.%s.%%p", prefix,
	    name);
	unsetenv("BN_CALLGRIND_OUT");
	for (int i = 0; i < argc && i < MAX_ARGS; i++)
		vg[n++] = argv[i];
	vg[n] = NULL;
	execv(VALGRIND, vg);
	fprintf(stderr, "bench_actor: %s: cannot run under %s\n", name,
	    VALGRIND);
}

int
main(int argc, char **argv)
{
	static const struct troupe_actor_ops ops = {
		.init = bench_init,
		.receive = bench_receive,
	};
	static struct bstate state;

	callgrind_self(argc, argv);
	set_args(argc, argv);
	return troupe_actor_main(&ops, &state);
}

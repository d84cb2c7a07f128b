/*
 * bn_cases — B0 (bare nng), B0z (bare ZeroMQ), B1 (throughput through
 * the broker; B1z against ZeroMQ), B2 (ask round trip from a library
 * actor) and B4 (fan-in, fan-out), plus what every row shares: the
 * output, the configs, asks to bench actors.
 */
#define _GNU_SOURCE		/* mkdtemp, open_memstream */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bn_cases.h"
#include "bn_nng.h"
#include "tp_nng.h"

#define FAN 16
#define ROW "%-4s %-44s %-34s %s\n"

void
bn_out(struct bn_run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	if (r->r_out != NULL) {
		va_start(ap, fmt);
		vfprintf(r->r_out, fmt, ap);
		va_end(ap);
		fflush(r->r_out);
	}
}

bool
bn_wanted(const struct bn_run *r, const char *id)
{
	const char *p = r->r_only;
	size_t n = strlen(id);

	if (p == NULL)
		return true;
	while ((p = strstr(p, id)) != NULL) {
		if (p[n] == '\0' || p[n] == ',')
			return true;
		p += n;
	}
	return false;
}

uint32_t
bn_scale(const struct bn_run *r, uint32_t n)
{
	return r->r_quick ? (n / 20 > 0 ? n / 20 : 1) : n;
}

FILE *
bn_conf_open(char **buf, size_t *len, int port)
{
	return bn_conf_open_node(buf, len, port, "");
}

FILE *
bn_conf_open_node(char **buf, size_t *len, int port, const char *node)
{
	FILE *f;

	if ((f = open_memstream(buf, len)) == NULL)
		bn_die("open_memstream: %s", strerror(errno));
	/* root restarts at once and never gives up: B6 kills 100 times */
	fprintf(f, "[node]\nname = bench\nlisten = tcp://127.0.0.1:%d\n%s\n"
	    "[cluster]\ndiscovery = off\n\n"
	    "[supervisor root]\nintensity = 10000\nperiod = 1s\n"
	    "backoff_min = 0\n\n", port, node);
	return f;
}

void
bn_conf_actor(FILE *f, const char *name, const char *exec)
{
	fprintf(f, "[actor %s]\nexec = %s\n\n", name, exec);
}

char *
bn_conf_close(FILE *f, char **buf)
{
	if (fclose(f) != 0)
		bn_die("config: %s", strerror(errno));
	return *buf;
}

/* ---- B0 B0z ------------------------------------------------------------ */

/* B0's and B0z's counts: 128 B, about a second each. */
static struct bn_nng_args
peer_args(const struct bn_run *r)
{
	struct bn_nng_args a = { bn_scale(r, 200000), bn_scale(r, 10000),
	    128 };

	return a;
}

/* A temp dir of its own for a peer's ipc sockets. */
static void
peer_dir(char *dir)
{
	if (mkdtemp(dir) == NULL)
		bn_die("mkdtemp: %s", strerror(errno));
}

/* The one-way and round-trip rows of a bare transport: what[i] and
 * target[i] for each. */
static void
peer_rows(struct bn_run *r, const char *id, const struct bn_nng_result *res,
    const char *const *what, const char *const *target)
{
	char m[64], p[96];

	snprintf(m, sizeof(m), "%.0f msg/s, %.1f MB/s", res->r_msgs_s,
	    res->r_msgs_s * 128 / 1e6);
	bn_out(r, ROW, id, what[0], m, target[0]);
	snprintf(p, sizeof(p), "p50 %.0f p90 %.0f p99 %.0f us",
	    (double)res->r_rtt.p_p50 / 1e3, (double)res->r_rtt.p_p90 / 1e3,
	    (double)res->r_rtt.p_p99 / 1e3);
	bn_out(r, ROW, id, what[1], p, target[1]);
}

void
bn_case_b0(struct bn_run *r)
{
	static const char *what[] = { "nng pair1 ipc one-way, 128 B",
	    "nng pair1 ipc round trip, 128 B" };
	static const char *target[] = { "(the unit)", "(the unit)" };
	struct bn_nng_args a = peer_args(r);
	struct bn_nng_result res;
	char dir[] = "/tmp/troupe-bench-b0-XXXXXX";

	peer_dir(dir);
	bn_nng_run(r->r_self, dir, &a, &res);
	rmdir(dir);
	r->r_b0_msgs_s = res.r_msgs_s;
	r->r_b0_rtt_p50_us = (double)res.r_rtt.p_p50 / 1e3;
	peer_rows(r, "B0", &res, what, target);
}

void
bn_case_b0z(struct bn_run *r)
{
	static const char *what[] = { "ZeroMQ push/pull ipc one-way, 128 B",
	    "ZeroMQ req/rep ipc round trip, 128 B" };
	struct bn_nng_args a = peer_args(r);
	struct bn_nng_result res;
	char dir[] = "/tmp/troupe-bench-b0z-XXXXXX", ow[64], rt[64];
	const char *target[] = { ow, rt };
	int rv;

	if (!bn_wanted(r, "B0z"))
		return;
	a.a_count *= 5;		/* ~20 x B0's rate: each run ~0.4 s, not 0.1 */
	peer_dir(dir);
	rv = bn_zmq_run(r->r_self, dir, &a, &res, r->r_zmq_why,
	    sizeof(r->r_zmq_why));
	rmdir(dir);
	if (rv != 0) {
		bn_out(r, ROW, "B0z", what[0], "skipped", r->r_zmq_why);
		return;
	}
	r->r_zmq_msgs_s = res.r_msgs_s;
	snprintf(ow, sizeof(ow), "%.2f x B0 (median of 3 runs)",
	    res.r_msgs_s / r->r_b0_msgs_s);
	snprintf(rt, sizeof(rt), "p50 %.2f x B0",
	    (double)res.r_rtt.p_p50 / 1e3 / r->r_b0_rtt_p50_us);
	peer_rows(r, "B0z", &res, what, target);
}

/* ---- asks to bench actors ----------------------------------------------- */

/* {"op": op, "to": to|[to...], "count": n, "size": size} */
static void
pack_job(msgpack_sbuffer *sb, const char *op, const char *const *to,
    uint32_t nto, uint64_t n, uint64_t size)
{
	msgpack_packer pk;

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	bn_pack_op(&pk, op, 3);
	bn_pack_key(&pk, "to");
	if (nto == 1)
		bn_pack_key(&pk, to[0]);
	else {
		msgpack_pack_array(&pk, nto);
		for (uint32_t i = 0; i < nto; i++)
			bn_pack_key(&pk, to[i]);
	}
	bn_pack_key(&pk, "count");
	msgpack_pack_uint64(&pk, n);
	bn_pack_key(&pk, "size");
	msgpack_pack_uint64(&pk, size);
}

/* Asks actor `to` {"op": op} and returns field key of the answer. */
uint64_t
bn_op(struct bn_broker *b, const char *to, const char *op, const char *key)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_zone zone;
	msgpack_object o;
	uint64_t v;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	bn_pack_op(&pk, op, 0);
	msgpack_zone_init(&zone, 1024);
	bn_ask(b, to, sb.data, sb.size, &zone, &o);
	v = bn_get_u64(&o, key);
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&sb);
	return v;
}

struct job_res {
	uint64_t	 j_t0;
	uint64_t	 j_sent;
	uint64_t	 j_last;
};

/*
 * Runs "run" on every sender at once (one control link each, all asks
 * out before any answer is awaited); targets are shared.
 */
static void
run_jobs(struct bn_broker *b, const char *const *senders, uint32_t ns,
    const char *const *to, uint32_t nto, uint64_t n, uint64_t size,
    struct job_res *res)
{
	nng_socket s[FAN];
	msgpack_sbuffer sb;
	msgpack_zone zone;
	msgpack_object o;
	struct tp_env env;
	struct tp_err err;
	nng_msg *m;

	pack_job(&sb, "run", to, nto, n, size);
	msgpack_zone_init(&zone, 1024);
	for (uint32_t i = 0; i < ns; i++) {
		struct tp_env q = { .e_kind = TP_K_ASK, .e_id = i + 1,
		    .e_body = (uint8_t *)sb.data, .e_body_len = sb.size };

		bn_ctl_dial(b, &s[i], 120000);
		q.e_from = tp_slice_str("cli@bench");
		q.e_to = tp_slice_str(senders[i]);
		if (tp_send_env(s[i], &q, 0, &err) != 0)
			bn_die("run %s: %s", senders[i], err.e_msg);
	}
	for (uint32_t i = 0; i < ns; i++) {
		if (tp_recv_msg(s[i], &m, 0, &err) != 0 ||
		    tp_env_decode(nng_msg_body(m), nng_msg_len(m),
		    &tp_limits_default, &env, &err) != 0)
			bn_die("run %s: %s (see %s/trouped.log)", senders[i],
			    err.e_msg, b->br_dir);
		if (env.e_kind != TP_K_REPLY ||
		    tp_env_body(&env, &zone, &o, NULL) != 0)
			bn_die("run %s: answered %s %.*s", senders[i],
			    tp_kind_name(env.e_kind), (int)env.e_body_len,
			    (const char *)env.e_body);
		res[i].j_t0 = bn_get_u64(&o, "t0_ns");
		res[i].j_sent = bn_get_u64(&o, "sent");
		res[i].j_last = bn_get_u64(&o, "last_ns");
		nng_msg_free(m);
		nng_close(s[i]);
	}
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&sb);
}

/* Messages per second from the earliest start to the latest arrival. */
static double
job_rate(const struct job_res *res, uint32_t n, uint64_t last)
{
	uint64_t t0 = res[0].j_t0, sent = 0;

	for (uint32_t i = 0; i < n; i++) {
		t0 = res[i].j_t0 < t0 ? res[i].j_t0 : t0;
		last = res[i].j_last > last ? res[i].j_last : last;
		sent += res[i].j_sent;
	}
	return last > t0 ? (double)sent * 1e9 / (double)(last - t0) : 0;
}

/* One sender, targets to[], n messages of size bytes: msgs/s. */
double
bn_flow(struct bn_broker *b, const char *from, const char *const *to,
    uint32_t nto, uint64_t n, uint64_t size)
{
	struct job_res res;

	for (uint32_t i = 0; i < nto; i++)
		bn_op(b, to[i], "reset", "count");
	run_jobs(b, &from, 1, to, nto, n, size, &res);
	if (res.j_sent != n)
		bn_die("%s sent %llu of %llu", from,
		    (unsigned long long)res.j_sent, (unsigned long long)n);
	return job_rate(&res, 1, 0);
}

/* ---- B1 B2 B4 ----------------------------------------------------------- */

static const char *names_s[FAN] = { "s0", "s1", "s2", "s3", "s4", "s5", "s6",
    "s7", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15" };
static const char *names_k[FAN] = { "k0", "k1", "k2", "k3", "k4", "k5", "k6",
    "k7", "k8", "k9", "k10", "k11", "k12", "k13", "k14", "k15" };

static void
start_flow_broker(struct bn_run *r, struct bn_broker *b)
{
	char *buf, *conf;
	size_t len;
	uint64_t t0;
	FILE *f = bn_conf_open(&buf, &len, 17491);

	bn_conf_actor(f, "sink", r->r_actor);
	bn_conf_actor(f, "src", r->r_actor);
	bn_conf_actor(f, "echo", r->r_actor);
	for (int i = 0; i < FAN; i++) {
		bn_conf_actor(f, names_s[i], r->r_actor);
		bn_conf_actor(f, names_k[i], r->r_actor);
	}
	conf = bn_conf_close(f, &buf);
	t0 = bn_now_ns();
	bn_broker_start(b, r->r_bin, conf, NULL);
	free(conf);
	bn_broker_wait_ready(b, 3 + 2 * FAN, t0, 30000);
}

static void
row_rate(struct bn_run *r, const char *id, const char *what, double rate,
    size_t size, const char *target)
{
	char m[64], q[128];

	snprintf(m, sizeof(m), "%.0f msg/s, %.1f MB/s", rate,
	    rate * (double)size / 1e6);
	snprintf(q, sizeof(q), "%.2f x B0%s%s", rate / r->r_b0_msgs_s,
	    target ? " " : "", target ? target : "");
	bn_out(r, ROW, id, what, m, q);
}

/* B1 at 128 B against B0z of the same run; only when B0z was asked. */
static void
row_b1z(struct bn_run *r)
{
	char m[64], q[96];

	if (!bn_wanted(r, "B0z"))
		return;
	if (r->r_zmq_msgs_s <= 0) {
		bn_out(r, ROW, "B1z", "B1 128 B / ZeroMQ push/pull", "n/a",
		    "B0z skipped (required >= 0.5, goal >= 1)");
		return;
	}
	snprintf(m, sizeof(m), "%.0f / %.0f msg/s", r->r_b1_128_msgs_s,
	    r->r_zmq_msgs_s);
	snprintf(q, sizeof(q), "%.2f x ZeroMQ (required >= 0.5, goal >= 1)",
	    r->r_b1_128_msgs_s / r->r_zmq_msgs_s);
	bn_out(r, ROW, "B1z", "B1 128 B / ZeroMQ push/pull", m, q);
}

static void
case_b1(struct bn_run *r, struct bn_broker *b)
{
	static const size_t sizes[] = { 16, 128, 1024, 65536 };
	static const uint32_t counts[] = { 200000, 200000, 100000, 10000 };
	const char *sink = "sink";
	char what[64];

	bn_flow(b, "src", &sink, 1, bn_scale(r, 20000), 128);	/* warm */
	for (size_t i = 0; i < 4; i++) {
		double rate = bn_flow(b, "src", &sink, 1,
		    bn_scale(r, counts[i]), sizes[i]);

		snprintf(what, sizeof(what), "actor -> trouped -> actor, "
		    "%zu B", sizes[i]);
		row_rate(r, "B1", what, rate, sizes[i], sizes[i] == 128 ?
		    "(required >= 6, goal >= 12)" : NULL);
		if (sizes[i] == 128) {
			r->r_b1_128_msgs_s = rate;
			row_b1z(r);
		}
	}
}

void
bn_asks(struct bn_broker *b, const char *from, const char *to, uint32_t n,
    struct bn_pct *p)
{
	msgpack_sbuffer sb;
	msgpack_zone zone;
	msgpack_object o;

	msgpack_zone_init(&zone, 1024);
	for (int pass = 0; pass < 2; pass++) {	/* the first warms up */
		pack_job(&sb, "asks", &to, 1, pass ? n : n / 10 + 1, 128);
		bn_ask(b, from, sb.data, sb.size, &zone, &o);
		msgpack_sbuffer_destroy(&sb);
	}
	memset(p, 0, sizeof(*p));
	p->p_n = bn_get_u64(&o, "n");
	p->p_p50 = bn_get_u64(&o, "p50_ns");
	p->p_p90 = bn_get_u64(&o, "p90_ns");
	p->p_p99 = bn_get_u64(&o, "p99_ns");
	p->p_mean = (double)bn_get_u64(&o, "mean_ns");
	msgpack_zone_destroy(&zone);
}

static void
case_b2(struct bn_run *r, struct bn_broker *b, const char *id,
    const char *what)
{
	struct bn_pct p;
	double p50, p90, p99;
	char m[96], q[128];

	bn_asks(b, "src", "echo", bn_scale(r, 10000), &p);
	p50 = (double)p.p_p50 / 1e3;
	p90 = (double)p.p_p90 / 1e3;
	p99 = (double)p.p_p99 / 1e3;
	snprintf(m, sizeof(m), "p50 %.0f p90 %.0f p99 %.0f us", p50, p90,
	    p99);
	snprintf(q, sizeof(q), "p50 %.2f x B0 (required <= 2.0, goal <= 1.5); "
	    "p99 %.1f x p50 (<= 2)", p50 / r->r_b0_rtt_p50_us, p99 / p50);
	bn_out(r, ROW, id, what, m, q);
}

/* B2 again on a broker whose loop and actors busy-poll 50 us before they
 * sleep (node.spin_us, off by default): the idle strategy measured. */
static void
case_b2s(struct bn_run *r)
{
	struct bn_broker b;
	char *buf, *conf;
	size_t len;
	uint64_t t0;
	FILE *f = bn_conf_open_node(&buf, &len, 17491, "spin_us = 50\n");

	bn_conf_actor(f, "src", r->r_actor);
	bn_conf_actor(f, "echo", r->r_actor);
	conf = bn_conf_close(f, &buf);
	t0 = bn_now_ns();
	bn_broker_start(&b, r->r_bin, conf, NULL);
	free(conf);
	bn_broker_wait_ready(&b, 2, t0, 30000);
	case_b2(r, &b, "B2s", "ask, node spin_us = 50, 128 B");
	bn_broker_stop(&b, 60000);
}

static void
case_b4(struct bn_run *r, struct bn_broker *b)
{
	struct job_res res[FAN];
	const char *sink = "sink";
	uint32_t per = bn_scale(r, 200000) / FAN;
	char q[64];
	double rate;

	bn_op(b, "sink", "reset", "count");
	run_jobs(b, names_s, FAN, &sink, 1, per, 128, res);
	rate = job_rate(res, FAN, bn_op(b, "sink", "stats", "last_ns"));
	if (bn_op(b, "sink", "stats", "count") != (uint64_t)per * FAN)
		bn_die("B4: the sink lost messages");
	row_rate(r, "B4", "fan-in 16 actors -> 1 actor, 128 B", rate, 128,
	    NULL);
	rate = bn_flow(b, "src", names_k, FAN, bn_scale(r, 200000), 128);
	if (r->r_b1_128_msgs_s > 0)
		snprintf(q, sizeof(q), "%.2f x B1 (target >= 0.5 x B1)",
		    rate / r->r_b1_128_msgs_s);
	row_rate(r, "B4", "fan-out 1 actor -> 16 actors, 128 B", rate, 128,
	    r->r_b1_128_msgs_s > 0 ? q : NULL);
}

static void
flow_rows(struct bn_run *r)
{
	struct bn_broker b;

	start_flow_broker(r, &b);
	if (bn_wanted(r, "B1"))
		case_b1(r, &b);
	if (bn_wanted(r, "B2"))
		case_b2(r, &b, "B2", "ask actor -> trouped -> actor, 128 B");
	if (bn_wanted(r, "B4"))
		case_b4(r, &b);
	bn_broker_stop(&b, 60000);
}

void
bn_case_b1_b2_b4(struct bn_run *r)
{
	if (bn_wanted(r, "B1") || bn_wanted(r, "B2") || bn_wanted(r, "B4"))
		flow_rows(r);
	if (bn_wanted(r, "B2s"))	/* on 17491 too, once it is free */
		case_b2s(r);
}

/*
 * bn_client — the client rows (issue 15) on one trouped of their own
 * with a sink and an echo: B9 (libtroupe's client API sending to the
 * sink), B9a (client asks to the echo), B9s (`troupe bench send`), and
 * B9c (`troupe send sink -` against mosquitto_pub: bn_stream).  Each is
 * a ratio to B0 or B1 measured earlier in the same run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "bn_cases.h"
#include "tp_err.h"
#include "troupe.h"

#define ROW "%-4s %-44s %-34s %s\n"
#define B9_PORT 17490
#define B9S_CAP_MS 120000

static void
start_b9_broker(struct bn_run *r, struct bn_broker *b)
{
	char *buf, *conf;
	size_t len;
	uint64_t t0;
	FILE *f = bn_conf_open(&buf, &len, B9_PORT);

	bn_conf_actor(f, "sink", r->r_actor);
	bn_conf_actor(f, "echo", r->r_actor);
	conf = bn_conf_close(f, &buf);
	t0 = bn_now_ns();
	bn_broker_start(b, r->r_bin, conf, NULL);
	free(conf);
	bn_broker_wait_ready(b, 2, t0, 30000);
}

/* "x.xx x B1 128 B (target)" or why there is no ratio. */
static void
vs_b1(const struct bn_run *r, double rate, const char *target, char *buf,
    size_t len)
{
	if (r->r_b1_128_msgs_s > 0)
		snprintf(buf, len, "%.2f x B1 128 B %s", rate /
		    r->r_b1_128_msgs_s, target);
	else
		snprintf(buf, len, "no B1 in this run %s", target);
}

struct troupe_client *
bn_client_open(const char *id, struct bn_broker *b)
{
	struct troupe_client *c;

	if (troupe_client_open(b->br_ctl_url, 5000, &c) != 0)
		bn_die("%s: no client link: %s (see %s/trouped.log)", id,
		    troupe_client_open_error(), b->br_dir);
	return c;
}

void
bn_tally_cb(void *arg, const struct troupe_result *res)
{
	struct bn_tally *t = arg;

	if (res->tr_code == 0)
		t->t_ok++;
	else if (t->t_failed++ == 0)
		t->t_first = res->tr_code;
}

const char *
bn_code_text(int code)
{
	static char buf[32];

	if (code < 0)
		return tp_strerror(code);
	snprintf(buf, sizeof(buf), "broker error %d", code);
	return buf;
}

/* n sends of a 128 B bin to the sink, as fast as the window lets them
 * out, then a flush; msgs/s from the first send to the sink's last
 * arrival (B1's clock). */
static double
client_flow(struct bn_broker *b, struct troupe_client *c, uint32_t n)
{
	struct bn_tally t = { 0, 0, 0 };
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint64_t t0, last;
	int rv;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	bn_pack_bin_exact(&pk, 128);
	bn_op(b, "sink", "reset", "count");
	troupe_client_set_cb(c, bn_tally_cb, &t);
	t0 = bn_now_ns();
	for (uint32_t i = 0; i < n; i++)
		if ((rv = troupe_client_send(c, "sink", sb.data, sb.size,
		    NULL, NULL)) != 0)
			bn_die("B9: send %u: %s", i, bn_code_text(rv));
	if ((rv = troupe_client_flush(c, 60000)) != 0)
		bn_die("B9: flush: %s", bn_code_text(rv));
	if (t.t_ok != n)
		bn_die("B9: %llu of %u sends placed, %llu refused (%s)",
		    (unsigned long long)t.t_ok, n,
		    (unsigned long long)t.t_failed, bn_code_text(t.t_first));
	last = bn_op(b, "sink", "stats", "last_ns");
	if (bn_op(b, "sink", "stats", "count") != n)
		bn_die("B9: the sink lost messages");
	msgpack_sbuffer_destroy(&sb);
	return last > t0 ? (double)n * 1e9 / (double)(last - t0) : 0;
}

static void
case_b9(struct bn_run *r, struct bn_broker *b, struct troupe_client *c)
{
	uint32_t n = bn_scale(r, 200000);
	double rate;
	char m[64], q[128];

	client_flow(b, c, bn_scale(r, 20000));		/* warm up */
	rate = client_flow(b, c, n);
	snprintf(m, sizeof(m), "%.0f msg/s, %.1f MB/s", rate, rate * 128 /
	    1e6);
	vs_b1(r, rate, "(target >= 1)", q, sizeof(q));
	bn_out(r, ROW, "B9", "client API -> trouped -> actor, 128 B", m, q);
}

/* n asks of B2's body ({"op":"ping","pad":bin}, about 128 B) to the
 * echo, one at a time; round trips into p. */
static void
client_asks(struct troupe_client *c, uint32_t n, struct bn_pct *p)
{
	struct troupe_reply rep;
	struct troupe_body body;
	uint64_t *rtt, t0;
	int rv;

	if ((rtt = calloc(n, sizeof(*rtt))) == NULL)
		bn_die("out of memory");
	troupe_body_init(&body);
	troupe_body_map(&body, 2);
	troupe_body_str(&body, "op");
	troupe_body_str(&body, "ping");
	troupe_body_str(&body, "pad");
	bn_pack_bin_exact(&body.b_pk, 128 - 16);
	for (uint32_t i = 0; i < n; i++) {
		t0 = bn_now_ns();
		rv = troupe_client_ask(c, "echo", troupe_body_data(&body),
		    troupe_body_len(&body), 10000, &rep);
		rtt[i] = bn_now_ns() - t0;
		troupe_reply_free(&rep);
		if (rv != 0)
			bn_die("B9a: ask %u: %s", i, bn_code_text(rv));
	}
	bn_pct(rtt, n, p);
	troupe_body_free(&body);
	free(rtt);
}

static void
case_b9a(struct bn_run *r, struct troupe_client *c)
{
	uint32_t n = bn_scale(r, 10000);
	struct bn_pct p;
	double p50, p90, p99;
	char m[96], q[128];

	client_asks(c, n / 10 + 1, &p);		/* warm up */
	client_asks(c, n, &p);
	p50 = (double)p.p_p50 / 1e3;
	p90 = (double)p.p_p90 / 1e3;
	p99 = (double)p.p_p99 / 1e3;
	snprintf(m, sizeof(m), "p50 %.0f p90 %.0f p99 %.0f us", p50, p90,
	    p99);
	if (r->r_b0_rtt_p50_us > 0)
		snprintf(q, sizeof(q), "p50 %.2f x B0 RTT (target <= 2.0)",
		    p50 / r->r_b0_rtt_p50_us);
	else
		snprintf(q, sizeof(q), "no B0 in this run (target <= 2.0 x "
		    "B0 RTT)");
	bn_out(r, ROW, "B9a", "client ask -> trouped -> actor, 128 B", m, q);
}

/* ---- B9s: the CLI's own bench ----------------------------------------- */

/* "flow" ("async" or "sync") of a `troupe bench --json` object; a CLI
 * from before client links has none and was sync. */
static void
bench_flow(json_t *j, char *flow, size_t len)
{
	const char *keys[] = { "flow", "mode" };
	json_t *v;

	for (size_t i = 0; i < 2; i++) {
		v = json_object_get(j, keys[i]);
		if (json_is_string(v) && (strcmp(json_string_value(v),
		    "async") == 0 || strcmp(json_string_value(v), "sync") ==
		    0)) {
			snprintf(flow, len, "%s", json_string_value(v));
			return;
		}
	}
	snprintf(flow, len, "sync: old CLI");
}

/* msgs_per_s and flow of `troupe bench --json`'s object in path; 0 when
 * it is not there. */
static double
bench_json(const char *path, char *flow, size_t len)
{
	json_error_t jerr;
	json_t *j, *v;
	double rate = 0;

	snprintf(flow, len, "?");
	if ((j = json_load_file(path, 0, &jerr)) == NULL)
		return 0;
	if ((v = json_object_get(j, "msgs_per_s")) != NULL &&
	    json_is_number(v))
		rate = json_number_value(v);
	bench_flow(j, flow, len);
	json_decref(j);
	return rate;
}

static void
case_b9s(struct bn_run *r, struct bn_broker *b)
{
	char prog[PATH_MAX + 16], count[16], out[320], err[320];
	char flow[32], m[96], q[160], st[32];
	char *argv[] = { prog, "--broker", b->br_ctl_url, "--json", "bench",
	    "send", "sink", "--count", count, "--size", "128", NULL };
	int status = 0;
	double rate;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s/troupe", r->r_bindir);
	snprintf(count, sizeof(count), "%u", bn_scale(r, 200000));
	snprintf(out, sizeof(out), "%s/b9s.json", b->br_dir);
	snprintf(err, sizeof(err), "%s/b9s.err", b->br_dir);
	if ((pid = bn_proc_spawn(argv, NULL, NULL, out, err)) < 0)
		bn_die("B9s: cannot start %s: %s", prog, strerror(errno));
	if (bn_proc_wait(pid, B9S_CAP_MS, &status) != 0) {
		bn_proc_stop(pid, 2000);
		bn_out(r, ROW, "B9s", "`troupe bench send sink`, 1 sender",
		    "no result: still running at 120 s", "(target >= 0.8 x B1)");
		return;
	}
	rate = bench_json(out, flow, sizeof(flow));
	if (status != 0 || rate <= 0) {
		snprintf(m, sizeof(m), "failed: %s, no msgs_per_s",
		    bn_proc_status(status, st, sizeof(st)));
		bn_out(r, ROW, "B9s", "`troupe bench send sink`, 1 sender", m,
		    "(target >= 0.8 x B1)");
		return;
	}
	snprintf(m, sizeof(m), "%.0f msg/s (%s)", rate, flow);
	vs_b1(r, rate, "(target >= 0.8)", q, sizeof(q));
	bn_out(r, ROW, "B9s", "`troupe bench send sink`, 1 sender, 128 B", m,
	    q);
}

void
bn_case_b9(struct bn_run *r)
{
	struct troupe_client *c;
	struct bn_broker b;

	if (!bn_wanted(r, "B9") && !bn_wanted(r, "B9a") &&
	    !bn_wanted(r, "B9c") && !bn_wanted(r, "B9s"))
		return;
	start_b9_broker(r, &b);
	c = bn_client_open("B9", &b);
	if (bn_wanted(r, "B9"))
		case_b9(r, &b, c);
	if (bn_wanted(r, "B9a"))
		case_b9a(r, c);
	troupe_client_close(c, 5000);
	if (bn_wanted(r, "B9s"))
		case_b9s(r, &b);
	if (bn_wanted(r, "B9c"))
		bn_case_b9c(r, &b);
	bn_broker_stop(&b, 60000);
}

/*
 * bn_life — B5 (1,000 actors: memory, start, stop), B6 (restart latency
 * after kill -9) and B8 (broker instructions per routed message under
 * callgrind).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bn_cases.h"

#define ROW "%-4s %-44s %-34s %s\n"
#define B5_ACTORS 1000

static void
start_n(struct bn_run *r, struct bn_broker *b, uint32_t n, const char *exec,
    int port, char *const *wrap, double *ready_ms)
{
	char *buf, *conf, name[32];
	size_t len;
	uint64_t t0;
	FILE *f = bn_conf_open(&buf, &len, port);

	for (uint32_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), n == 1 ? "victim" : "a%u", i);
		bn_conf_actor(f, name, exec);
	}
	conf = bn_conf_close(f, &buf);
	t0 = bn_now_ns();
	bn_broker_start(b, r->r_bin, conf, wrap);
	free(conf);
	*ready_ms = bn_broker_wait_ready(b, n, t0, wrap ? 120000 : 60000);
}

/* ---- B5 ---------------------------------------------------------------- */

void
bn_case_b5(struct bn_run *r)
{
	uint32_t n = r->r_quick ? 100 : B5_ACTORS;
	char exec[PATH_MAX + 16], m[96], q[160];
	double ready, stop, per;
	long rss1, rssn, actor;
	struct bn_broker b;
	pid_t pid = 0;

	if (!bn_wanted(r, "B5"))
		return;
	snprintf(exec, sizeof(exec), "%s/troupe-echo", r->r_bindir);
	start_n(r, &b, 1, exec, 17492, NULL, &ready);
	rss1 = bn_rss_kib(b.br_pid);
	bn_broker_stop(&b, 30000);
	start_n(r, &b, n, exec, 17493, NULL, &ready);
	usleep(500000);		/* let the last hellos settle */
	rssn = bn_rss_kib(b.br_pid);
	bn_broker_actors(&b, &pid, 1);
	actor = bn_rss_kib(pid);
	stop = bn_broker_stop(&b, 240000);
	per = (double)(rssn - rss1) / (double)(n - 1);
	snprintf(m, sizeof(m), "broker %.1f KiB/actor, actor %ld KiB RSS",
	    per, actor);
	snprintf(q, sizeof(q), "target <= 64 KiB/actor (broker %ld -> %ld "
	    "KiB)", rss1, rssn);
	bn_out(r, "%-4s %-44s %-34s %s\n", "B5", "1,000 idle actors: memory",
	    m, q);
	snprintf(m, sizeof(m), "start %.2f s, stop %.2f s", ready / 1e3,
	    stop / 1e3);
	bn_out(r, ROW, "B5", n == B5_ACTORS ? "1,000 actors: start all, "
	    "stop all" : "100 actors (--quick): start, stop", m,
	    "target start < 5 s");
}

/* ---- B6 ---------------------------------------------------------------- */

void
bn_case_b6(struct bn_run *r)
{
	uint32_t kills = r->r_quick ? 10 : 100;
	uint64_t *lat, t0;
	struct bn_broker b;
	struct bn_pct p;
	char m[96];
	double ready;
	pid_t pid, npid;

	if (!bn_wanted(r, "B6"))
		return;
	if ((lat = calloc(kills, sizeof(*lat))) == NULL)
		bn_die("out of memory");
	start_n(r, &b, 1, r->r_actor, 17494, NULL, &ready);
	pid = (pid_t)bn_op(&b, "victim", "stats", "pid");
	for (uint32_t i = 0; i < kills; i++) {
		if (kill(pid, SIGKILL) != 0)
			bn_die("B6: kill %ld: %s", (long)pid, strerror(errno));
		t0 = bn_now_ns();
		/* queued while the actor is down, answered by the next one */
		npid = (pid_t)bn_op(&b, "victim", "stats", "pid");
		lat[i] = bn_now_ns() - t0;
		if (npid == pid || npid == 0)
			bn_die("B6: the same actor answered after kill -9");
		pid = npid;
	}
	bn_broker_stop(&b, 30000);
	bn_pct(lat, kills, &p);
	free(lat);
	snprintf(m, sizeof(m), "p50 %.1f p99 %.1f ms (%u kills)",
	    (double)p.p_p50 / 1e6, (double)p.p_p99 / 1e6, kills);
	bn_out(r, ROW, "B6", "restart: kill -9 -> answering again", m,
	    "target p99 < 100 ms (backoff_min 0)");
}

/* ---- B8 ---------------------------------------------------------------- */

/* The "summary:" (or "totals:") line of a callgrind out file. */
static double
cg_total(const char *path)
{
	char line[512];
	double v = -1;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		bn_die("B8: %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "summary: %lf", &v) == 1 ||
		    sscanf(line, "totals: %lf", &v) == 1)
			break;
	fclose(f);
	if (v < 0)
		bn_die("B8: no totals in %s", path);
	return v;
}

/* Instructions trouped ran (all its threads) for a whole run that routes
 * n messages of 128 B from one bench actor to another. */
static double
cg_run(struct bn_run *r, uint64_t n, const char *out)
{
	char arg[PATH_MAX + 32];
	char *wrap[] = { "valgrind", "--tool=callgrind", "-q", arg, NULL };
	const char *sink = "sink";
	struct bn_broker b;
	char *buf, *conf;
	size_t len;
	uint64_t t0;
	FILE *f;

	snprintf(arg, sizeof(arg), "--callgrind-out-file=%s", out);
	f = bn_conf_open(&buf, &len, 17495);
	bn_conf_actor(f, "sink", r->r_actor);
	bn_conf_actor(f, "src", r->r_actor);
	conf = bn_conf_close(f, &buf);
	t0 = bn_now_ns();
	bn_broker_start(&b, r->r_bin, conf, wrap);
	free(conf);
	bn_broker_wait_ready(&b, 2, t0, 120000);
	bn_flow(&b, "src", &sink, 1, n, 128);
	bn_broker_stop(&b, 120000);
	return cg_total(out);
}

void
bn_case_b8(struct bn_run *r)
{
	uint64_t few = 1000, many = few + (r->r_quick ? 10000 : 100000);
	char out[PATH_MAX + 32], m[96];
	double base, big, per;

	if (!bn_wanted(r, "B8"))
		return;
	if (access("/usr/bin/valgrind", X_OK) != 0) {
		bn_out(r, ROW, "B8", "broker instructions per routed message",
		    "n/a (valgrind not installed)", "target < 10,000");
		return;
	}
	snprintf(out, sizeof(out), "%s.cg-few", r->r_outpath ?
	    r->r_outpath : "/tmp/troupe-bench");
	base = cg_run(r, few, out);
	snprintf(out, sizeof(out), "%s.cg-many", r->r_outpath ?
	    r->r_outpath : "/tmp/troupe-bench");
	big = cg_run(r, many, out);
	per = (big - base) / (double)(many - few);
	snprintf(m, sizeof(m), "%.0f instr/msg (%llu msgs, 128 B)", per,
	    (unsigned long long)(many - few));
	bn_out(r, ROW, "B8", "broker instructions per routed message", m,
	    "target < 10,000 (callgrind, all threads)");
}

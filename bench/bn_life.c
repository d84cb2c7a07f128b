/*
 * bn_life — B5 (1,000 actors: memory, start, stop), B6 (restart latency
 * after kill -9) and B8 (instructions per routed message under
 * callgrind: the broker, B8s the sender, B8k the sink).
 */
#include <errno.h>
#include <limits.h>
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

/* Instructions of one whole callgrind run (B8, B8s, B8k). */
struct cg_totals {
	double		 t_broker;	/* trouped, all its threads */
	double		 t_src;		/* the sender */
	double		 t_sink;
};

/* Actor name's profile out.NAME.PID, renamed out.NAME to be kept next
 * to the broker's; returns its total. */
static double
cg_actor(const char *out, const char *name, pid_t pid)
{
	char from[PATH_MAX + 64], to[PATH_MAX + 64];

	snprintf(from, sizeof(from), "%s.%s.%ld", out, name, (long)pid);
	snprintf(to, sizeof(to), "%s.%s", out, name);
	if (rename(from, to) != 0)
		bn_die("B8: %s: %s", from, strerror(errno));
	return cg_total(to);
}

/* Runs trouped under callgrind, and its actors src and sink under it
 * too (BN_CALLGRIND_OUT: bench_actor.c), for a whole run that routes n
 * messages of 128 B from src to sink.  The variable reaches the actors
 * through trouped's environment; it is ours only for the spawn.  An
 * actor under valgrind stops in about a second, within `shutdown`. */
static void
cg_run(struct bn_run *r, uint64_t n, const char *out, struct cg_totals *t)
{
	char arg[PATH_MAX + 32];
	/* fair scheduling: without it a thread spinning on a lock nng's
	 * reaper holds (at close) runs until valgrind's time slice ends,
	 * and a whole run's count moved by hundreds of millions */
	char *wrap[] = { "valgrind", "--tool=callgrind", "-q",
	    "--fair-sched=yes", arg, NULL };
	const char *sink = "sink";
	struct bn_broker b;
	char *buf, *conf;
	pid_t src_pid, sink_pid;
	size_t len;
	uint64_t t0;
	FILE *f;

	snprintf(arg, sizeof(arg), "--callgrind-out-file=%s", out);
	f = bn_conf_open(&buf, &len, 17495);
	bn_conf_actor(f, "sink", r->r_actor);
	fprintf(f, "shutdown = 60s\n\n");
	bn_conf_actor(f, "src", r->r_actor);
	fprintf(f, "shutdown = 60s\n\n");
	conf = bn_conf_close(f, &buf);
	t0 = bn_now_ns();
	if (setenv("BN_CALLGRIND_OUT", out, 1) != 0)
		bn_die("setenv: %s", strerror(errno));
	bn_broker_start(&b, r->r_bin, conf, wrap);
	unsetenv("BN_CALLGRIND_OUT");
	free(conf);
	bn_broker_wait_ready(&b, 2, t0, 120000);
	bn_flow(&b, "src", &sink, 1, n, 128);
	src_pid = (pid_t)bn_op(&b, "src", "stats", "pid");
	sink_pid = (pid_t)bn_op(&b, "sink", "stats", "pid");
	bn_broker_stop(&b, 120000);
	t->t_broker = cg_total(out);
	t->t_src = cg_actor(out, "src", src_pid);
	t->t_sink = cg_actor(out, "sink", sink_pid);
}

/* One B8 row: instructions per message between the two runs. */
static void
cg_row(struct bn_run *r, const char *id, const char *what, double few,
    double many, uint64_t n, const char *target)
{
	char m[96];

	snprintf(m, sizeof(m), "%.0f instr/msg (%llu msgs, 128 B)",
	    (many - few) / (double)n, (unsigned long long)n);
	bn_out(r, ROW, id, what, m, target);
}

void
bn_case_b8(struct bn_run *r)
{
	static const char *what[] = { "broker instructions per routed message",
	    "sender instructions per message",
	    "sink instructions per message" };
	static const char *target[] = { "required <= 2,000, goal <= 1,000 "
	    "(callgrind, all threads)", "<= 1,000 (required)",
	    "<= 1,000 (required)" };
	uint64_t few = 1000, many = few + (r->r_quick ? 10000 : 100000);
	const char *base = r->r_outpath ? r->r_outpath : "/tmp/troupe-bench";
	char out[PATH_MAX + 32];
	struct cg_totals a, b;

	if (!bn_wanted(r, "B8"))
		return;
	if (access("/usr/bin/valgrind", X_OK) != 0) {
		bn_out(r, ROW, "B8", what[0], "n/a (valgrind not installed)",
		    target[0]);
		bn_out(r, ROW, "B8s", what[1], "n/a", target[1]);
		bn_out(r, ROW, "B8k", what[2], "n/a", target[2]);
		return;
	}
	snprintf(out, sizeof(out), "%s.cg-few", base);
	cg_run(r, few, out, &a);
	snprintf(out, sizeof(out), "%s.cg-many", base);
	cg_run(r, many, out, &b);
	cg_row(r, "B8", what[0], a.t_broker, b.t_broker, many - few,
	    target[0]);
	cg_row(r, "B8s", what[1], a.t_src, b.t_src, many - few, target[1]);
	cg_row(r, "B8k", what[2], a.t_sink, b.t_sink, many - few, target[2]);
}

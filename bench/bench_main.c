/*
 * bench_main — the `make bench` driver: runs B0..B11 of docs/PERFORMANCE.md
 * on this machine, side by side in one run, and prints one table (also
 * written to --out).  Ratios within one run are what count: absolute
 * figures move with the machine's load.
 *
 *   bench_main --bin DIR [--out FILE] [--quick] [--only B1,B5,...]
 *   bench_main --nng-peer URL      (B0's second process)
 *   bench_main --zmq-peer DIR      (B0z's)
 */
#define _GNU_SOURCE		/* mkdtemp */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bn.h"
#include "bn_nng.h"
#include "bn_cases.h"

static void
usage(void)
{
	fprintf(stderr, "usage: bench_main --bin DIR [--out FILE] [--quick] "
	    "[--only B0,B1,...]\n");
	exit(64);
}

static void
parse(int argc, char **argv, struct bn_run *r)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--quick") == 0)
			r->r_quick = true;
		else if (i + 1 >= argc)
			usage();
		else if (strcmp(a, "--bin") == 0)
			r->r_bin = argv[++i];
		else if (strcmp(a, "--out") == 0)
			r->r_outpath = argv[++i];
		else if (strcmp(a, "--only") == 0)
			r->r_only = argv[++i];
		else
			usage();
	}
	if (r->r_bin == NULL)
		usage();
}

/* The programs the configs name must be absolute: trouped resolves a
 * relative path against its own directory. */
static void
paths(struct bn_run *r, const char *argv0)
{
	char self[PATH_MAX], bin[PATH_MAX];
	char *slash;

	if (realpath("/proc/self/exe", self) == NULL ||
	    realpath(r->r_bin, bin) == NULL)
		bn_die("cannot resolve %s or %s: %s", argv0, r->r_bin,
		    strerror(errno));
	snprintf(r->r_self, sizeof(r->r_self), "%s", self);
	snprintf(r->r_bindir, sizeof(r->r_bindir), "%s", bin);
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	snprintf(r->r_actor, sizeof(r->r_actor), "%s/bench_actor", self);
	if (access(r->r_actor, X_OK) != 0)
		bn_die("%s: %s", r->r_actor, strerror(errno));
}

static void
header(struct bn_run *r)
{
	char mach[300], when[64];
	time_t now = time(NULL);

	bn_machine(mach, sizeof(mach));
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	bn_out(r, "troupe bench, %s%s\n", when, r->r_quick ? " (--quick)" :
	    "");
	bn_out(r, "machine: %s\n\n", mach);
	bn_out(r, "%-4s %-44s %-34s %s\n", "row", "what", "measured",
	    "ratio / target");
	bn_out(r, "%-4s %-44s %-34s %s\n", "---", "----", "--------",
	    "--------------");
}

/* Interrupted or told to stop: take every process we started along. */
static void
on_signal(int sig)
{
	bn_proc_abort_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int
main(int argc, char **argv)
{
	struct bn_run r;
	uint64_t t0 = bn_now_ns();

	if (argc == 3 && strcmp(argv[1], "--nng-peer") == 0)
		return bn_nng_peer(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--zmq-peer") == 0)
		return bn_zmq_peer(argv[2]);
	memset(&r, 0, sizeof(r));
	parse(argc, argv, &r);
	paths(&r, argv[0]);
	signal(SIGPIPE, SIG_IGN);
	catch_signals();
	if (r.r_outpath != NULL && (r.r_out = fopen(r.r_outpath, "w")) ==
	    NULL)
		bn_die("%s: %s", r.r_outpath, strerror(errno));
	header(&r);
	bn_case_b0(&r);
	bn_case_b0z(&r);
	bn_case_b1_b2_b4(&r);
	bn_case_b3(&r);
	bn_case_b5(&r);
	bn_case_b6(&r);
	bn_case_b7(&r);
	bn_case_b8(&r);
	bn_case_b9(&r);
	bn_case_b10(&r);
	bn_case_b11(&r);
	bn_out(&r, "\nbench took %.0f s\n", (double)(bn_now_ns() - t0) / 1e9);
	if (r.r_out != NULL && fclose(r.r_out) != 0)
		bn_die("%s: %s", r.r_outpath, strerror(errno));
	return 0;
}

/*
 * bn_cases — the benchmark rows B0..B11 (docs/PERFORMANCE.md); each prints
 * its rows with bn_out and keeps what later rows compare against.
 */
#ifndef BN_CASES_H
#define BN_CASES_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "bn.h"

struct bn_run {
	const char	*r_bin;		/* dir of trouped, troupe-* */
	const char	*r_outpath;
	const char	*r_only;	/* "B1,B5" or NULL = all */
	bool		 r_quick;	/* smaller counts: a smoke run */
	FILE		*r_out;
	char		 r_self[PATH_MAX];	/* this program */
	char		 r_bindir[PATH_MAX];
	char		 r_actor[PATH_MAX + 16];	/* bench_actor */
	double		 r_b0_msgs_s;	/* B0 one-way, 128 B */
	double		 r_b0_rtt_p50_us;
	double		 r_b1_128_msgs_s;
	double		 r_zmq_msgs_s;	/* B0z one-way, 128 B; 0: not run */
	char		 r_zmq_why[160];	/* why B0z was skipped */
};

/* printf to stdout and the results file. */
void bn_out(struct bn_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* True when row id (e.g. "B5") is to run. */
bool bn_wanted(const struct bn_run *r, const char *id);

/* n, or n / 20 with --quick. */
uint32_t bn_scale(const struct bn_run *r, uint32_t n);

/* A config in memory: the node (listening on 127.0.0.1:port) and a root
 * supervisor that restarts at once and never gives up; then actors; then
 * close, which returns the text (*buf, the caller's free). */
FILE *bn_conf_open(char **buf, size_t *len, int port);
/* The same with node (lines, "" for none) added to its [node] section. */
FILE *bn_conf_open_node(char **buf, size_t *len, int port,
    const char *node);
void bn_conf_actor(FILE *f, const char *name, const char *exec);
char *bn_conf_close(FILE *f, char **buf);

/* Asks bench actor `to` {"op": op}; returns field key of the answer. */
uint64_t bn_op(struct bn_broker *b, const char *to, const char *op,
    const char *key);

/* Has bench actor `from` send n bodies of size bytes round-robin to
 * to[0..nto); returns msgs/s from its first send to the last arrival. */
double bn_flow(struct bn_broker *b, const char *from, const char *const *to,
    uint32_t nto, uint64_t n, uint64_t size);

/* Has bench actor `from` ask `to` n times, one at a time, 128 B; the
 * round trips (ns) go to p. */
void bn_asks(struct bn_broker *b, const char *from, const char *to,
    uint32_t n, struct bn_pct *p);

void bn_case_b0(struct bn_run *r);
/* B0z: ZeroMQ, or a skipped row with the reason (no libzmq). */
void bn_case_b0z(struct bn_run *r);
void bn_case_b1_b2_b4(struct bn_run *r);
void bn_case_b3(struct bn_run *r);
void bn_case_b5(struct bn_run *r);
void bn_case_b6(struct bn_run *r);
void bn_case_b7(struct bn_run *r);
void bn_case_b8(struct bn_run *r);
/* Client links of the rows (bn_client): one opened on b's ctl.sock or
 * the bench dies naming id; the results of asynchronous sends tallied
 * by a callback (arg: the struct bn_tally); a result code as text. */
struct troupe_client;
struct troupe_result;
struct bn_tally {
	uint64_t	 t_ok;
	uint64_t	 t_failed;
	int		 t_first;	/* code of the first failure */
};
struct troupe_client *bn_client_open(const char *id, struct bn_broker *b);
void bn_tally_cb(void *arg, const struct troupe_result *res);
const char *bn_code_text(int code);

/* B9, B9a, B9s, B9c: clients (issue 15), on one broker of their own. */
void bn_case_b9(struct bn_run *r);
/* B9c on b, whose actor "sink" counts what it gets (bn_stream). */
void bn_case_b9c(struct bn_run *r, struct bn_broker *b);
/* B10: one actor against pools of 2 and 4, a CPU-bound handler; B11:
 * a topic published to 1, 4, 16 subscribers (issue 17, bn_pool). */
void bn_case_b10(struct bn_run *r);
void bn_case_b11(struct bn_run *r);

#endif

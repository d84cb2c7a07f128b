/*
 * bn — helpers shared by the benchmark programs of `make bench`: clocks,
 * percentiles, msgpack bodies of an exact size, the machine's name, and a
 * trouped started from a config text with a control-link client.
 *
 * Benchmarks are not product code: they exit on setup failures with one
 * line on stderr (bn_die) instead of unwinding.
 */
#ifndef BN_H
#define BN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <msgpack.h>
#include <nng/nng.h>

#include "tp_env.h"

/* CLOCK_MONOTONIC in ns: one clock for every process of the machine, so
 * a sender's and a sink's stamps can be subtracted. */
uint64_t bn_now_ns(void);

/* Prints "bench: <text>" and exits 1. */
void bn_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

struct bn_pct {
	uint64_t	 p_n;
	uint64_t	 p_p50, p_p90, p_p99, p_max;
	double		 p_mean;
};

/* Sorts v (n samples) in place and fills out; n == 0 gives zeros. */
void bn_pct(uint64_t *v, size_t n, struct bn_pct *out);

/*
 * Packs into pk a msgpack bin whose whole encoding is exactly size bytes
 * (size >= 2; header 2, 3 or 5 bytes, then filler), so that "a 128-byte
 * body" is 128 bytes on the wire.
 */
int bn_pack_bin_exact(msgpack_packer *pk, size_t size);

/* Writes "CPU model, N cores" into buf. */
void bn_machine(char *buf, size_t len);

/* Resident set of pid in KiB, or -1. */
long bn_rss_kib(pid_t pid);

/* A trouped running in its own temp dir, and a control-link socket. */
struct bn_broker {
	pid_t		 br_pid;
	char		 br_dir[256];
	char		 br_run[300];
	char		 br_ctl_url[320];
	nng_socket	 br_ctl;
	bool		 br_ctl_open;
	uint64_t	 br_next_id;
};

/*
 * Writes conf to a new temp dir and starts bin_dir/trouped on it with
 * TROUPE_RUN_DIR inside that dir; stdout and stderr go to its
 * trouped.log; the config names the node.  wrap (NULL = none) is a
 * NULL-ended argv put in front (e.g. valgrind).  Exits on failure.
 */
void bn_broker_start(struct bn_broker *b, const char *bin_dir,
    const char *conf, char *const *wrap);

/* Waits until the broker answers and n actors are running; returns the
 * ms it took from bn_broker_start's spawn (t_spawn_ns). */
double bn_broker_wait_ready(struct bn_broker *b, uint32_t n,
    uint64_t t_spawn_ns, int timeout_ms);

/* Asks for the actor table: returns how many actors run and stores up to
 * max of their pids (pids may be NULL when max is 0). */
uint32_t bn_broker_actors(struct bn_broker *b, pid_t *pids, uint32_t max);

/* kill -9 and reap b (a node failure); bn_broker_stop then only cleans
 * up its dir. */
void bn_broker_kill9(struct bn_broker *b);

/*
 * The processes a bench starts (bn_proc).  bn_proc_spawn starts argv
 * (PATH searched) with envp (NULL: ours) and stdin, stdout, stderr
 * opened on the files given (NULL: inherited; err == out shares one
 * file); returns its pid, which is tracked until reaped, or -1 with
 * errno.
 */
pid_t bn_proc_spawn(char *const *argv, char *const *envp, const char *in,
    const char *out, const char *err);

/* Our environment with TROUPE_RUN_DIR=run_dir (NULL: unchanged); a
 * static array, valid until the next call. */
char **bn_proc_env(const char *run_dir);

/* Waits up to timeout_ms (< 0: forever) for pid to exit: 0 with its
 * wait status in *status (may be NULL), or -1 (still running). */
int bn_proc_wait(pid_t pid, int timeout_ms, int *status);

/* SIGTERM, wait up to timeout_ms, then SIGKILL; reaps pid. */
void bn_proc_stop(pid_t pid, int timeout_ms);

/* "exit 3" or "signal 9" for a wait status, in buf. */
const char *bn_proc_status(int status, char *buf, size_t len);

/* Track or forget a child started some other way. */
void bn_proc_track(pid_t pid);
void bn_proc_untrack(pid_t pid);

/* SIGTERM and reap every child still tracked; bn_die and the bench's
 * signal handler call it, so that a bench that fails or is interrupted
 * leaves no process behind.  Async-signal-safe. */
void bn_proc_abort_all(void);

/* SIGTERM, wait (SIGKILL after timeout_ms); returns ms until it exited.
 * Removes the temp dir.  A broker already reaped has br_pid 0. */
double bn_broker_stop(struct bn_broker *b, int timeout_ms);

/*
 * One request on a control link s (req0): kind (SEND, ASK, CONTROL) to
 * actor "to" (or "" for CONTROL) with body bytes.  On 0 *msg holds the
 * answer (the caller's nng_msg_free) decoded into env; returns -1 on
 * transport failure or timeout.
 */
int bn_request(nng_socket s, uint64_t id, uint32_t kind, const char *to,
    const void *body, size_t len, nng_msg **msg, struct tp_env *env);

/* Opens a req0 socket dialled to b's control link with a timeout. */
void bn_ctl_dial(struct bn_broker *b, nng_socket *s, int timeout_ms);

/* Asks actor `to` with body on b's own link; exits unless it answers a
 * REPLY.  The reply body is decoded into obj, which lives in zone. */
void bn_ask(struct bn_broker *b, const char *to, const void *body,
    size_t len, msgpack_zone *zone, msgpack_object *obj);

/* A CONTROL request with body on b's own link: 0 with the REPLY's body
 * in obj (living in zone), or -1. */
int bn_control(struct bn_broker *b, const void *body, size_t len,
    msgpack_zone *zone, msgpack_object *obj);

/* Unsigned field key of map obj, or 0 when it is missing. */
uint64_t bn_get_u64(const msgpack_object *obj, const char *key);

/* Packs {"op": op} plus npairs more key/value pairs the caller packs. */
void bn_pack_op(msgpack_packer *pk, const char *op, uint32_t npairs);

/* Packs a string key. */
void bn_pack_key(msgpack_packer *pk, const char *key);

#endif

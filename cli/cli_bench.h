/*
 * cli_bench — `troupe bench send|ask ACTOR`, in the manner of `nats
 * bench`: N sender threads, each with a client link of its own and its
 * window in flight (--sync: a control link each, one round trip at a
 * time), send or ask through the broker; a progress bar on a terminal
 * (stderr) and a summary (msgs/s, MB/s, latency p50/p90/p99) at the end,
 * or one JSON object with --json ("flow": "async" or "sync").
 */
#ifndef CLI_BENCH_H
#define CLI_BENCH_H

#include <stdbool.h>

#include "cli_cmd.h"

/* True for the options only bench takes (--size, --count, --senders,
 * also as --name=value, and --sync): the global parser hands them on as
 * arguments. */
bool cli_bench_opt(const char *arg);

/*
 * args: "send"|"ask", ACTOR, then the bench's own options --size N
 * (body bytes on the wire, default 128), --count N (messages in all,
 * default 10000), --senders N (threads, default 1), --sync (round
 * trips on the control link).  Returns the exit status (sysexits);
 * errors are printed.
 */
int cli_cmd_bench(const struct cli_opts *o, char **args);

#endif

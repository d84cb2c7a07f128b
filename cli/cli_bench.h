/*
 * cli_bench — `troupe bench send|ask ACTOR`, in the manner of `nats
 * bench`: N sender threads, each with its own control link, send or ask
 * through the broker as fast as the answers come back; a progress bar on
 * a terminal (stderr) and a summary (msgs/s, MB/s, latency p50/p90/p99)
 * at the end, or one JSON object with --json.
 */
#ifndef CLI_BENCH_H
#define CLI_BENCH_H

#include <stdbool.h>

#include "cli_cmd.h"

/* True for the options only bench takes (--size, --count, --senders,
 * also as --name=value): the global parser hands them on as arguments. */
bool cli_bench_opt(const char *arg);

/*
 * args: "send"|"ask", ACTOR, then the bench's own options --size N
 * (body bytes on the wire, default 128), --count N (messages in all,
 * default 10000), --senders N (threads, default 1).  Returns the exit
 * status (sysexits); errors are printed.
 */
int cli_cmd_bench(const struct cli_opts *o, char **args);

#endif

/*
 * cli_cluster — `troupe cluster up N [--prefix P]` and `troupe cluster
 * down [--prefix P]`: a local cluster of zero-config daemons of this user
 * (troupe(1) "CLUSTER").  No shell: trouped (next to the troupe binary,
 * else on PATH) is started with posix_spawn as a daemon with a pidfile in
 * its run dir, and stopped by the pid of a pidfile whose lock it holds.
 */
#ifndef CLI_CLUSTER_H
#define CLI_CLUSTER_H

#include "cli_cmd.h"

#define CLI_CLUSTER_MAX 64	/* nodes of one `cluster up` */
#define CLI_CLUSTER_STOP_MS 30000	/* down: longest wait per node */

/* cluster up N | down: args[0] "up" or "down", args[1] N for up. */
int cli_cmd_cluster(const struct cli_opts *o, char **args);

#endif

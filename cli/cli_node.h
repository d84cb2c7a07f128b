/*
 * cli_node — which broker a troupe command talks to (troupe(1) "BROKER
 * SELECTION", docs/ARCHITECTURE.md "Run dir"):
 *
 *   1. --broker URL;
 *   2. $TROUPE_RUN_DIR: ipc://RUN/ctl.sock;
 *   3. --node NAME, when node NAME runs here as a zero-config node
 *      (BASE/NAME/ctl.sock exists, BASE from tp_run_node_base);
 *   4. $TROUPE_NODE=NAME: BASE/NAME, whether it runs or not;
 *   5. the brokers running here: the zero-config nodes BASE/\* and the
 *      one in the default run dir.  Exactly one: that one.  Several: exit
 *      64 naming them.  None: the default run dir (or BASE/NAME for
 *      --node NAME), whose dial then fails with 69 as before.
 *
 * --node keeps its meaning for the commands that filter by node (actors,
 * watch): a node that does not run here is reached through the broker
 * step 5 picks.
 */
#ifndef CLI_NODE_H
#define CLI_NODE_H

#include <stddef.h>

#include "cli_opts.h"

/* Most zero-config nodes listed in one "several run here" line. */
#define CLI_NODE_MAX_LISTED 32

/*
 * Writes the control URL the rule above picks into buf.  Returns 0, or
 * the exit status (EX_USAGE: several nodes and no choice, or a path too
 * long) with its one stderr line printed.
 */
int cli_broker_url(const struct cli_opts *o, char *buf, size_t len);

#define CLI_NODE_NAME_MAX 64	/* bytes of a node name, NUL included */

/*
 * Writes into names (count slots, the caller's) the zero-config nodes in
 * BASE whose control socket takes an nng connection now, sorted by name,
 * and returns how many (at most count), or -1 when BASE cannot be read.
 */
int cli_node_running(char names[][CLI_NODE_NAME_MAX], int count);

#endif

/*
 * cli_opts — what every troupe command is given: the parsed options, and
 * the one way a command says what went wrong (stderr, "troupe: ").  The
 * bottom of the CLI: every cli_ module may use it, it uses none.
 */
#ifndef CLI_OPTS_H
#define CLI_OPTS_H

#include <stdbool.h>

#include <nng/nng.h>

#define CLI_TIMEOUT_DEFAULT_MS 5000
#define CLI_URL_MAX 512

struct cli_opts {
	const char	*o_broker;	/* NULL = the rule of cli_node.h */
	bool		 o_json;	/* --json */
	bool		 o_confirm;	/* send --confirm: TP_F_CONFIRM */
	bool		 o_force;	/* keygen --force: replace the file */
	nng_duration	 o_timeout;	/* --timeout, ms, > 0 */
	bool		 o_timeout_set;	/* --timeout given, not the default */
	const char	*o_node;	/* --node NAME, NULL = the local one */
	const char	*o_exec;	/* spawn: --exec PATH */
	const char	*o_restart;	/* spawn: --restart TYPE */
	const char	*o_mailbox;	/* spawn: --mailbox N */
	const char	*o_overflow;	/* spawn: --overflow POLICY */
	const char	*o_instances;	/* spawn: --instances N (a pool) */
	const char	*o_subscribe;	/* spawn: --subscribe P1,P2 */
	const char	*o_prefix;	/* cluster: --prefix P, NULL = "n" */
};

/* Prints "troupe: <text>" and a newline to stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

/*
 * cli_cmd — the commands of the troupe CLI and the helpers they share:
 * durations (which broker: cli_node.h), the control-link request
 * (docs/ARCHITECTURE.md "Control link") and the mapping of broker error
 * codes to sysexits.
 *
 * Every cli_cmd_* function returns the process exit status and has already
 * printed its one stderr line when that status is not 0.
 */
#ifndef CLI_CMD_H
#define CLI_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "cli_opts.h"
#include "tp_dial.h"


/*
 * Dials url on s (w outlives s: tp_dial_fini after nng_close) and waits
 * up to timeout for the broker's pipe.  Returns 0, or the exit status
 * (69 unreachable or not a troupe socket of that kind, 77 no permission)
 * after printing "cannot reach WHAT at URL: reason".
 */
int cli_dial(struct tp_dialw *w, nng_socket s, const char *url,
    nng_duration timeout, const char *what);

/*
 * Parses "500ms", "5s", "2m", "1h" or bare seconds "5" into milliseconds.
 * Returns 0, or -1 for anything else, zero, or more than nng can wait.
 */
int cli_parse_duration(const char *s, nng_duration *ms);

/* Formats ms the way a user would type it back: "5s", "1500ms", "2m". */
void cli_fmt_duration(nng_duration ms, char *buf, size_t len);

/* The exit status for an ERROR body's code (ARCHITECTURE.md table). */
int cli_exit_for_code(int64_t code);

struct tp_env;

/*
 * Reads an ERROR body {"code": int, "message": str} (other fields
 * allowed): *code, and the message NUL-terminated in msg (size bytes, the
 * caller's; cut at size - 1 bytes or at a NUL byte).  Returns 0, or -1
 * when the body is not such a map (msg is then "").
 */
int cli_error_body(const struct tp_env *env, int64_t *code, char *msg,
    size_t size);

/* send ACTOR JSON: args[0] actor, args[1] JSON text (one message on the
 * control link; `send ACTOR -` is cli_stream's). */
int cli_cmd_send(const struct cli_opts *o, char **args);

/* publish TOPIC JSON: args[0] topic, args[1] JSON text; one SEND to the
 * topic flagged TP_F_TOPIC, its id printed as send prints it (`publish
 * TOPIC -` is cli_stream's). */
int cli_cmd_publish(const struct cli_opts *o, char **args);

/* 0 when topic is a topic name (tp_topic), else EX_USAGE after one
 * stderr line naming it. */
int cli_check_topic(const char *topic);

/* ask ACTOR JSON: prints the reply body as compact JSON. */
int cli_cmd_ask(const struct cli_opts *o, char **args);

/* actors: the table, or the broker's array with --json. */
int cli_cmd_actors(const struct cli_opts *o, char **args);

/* nodes: the cluster members table, or the broker's array with --json. */
int cli_cmd_nodes(const struct cli_opts *o, char **args);

/* inspect ACTOR: "key: value" lines, or the object with --json. */
int cli_cmd_inspect(const struct cli_opts *o, char **args);

/* stats: "key: value" lines, or the object with --json. */
int cli_cmd_stats(const struct cli_opts *o, char **args);

/* spawn NAME --exec PATH [...]: starts a new supervised actor. */
int cli_cmd_spawn(const struct cli_opts *o, char **args);
/* stop NAME: stops an actor for good (until restart or spawn). */
int cli_cmd_stop(const struct cli_opts *o, char **args);
/* restart NAME: stops and starts an actor, reviving a failed group. */
int cli_cmd_restart(const struct cli_opts *o, char **args);

/* The most instances a pool may have (the broker's bound too). */
#define CLI_INSTANCES_MAX 64

/* Parses a pool size: a decimal 1..CLI_INSTANCES_MAX, nothing else.
 * 0 with *n set, or -1. */
int cli_parse_instances(const char *s, unsigned *n);

/* scale NAME N: resizes pool NAME to N instances; prints "NAME STATE"
 * of the answer (the pool's object with --json). */
int cli_cmd_scale(const struct cli_opts *o, char **args);

struct json_t;

/* Runs CONTROL {"op":op}; 0 with the reply body in *out (the caller's
 * json_decref), else the exit status, already printed. */
int cli_control(const struct cli_opts *o, const char *op,
    struct json_t **out);


#endif

/*
 * cli_client — the CLI on a client link (libtroupe's client API,
 * troupe.h; docs/ARCHITECTURE.md "Client link"): opening one for the
 * broker a command talks to, and what a result code means to the user
 * (its words, its wire code, its exit status).  Used by the streaming
 * commands (cli_stream, cli_copro) and the asynchronous bench.
 */
#ifndef CLI_CLIENT_H
#define CLI_CLIENT_H

#include <stddef.h>

#include "cli_opts.h"

struct troupe_client;

/* Lines of a streaming command in flight (sent, result not in) at most:
 * the broker's default node.client_window, so a send never waits inside
 * the library, where neither --timeout nor stdin is looked at. */
#define CLI_CLIENT_WINDOW 1024

/*
 * Opens a client link to the control socket url within timeout_ms.
 * Returns 0 with *out the caller's (troupe_client_close), or the exit
 * status (69 unreachable, 77 not admitted, 75 timed out, 1 busy, 71 no
 * memory) with the one-line reason in err (len bytes).
 */
int cli_client_dial(const char *url, int timeout_ms,
    struct troupe_client **out, char *err, size_t len);

/* cli_client_dial to the broker o names (cli_node.h), within
 * --timeout; the reason is printed.  Returns as cli_client_dial. */
int cli_client_open(const struct cli_opts *o, struct troupe_client **out);

/*
 * A result code of the client API (0, a TROUPE_ERR_* refusal, or a
 * TP_E* code) as the exit status it means: refusals as the control
 * link's (cli_exit_for_code), TP_ETIMEDOUT 75, TP_ECLOSED 69,
 * TP_ETOOBIG, TP_EINVAL and other data errors 65, TP_ENOMEM 71.
 */
int cli_client_status(int code);

/* The same code as the TROUPE_ERR_* a JSON answer carries ("code"):
 * TP_ETIMEDOUT 5, TP_ECLOSED 7, data errors 4. */
int cli_client_wire(int code);

/* Words for a code the broker sent no text for (static). */
const char *cli_client_text(int code);

#endif

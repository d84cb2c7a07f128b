/*
 * cli_copro — `troupe send -` and `troupe ask -`: a JSON-lines
 * co-process for a program in any language, on one client link.
 *
 * Each line of stdin is one object {"to": "ACTOR[@NODE]", "body": <any
 * JSON, default null>, "id": <any JSON, optional, echoed back>}; no
 * other key.  Each line gets exactly one line on stdout, written when
 * its result is known (completion order: correlate by "id" or "line"),
 * and stdout is flushed whenever the command would wait otherwise:
 *
 *   send: {"line":K,"id":ID,"ok":true,"msg_id":N}
 *   ask:  {"line":K,"id":ID,"ok":true,"reply":<JSON>}
 *   both: {"line":K,"id":ID,"ok":false,"error":"...","code":C}
 *
 * ("id" only when the line had one).  C is the broker's error code
 * (TROUPE_ERR_*: 1 unknown actor, 2 rejected, 5 timeout, ...); a line
 * that is not such an object gets code 4 and the next line is read.
 * Asks wait --timeout when given, else the broker's ask ttl; sends wait
 * for the broker's word.  At most CLI_CLIENT_WINDOW lines are in flight:
 * stdin is not read meanwhile.  At EOF every result is waited for; exit
 * 0 when every line was ok, else 1; 69 when the link broke (what was in
 * flight answered code 7), 74 when stdin could not be read.
 */
#ifndef CLI_COPRO_H
#define CLI_COPRO_H

#include <stdbool.h>

#include "cli_opts.h"

/* ask: false for `send -`, true for `ask -`.  Returns the exit status
 * (errors printed). */
int cli_copro_run(const struct cli_opts *o, bool ask);

#endif

/*
 * cli_stream — `troupe send ACTOR -` (and `troupe publish TOPIC -`, the
 * same with each line published to TOPIC): one JSON document per line of
 * stdin, each sent to ACTOR on one client link, CLI_CLIENT_WINDOW lines
 * in flight at most.  stdout gets one message id per accepted line, in
 * input order.  The first failed line (bad JSON: 65; refused by the
 * broker: 1, or its code's status; no result within --timeout: 75; link
 * lost: 69) stops the reading; what is in flight is waited for, every
 * accepted id is still printed in order, each failed line gets a stderr
 * line "troupe: line K: <why>" and the last one is "troupe: N of M lines
 * accepted (read up to line M)"; the exit status is that of the first
 * failed line.  With --json, one object per line read instead:
 * {"line":K,"id":N} or {"line":K,"error":"...","code":C}.
 */
#ifndef CLI_STREAM_H
#define CLI_STREAM_H

#include <stdbool.h>

#include "cli_opts.h"

/* Streams stdin to actor, or publishes each line to the topic actor
 * names when topic (`troupe publish TOPIC -`, checked by the caller);
 * returns the exit status (errors printed). */
int cli_stream_send(const struct cli_opts *o, const char *actor,
    bool topic);

#endif

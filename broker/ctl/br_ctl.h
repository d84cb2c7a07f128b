/*
 * br_ctl — the local control socket (raw rep0 at RUN/ctl.sock) and the
 * CONTROL operations.  A request is checked (br_acl), decoded, and goes
 * to routing (SEND, ASK) or to the op table here (CONTROL); answers to
 * the CLI leave through the backtrace header kept with the request
 * (registered with br_answer as the CLI class).  Loop thread only.
 */
#ifndef BR_CTL_H
#define BR_CTL_H

#include <stdbool.h>

#include <msgpack.h>

struct br;

/* Opens ctl.sock and registers it with the loop; 0 or -1 (logged). */
int br_ctl_open(struct br *br);
void br_ctl_close(struct br *br);

#endif

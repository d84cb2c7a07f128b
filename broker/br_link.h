/*
 * br_link — the frame layer of a peer link (struct br_link, br_peer.h):
 * the queue of encoded envelopes, batching, and sealing/opening frames
 * with the link's tp_sec session.  Hellos go plain and always precede
 * sealed frames in the queue; a sealed frame the socket refuses is kept
 * and sent first next time, never sealed again (a nonce counter is used
 * for one plaintext only).  Loop thread only.
 */
#ifndef BR_LINK_H
#define BR_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>
#include <nng/nng.h>

#include "br_mbx.h"
#include "tp_env.h"
#include "tp_err.h"

struct br_link;

/* Appends an encoded envelope to l's queue (l owns it) and marks l
 * dirty. */
void br_link_push(struct br_link *l, struct mbx_item *it);

/*
 * Encodes env and queues it: plain (a hello, allowed while the link is
 * not up) or sealed at flush time (only on an UP link).  Returns 0, or
 * -1 when the stream is not open, the link not up, or out of memory.
 */
int br_link_queue(struct br_link *l, const struct tp_env *env, bool plain);

/* Queues an envelope of kind with body sb (copied), from this node to
 * the peer; same contract as br_link_queue. */
int br_link_send_body(struct br_link *l, uint32_t kind,
    const msgpack_sbuffer *sb, bool plain);

/* Sends owed credit and what the queue holds, in frames; a full socket
 * leaves the rest for later (l_blocked), a frame that cannot be sealed
 * resets the link. */
void br_link_flush(struct br_link *l);

/*
 * Opens a sealed frame: on 0 *msgp is replaced by its plaintext (the
 * sealed message freed); else a TP_E* / TP_SEC_E* code with err filled
 * (tampered, replayed, out of order, wrong mode) and *msgp untouched.
 */
int br_link_open(struct br_link *l, nng_msg **msgp, struct tp_err *err);

/* Frees the queue and any stashed frame. */
void br_link_drop(struct br_link *l);

#endif

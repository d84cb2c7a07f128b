/*
 * br_link — the frame layer of a peer link: the queue of encoded
 * envelopes, batching, and sealing/opening frames with the link's tp_sec
 * session.  Hellos go plain and always precede sealed frames in the
 * queue; a sealed frame the socket refuses is kept and sent first next
 * time, never sealed again (a nonce counter is used for one plaintext
 * only).  Knows nothing of the link above it (br_peer): it is told the
 * socket and the session, and answers with return codes.  Loop thread
 * only.
 */
#ifndef BR_LINK_H
#define BR_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>

#include "br_mbx.h"
#include "tp_env.h"
#include "tp_err.h"
#include "tp_sec.h"

/* One link's frames; embedded in the peer link, zeroed = empty.  Its
 * fields are br_link's: other modules use the functions below. */
struct br_lframes {
	struct mbx_list	 lf_outq;	/* encoded envelopes not yet sent */
	uint32_t	 lf_nplain;	/* queued hellos (head of lf_outq) */
	nng_msg		*lf_stash;	/* a built frame the socket refused */
	uint64_t	 lf_frames_out;
};

/* Appends an encoded envelope (f owns it). */
void br_link_push(struct br_lframes *f, struct mbx_item *it);

/* Encodes env and queues it: plain (a hello) or sealed at flush time.
 * Returns 0 or -1 (out of memory). */
int br_link_queue(struct br_lframes *f, const struct tp_env *env,
    bool plain);

/*
 * Sends the stashed frame, then what the queue holds, in frames on s
 * (sealed with ss).  Returns 0 (all sent), 1 (the socket is full: call
 * again later) or -1 (a frame cannot be sealed: reset the link).
 */
int br_link_flush(struct br_lframes *f, nng_socket s,
    struct tp_sec_sess *ss);

/*
 * Opens a sealed frame with ss: on 0 *msgp is replaced by its plaintext
 * (the sealed message freed); else a TP_E* / TP_SEC_E* code with err
 * filled (tampered, replayed, out of order, wrong mode) and *msgp
 * untouched.
 */
int br_link_open(struct tp_sec_sess *ss, nng_msg **msgp,
    struct tp_err *err);

/* Frees the queue and any stashed frame; f is empty again. */
void br_link_drop(struct br_lframes *f);

#endif

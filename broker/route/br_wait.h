/*
 * br_wait — wait lists: senders whose message found its `block` mailbox
 * full, or its peer link out of credit, wait here in arrival order for
 * room.  The list lives with what it waits for (an actor, a link) but is
 * changed only through these calls (routing pushes and admits, the actor
 * table drains a removed actor's).  Bounded by what may be in flight: an
 * actor or peer sender by its send window, a CLI sender by its pending
 * slot (node.max_pending).  Loop thread only.
 */
#ifndef BR_WAIT_H
#define BR_WAIT_H

#include <stdint.h>

#include "br_mbx.h"

/*
 * One published message whose copies wait in several lists (topics: a
 * full `block` subscriber, a peer link out of credit): its publisher is
 * confirmed once, when the last copy is in.  Each waiting copy holds a
 * reference; the one who made it holds one while placing the copies.
 * h_done runs when the last reference goes and frees h (routing's).
 */
struct br_hold {
	uint32_t	 h_refs;
	uint32_t	 h_origin;	/* br_origin.o_actor of the publisher */
	uint32_t	 h_flags;	/* its TP_F_CONFIRM */
	uint64_t	 h_id;		/* its id, for its answer */
	uint64_t	 h_pend;	/* a CLI's pending slot, 0 if none */
	void		(*h_done)(void *arg, struct br_hold *h);
	void		*h_arg;
};

/* A message that waits for room, and whom to tell when it is in. */
struct br_wait {
	struct br_wait	*w_next;
	struct mbx_item	*w_item;	/* owned by the waiter */
	uint32_t	 w_origin;	/* br_origin.o_actor of the sender */
	uint64_t	 w_pend;	/* CLI's pending slot, 0 if none */
	uint64_t	 w_id;		/* sender's id, for its answer */
	uint32_t	 w_flags;	/* the SEND's TP_F_CONFIRM */
	struct br_hold	*w_hold;	/* a topic copy: tell the hold, not
					 * the origin (which is then 0) */
};

struct br_waitq {
	struct br_wait	*wq_head;
	struct br_wait	*wq_tail;
	uint32_t	 wq_n;
};

/* Appends a waiter for it (the list owns it on 0); -1 when out of
 * memory (it stays the caller's). */
int br_wait_push(struct br_waitq *q, struct mbx_item *it, uint32_t origin,
    uint64_t pend, uint64_t id, uint32_t flags);
/* Appends a topic copy it that tells hold h when it is in (one more
 * reference on 0); -1 when out of memory (it stays the caller's). */
int br_wait_push_held(struct br_waitq *q, struct mbx_item *it,
    struct br_hold *h);
/* Drops one reference of h: the last runs h->h_done. */
void br_wait_unhold(struct br_hold *h);
/* The first waiter, taken off the list (the caller frees it and owns its
 * item), or NULL. */
struct br_wait *br_wait_pop(struct br_waitq *q);
/* The first waiter, still on the list, or NULL. */
const struct br_wait *br_wait_peek(const struct br_waitq *q);
uint32_t br_wait_count(const struct br_waitq *q);
/* Frees every waiter and its item (nobody is told; a hold whose last
 * reference goes is freed without h_done: the broker is going away). */
void br_wait_clear(struct br_waitq *q);

#endif

/*
 * br_pend — the pending-request ring: requests that wait for an answer
 * (an ASK routed to an actor or a peer, a CLI SEND held by a full `block`
 * mailbox or waiting for a durable or remote confirmation).  Slots are
 * indexed by broker id, so a reply finds its request in O(1) and a late
 * reply (its slot freed, or reused by a newer id) finds nothing; the ring
 * is bounded by node.max_pending.  Needs nothing of the broker but the
 * origin type.  Loop thread only.
 */
#ifndef BR_PEND_H
#define BR_PEND_H

#include <stdbool.h>
#include <stdint.h>

#include "br_answer.h"

struct br_pend {
	uint64_t	 p_id;		/* broker id; 0 = free */
	uint64_t	 p_orig_id;	/* the requester's own id */
	uint64_t	 p_deadline_ms;	/* UINT64_MAX: no deadline */
	uint32_t	 p_origin;	/* who waits (br_origin.o_actor) */
	uint32_t	 p_kind;	/* TP_K_ASK or TP_K_SEND */
	uint32_t	 p_target;	/* actor index or peer origin */
	uint8_t		 p_hdrlen;
	uint8_t		 p_hdr[64];	/* nng backtrace of the CLI request */
	bool		 p_confirm;	/* a SEND waiting for a remote ACK */
};

struct br_pends;

/* A ring for at most max requests (ids drawn from *next_id, which the
 * caller shares with its other ids); NULL when out of memory. */
struct br_pends *br_pend_new(uint32_t max, uint64_t *next_id);
void br_pend_destroy(struct br_pends *r);

/*
 * A slot for a request of kind from o (its own id orig_id) that expires
 * at deadline; o's header is copied.  NULL when max requests wait, the
 * header does not fit, or the ids' neighbourhood is busy: the caller
 * answers "busy" rather than queue without bound.
 */
struct br_pend *br_pend_alloc(struct br_pends *r, const struct br_origin *o,
    uint32_t kind, uint64_t orig_id, uint64_t deadline);
/* The slot of broker id, or NULL (unknown, answered, or 0). */
struct br_pend *br_pend_get(struct br_pends *r, uint64_t id);
void br_pend_release(struct br_pends *r, struct br_pend *p);
/* Moves p's deadline (UINT64_MAX: none). */
void br_pend_set_deadline(struct br_pends *r, struct br_pend *p,
    uint64_t deadline);
/* Who waits on p; o_hdr points into p. */
struct br_origin br_pend_origin(const struct br_pend *p);
uint32_t br_pend_count(const struct br_pends *r);

/* Calls fn on every slot whose deadline is <= now; fn must release it.
 * Walks the ring only when the earliest deadline is due. */
void br_pend_expire(struct br_pends *r, uint64_t now,
    void (*fn)(void *arg, struct br_pend *p), void *arg);
/* Calls fn on every busy slot (fn may release it). */
void br_pend_each(struct br_pends *r,
    void (*fn)(void *arg, struct br_pend *p), void *arg);

#endif

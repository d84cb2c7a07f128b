/*
 * br_route_int.h — what br_route.c and br_rpub.c (one module, routing)
 * share and nobody else sees.  Loop thread only.
 */
#ifndef BR_ROUTE_INT_H
#define BR_ROUTE_INT_H

#include "br.h"
#include "br_answer.h"
#include "br_pend.h"
#include "br_wait.h"

/* A pending slot for o's request (kind, its id), deadline ask_ttl. */
struct br_pend *br_route_pend_alloc(struct br *br, const struct br_origin *o,
    uint32_t kind, uint64_t orig_id);
/* The envelope in as its receiver sees it (`from` the real sender, id,
 * CONFIRM and TOPIC kept), packed into a new item; NULL: no memory. */
struct mbx_item *br_route_encode(struct br *br, const struct br_origin *o,
    const struct tp_env *in, uint64_t id);
/* o's message was placed (or dropped, refused): an actor, client or
 * peer gets its credit back, a CLI SEND its ACK when acked. */
void br_route_placed(struct br *br, const struct br_origin *o, uint32_t kind,
    uint64_t id, bool acked);

/* A SEND with TP_F_TOPIC: a copy into each subscriber's mailbox, one
 * across each peer link that wants it (br_rpub.c). */
void br_route_publish(struct br *br, const struct br_origin *o,
    const struct tp_env *env);
/* Waiting topic copy w left its list, counted in *counter (a copy placed
 * or forwarded) unless NULL (lost; the caller freed its item): w is
 * freed, its publisher told once all its copies are in. */
void br_route_copy_in(struct br *br, struct br_wait *w, uint64_t *counter);

#endif

/*
 * br_route — routing of SEND/ASK into mailboxes (local, or a peer link
 * for name@node and names other nodes have), confirmations, and answers
 * coming back for the requests in the pending ring.  Requests come in
 * through br_route_env from the control socket (br_ctl), the actor link
 * (br_alink) and peer links; answers leave through br_answer.
 * Loop thread only.
 */
#ifndef BR_ROUTE_H
#define BR_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "br_answer.h"
#include "br_mbx.h"
#include "tp_env.h"

struct br;
struct br_actor;
struct br_link;

/* The pending ring and the hooks of the modules that tell routing
 * (durable commits, held requests).  0 or -1 (out of memory). */
int br_route_init(struct br *br);
void br_route_fini(struct br *br);

/* A SEND or ASK from o (env's buffers borrowed for the call): placed,
 * held, or answered with ERROR; o's credit comes back when it is
 * placed. */
void br_route_env(struct br *br, const struct br_origin *o,
    const struct tp_env *env);
/* A REPLY, ERROR or ACK to a broker id (env->e_corr): back to whoever
 * asked, with their id.  src is the origin it came from: a peer may only
 * answer what was sent to it; BR_ORIGIN_CLI for an actor (unchecked). */
void br_route_answer_back(struct br *br, const struct tp_env *env,
    uint32_t src);
/* Room was made in target's mailbox: admit waiting senders. */
void br_route_room(struct br_actor *target);
/* Expires pending requests past their deadline. */
void br_route_tick(struct br *br, uint64_t now);
/* Answers the ASKs among a list of dropped items and frees the list. */
void br_route_dropped(struct br *br, struct mbx_item *list);
/* Requests waiting for an answer now (stats). */
uint32_t br_route_pending(const struct br *br);

/* br_peer_ops (registered by trouped.c): a SEND/ASK/REPLY/ERROR/ACK from
 * an UP peer link; the link got credit back (admit senders waiting for
 * it); the link went down (answer "unreachable" to what waits on it). */
void br_route_peer_env(struct br *br, struct br_link *l,
    const struct tp_env *env);
void br_route_link_room(struct br *br, struct br_link *l);
void br_route_link_down(struct br *br, struct br_link *l);

#endif

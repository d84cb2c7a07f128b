/*
 * br_actor_int.h — what br_actor.c and br_apool.c (one module, the actor
 * table) share and nobody else sees.  Loop thread only.
 */
#ifndef BR_ACTOR_INT_H
#define BR_ACTOR_INT_H

#include "br_actor.h"

/* A new slot of the table for ca: a pool's head (ca_instances > 0: no
 * process, no socket), an instance of pool (its mailbox socket open, out
 * of the name index), or a plain actor.  Returns it, or NULL (nothing
 * added). */
struct br_actor *br_actor_slot_new(struct br *br,
    const struct br_conf_actor *ca, struct br_actor *pool);
/* An instance went (exit, retire): what it held goes back to its pool. */
void br_actor_pool_give_back(struct br_actor *a);
/* A reload changed pool h's settings: the instances' follow. */
int br_actor_pool_reconf(struct br_actor *h);

#endif

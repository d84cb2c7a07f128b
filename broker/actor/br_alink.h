/*
 * br_alink — the actor-link protocol on the broker's side
 * (docs/ARCHITECTURE.md "Actor link"): the hello that makes an actor
 * running, the bye it is answered, its cumulative ACKs, and its SEND,
 * ASK, REPLY and ERROR envelopes handed to routing.  The actor table
 * (br_actor) receives the frames and calls br_alink_env through its ops.
 * Loop thread only.
 */
#ifndef BR_ALINK_H
#define BR_ALINK_H

#include "tp_env.h"

struct br_actor;

/* One envelope from actor a (admitted, bounds-checked); arg is the
 * struct br.  Has the br_actor_ops ao_env signature. */
void br_alink_env(void *arg, struct br_actor *a, const struct tp_env *env);

#endif

/*
 * troupe_queue — the actor's queue of deliveries not yet handed to
 * receive().  A frame from the broker that holds deliveries is kept whole
 * (its nng message stays alive: the decoded envelopes point into it);
 * each delivery is decoded once, when its frame arrives.  The queue holds
 * at most max deliveries (the broker's in-flight window): more is a
 * protocol violation the caller treats as fatal.  One thread only.
 */
#ifndef TROUPE_QUEUE_H
#define TROUPE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#include <nng/nng.h>

#include "tp_env.h"

struct troupe_queue;

/* A queue of at most max deliveries; NULL when out of memory. */
struct troupe_queue *troupe_queue_new(size_t max);
/* Frees the queue and the frames it holds. */
void troupe_queue_free(struct troupe_queue *q);

/*
 * Adds a delivery of the frame being scanned (env points into that
 * frame; it is copied, the bytes are not).  Returns 0, TP_ETOOBIG (the
 * window is exceeded) or TP_ENOMEM.
 */
int troupe_queue_add(struct troupe_queue *q, const struct tp_env *env);

/*
 * The frame being scanned is complete: when it holds deliveries the queue
 * takes msg and returns 1 (it frees it after the last one is done);
 * 0 when there were none (msg stays the caller's); < 0 when out of memory
 * (its deliveries are forgotten, msg stays the caller's).
 */
int troupe_queue_commit(struct troupe_queue *q, nng_msg *msg);

/* Forgets the deliveries added since the last commit (a bad frame). */
void troupe_queue_abort(struct troupe_queue *q);

/* True when a delivery waits. */
bool troupe_queue_ready(const struct troupe_queue *q);

/* The next delivery into *env (valid until troupe_queue_done); false when
 * none waits. */
bool troupe_queue_next(struct troupe_queue *q, struct tp_env *env);

/* The delivery troupe_queue_next gave was handled: its frame is freed
 * after its last one. */
void troupe_queue_done(struct troupe_queue *q);

#endif

/*
 * br_mbx — one actor's mailbox in the broker: a bounded FIFO of encoded
 * envelopes plus the in-flight window (delivered, not yet acknowledged).
 * A pure data structure: no sockets, no I/O, no threads, no locks (only
 * the event-loop thread touches it, ARCHITECTURE.md "Invariant").
 *
 *   mbx_put ---> [ queue: head ... tail ] --mbx_next_delivery--> [ in-flight ]
 *                      ^                                              |
 *                      +------ mbx_requeue_inflight (actor died) -----+
 *                                                  mbx_ack(n) frees --+
 *
 * Capacity (messages and bytes) covers queued AND in-flight items: a
 * message in flight still occupies broker memory until it is acknowledged.
 * The reported depth (the "mailbox" field of an actor map) is likewise
 * queued + in-flight.  Bytes are the encoded envelope lengths (mi_len),
 * not counting the item header.
 *
 * Memory: struct mbx holds no preallocated storage (about 150 bytes);
 * each item is one allocation of sizeof(struct mbx_item) + its length (a
 * small one is recycled through a bounded process-wide free list, loop
 * thread only).  So the broker's memory per mailbox is bounded by
 * cap_msgs items and cap_bytes payload bytes.
 */
#ifndef BR_MBX_H
#define BR_MBX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "br_conf.h"

/* mi_flags bits; MBX_F_REDELIVERED has the wire value of TP_F_REDELIVERED */
#define MBX_F_REDELIVERED	(1u << 0)	/* in flight before, not acked */
#define MBX_F_UNPATCHED		(1u << 8)	/* redelivered, but mi_data is
						   not an envelope: bytes as
						   they were put */

/* Results of mbx_* calls: 0 = done, negative = not done (see each call). */
enum mbx_rc {
	MBX_OK = 0,
	MBX_FULL_BLOCK = -1,	/* block policy, full: caller keeps the item */
	MBX_REJECTED = -2,	/* reject policy, full: caller keeps the item */
	MBX_DROPPED_NEW = -3,	/* item counted dropped: caller keeps it */
	MBX_TOOBIG = -4,	/* item > cap_bytes alone: caller keeps it */
	MBX_EINVAL = -5,	/* bad argument */
};

/*
 * One encoded envelope, the exact bytes the actor will receive.  One
 * allocation: header and data together.  mi_next links it into whichever
 * list holds it (queue, in-flight, or a list handed back to the caller).
 */
struct mbx_item {
	struct mbx_item	*mi_next;
	uint32_t	 mi_len;	/* bytes in mi_data */
	uint32_t	 mi_flags;	/* MBX_F_* */
	uint64_t	 mi_seq;	/* per-mailbox order, set by mbx_put */
	uint64_t	 mi_dseq;	/* durable log seq (br_dlog), 0 = none */
	uint8_t		 mi_data[];
};

/* Counters reported by `troupe inspect`; all monotonic but high_water. */
struct mbx_stats {
	uint64_t	 mst_received;		/* accepted into the queue */
	uint64_t	 mst_delivered;		/* moved to in-flight */
	uint64_t	 mst_acknowledged;	/* popped by mbx_ack */
	uint64_t	 mst_dropped;		/* drop-newest + drop-oldest */
	uint64_t	 mst_rejected;		/* reject policy + too big */
	uint64_t	 mst_redelivered;	/* deliveries of requeued items */
	uint64_t	 mst_recovered;		/* restored from a durable log */
	uint32_t	 mst_high_water;	/* max depth ever seen */
};

/* A singly-linked FIFO with a tail pointer for O(1) append. */
struct mbx_list {
	struct mbx_item	*ml_head;
	struct mbx_item	*ml_tail;
	uint32_t	 ml_count;
	uint64_t	 ml_bytes;
};

struct mbx {
	struct mbx_list	 mb_queue;	/* waiting for a window slot */
	struct mbx_list	 mb_inflight;	/* delivered, unacked, in order */
	uint32_t	 mb_cap_msgs;
	uint64_t	 mb_cap_bytes;
	enum br_overflow mb_overflow;
	uint32_t	 mb_window;	/* max in-flight */
	uint64_t	 mb_seq;	/* last mi_seq given */
	struct mbx_stats mb_stats;
};

/*
 * Allocates an item holding a copy of len bytes of bytes (mi_flags 0).
 * Returns NULL when out of memory or len > UINT32_MAX.  The caller owns
 * the item until a successful mbx_put; free it with mbx_item_free.
 */
struct mbx_item *mbx_item_new(const void *bytes, size_t len);

/* Like mbx_item_new but leaves mi_data for the caller to fill (lets an
 * encoder write straight into the item).  Same ownership. */
struct mbx_item *mbx_item_alloc(size_t len);

/* Frees one item (NULL is fine); ignores mi_next. */
void mbx_item_free(struct mbx_item *it);

/* Returns the free list of small items (see mbx_item_alloc in br_mbx.c)
 * to malloc: at exit, so that leak checkers see nothing held. */
void mbx_item_pool_drain(void);

/* Frees a whole mi_next-linked list (NULL is fine), e.g. the one handed
 * back by mbx_put under drop-oldest or by mbx_take_all. */
void mbx_item_free_list(struct mbx_item *head);

/*
 * Initializes mb empty, with the limits of an actor's config: cap_msgs,
 * cap_bytes and window must be at least 1.  Allocates nothing.  Returns
 * MBX_OK or MBX_EINVAL (mb then unusable).
 */
int mbx_init(struct mbx *mb, uint32_t cap_msgs, uint64_t cap_bytes,
    enum br_overflow ovf, uint32_t window);

/*
 * Changes the limits (config reload) keeping every item and counter.  A
 * mailbox already above a smaller capacity keeps its items; mbx_put then
 * treats it as full until acks bring it below.  Returns MBX_OK or
 * MBX_EINVAL (nothing changed).
 */
int mbx_set_limits(struct mbx *mb, uint32_t cap_msgs, uint64_t cap_bytes,
    enum br_overflow ovf, uint32_t window);

/* Frees every queued and in-flight item; mb must be re-initialized
 * before reuse.  NULL is fine. */
void mbx_fini(struct mbx *mb);

/*
 * Offers it to the mailbox, applying the overflow policy when queued +
 * in-flight + it would exceed cap_msgs or cap_bytes.  *dropped (must not
 * be NULL) is always written: NULL, except as below.
 *
 *   MBX_OK           queued at the tail, mi_seq set; the mailbox owns it.
 *                    Under drop-oldest, *dropped may hold the oldest
 *                    QUEUED items removed to make room (never in-flight
 *                    ones), oldest first, linked by mi_next, owned by the
 *                    caller (so it can answer dropped ASKs) who frees them
 *                    with mbx_item_free_list; each counted dropped.
 *   MBX_FULL_BLOCK   block policy: nothing changed, nothing counted; the
 *                    caller keeps it in its own bounded wait list and
 *                    retries when mbx_has_room says so (after acks).
 *   MBX_REJECTED     reject policy: counted rejected; caller keeps it.
 *   MBX_DROPPED_NEW  drop-newest policy, or drop-oldest when even
 *                    dropping every queued item would not make room
 *                    (in-flight fills the capacity; then no queued item
 *                    is dropped): counted dropped; caller keeps it and
 *                    normally frees it.
 *   MBX_TOOBIG       mi_len > cap_bytes, whatever the policy: it could
 *                    never fit.  Counted rejected; caller keeps it.
 *   MBX_EINVAL       it or dropped NULL; nothing counted.
 *
 * Rule of thumb: on MBX_OK the mailbox owns it, on anything else the
 * caller still does (the nng convention).
 */
int mbx_put(struct mbx *mb, struct mbx_item *it, struct mbx_item **dropped);

/*
 * Takes back it, the item the last mbx_put queued (MBX_OK), when the
 * caller could not keep its promise (a durable log append failed): it
 * leaves the queue, counted rejected instead of received, and belongs to
 * the caller again.  Returns MBX_OK, or MBX_EINVAL when it is not the
 * queue's tail (nothing changed).
 */
int mbx_unput(struct mbx *mb, struct mbx_item *it);

/*
 * Queues it at the tail whatever the capacity (a durable mailbox's
 * records recovered at start: they were accepted before, and the
 * capacity may have shrunk since), flagged and patched REDELIVERED as
 * mbx_requeue_inflight does.  Counted recovered, not received.  The
 * mailbox owns it.  Returns MBX_OK or MBX_EINVAL (it NULL).
 */
int mbx_restore(struct mbx *mb, struct mbx_item *it);

/*
 * Moves the queue's head to the in-flight tail and returns it when fewer
 * than window items are in flight and the queue is not empty; else NULL.
 * The item stays owned by the mailbox and valid until mbx_ack pops it,
 * mbx_fini, or mbx_take_all: the caller copies its bytes into an nng
 * message.  Counted delivered, and redelivered when MBX_F_REDELIVERED.
 */
struct mbx_item *mbx_next_delivery(struct mbx *mb);

/* The item mbx_next_delivery hands out next if the window lets it (still
 * queued, borrowed), or NULL: a caller sizing a frame looks before it
 * takes. */
static inline const struct mbx_item *
mbx_peek(const struct mbx *mb)
{
	return mb->mb_queue.ml_head;
}

/* The in-flight items, oldest first (borrowed, mi_next-linked). */
static inline const struct mbx_item *
mbx_inflight_head(const struct mbx *mb)
{
	return mb->mb_inflight.ml_head;
}

/*
 * Cumulative ACK: pops and frees up to n items from the in-flight head.
 * Returns how many were popped; less than n means the actor acked more
 * than was in flight, a protocol error for the caller to log.
 */
uint32_t mbx_ack(struct mbx *mb, uint32_t n);

/*
 * The actor died: puts every in-flight item back at the queue's head, in
 * their delivery order, before anything queued since.  Each gets
 * MBX_F_REDELIVERED, and its envelope's flags field is patched in place
 * to carry TP_F_REDELIVERED, so mi_data can be sent as it is.  (Setting
 * bit 0 of a msgpack uint only touches its last byte, so the width never
 * changes.)  An item whose bytes are not an envelope is left untouched
 * and flagged MBX_F_UNPATCHED.  Capacity cannot be exceeded: in-flight
 * items were already counted.  Returns the number requeued.
 */
uint32_t mbx_requeue_inflight(struct mbx *mb);

/*
 * Removes every item (in-flight first, then queued, each in order) and
 * returns them linked by mi_next, owned by the caller (to answer pending
 * ASKs when an actor is removed); counters are kept.  NULL when empty.
 */
struct mbx_item *mbx_take_all(struct mbx *mb);

/*
 * Worker pools: the pool's mailbox (from) holds the queue, each
 * instance's (to) what was handed to it.  mbx_move_head moves from's
 * queue head to to's queue tail whatever to's capacity (the caller
 * checks the instance's window) and returns it (borrowed), or NULL when
 * from's queue is empty; counted delivered in from, received in to.
 */
struct mbx_item *mbx_move_head(struct mbx *from, struct mbx *to);

/*
 * An instance went (crash, scale down): everything it held goes back
 * before the pool's queue head, in order: its in-flight items first,
 * flagged and patched REDELIVERED as mbx_requeue_inflight does, then
 * what it had not been given yet.  The pool's capacity may be exceeded
 * until deliveries bring it below (they were counted before).  Returns
 * how many went back.
 */
uint32_t mbx_give_back(struct mbx *from, struct mbx *to);

/*
 * Sets TP_F_REDELIVERED in the flags field of the one encoded envelope in
 * buf (trusted: encoded by the broker, but still bounds-checked).
 * Returns MBX_OK, or MBX_EINVAL when buf is not an 8-field envelope whose
 * flags is a msgpack positive integer (buf is then untouched).
 */
int mbx_env_mark_redelivered(uint8_t *buf, size_t len);

/* True when an item of len bytes would fit now (block-policy retry). */
bool mbx_has_room(const struct mbx *mb, size_t len);

/* Queued + in-flight items: the "mailbox" depth. */
uint32_t mbx_depth(const struct mbx *mb);

/* Queued + in-flight bytes. */
uint64_t mbx_bytes(const struct mbx *mb);

/* Items waiting for a window slot, and items in flight. */
uint32_t mbx_queued(const struct mbx *mb);
uint32_t mbx_inflight(const struct mbx *mb);

/* The counters; valid as long as mb. */
const struct mbx_stats *mbx_stats(const struct mbx *mb);

/*
 * Walks both lists and checks counts, bytes, tail pointers and order
 * against the bookkeeping (for tests and debug builds).  Returns MBX_OK
 * or MBX_EINVAL.
 */
int mbx_check(const struct mbx *mb);

#endif

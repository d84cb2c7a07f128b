/*
 * br_plink — one link to another broker: its state machine (down ->
 * hello -> up), the hello exchange (br_hello), credits, heartbeats and
 * what arrives on it; its frames, batching, seal/open and the credit
 * window are its tp_link's (transport/tp_link.h).  Loop thread only.
 * The links are owned by the registry above (br_peer), whose listener
 * (a receive-only tp_link) hands each sealed frame to its link's tp_link
 * and keeps hellos for br_plink_hello; what a link has to tell the
 * router and br_await goes through struct br_peer_ops.
 */
#ifndef BR_PLINK_H
#define BR_PLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>
#include <nng/nng.h>

#include "br_mbx.h"
#include "br_wait.h"
#include "tp_env.h"

struct br;
struct br_node;
struct br_link;
struct br_rtable;
struct tp_link;

#define BR_LINK_WINDOW 1024	/* SEND/ASK in flight per direction */
/* Link generations (one per link-up) carried in peer origins, so that a
 * message placed after its link was reset returns no stale credit. */
#define BR_LINK_GEN_MASK 0x7fffffu

enum br_lstate {
	BR_L_DOWN,	/* no stream of ours */
	BR_L_HELLO,	/* our stream opened, handshake not finished */
	BR_L_UP,	/* sessions bound, handshake done: frames sealed */
};

/*
 * What the links tell the modules above them (the router, br_await),
 * registered at br_peers_init by the assembler (trouped.c): no link
 * module calls them by name, so they may call br_peer/br_plink freely.
 */
struct br_peer_ops {
	/* A SEND/ASK/REPLY/ERROR/ACK arrived on UP link l. */
	void	(*po_env)(struct br *br, struct br_link *l,
		    const struct tp_env *env);
	/* l got credit back: senders waiting for it may go. */
	void	(*po_room)(struct br *br, struct br_link *l);
	/* l is going down (its state already DOWN, its node still there):
	 * answer what waits on it or was sent through it. */
	void	(*po_down)(struct br *br, struct br_link *l);
	/* What can be routed changed: a link came up or went down, a
	 * names table arrived, a member changed state. */
	void	(*po_changed)(struct br *br);
};

/* Senders waiting for a link's credit: the router's list (struct
 * br_wait is the router's, and only the router touches these fields);
 * the link only keeps it, so that it lives as long as the link. */
/* Cluster-wide link counters (troupe stats, metrics). */
struct br_peer_stats {
	uint64_t	 ps_hs_ok;
	uint64_t	 ps_hs_failed;
	uint64_t	 ps_tampered;	/* frames that did not open */
	uint64_t	 ps_stray;	/* frames on streams no hello bound */
};

/* What all links share with their registry (br_peer owns it; br_plink
 * writes the counters and the dirty list). */
struct br_plink_ctx {
	const struct br_peer_ops *pc_ops;
	struct br_peer_stats pc_st;
	struct br_link	*pc_dirty;	/* links with something to send */
};

/* A new (down) link with index idx for member n; NULL when out of
 * memory.  br_plink_free closes it without answering anyone. */
struct br_link *br_plink_new(struct br *br, struct br_plink_ctx *ctx,
    struct br_node *n, uint32_t idx);
void br_plink_free(struct br_link *l);

/*
 * Drops the link to the state DOWN: pending asks through it get
 * "unreachable", waiting senders likewise (po_down), queued envelopes
 * are freed, the peer's names forgotten.  A new stream is opened later
 * (backoff) while the member is alive.
 */
void br_plink_reset(struct br_link *l, const char *why);

/* Opens the stream, sends heartbeats and name tables, times out a
 * silent link; every tick. */
void br_plink_tick(struct br_link *l, uint64_t now);
/* Sends what the dirty links have queued (batched) and owed credits. */
void br_plink_flush(struct br_plink_ctx *ctx);

/* The tp_link that takes the frames of l's bound stream (the listener's
 * lo_admit target): l's while it is up (frames sealed), else NULL (the
 * stream carries hellos: the listener keeps the frame). */
struct tp_link *br_plink_rx(struct br_link *l);
/* One envelope of a plain frame on stream pipe: a hello binds, answers
 * and brings its link up; 0.  Anything else is stray (counted, the
 * stream closed): TP_LINK_STOP, the listener's lo_env answer. */
int br_plink_hello(struct br *br, struct br_plink_ctx *ctx, nng_pipe pipe,
    const struct tp_env *env);
/* A plain frame on stream pipe did not decode: stray, as above. */
void br_plink_stray(struct br_plink_ctx *ctx, nng_pipe pipe);
/* The nng pipe id of the peer's stream bound to l (0: none). */
uint32_t br_plink_pipe(const struct br_link *l);

/* Takes one credit of l and queues the encoded envelope it (l owns it
 * on 0).  Returns -1 (caller keeps it) when l is not up or has no
 * credit left. */
int br_plink_try_send(struct br_link *l, struct mbx_item *it);
/* True when br_plink_try_send would take an envelope now. */
bool br_plink_can_send(const struct br_link *l);
/* Encodes env and queues it on an UP link (answers: no credit); 0 or
 * -1. */
int br_plink_send_env(struct br_link *l, const struct tp_env *env);
/* Something the peer sent through l was placed: one credit goes back at
 * the next flush (nothing when l is not up any more). */
void br_plink_owe_credit(struct br_link *l);
/* The router's list of senders waiting for l's credit. */
struct br_waitq *br_plink_waitq(struct br_link *l);
/* The origin (BR_ORIGIN_PEER | generation | index) of what arrives on l
 * now. */
uint32_t br_plink_origin(const struct br_link *l);

/* Views of one link: its state (and name: down, hello, up), the member
 * it goes to (read only) and that member's name and state name, its
 * index, whether the peer's names table arrived this link-up, has actor
 * name, how many actors it lists; the last heartbeat round trip, the
 * resets so far. */
enum br_lstate br_plink_state(const struct br_link *l);
bool br_plink_is_up(const struct br_link *l);
const char *br_plink_state_name(const struct br_link *l);
const struct br_node *br_plink_node(const struct br_link *l);
const char *br_plink_node_name(const struct br_link *l);
const char *br_plink_node_state(const struct br_link *l);
uint32_t br_plink_index(const struct br_link *l);
bool br_plink_names_in(const struct br_link *l);
bool br_plink_has_name(const struct br_link *l, const char *name,
    size_t len);
/* The peer's actors and subscriptions as its gossip said (borrowed). */
const struct br_rtable *br_plink_names(const struct br_link *l);
/* Packs l's actors as maps name, node, pid, state, remote=true. */
void br_plink_pack_names(const struct br_link *l, msgpack_packer *pk);
uint64_t br_plink_rtt(const struct br_link *l);
uint64_t br_plink_resets(const struct br_link *l);

#endif

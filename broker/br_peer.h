/*
 * br_peer — links to the other brokers of the cluster.  Loop thread only.
 *
 * A link is two nng pair1 TCP streams, one per direction: each broker
 * sends on a pair1 socket of its own that dials the peer's endpoint, and
 * receives every peer's stream on one pair1 listener in polyamorous mode
 * (receive only).  Why two streams: nng 1.5.2's polyamorous pair1 drops
 * a message when a pipe's 2-deep send queue is full, and a plain pair1
 * socket accepts one pipe, so one socket cannot both listen for many
 * peers and send without loss.  See docs/ARCHITECTURE.md "Peer links".
 *
 * The first frames on a stream are plaintext hellos carrying the tp_sec
 * handshake (initiator: the node whose name sorts first); once it is done
 * every frame is sealed (tp_sec_seal) in link_send_frame and opened in
 * link_recv_frame, the two choke points.  Name tables and gossip live in
 * br_names.c.
 */
#ifndef BR_PEER_H
#define BR_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>
#include <nng/nng.h>

#include "br_conf.h"
#include "br_mbx.h"
#include "tp_env.h"
#include "tp_sec.h"

struct br;
struct br_node;
struct br_wait;

#define BR_LINK_WINDOW 1024	/* SEND/ASK in flight per direction */
/* Link generations (one per link-up) carried in peer origins, so that a
 * message placed after its link was reset returns no stale credit. */
#define BR_LINK_GEN_MASK 0x7fffffu

enum br_lstate {
	BR_L_DOWN,	/* no stream of ours */
	BR_L_HELLO,	/* our stream opened, handshake not finished */
	BR_L_UP,	/* sessions bound, handshake done: frames sealed */
};

/* An actor of another node, as its broker last told us. */
struct br_rname {
	char		 rn_name[BR_NAME_MAX];
	char		 rn_state[16];
	uint32_t	 rn_pid;
};

struct br_link {
	struct br	*l_br;
	struct br_node	*l_node;
	uint32_t	 l_idx;
	enum br_lstate	 l_state;
	nng_socket	 l_out;		/* our stream to the peer */
	bool		 l_out_open;
	uint64_t	 l_sess;	/* our stream's session, 0 = none */
	uint64_t	 l_peer_sess;	/* the peer's stream bound to us */
	uint32_t	 l_in_pipe;	/* nng pipe id of the peer's stream */
	uint64_t	 l_sent_seen;	/* peer session our last hello named */
	bool		 l_confirmed;	/* the peer has seen l_sess */
	uint32_t	 l_credit;	/* SEND/ASK we may still send */
	uint32_t	 l_credit_due;	/* placed for the peer, not yet told */
	struct mbx_list	 l_outq;	/* encoded envelopes not yet sent */
	struct br_wait	*l_wait_head;	/* senders waiting for credit */
	struct br_wait	*l_wait_tail;
	uint32_t	 l_nwait;
	struct br_rname	*l_names;	/* sorted by name */
	uint32_t	 l_nnames;
	bool		 l_names_rx;	/* the peer's table arrived this link-up */
	uint64_t	 l_names_sent;	/* hash of the table last sent */
	uint64_t	 l_opened_ms;
	uint64_t	 l_last_rx_ms;
	uint64_t	 l_next_hb_ms;
	uint64_t	 l_retry_ms;
	uint64_t	 l_backoff_ms;
	uint64_t	 l_rtt_us;
	bool		 l_dirty;
	bool		 l_blocked;	/* send buffer full: retry on tick */
	struct br_link	*l_dirty_next;
	uint64_t	 l_frames_out;
	uint64_t	 l_frames_in;
	uint64_t	 l_resets;
	uint32_t	 l_gen;		/* link-ups so far, BR_LINK_GEN_MASK */
	uint32_t	 l_nplain;	/* queued hellos (head of l_outq) */
	nng_msg		*l_stash;	/* a built frame the socket refused */
	bool		 l_hs_done;
	struct tp_sec_hs l_hs;		/* handshake of this session pair */
	struct tp_sec_sess l_ss;	/* keys and counters once UP */
};

/* Cluster-wide link counters (troupe stats, metrics). */
struct br_peer_stats {
	uint64_t	 ps_hs_ok;
	uint64_t	 ps_hs_failed;
	uint64_t	 ps_tampered;	/* frames that did not open */
	uint64_t	 ps_stray;	/* frames on streams no hello bound */
};

/* Opens the peer listener on node.listen when discovery is on.
 * Returns 0 or -1 (logged). */
int br_peers_init(struct br *br);
/* Closes every link without answering anyone (shutdown). */
void br_peers_fini(struct br *br);

/* A new (down) link for member n; NULL when out of memory. */
struct br_link *br_peer_link_new(struct br *br, struct br_node *n);

/*
 * Drops the link to the state DOWN: pending asks through it get
 * "unreachable", waiting senders likewise, queued envelopes are freed,
 * the peer's names leave the registry.  A new stream is opened later
 * (backoff) while the member is alive.
 */
void br_peer_link_reset(struct br_link *l, const char *why);

/* Opens links, sends heartbeats and name tables, times out silent
 * links; every tick. */
void br_peers_tick(struct br *br, uint64_t now);
/* Sends what links have queued (batched) and owed credits; before the
 * loop sleeps. */
void br_peers_flush(struct br *br);

/*
 * Queues an encoded envelope on an UP link; the link owns it on 0.
 * Returns -1 (caller keeps it) when the link is not up.
 */
int br_peer_enqueue(struct br_link *l, struct mbx_item *it);
/* Encodes env and queues it; 0 or -1. */
int br_peer_send_env(struct br_link *l, const struct tp_env *env);
/* Queues a CONTROL envelope with body sb (copied) on an UP link; 0 or
 * -1 (not up, out of memory). */
int br_peer_send_control(struct br_link *l, const msgpack_sbuffer *sb);
void br_peer_mark_dirty(struct br_link *l);

/* The link of node name, or NULL when the node is unknown. */
struct br_link *br_peer_by_node(struct br *br, const char *name,
    size_t len);
/* The link with index idx (an origin or pending target), or NULL. */
struct br_link *br_peer_link(struct br *br, uint32_t idx);
/* The origin (BR_ORIGIN_PEER | generation | index) of what arrives on l
 * now, and its reverse: the link of origin o if it is still in the same
 * generation, else NULL. */
uint32_t br_peer_origin(const struct br_link *l);
struct br_link *br_peer_link_of(struct br *br, uint32_t o);
/* An UP link whose node has actor name, round-robin over such nodes. */
struct br_link *br_peer_pick(struct br *br, const char *name, size_t len);

/* Remote actors (of node filter, or all when filter is NULL): count and
 * pack as actor maps (name, node, pid, state, remote=true). */
uint32_t br_peer_actor_count(struct br *br, const char *filter,
    size_t flen);
void br_peer_pack_actors(struct br *br, msgpack_packer *pk,
    const char *filter, size_t flen);

const char *br_peer_link_state(const struct br_link *l);
uint64_t br_peer_link_rtt(const struct br_link *l);
/* Copies the cluster-wide link counters (zeros without a cluster). */
void br_peers_stats(const struct br *br, struct br_peer_stats *out);
/* Number of links and the i-th (for metrics); const views. */
uint32_t br_peers_count(const struct br *br);
const struct br_link *br_peers_at(const struct br *br, uint32_t i);

#endif

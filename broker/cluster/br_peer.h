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
 * This module is the registry: a link per member (br_plink: one link's
 * state machine; br_hello: its hello and handshake; br_link: its
 * frames), the shared listener, and the lookups the router needs.  The
 * member table is br_disc's; name tables and gossip bodies br_names'.
 * Below the router and br_await: links tell them through struct
 * br_peer_ops.
 */
#ifndef BR_PEER_H
#define BR_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>
#include <nng/nng.h>

#include "br_plink.h"

struct br;
struct br_node;

/* Opens the peer listener on node.listen when discovery is on, with ops
 * (static, not copied) for what links report; registers the member
 * table's link callbacks (br_disc_set_ops).  Returns 0 or -1 (logged). */
int br_peers_init(struct br *br, const struct br_peer_ops *ops);
/* Closes every link without answering anyone (shutdown). */
void br_peers_fini(struct br *br);

/* Ticks every link (br_plink_tick). */
void br_peers_tick(struct br *br, uint64_t now);
/* Sends what links have queued (batched) and owed credits; before the
 * loop sleeps. */
void br_peers_flush(struct br *br);

/* The link of node name, or NULL when the node is unknown. */
struct br_link *br_peer_by_node(struct br *br, const char *name,
    size_t len);
/* The link with index idx (an origin or pending target), or NULL. */
struct br_link *br_peer_link(struct br *br, uint32_t idx);
/* The link of origin o (br_plink_origin) if it is still in the same
 * generation, else NULL. */
struct br_link *br_peer_link_of(struct br *br, uint32_t o);
/* An UP link whose node has actor name, round-robin over such nodes. */
struct br_link *br_peer_pick(struct br *br, const char *name, size_t len);
/* The links up whose peer subscribes to topic: up to max into out;
 * returns how many (a published message crosses each once). */
size_t br_peer_topic_links(struct br *br, const char *topic, size_t len,
    struct br_link **out, size_t max);

/* Remote actors (of node filter, or all when filter is NULL): count and
 * pack as actor maps (name, node, pid, state, remote=true). */
uint32_t br_peer_actor_count(struct br *br, const char *filter,
    size_t flen);
void br_peer_pack_actors(struct br *br, msgpack_packer *pk,
    const char *filter, size_t flen);

/* Copies the cluster-wide link counters (zeros without a cluster). */
void br_peers_stats(const struct br *br, struct br_peer_stats *out);
/* Number of links and the i-th (for metrics); const views. */
uint32_t br_peers_count(const struct br *br);
const struct br_link *br_peers_at(const struct br *br, uint32_t i);

#endif

/*
 * br_names — what peer links say about actors and members: the actor
 * name tables (sent whole at link-up and on change) and the member
 * gossip, plus the small map lookups their bodies need.  Loop thread
 * only; called by br_peer.c on UP links.
 */
#ifndef BR_NAMES_H
#define BR_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

struct br;
struct br_link;

/* The value of key in map m when it has type t, else NULL (borrowed). */
const msgpack_object *br_names_get(const msgpack_object *m, const char *key,
    msgpack_object_type t);
/* True when map body has "op": op. */
bool br_names_op_is(const msgpack_object *body, const char *op);

/* A hash of this node's actor table (names, states, pids): a change
 * means the table must be sent again. */
uint64_t br_names_hash(struct br *br);
/* Queues CONTROL names (the whole table) on l; remembers hash as sent. */
void br_names_send(struct br_link *l, uint64_t hash);
/* A peer's CONTROL names: replaces l's table (bounded by BR_MAX_ACTORS;
 * malformed entries are skipped). */
void br_names_on(struct br_link *l, const msgpack_object *body);
/* True when l's table has actor name. */
bool br_names_has(const struct br_link *l, const char *name, size_t len);
/* Packs l's actors as maps name, node, pid, state, remote=true. */
void br_names_pack(const struct br_link *l, msgpack_packer *pk);

/* Queues CONTROL members (the alive members this node knows) on l. */
void br_names_send_members(struct br_link *l);
/* A peer's member list: unknown names are learned (br_disc_learn). */
void br_names_on_members(struct br_link *l, const msgpack_object *body);

#endif

/*
 * br_names — what peer links say about actors and members: the actor
 * name tables (sent whole at link-up and on change) and the member
 * gossip (bodies read with tp_body).  Loop thread only.  Below br_peer: it packs and reads bodies and keeps a link's
 * table (struct br_rtable, embedded in the link); br_peer sends them
 * and tells whoever waits for names.
 */
#ifndef BR_NAMES_H
#define BR_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "br_conf.h"

struct br;

/* An actor of another node, as its broker last told us. */
struct br_rname {
	char		 rn_name[BR_NAME_MAX];
	char		 rn_state[16];
	uint32_t	 rn_pid;
};

/* A peer's actor table; zeroed = empty.  Fields are br_names'. */
/* Patterns a peer's actors subscribe to, as its gossip said (at most
 * BR_NAMES_SUBS_MAX distinct ones): its copy of a topic crosses the link
 * once when any matches. */
#define BR_NAMES_SUBS_MAX 4096

struct br_rtable {
	struct br_rname	*rt_names;	/* sorted by name; owned */
	uint32_t	 rt_n;
	bool		 rt_rx;		/* the peer's table arrived */
	char		(*rt_subs)[256];	/* owned; NUL-terminated */
	uint32_t	 rt_nsubs;
};

/* A hash of this node's actor table (names, states, pids): a change
 * means the table must be sent again. */
uint64_t br_names_hash(struct br *br);
/* Packs the CONTROL names body (the whole table) into sb (initialised
 * by the caller, who destroys it). */
void br_names_pack_table(struct br *br, msgpack_sbuffer *sb);
/* A peer's CONTROL names {op, names: [[name, state, pid], ...]}:
 * replaces t's contents (bounded by BR_MAX_ACTORS; malformed entries are
 * skipped).  Returns the number of names kept, or -1 when body is not
 * such a table (t unchanged). */
int br_names_on(struct br_rtable *t, const msgpack_object *body);
/* True when t has actor name. */
bool br_names_has(const struct br_rtable *t, const char *name, size_t len);
/* True when a pattern of t's peer matches topic (a valid name). */
bool br_names_wants(const struct br_rtable *t, const char *topic,
    size_t len);
/* Packs t's actors as maps name, node, pid, state, remote=true. */
void br_names_pack(const struct br_rtable *t, const char *node,
    msgpack_packer *pk);
/* Frees t's names; t is empty (and not received) again. */
void br_names_clear(struct br_rtable *t);

/* Packs the CONTROL members body (the alive members this node knows)
 * into sb, as br_names_pack_table. */
void br_names_pack_members(struct br *br, msgpack_sbuffer *sb);
/* A peer's member list {op, m: [[name, inc, endpoint], ...]}: unknown
 * names are learned (br_disc_learn). */
void br_names_on_members(struct br *br, const msgpack_object *body);

#endif

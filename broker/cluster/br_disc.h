/*
 * br_disc — cluster discovery and membership: beacons over UDP multicast
 * and to static seeds (host names re-resolved), and the member table with
 * its alive -> suspect -> dead clock.  Loop thread only.
 *
 * Beacons are br_beacon's (the codec).  Nothing of a beacon is believed
 * before its MAC, timestamp and sequence pass (tp_sec_beacon_check).
 * See docs/ARCHITECTURE.md "Cluster" and docs/SECURITY.md.
 */
#ifndef BR_DISC_H
#define BR_DISC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "br_conf.h"
#include "tp_err.h"

#include "br_beacon.h"

#define BR_MAX_NODES 64

struct br;
struct br_link;
struct br_seed_row;

enum br_mstate { BR_M_ALIVE, BR_M_SUSPECT, BR_M_DEAD };

/* Beacon counters (troupe stats, metrics). */
struct br_disc_stats {
	uint64_t	 ds_sent;
	uint64_t	 ds_received;	/* accepted from other nodes */
	uint64_t	 ds_bad;	/* not a beacon */
	uint64_t	 ds_rej_mac;
	uint64_t	 ds_rej_stale;
	uint64_t	 ds_rej_replay;
	uint64_t	 ds_other_cluster;
};

/* A member of the cluster as this node sees it. */
struct br_node {
	char		 n_name[BR_NAME_MAX];
	uint64_t	 n_inc;
	char		 n_endpoint[BR_ENDPOINT_MAX];	/* tcp://A:P */
	enum br_mstate	 n_state;
	uint64_t	 n_last_seen_ms;	/* monotonic */
	uint64_t	 n_last_seen_wall_ms;	/* realtime, for display */
	struct br_link	*n_link;		/* br_peer's, never NULL */
};

/*
 * What the member table tells the links above it (br_peer registers them
 * at its init): a new member needs a link (never NULL afterwards, or the
 * member is not added), a member restarted or fell silent so its link
 * must reset, and a member changed state (what waits for it may go or
 * fail now).  br_disc never calls br_peer by name.
 */
struct br_disc_ops {
	struct br_link *(*do_link_new)(struct br *br, struct br_node *n);
	void	(*do_link_reset)(struct br_link *l, const char *why);
	void	(*do_changed)(struct br *br);
};

/*
 * Unless cluster.discovery is off: picks this start's incarnation and
 * loads (or on first start creates) the cluster key, before anything is
 * opened, so that a bad key stops trouped with its one line.  Idempotent.
 * Returns 0 or -1 (logged: one line); br_disc_fini undoes it.
 */
int br_disc_setup(struct br *br);
/* br_disc_setup if not done yet, then opens the beacon sockets (per
 * cluster.discovery).  Returns 0 or -1 (logged: one line). */
int br_disc_init(struct br *br);
void br_disc_fini(struct br *br);

/* The peer listener is bound to url (node.listen with the port the
 * kernel chose for port 0): beacons announce it unless node.advertise
 * is set, and the seeds socket takes its port.  Before br_disc_init.
 * Returns 0 or -1 (logged). */
int br_disc_bound(struct br *br, const char *url);

/* Registers ops (static, not copied); after br_disc_setup. */
void br_disc_set_ops(struct br *br, const struct br_disc_ops *ops);

/* Sends beacons, re-resolves seeds and ages members; every tick. */
void br_disc_tick(struct br *br, uint64_t now);

/*
 * Evidence that node (name, inc) at endpoint lives: a beacon or a link
 * frame.  Creates or refreshes the member; a new incarnation replaces
 * the old entry (and resets its link).  endpoint may be NULL (keep).
 * Returns the member, or NULL for ourselves or a full table.
 */
struct br_node *br_disc_heard(struct br *br, const char *name, size_t len,
    uint64_t inc, const char *endpoint);

/* Second-hand news (a peer's member list): adds name only when it is
 * unknown here, so gossip never revives nor overrides what this node
 * heard itself.  Returns the new member or NULL. */
struct br_node *br_disc_learn(struct br *br, const char *name, size_t len,
    uint64_t inc, const char *endpoint);

/* The member called name, or NULL. */
struct br_node *br_disc_find(struct br *br, const char *name, size_t len);

/* This node's incarnation and advertised endpoint. */
uint64_t br_disc_incarnation(const struct br *br);
const char *br_disc_endpoint(const struct br *br);

/* The seeds still being tried (br_seeds.h), at most max rows; 0
 * without seeds. */
uint32_t br_disc_seed_rows(const struct br *br, struct br_seed_row *rows,
    uint32_t max);

/* The cluster key (32 bytes, owned by br_disc) and cluster.encrypt;
 * only while discovery is on. */
const uint8_t *br_disc_key(const struct br *br);
bool br_disc_encrypt(const struct br *br);
/* Copies the beacon counters (zeros when discovery is off). */
void br_disc_stats(const struct br *br, struct br_disc_stats *out);

/* Number of nodes in the table other than this one. */
uint32_t br_disc_count(const struct br *br);
/* The i-th member (0 <= i < br_disc_count). */
struct br_node *br_disc_node(struct br *br, uint32_t i);

const char *br_mstate_name(enum br_mstate st);

#endif

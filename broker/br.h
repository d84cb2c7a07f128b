/*
 * br — what the event loop owns: the node's identity and limits, the
 * loop, and one handle per module.  Each module's own state and calls are
 * behind its own header.
 *
 * Everything here is owned by the event-loop thread (see
 * docs/ARCHITECTURE.md, "Invariant"): no locks, no nng callbacks.
 */
#ifndef BR_H
#define BR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <nng/nng.h>

#include "br_conf.h"
#include "br_loop.h"
#include "br_acl.h"
#include "br_mbx.h"
#include "br_supfsm.h"	/* enum br_astate */
#include "br_tap.h"
#include "tp_env.h"

/* Envelopes of one received frame the loop decodes once (a sender's
 * frame of 256, a window of answers): 88 bytes each, one set per broker. */
#define BR_FRAME_CACHE 1024

struct br_disc;
struct br_peers;
struct br_link;
struct br_dactor;
struct br_dur;
struct br_await;
struct br_pends;
struct sup_tree;
struct br_metrics;
struct br_topics;

struct br_stats {
	uint64_t	 st_routed;
	uint64_t	 st_ctl_requests;
	uint64_t	 st_bad_frames;
	uint64_t	 st_unknown_actor;
	uint64_t	 st_asks;
	uint64_t	 st_replies;
	uint64_t	 st_ask_timeouts;
	uint64_t	 st_busy;
	uint64_t	 st_spawns;
	uint64_t	 st_exits;
	uint64_t	 st_clients;	/* client links opened */
	uint64_t	 st_published;	/* messages published to a topic */
	uint64_t	 st_topic_copies;	/* copies placed in mailboxes */
	uint64_t	 st_topic_forwarded;	/* copies sent to peer nodes */
};

struct br {
	struct br_conf	*b_conf;
	struct br_loop	 b_loop;
	char		 b_node[BR_NAME_MAX];
	char		 b_run_dir[BR_PATH_MAX];
	char		 b_bin_dir[BR_PATH_MAX];
	nng_socket	 b_ctl;
	int		 b_ctl_fd;
	int		 b_sigfd;
	int		 b_timerfd;
	struct br_actor	**b_actors;	/* config order; never shrinks */
	uint32_t	 b_nactors;
	struct br_actor	**b_names;	/* open-addressing name index */
	uint32_t	 b_names_mask;
	struct br_pends	*b_pend;	/* br_pend: requests awaiting answers */
	uint64_t	 b_next_id;	/* broker ids (br_next_id) */
	struct br_actor	*b_dirty;
	struct tp_limits b_lim;
	struct br_stats	 b_stats;
	uint64_t	 b_start_ms;
	bool		 b_stopping;
	struct br_acl	 b_acl;		/* who may use ctl.sock */
	struct sup_tree	*b_sup;		/* br_sup: groups and node phase */
	int		 b_link_fd;	/* mailbox links that dropped */
	msgpack_zone	*b_zone;	/* scratch for control bodies */
	struct tp_frame_cache b_fcache;	/* envelopes of the frame the loop
					 * is reading (every link's) */
	struct br_disc	*b_disc;	/* br_disc.c; NULL = discovery off */
	struct br_peers	*b_peers;	/* br_peer.c; NULL = no cluster */
	struct br_tap	 b_tap;		/* br_tap: `troupe watch` */
	struct br_metrics *b_metrics;	/* br_metrics: NULL when off */
	struct br_dur	*b_dur;		/* br_durable: data dir, commit timer */
	struct br_clients *b_clients;	/* br_client: client links */
	struct br_await	*b_await;	/* br_await: requests held until the
					 * cluster can route them */
	struct br_topics *b_topics;	/* br_topic: subscriptions */
};

/* A new broker-unique id (envelopes, pending slots). */
static inline uint64_t
br_next_id(struct br *br)
{
	return br->b_next_id++;
}

/* True when node (len bytes, not terminated) is this node's name. */
static inline bool
br_is_self(const struct br *br, const char *node, size_t len)
{
	return len == strnlen(br->b_node, sizeof(br->b_node)) &&
	    memcmp(node, br->b_node, len) == 0;
}

#endif

/*
 * br — the broker's state and the calls its modules make on each other.
 *
 * Everything here is owned by the event-loop thread (see
 * docs/ARCHITECTURE.md, "Invariant"): no locks, no nng callbacks.
 */
#ifndef BR_H
#define BR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <nng/nng.h>

#include "br_conf.h"
#include "br_loop.h"
#include "br_acl.h"
#include "br_mbx.h"
#include "br_tap.h"
#include "tp_env.h"

/* Wire error codes in ERROR bodies (ARCHITECTURE.md "Error codes"). */
enum br_errcode {
	BR_E_UNKNOWN_ACTOR = 1,
	BR_E_REJECTED = 2,
	BR_E_SHUTDOWN = 3,
	BR_E_BADREQ = 4,
	BR_E_TIMEOUT = 5,
	BR_E_PERM = 6,
	BR_E_UNREACHABLE = 7,
	BR_E_BUSY = 8,
	BR_E_NOREPLY = 9,
	BR_E_DROPPED = 10,
};

enum br_astate {
	BR_A_STOPPED,		/* not running, not to be restarted */
	BR_A_STARTING,		/* spawned, no hello yet */
	BR_A_RUNNING,		/* hello received: deliveries flow */
	BR_A_BACKOFF,		/* died; restart scheduled */
	BR_A_FAILED,		/* gave up: its supervisor group failed */
	BR_A_STOPPING,		/* SIGTERM sent; stays down after exit */
	BR_A_RESTARTING,	/* SIGTERM sent; started again after exit */
	BR_A_NSTATES
};

/* Who is waiting for an answer: the CLI (through a pending slot that
 * holds its nng backtrace) or an actor (by index). */
#define BR_ORIGIN_CLI UINT32_MAX
/* A peer link as origin (or pending target): BR_ORIGIN_PEER | link
 * generation << 8 | link index (br_peer_origin); never equal to
 * BR_ORIGIN_CLI. */
#define BR_ORIGIN_PEER 0x80000000u
#define BR_IS_PEER(o) ((o) != BR_ORIGIN_CLI && ((o) & BR_ORIGIN_PEER) != 0)

struct br_disc;
struct br_peers;
struct br_link;
struct br_dactor;
struct br_dur;
struct br_await;
struct tp_link;

/* A message that found its `block` mailbox full and waits for room. */
struct br_wait {
	struct br_wait	*w_next;
	struct mbx_item	*w_item;
	uint32_t	 w_origin;	/* actor index or BR_ORIGIN_CLI */
	uint64_t	 w_pend;	/* CLI's pending slot, 0 if none */
	uint64_t	 w_id;		/* sender's id, for its answer */
	uint32_t	 w_flags;	/* the SEND's TP_F_CONFIRM */
};

struct br_actor {
	struct br	*a_br;
	uint32_t	 a_idx;
	struct br_conf_actor a_conf;
	char		 a_url[BR_PATH_MAX + BR_NAME_MAX + 32];
	nng_socket	 a_sock;
	int		 a_fd;
	struct br_loop_ev *a_ev;
	pid_t		 a_pid;
	struct br_gate	*a_gate;	/* admits the spawned pid only */
	enum br_astate	 a_state;
	uint32_t	 a_restarts;
	uint64_t	 a_started_ms;
	uint64_t	 a_restart_at_ms;
	uint64_t	 a_kill_at_ms;	/* SIGKILL when still alive (br_sup) */
	uint32_t	 a_group;	/* supervisor group index (br_sup) */
	uint32_t	 a_backoff_n;	/* crashes in a row, for backoff */
	bool		 a_removed;	/* gone by reload; slot kept */
	bool		 a_dynamic;	/* `troupe spawn`: reloads keep it */
	char		 a_last_exit[64];
	struct mbx	 a_mbx;
	struct br_wait	*a_wait_head;	/* block policy: waiting senders */
	struct br_wait	*a_wait_tail;
	uint32_t	 a_nwait;
	struct tp_link	*a_link;	/* the mailbox link (br_actor.c):
					 * frames, batching, CREDIT owed */
	uint64_t	 a_sent;	/* messages this actor sent */
	bool		 a_dirty;
	struct br_actor	*a_dirty_next;
	struct br_dactor *a_dur;	/* br_durable: NULL = not durable */
};

/* A request that waits for an answer: an ASK routed to an actor, or a
 * CLI SEND held by a full `block` mailbox.  Slots live in a ring indexed
 * by broker id, so lookup is O(1) and the table is bounded. */
struct br_pend {
	uint64_t	 p_id;		/* broker id; 0 = free */
	uint64_t	 p_orig_id;	/* the requester's own id */
	uint64_t	 p_deadline_ms;
	uint32_t	 p_origin;	/* actor index or BR_ORIGIN_CLI */
	uint32_t	 p_kind;	/* TP_K_ASK or TP_K_SEND */
	uint32_t	 p_target;	/* actor index */
	uint8_t		 p_hdrlen;
	uint8_t		 p_hdr[64];	/* nng backtrace of the CLI request */
	bool		 p_confirm;	/* a SEND waiting for a remote ACK */
};

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
	struct br_pend	*b_pend;
	uint32_t	 b_pend_mask;
	uint32_t	 b_npend;
	uint64_t	 b_next_id;
	uint64_t	 b_pend_next_ms;	/* earliest pending deadline */
	struct br_actor	*b_dirty;
	struct tp_limits b_lim;
	struct br_stats	 b_stats;
	uint64_t	 b_start_ms;
	bool		 b_stopping;
	struct br_acl	 b_acl;		/* who may use ctl.sock */
	struct sup_tree	*b_sup;		/* br_sup: groups and node phase */
	int		 b_link_fd;	/* mailbox links that dropped */
	msgpack_zone	*b_zone;	/* scratch for control bodies */
	struct br_disc	*b_disc;	/* br_disc.c; NULL = discovery off */
	struct br_peers	*b_peers;	/* br_peer.c; NULL = no cluster */
	struct br_tap	 b_tap;		/* br_tap: `troupe watch` */
	struct br_metrics *b_metrics;	/* br_metrics: NULL when off */
	struct br_dur	*b_dur;		/* br_durable: data dir, commit timer */
	struct br_await	*b_await;	/* br_await: requests held until the
					 * cluster can route them */
};

/* br_actor.c — actors: table, spawn, exit, delivery */
int br_actors_init(struct br *br);
void br_actors_fini(struct br *br);
int br_actor_add(struct br *br, const struct br_conf_actor *ca);
struct br_actor *br_actor_find(struct br *br, const char *name, size_t len);
int br_actor_spawn(struct br_actor *a);
void br_actor_exited(struct br *br, pid_t pid, int status);
void br_actor_mark_dirty(struct br_actor *a);
/* Queues env (an answer: REPLY, ERROR, ACK, CONTROL) for a's next frame,
 * which also carries its CREDIT and deliveries.  Returns 0 or -1 (no
 * memory, link full).  env's buffers are copied. */
int br_actor_answer(struct br_actor *a, const struct tp_env *env);
/* Like br_actor_answer, and the frame leaves now (the answer to a bye:
 * the actor closes as soon as it arrives). */
int br_actor_answer_now(struct br_actor *a, const struct tp_env *env);
/* a may send n more messages: a CREDIT goes first in its next frame.
 * Credit owed to an actor that is not running is forgotten: its next
 * instance starts with a full window at its hello. */
void br_actor_owe_credit(struct br_actor *a, uint32_t n);
void br_actors_flush(struct br *br);
/* SIGKILLs and reaps every live actor at once (start-up failure path). */
void br_actors_kill_all(struct br *br);
const char *br_astate_name(enum br_astate st);
/* Re-enables a removed actor's slot with config ca (reload, spawn). */
int br_actor_revive(struct br_actor *a, const struct br_conf_actor *ca);
/* Closes a removed actor's mailbox, answers what waited in it. */
void br_actor_retire(struct br_actor *a);
/* Like br_actor_find, also returns removed actors. */
struct br_actor *br_actor_lookup(struct br *br, const char *name,
    size_t len);

/* Where an answer goes: an actor (by index), or the CLI request whose nng
 * backtrace header is o_hdr (borrowed). */
struct br_origin {
	uint32_t	 o_actor;	/* actor index or BR_ORIGIN_CLI */
	const uint8_t	*o_hdr;
	size_t		 o_hdrlen;
};

/* br_route.c — routing, pending requests, answers */
int br_route_init(struct br *br);
void br_route_fini(struct br *br);
/* One envelope of a frame from actor a (a struct br_actor *): the
 * mailbox link's lo_env hook itself (br_actor.c; env points into the
 * frame).  Returns 0: what is wrong with an envelope is answered or
 * counted here, the frame goes on. */
int br_route_actor_env(void *a, const struct tp_env *env);
/* Takes ownership of msg (a request on the control socket). */
void br_route_ctl_msg(struct br *br, nng_msg *msg);
/* Room was made in target's mailbox: admit waiting senders. */
void br_route_room(struct br_actor *target);
/* Expires pending requests past their deadline. */
void br_route_tick(struct br *br, uint64_t now);
/* Answers the ASKs among a list of dropped items and frees the list. */
void br_route_dropped(struct br *br, struct mbx_item *list);
/* A SEND to a durable mailbox reached the disk (br_durable): confirm its
 * sender (origin, CLI pending slot pend, sender's id, envelope flags). */
void br_route_durable(struct br *br, uint32_t origin, uint64_t pend,
    uint64_t id, uint32_t flags);
/* A SEND/ASK/REPLY/ERROR from an UP peer link (br_peer.c). */
void br_route_peer_env(struct br_link *l, const struct tp_env *env);
/* The link got credit back: admit senders waiting for it. */
void br_route_link_room(struct br_link *l);
/* The link went down: answer "unreachable" to what waits on it. */
void br_route_link_down(struct br_link *l);
/* A request held by br_await (its envelope as received: buf, len; its
 * kind and sender's id) is routed now; o's buffers are borrowed. */
void br_route_again(struct br *br, const struct br_origin *o,
    const uint8_t *buf, size_t len, uint32_t kind, uint64_t id);
/* True when node (len bytes, not terminated) is this node's name. */
bool br_route_is_self(const struct br *br, const char *node, size_t len);
/* A held request fails: its sender hears ERROR code with text and gets
 * its credit back. */
void br_route_fail(struct br *br, const struct br_origin *o, uint32_t kind,
    uint64_t id, int code, const char *text);
/* env's body as an unsigned integer (ACK, CREDIT counts); 0 if it is
 * not one.  Uses br->b_zone. */
uint64_t br_body_uint(struct br *br, const struct tp_env *env);
/* Sends an envelope of kind to origin with corr and raw msgpack body. */
int br_answer(struct br *br, const struct br_origin *o, uint32_t kind,
    uint64_t corr, const uint8_t *body, size_t len);
/* Sends ERROR {"code":code,"message":...} to origin. */
int br_answer_error(struct br *br, const struct br_origin *o, uint64_t corr,
    int code, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* br_ctl.c — control socket and the CONTROL ops */
int br_ctl_open(struct br *br);
void br_ctl_close(struct br *br);
/* True when o is the string s. */
bool br_str_is(const msgpack_object *o, const char *s);
/* The value of key in map m (borrowed from m), or NULL. */
const msgpack_object *br_map_get(const msgpack_object *m, const char *key);
/* Answers a CONTROL request (actors, inspect, stats) to o. */
void br_ctl_op(struct br *br, const struct br_origin *o,
    const struct tp_env *env);
int br_ctl_send(struct br *br, const uint8_t *hdr, size_t hdrlen,
    const struct tp_env *env);

#endif

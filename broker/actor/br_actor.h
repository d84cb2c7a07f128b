/*
 * br_actor — the actor table: name index, mailbox sockets, posix_spawn, exits and
 * windowed delivery.
 * Loop thread only.
 */
#ifndef BR_ACTOR_H
#define BR_ACTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <nng/nng.h>

#include "br_conf.h"
#include "br_mbx.h"
#include "br_supfsm.h"
#include "br_wait.h"
#include "tp_env.h"

struct br;
struct br_dactor;
struct br_gate;
struct br_loop_ev;
struct tp_link;

struct br_actor {
	struct br	*a_br;
	uint32_t	 a_idx;
	struct br_conf_actor a_conf;
	uint32_t	 a_name_len;	/* of a_conf.ca_name, which a reload
					 * never changes */
	uint32_t	 a_from_len;
	char		 a_from[BR_NAME_MAX * 2 + 2];	/* "name@node": the
					 * `from` of what it sends, built
					 * once, not per message */
	char		 a_url[BR_PATH_MAX + BR_NAME_MAX + 32];
	nng_socket	 a_sock;
	int		 a_fd;
	struct br_loop_ev *a_ev;
	pid_t		 a_pid;
	struct br_gate	*a_gate;	/* admits the spawned pid only */
	enum br_astate	 a_state;
	uint64_t	 a_started_ms;
	bool		 a_removed;	/* gone by reload; slot kept */
	bool		 a_retired;	/* br_actor_retire ran (revive clears) */
	char		 a_last_exit[64];
	struct mbx	 a_mbx;
	struct br_waitq	 a_waitq;	/* block policy: waiting senders
					 * (br_wait calls only) */
	struct tp_link	*a_link;	/* the mailbox link (br_actor.c):
					 * frames, batching, CREDIT owed */
	uint64_t	 a_sent;	/* messages this actor sent */
	bool		 a_dirty;
	struct br_actor	*a_dirty_next;
	struct br_dactor *a_dur;	/* br_durable: NULL = not durable */
	/* Worker pools (br_apool.c): the pool is a head with no process of
	 * its own holding the shared mailbox, the wait list and the durable
	 * log; its instances are actors of the table named NAME#k, each
	 * with a mailbox of its window only, out of the name index. */
	struct br_actor	*a_pool;	/* an instance: its pool's head */
	uint32_t	 a_inst;	/* an instance: its k */
	struct br_actor	**a_insts;	/* a head: BR_POOL_MAX slots */
	uint32_t	 a_nslots;	/* a head: slots made so far */
	uint32_t	 a_ninst;	/* a head: instances wanted */
	uint32_t	 a_rr;		/* a head: next slot offered work */
};

/*
 * What the actor table tells the modules above it (registered once by
 * the assembler, trouped.c): every envelope an actor sent, an actor's
 * process exit, its mailbox link dropping while the process may live on,
 * and the messages a removed actor leaves behind.  Callbacks, not calls:
 * the table sits below routing and supervision and never calls them.
 */
struct br_actor_ops {
	/* env arrived from a (already admitted: the spawned pid's pipe);
	 * env's buffers live until the callback returns. */
	void	(*ao_env)(void *arg, struct br_actor *a,
		    const struct tp_env *env);
	/* a's process ended with waitpid status; its last frames were
	 * taken and its in-flight messages requeued before this. */
	void	(*ao_exited)(void *arg, struct br_actor *a, int status);
	void	(*ao_link_down)(void *arg, struct br_actor *a);
	/* list (mi_next-linked) left a's mailbox undelivered (retire):
	 * the callee answers their askers and frees the list. */
	void	(*ao_dropped)(void *arg, struct mbx_item *list);
};

/* ops (borrowed: static storage) and arg for every actor of br. */
void br_actors_set_ops(struct br *br, const struct br_actor_ops *ops,
    void *arg);

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
/* Per message on the actor link: inline. */
static inline const char *
br_actor_name(const struct br_actor *a)
{
	return a->a_conf.ca_name;
}

static inline uint32_t
br_actor_index(const struct br_actor *a)
{
	return a->a_idx;
}

static inline bool
br_actor_running(const struct br_actor *a)
{
	return a->a_state == BR_A_RUNNING;
}

/* a's process lives and has said hello: its ACKs are its own. */
static inline bool
br_actor_has_process(const struct br_actor *a)
{
	return a->a_pid > 0 && a->a_state != BR_A_STARTING;
}

static inline void
br_actor_count_sent(struct br_actor *a)
{
	a->a_sent++;
}
/* a's hello: STARTING becomes RUNNING with its send window as credit;
 * -1 when a was not starting. */
int br_actor_ready(struct br_actor *a);
/* a finished n more deliveries: its log records and in-flight slots are
 * done.  Returns how many were in flight of those n. */
uint32_t br_actor_acked(struct br_actor *a, uint32_t n);
/* Supervision's verdict on a (br_supfsm decides the state). */
void br_actor_set_state(struct br_actor *a, enum br_astate st);
/* a takes no new work (find skips it); br_actor_retire once it is down. */
void br_actor_mark_removed(struct br_actor *a);
/* A reload changed a's settings: new config ca, mailbox limits, durable
 * log opened or closed.  Returns 0, or -1 when the log will not open. */
int br_actor_reconf(struct br_actor *a, const struct br_conf_actor *ca);
/* Re-enables a removed actor's slot with config ca (reload, spawn). */
int br_actor_revive(struct br_actor *a, const struct br_conf_actor *ca);
/* Closes a removed actor's mailbox, answers what waited in it. */
void br_actor_retire(struct br_actor *a);
/* Like br_actor_find, also returns removed actors. */
struct br_actor *br_actor_lookup(struct br *br, const char *name,
    size_t len);

/* ---- worker pools (br_apool.c) ---- */

static inline bool
br_actor_is_pool(const struct br_actor *a)
{
	return a->a_insts != NULL;
}

/* Whose mailbox a's work comes from: its pool's for an instance. */
static inline struct br_actor *
br_actor_home(struct br_actor *a)
{
	return a->a_pool != NULL ? a->a_pool : a;
}

/* Instance slot k of pool h (k < h->a_nslots), or NULL. */
static inline struct br_actor *
br_actor_pool_slot(const struct br_actor *h, uint32_t k)
{
	return k < h->a_nslots ? h->a_insts[k] : NULL;
}

/*
 * Makes pool h's instance slots 0..n-1 usable (n <= BR_POOL_MAX): new
 * slots are added to the table, removed ones revived with the pool's
 * config; slots from n on are marked removed (they take no new work and
 * are retired once down, their messages going back to the pool).  The
 * caller (supervision) starts and stops them.  Returns 0, or -1 when a
 * slot could not be made (the pool keeps the slots made).
 */
int br_actor_pool_resize(struct br_actor *h, uint32_t n);
/* Hands pool h's queued messages to instances with room in their
 * window, one at a time round the instances, so the least busy get
 * more; called whenever work or room appears. */
void br_actor_pool_fill(struct br_actor *h);
/* Pool h's state is the liveliest of its instances' (RUNNING when any
 * runs); a removed pool whose instances are all down is retired. */
void br_actor_pool_state(struct br_actor *h);
/* What a was handed and did: a pool's is the sum over its instances
 * (those scaled away included), an actor's its own mailbox's. */
struct br_pool_sums {
	uint64_t	 ps_delivered, ps_acknowledged, ps_redelivered;
	uint32_t	 ps_inflight, ps_running;
};
void br_actor_pool_sums(const struct br_actor *a, struct br_pool_sums *s);

#endif

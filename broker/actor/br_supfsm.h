/*
 * br_supfsm — the pure core of supervision: the state x event table of
 * each child, the groups' restart strategies, intensity windows and
 * escalation, backoff, and the node phases (drain, ordered stop, halt).
 *
 * It decides; it never touches a process, a socket or the broker.  What
 * it asks of the world (start child k, signal it, retire it, the time,
 * how much is queued for it...) goes through struct supfsm_ops, which
 * br_sup fills over br_actor and a unit test fills over plain arrays.
 * Children are numbered 0..n-1 in start order (the actor index); the
 * state each one shows the broker (enum br_astate) is held by the ops
 * side, because the broker moves STARTING to RUNNING on the hello; the
 * rest (group, restart count, deadlines, crashes in a row) is kept here.
 * Groups come from the [supervisor NAME] sections of a br_conf and are
 * kept by br_supgrp (tree, intensity windows, failure).
 * Loop thread only; nothing here sleeps or blocks.
 */
#ifndef BR_SUPFSM_H
#define BR_SUPFSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "br_conf.h"

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

enum supfsm_phase {
	SUPFSM_RUN,		/* normal work */
	SUPFSM_DRAIN,		/* first stop signal: mailboxes empty out */
	SUPFSM_STOP,		/* children stopped one by one, last first */
	SUPFSM_HALT		/* second stop signal: everything SIGKILLed */
};

enum supfsm_evkind {
	SUPFSM_EV_START,	/* start, or restart if running */
	SUPFSM_EV_STOP,		/* stop and stay down */
	SUPFSM_EV_EXIT,		/* the process ended */
	SUPFSM_EV_TIMER,	/* the periodic tick */
	SUPFSM_EV_LINK,		/* the mailbox link dropped */
	SUPFSM_EV_SIBLING,	/* a sibling crashed (one_for_all...) */
	SUPFSM_NEV
};

struct supfsm_event {
	enum supfsm_evkind ev_kind;
	uint64_t	 ev_now;	/* ms, monotonic */
	int		 ev_status;	/* EXIT: the waitpid status */
	uint64_t	 ev_at;		/* SIBLING: when to start again */
};

/*
 * What the core asks of the world.  arg is o_arg; k a child index.
 * o_spawn starts k's process: 0 and k is then BR_A_STARTING, or -1 (it
 * could not be started).  o_retire gives a removed child's resources
 * back; k is then BR_A_STOPPED.  o_conf's answer is borrowed and stays
 * valid until the child is reconfigured.  o_pid is > 0 while the
 * process lives.  o_depth and o_waiters: the messages queued for k and
 * the senders its full mailbox holds (the drain waits for both to be 0).
 * o_done: every child is gone, the node may end.
 */
struct supfsm_ops {
	void		*o_arg;
	int		(*o_spawn)(void *arg, uint32_t k);
	void		(*o_signal)(void *arg, uint32_t k, int sig);
	void		(*o_retire)(void *arg, uint32_t k);
	enum br_astate	(*o_state)(void *arg, uint32_t k);
	void		(*o_set_state)(void *arg, uint32_t k,
			    enum br_astate st);
	long		(*o_pid)(void *arg, uint32_t k);
	const struct br_conf_actor *(*o_conf)(void *arg, uint32_t k);
	uint64_t	(*o_now)(void *arg);
	uint64_t	(*o_depth)(void *arg, uint32_t k);	/* queued */
	uint32_t	(*o_waiters)(void *arg, uint32_t k);	/* held */
	void		(*o_done)(void *arg);
};

struct supfsm;

/*
 * A core for at most max children with the groups of conf (read, not
 * kept) and the ops (copied).  seed starts the backoff jitter (0 is made
 * 1).  Returns NULL when out of memory; the caller frees with
 * supfsm_free.
 */
struct supfsm *supfsm_new(const struct br_conf *conf,
    const struct supfsm_ops *ops, uint32_t max, uint32_t seed);
void supfsm_free(struct supfsm *f);

/* Makes child k known (fresh record in group 0, the first section:
 * root unless a file names another one first), or, for a known one,
 * forgets it was removed and its crashes in a row (a reload or spawn
 * brings it back).  An index below k never added (a pool's head) is
 * never acted on, whatever o_state says of it.  Returns 0, or -1 when
 * k >= max. */
int supfsm_add(struct supfsm *f, uint32_t k);
/* Puts k under group name (unknown names: group 0). */
void supfsm_set_group(struct supfsm *f, uint32_t k, const char *name);
/* The group's index, or -1 when there is no such group. */
int32_t supfsm_group_index(const struct supfsm *f, const char *name);
/*
 * Replaces the groups by those of conf; a group whose settings did not
 * change keeps its failure and restart history.  Children keep their
 * group index: set them again after.  Returns 0, or -1 (out of memory;
 * nothing changed).
 */
int supfsm_regroup(struct supfsm *f, const struct br_conf *conf);

/* Runs the table cell (k's state, e->ev_kind). */
void supfsm_fire(struct supfsm *f, uint32_t k, const struct supfsm_event *e);
/* Shorthands at o_now: START, STOP, LINK; EXIT (status from waitpid),
 * which in the STOP phase also asks the next child to stop. */
void supfsm_start(struct supfsm *f, uint32_t k);
void supfsm_stop(struct supfsm *f, uint32_t k);
void supfsm_link_down(struct supfsm *f, uint32_t k);
void supfsm_exited(struct supfsm *f, uint32_t k, int status);
/* A restart by hand: the failed groups above k are revived (their
 * windows start afresh, their failed children start again), then k is
 * restarted with its backoff forgotten. */
void supfsm_restart(struct supfsm *f, uint32_t k);
/* k is removed (reload): it is stopped if it runs, and retired once
 * down; its group becomes 0. */
void supfsm_remove(struct supfsm *f, uint32_t k);
/* TIMER to every child, then the phase's deadlines. */
void supfsm_tick(struct supfsm *f, uint64_t now);
/* A stop signal: RUN goes to DRAIN for at most drain_ms, a second one
 * HALTs (SIGKILL to all).  Returns the phase after. */
enum supfsm_phase supfsm_shutdown(struct supfsm *f, uint64_t drain_ms);

/* ---- inspection ---- */
enum supfsm_phase supfsm_phase(const struct supfsm *f);
/* k's group chain, innermost first: up to max names (owned by the core,
 * valid until the next regroup); returns how many. */
size_t supfsm_chain(const struct supfsm *f, uint32_t k, const char **names,
    size_t max);
/* True when k's group has given up. */
bool supfsm_group_failed(const struct supfsm *f, uint32_t k);
/* Restarts after a crash or by hand since k was added. */
uint32_t supfsm_restarts(const struct supfsm *f, uint32_t k);
/* Crashes in a row (the backoff exponent). */
uint32_t supfsm_backoff_n(const struct supfsm *f, uint32_t k);
/* When k starts again (BACKOFF, RESTARTING) and when it gets SIGKILL
 * (0 = no deadline). */
uint64_t supfsm_restart_at(const struct supfsm *f, uint32_t k);
uint64_t supfsm_kill_at(const struct supfsm *f, uint32_t k);
/* `troupe spawn` children: reloads that do not name them keep them. */
bool supfsm_dynamic(const struct supfsm *f, uint32_t k);
void supfsm_set_dynamic(struct supfsm *f, uint32_t k, bool on);

#endif

/*
 * br_sup — supervision of the broker's actors and the node's lifecycle.
 *
 * The decisions (the state x event table, strategies, intensity,
 * backoff, drain and ordered stop) are br_supfsm's; this module fills its
 * ops with br_actor's calls, hears exits and link drops through the
 * actor table's callbacks (struct br_actor_ops, which trouped.c points at
 * sup_exited and sup_link_down), and does what needs the whole broker:
 * the control ops and SIGHUP reloads.  Groups come from the [supervisor
 * NAME] sections (strategy, intensity in period, backoff_min/backoff_max,
 * parent).  Time is driven by sup_tick from the broker's periodic timer:
 * nothing here sleeps or blocks.  Loop thread only.
 *
 * Node phases: RUN, DRAIN (SIGTERM: no new messages, queued ones still
 * delivered until the mailboxes are empty or node.drain_timeout), STOP
 * (actors stopped one by one in reverse start order), HALT (a second
 * SIGTERM: everything SIGKILLed).  When no actor is left the loop stops.
 */
#ifndef BR_SUP_H
#define BR_SUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "br.h"

/* Builds the groups from br->b_conf.  Returns 0 or -1 (out of memory). */
int sup_init(struct br *br);
/* Frees the groups (not the actors). */
void sup_fini(struct br *br);

/* Starts every actor in config order.  Returns 0. */
int sup_start_all(struct br *br);

/* Actor a's process ended with waitpid status (br_actor_ops.ao_exited). */
void sup_exited(struct br_actor *a, int status);
/* Actor a's mailbox link dropped while its process may live on. */
void sup_link_down(struct br_actor *a);
/* Deadlines: backoff over, shutdown time over, drain over. */
void sup_tick(struct br *br, uint64_t now);

/* SIGTERM/SIGINT: the first drains, a second stops at once. */
void sup_shutdown(struct br *br);

/*
 * Control ops.  Each returns 0, or a BR_E_* code with a one-line reason
 * in err (len bytes).  sup_spawn validates the actor as the config file
 * would (overrides "actor.NAME.KEY=VALUE", exec required) and starts it
 * under supervisor sup (NULL = root); *out is the new actor.
 */
int sup_spawn(struct br *br, const char *name, const char *sup,
    const char *const *overrides, size_t n, struct br_actor **out,
    char *err, size_t len);
int sup_stop(struct br_actor *a, char *err, size_t len);
int sup_restart(struct br_actor *a, char *err, size_t len);
/* Pool h to n instances (1..BR_POOL_MAX): new ones start under the
 * pool's group, removed ones stop and give their messages back. */
int sup_scale(struct br_actor *h, uint32_t n, char *err, size_t len);

/*
 * SIGHUP: applies conf (already loaded and validated; ownership passes
 * here in every case): starts new actors, stops and retires removed ones,
 * restarts changed ones and leaves the rest untouched.  Returns 0, or -1
 * (logged; nothing changed) when the new config cannot be applied.
 */
int sup_reload(struct br *br, struct br_conf *conf);

/*
 * The supervisor chain of a, innermost first: writes up to max group
 * names (owned by br_sup, valid until the next reload) and returns how
 * many.  sup_group_state is "running" or "failed".
 */
size_t sup_chain(const struct br_actor *a, const char **names, size_t max);
const char *sup_group_state(const struct br_actor *a);
/* How often a was started again (after a crash or by hand). */
uint32_t sup_restarts(const struct br_actor *a);

#endif

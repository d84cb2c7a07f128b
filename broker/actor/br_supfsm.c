/*
 * br_supfsm — supervision's decisions: a state x event table per child
 * (s6-supervise's actions[][]), restart intensity windows, strategies and
 * escalation per group, backoff, and the node phases.  Everything it does
 * to the world goes through f->f_ops.  Loop thread only.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "br_log.h"
#include "br_supfsm.h"
#include "br_supgrp.h"

#define BACKOFF_N_MAX 32	/* doublings beyond this change nothing */


struct supfsm_child {
	uint32_t	 c_group;
	uint32_t	 c_restarts;
	uint32_t	 c_backoff_n;	/* crashes in a row */
	uint64_t	 c_started_ms;
	uint64_t	 c_restart_at_ms;
	uint64_t	 c_kill_at_ms;	/* SIGKILL when still alive; 0 none */
	bool		 c_removed;	/* retire once down */
	bool		 c_dynamic;
	bool		 c_known;	/* given by supfsm_add; the indexes
					 * below it that were not (a pool's
					 * head: no process) are never acted on */
};

struct supfsm {
	struct supfsm_ops f_ops;
	struct supgrp	*f_groups;
	struct supfsm_child *f_kids;
	uint32_t	 f_nkids;
	uint32_t	 f_max;
	enum supfsm_phase f_phase;
	uint64_t	 f_drain_until;
	uint32_t	 f_rand;	/* xorshift state for jitter */
};

typedef void (*supfsm_fn)(struct supfsm *, uint32_t,
    const struct supfsm_event *);

/* ---- the world, through the ops ---- */

static enum br_astate
state_of(const struct supfsm *f, uint32_t k)
{
	return f->f_ops.o_state(f->f_ops.o_arg, k);
}

static void
set_state(struct supfsm *f, uint32_t k, enum br_astate st)
{
	f->f_ops.o_set_state(f->f_ops.o_arg, k, st);
}

static long
pid_of(const struct supfsm *f, uint32_t k)
{
	return f->f_ops.o_pid(f->f_ops.o_arg, k);
}

static const struct br_conf_actor *
conf_of(const struct supfsm *f, uint32_t k)
{
	return f->f_ops.o_conf(f->f_ops.o_arg, k);
}

static void
signal_kid(struct supfsm *f, uint32_t k, int sig)
{
	f->f_ops.o_signal(f->f_ops.o_arg, k, sig);
}

static uint64_t
now_ms(const struct supfsm *f)
{
	return f->f_ops.o_now(f->f_ops.o_arg);
}

/* ---- groups ---- */

static uint32_t
gi_of(const struct supfsm *f, uint32_t k)
{
	return f->f_kids[k].c_group;
}

static const struct br_conf_sup *
gconf(const struct supfsm *f, uint32_t k)
{
	return supgrp_conf(f->f_groups, gi_of(f, k));
}

static bool
gfailed(const struct supfsm *f, uint32_t k)
{
	return supgrp_failed(f->f_groups, gi_of(f, k));
}

/* Stops every child of group gi and of the groups under it, marks them
 * failed, and counts the failure against the parent, which may give up
 * in turn.  The node itself stays up. */
static void
group_fail(struct supfsm *f, uint32_t gi, uint64_t now)
{
	const struct br_conf_sup *g = supgrp_conf(f->f_groups, gi);
	int32_t up = supgrp_parent(f->f_groups, gi);
	struct supfsm_event e = { .ev_kind = SUPFSM_EV_STOP, .ev_now = now };

	supgrp_fail(f->f_groups, gi);
	log_error("supervisor gave up", "supervisor=%s intensity=%u "
	    "period_ms=%llu", g->cs_name, g->cs_intensity,
	    (unsigned long long)g->cs_period_ms);
	for (uint32_t k = 0; k < f->f_nkids; k++)
		if (!f->f_kids[k].c_removed &&
		    supgrp_under(f->f_groups, gi_of(f, k), gi))
			supfsm_fire(f, k, &e);
	if (up < 0 || supgrp_failed(f->f_groups, (uint32_t)up))
		return;
	log_warn("supervisor failure escalated", "supervisor=%s parent=%s",
	    g->cs_name, supgrp_conf(f->f_groups, (uint32_t)up)->cs_name);
	if (!supgrp_admit(f->f_groups, (uint32_t)up, now))
		group_fail(f, (uint32_t)up, now);
}

/* ---- actions ---- */

static uint32_t
jitter(struct supfsm *f, uint64_t span)
{
	uint32_t x = f->f_rand;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	f->f_rand = x;
	return span ? (uint32_t)(x % (span + 1)) : 0;
}

/* backoff_min doubled per crash in a row, plus up to a quarter more,
 * within [backoff_min, backoff_max]; a run longer than the group's period
 * forgives the earlier crashes. */
static uint64_t
backoff(struct supfsm *f, uint32_t k, uint64_t now)
{
	struct supfsm_child *c = &f->f_kids[k];
	const struct br_conf_sup *g = gconf(f, k);
	uint64_t lo = g->cs_backoff_min_ms, d = lo;
	uint64_t hi = g->cs_backoff_max_ms > lo ? g->cs_backoff_max_ms : lo;

	if (now - c->c_started_ms >= g->cs_period_ms)
		c->c_backoff_n = 0;
	for (uint32_t i = 0; i < c->c_backoff_n && d < hi; i++)
		d *= 2;
	if (d > hi)
		d = hi;
	d += jitter(f, d / 4);
	if (c->c_backoff_n < BACKOFF_N_MAX)
		c->c_backoff_n++;
	return d > hi ? hi : d;
}

/* The child is down for good (or until asked): failed with its group,
 * else stopped; a removed child gives its resources back. */
static void
settle(struct supfsm *f, uint32_t k)
{
	set_state(f, k, gfailed(f, k) ? BR_A_FAILED : BR_A_STOPPED);
	f->f_kids[k].c_kill_at_ms = 0;
	if (f->f_kids[k].c_removed)
		f->f_ops.o_retire(f->f_ops.o_arg, k);
}

static void
terminate(struct supfsm *f, uint32_t k, enum br_astate next, uint64_t now)
{
	const struct br_conf_actor *ca = conf_of(f, k);

	log_info("actor stopping", "actor=%s pid=%ld", ca->ca_name,
	    pid_of(f, k));
	signal_kid(f, k, SIGTERM);
	f->f_kids[k].c_kill_at_ms = now + ca->ca_shutdown_ms;
	set_state(f, k, next);
}

static void crashed(struct supfsm *f, uint32_t k, uint64_t now, bool normal);

static void
act_spawn(struct supfsm *f, uint32_t k, uint64_t now)
{
	if (f->f_phase >= SUPFSM_STOP) {
		settle(f, k);
		return;
	}
	if (f->f_ops.o_spawn(f->f_ops.o_arg, k) == 0) {
		f->f_kids[k].c_kill_at_ms = 0;
		f->f_kids[k].c_started_ms = now;
	} else		/* exec failed: a crash at start */
		crashed(f, k, now, false);
}

static void
restart_siblings(struct supfsm *f, uint32_t k, uint64_t at, uint64_t now)
{
	enum br_strategy st = gconf(f, k)->cs_strategy;
	struct supfsm_event e = { .ev_kind = SUPFSM_EV_SIBLING,
	    .ev_now = now, .ev_at = at };

	if (st == BR_ST_ONE_FOR_ONE)
		return;
	for (uint32_t b = 0; b < f->f_nkids; b++) {
		if (b == k || f->f_kids[b].c_removed ||
		    f->f_kids[b].c_group != f->f_kids[k].c_group)
			continue;
		if (st == BR_ST_REST_FOR_ONE && b < k)
			continue;
		supfsm_fire(f, b, &e);
	}
}

/* An unplanned exit: the restart type decides whether it matters, the
 * group's window whether it may restart, its strategy who else goes. */
static void
crashed(struct supfsm *f, uint32_t k, uint64_t now, bool normal)
{
	const struct br_conf_actor *ca = conf_of(f, k);
	enum br_restart rs = ca->ca_restart;
	uint64_t at;

	if (f->f_phase >= SUPFSM_STOP || rs == BR_RS_TEMPORARY ||
	    (normal && rs == BR_RS_TRANSIENT)) {
		settle(f, k);
		return;
	}
	if (gfailed(f, k) || !supgrp_admit(f->f_groups, gi_of(f, k), now)) {
		bool was = gfailed(f, k);

		set_state(f, k, BR_A_FAILED);
		if (!was)
			group_fail(f, gi_of(f, k), now);
		return;
	}
	at = now + backoff(f, k, now);
	set_state(f, k, BR_A_BACKOFF);
	f->f_kids[k].c_restart_at_ms = at;
	log_info("actor restart scheduled", "actor=%s in_ms=%llu",
	    ca->ca_name, (unsigned long long)(at - now));
	restart_siblings(f, k, at, now);
}

/* ---- the state x event table ---- */

static void
on_start_down(struct supfsm *f, uint32_t k, const struct supfsm_event *e)
{
	act_spawn(f, k, e->ev_now);
}

static void
on_start_live(struct supfsm *f, uint32_t k, const struct supfsm_event *e)
{
	f->f_kids[k].c_restart_at_ms = e->ev_now;
	terminate(f, k, BR_A_RESTARTING, e->ev_now);
}

static void
on_start_stopping(struct supfsm *f, uint32_t k,
    const struct supfsm_event *e)
{
	f->f_kids[k].c_restart_at_ms = e->ev_now;
	set_state(f, k, BR_A_RESTARTING);
}

static void
on_stop_live(struct supfsm *f, uint32_t k, const struct supfsm_event *e)
{
	terminate(f, k, BR_A_STOPPING, e->ev_now);
}

static void
on_stop_down(struct supfsm *f, uint32_t k, const struct supfsm_event *e)
{
	settle(f, k);
}

static void
on_stop_restarting(struct supfsm *f, uint32_t k,
    const struct supfsm_event *e)
{
	set_state(f, k, BR_A_STOPPING);
}

static void
on_exit_live(struct supfsm *f, uint32_t k, const struct supfsm_event *e)
{
	crashed(f, k, e->ev_now, WIFEXITED(e->ev_status) &&
	    WEXITSTATUS(e->ev_status) == 0);
}

static void
on_exit_restarting(struct supfsm *f, uint32_t k,
    const struct supfsm_event *e)
{
	if (f->f_phase >= SUPFSM_STOP)
		settle(f, k);
	else
		set_state(f, k, BR_A_BACKOFF);
}

static void
on_timer_backoff(struct supfsm *f, uint32_t k, const struct supfsm_event *e)
{
	if (f->f_phase >= SUPFSM_STOP)
		settle(f, k);
	else if (e->ev_now >= f->f_kids[k].c_restart_at_ms) {
		f->f_kids[k].c_restarts++;
		act_spawn(f, k, e->ev_now);
	}
}

static void
on_timer_kill(struct supfsm *f, uint32_t k, const struct supfsm_event *e)
{
	struct supfsm_child *c = &f->f_kids[k];

	if (c->c_kill_at_ms == 0 || e->ev_now < c->c_kill_at_ms ||
	    pid_of(f, k) <= 0)
		return;
	log_warn("actor did not stop in time, killing", "actor=%s pid=%ld "
	    "shutdown_ms=%llu", conf_of(f, k)->ca_name, pid_of(f, k),
	    (unsigned long long)conf_of(f, k)->ca_shutdown_ms);
	signal_kid(f, k, SIGKILL);
	c->c_kill_at_ms = 0;
}

/* A live process without its link can never work again: the exit that
 * follows is then handled as a crash. */
static void
on_link_running(struct supfsm *f, uint32_t k, const struct supfsm_event *e)
{
	const struct br_conf_actor *ca = conf_of(f, k);

	if (pid_of(f, k) <= 0 || f->f_kids[k].c_kill_at_ms != 0)
		return;
	log_warn("mailbox link dropped", "actor=%s pid=%ld", ca->ca_name,
	    pid_of(f, k));
	signal_kid(f, k, SIGTERM);
	f->f_kids[k].c_kill_at_ms = e->ev_now + ca->ca_shutdown_ms;
}

static void
on_sibling_live(struct supfsm *f, uint32_t k, const struct supfsm_event *e)
{
	f->f_kids[k].c_restart_at_ms = e->ev_at;
	terminate(f, k, BR_A_RESTARTING, e->ev_now);
}

static void
on_sibling_backoff(struct supfsm *f, uint32_t k,
    const struct supfsm_event *e)
{
	if (f->f_kids[k].c_restart_at_ms < e->ev_at)
		f->f_kids[k].c_restart_at_ms = e->ev_at;
}

/* NULL: the event means nothing in that state. */
static const supfsm_fn fsm[BR_A_NSTATES][SUPFSM_NEV] = {
	/*		  START		      STOP		  EXIT
	 *		  TIMER		      LINK		  SIBLING */
	[BR_A_STOPPED] = { on_start_down, NULL, on_stop_down,
			   NULL, NULL, NULL },
	[BR_A_STARTING] = { on_start_live, on_stop_live, on_exit_live,
			   on_timer_kill, NULL, on_sibling_live },
	[BR_A_RUNNING] = { on_start_live, on_stop_live, on_exit_live,
			   on_timer_kill, on_link_running, on_sibling_live },
	[BR_A_BACKOFF] = { on_start_down, on_stop_down, on_stop_down,
			   on_timer_backoff, NULL, on_sibling_backoff },
	[BR_A_FAILED] = { on_start_down, NULL, on_stop_down,
			   NULL, NULL, NULL },
	[BR_A_STOPPING] = { on_start_stopping, NULL, on_stop_down,
			   on_timer_kill, NULL, NULL },
	[BR_A_RESTARTING] = { NULL, on_stop_restarting, on_exit_restarting,
			   on_timer_kill, NULL, NULL },
};

void
supfsm_fire(struct supfsm *f, uint32_t k, const struct supfsm_event *e)
{
	supfsm_fn fn;

	if (k >= f->f_nkids || !f->f_kids[k].c_known ||
	    e->ev_kind >= SUPFSM_NEV)
		return;
	if ((fn = fsm[state_of(f, k)][e->ev_kind]) != NULL)
		fn(f, k, e);
}

static void
fire_now(struct supfsm *f, uint32_t k, enum supfsm_evkind ev)
{
	struct supfsm_event e = { .ev_kind = ev, .ev_now = now_ms(f) };

	supfsm_fire(f, k, &e);
}

/* ---- setup ---- */

struct supfsm *
supfsm_new(const struct br_conf *conf, const struct supfsm_ops *ops,
    uint32_t max, uint32_t seed)
{
	struct supfsm *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->f_ops = *ops;
	f->f_max = max;
	f->f_rand = seed ? seed : 1;
	if ((f->f_kids = calloc(max ? max : 1, sizeof(*f->f_kids))) == NULL)
		goto out_free;
	if ((f->f_groups = supgrp_new(conf)) == NULL)
		goto out_free_kids;
	return f;
out_free_kids:
	free(f->f_kids);
out_free:
	free(f);
	return NULL;
}

void
supfsm_free(struct supfsm *f)
{
	if (f == NULL)
		return;
	supgrp_free(f->f_groups);
	free(f->f_kids);
	free(f);
}

int
supfsm_add(struct supfsm *f, uint32_t k)
{
	if (k >= f->f_max)
		return -1;
	if (k < f->f_nkids) {
		f->f_kids[k].c_removed = false;
		f->f_kids[k].c_backoff_n = 0;
		f->f_kids[k].c_known = true;
		return 0;
	}
	memset(&f->f_kids[f->f_nkids], 0, (k + 1 - f->f_nkids) *
	    sizeof(*f->f_kids));
	f->f_nkids = k + 1;
	f->f_kids[k].c_known = true;
	return 0;
}

int32_t
supfsm_group_index(const struct supfsm *f, const char *name)
{
	return supgrp_index(f->f_groups, name);
}

void
supfsm_set_group(struct supfsm *f, uint32_t k, const char *name)
{
	int32_t i = supfsm_group_index(f, name);

	if (k < f->f_nkids)
		f->f_kids[k].c_group = i < 0 ? 0 : (uint32_t)i;
}

int
supfsm_regroup(struct supfsm *f, const struct br_conf *conf)
{
	struct supgrp *g;

	if ((g = supgrp_new(conf)) == NULL)
		return -1;
	supgrp_carry(g, f->f_groups);
	supgrp_free(f->f_groups);
	f->f_groups = g;
	for (uint32_t k = 0; k < f->f_nkids; k++)
		if (f->f_kids[k].c_group >= supgrp_count(g))
			f->f_kids[k].c_group = 0;
	return 0;
}

/* ---- events ---- */

static void stop_next(struct supfsm *f, uint64_t now);

void
supfsm_start(struct supfsm *f, uint32_t k)
{
	fire_now(f, k, SUPFSM_EV_START);
}

void
supfsm_stop(struct supfsm *f, uint32_t k)
{
	fire_now(f, k, SUPFSM_EV_STOP);
}

void
supfsm_link_down(struct supfsm *f, uint32_t k)
{
	fire_now(f, k, SUPFSM_EV_LINK);
}

void
supfsm_exited(struct supfsm *f, uint32_t k, int status)
{
	struct supfsm_event e = { .ev_kind = SUPFSM_EV_EXIT,
	    .ev_now = now_ms(f), .ev_status = status };

	supfsm_fire(f, k, &e);
	/* Stopping in order: the next child need not wait for a tick. */
	if (f->f_phase == SUPFSM_STOP)
		stop_next(f, e.ev_now);
}

void
supfsm_restart(struct supfsm *f, uint32_t k)
{
	if (k >= f->f_nkids)
		return;
	supgrp_revive_above(f->f_groups, gi_of(f, k));
	f->f_kids[k].c_backoff_n = 0;
	for (uint32_t b = 0; b < f->f_nkids; b++)
		if (b != k && state_of(f, b) == BR_A_FAILED &&
		    !gfailed(f, b))
			fire_now(f, b, SUPFSM_EV_START);
	fire_now(f, k, SUPFSM_EV_START);
}

void
supfsm_remove(struct supfsm *f, uint32_t k)
{
	if (k >= f->f_nkids)
		return;
	f->f_kids[k].c_removed = true;
	f->f_kids[k].c_group = 0;
	if (pid_of(f, k) > 0)
		fire_now(f, k, SUPFSM_EV_STOP);
	else
		settle(f, k);
}

/* ---- node phases ---- */

static bool
drained(const struct supfsm *f)
{
	for (uint32_t k = 0; k < f->f_nkids; k++) {
		enum br_astate st = state_of(f, k);

		if (!f->f_kids[k].c_known || f->f_kids[k].c_removed ||
		    st == BR_A_STOPPED ||
		    st == BR_A_FAILED)
			continue;
		if (f->f_ops.o_depth(f->f_ops.o_arg, k) > 0 ||
		    f->f_ops.o_waiters(f->f_ops.o_arg, k) > 0)
			return false;
	}
	return true;
}

static uint64_t
queued_total(const struct supfsm *f)
{
	uint64_t n = 0;

	for (uint32_t k = 0; k < f->f_nkids; k++)
		if (f->f_kids[k].c_known)
			n += f->f_ops.o_depth(f->f_ops.o_arg, k);
	return n;
}

/* One child at a time, from the last started: the next one is asked to
 * stop only once the previous one is gone. */
static void
stop_next(struct supfsm *f, uint64_t now)
{
	struct supfsm_event e = { .ev_kind = SUPFSM_EV_STOP, .ev_now = now };

	for (uint32_t k = f->f_nkids; k-- > 0;) {
		enum br_astate st = state_of(f, k);

		if (!f->f_kids[k].c_known)
			continue;
		if (pid_of(f, k) <= 0) {
			if (st == BR_A_BACKOFF)
				settle(f, k);
			continue;
		}
		if (st != BR_A_STOPPING && st != BR_A_RESTARTING)
			supfsm_fire(f, k, &e);
		return;
	}
	log_info("all actors stopped", NULL);
	f->f_ops.o_done(f->f_ops.o_arg);
}

static bool
any_alive(const struct supfsm *f)
{
	for (uint32_t k = 0; k < f->f_nkids; k++)
		if (pid_of(f, k) > 0)
			return true;
	return false;
}

void
supfsm_tick(struct supfsm *f, uint64_t now)
{
	struct supfsm_event e = { .ev_kind = SUPFSM_EV_TIMER, .ev_now = now };

	for (uint32_t k = 0; k < f->f_nkids; k++)
		supfsm_fire(f, k, &e);
	if (f->f_phase == SUPFSM_DRAIN && (drained(f) ||
	    now >= f->f_drain_until)) {
		log_info("drain over, stopping actors", "left=%llu",
		    (unsigned long long)queued_total(f));
		f->f_phase = SUPFSM_STOP;
	}
	if (f->f_phase == SUPFSM_STOP)
		stop_next(f, now);
	else if (f->f_phase == SUPFSM_HALT && !any_alive(f))
		f->f_ops.o_done(f->f_ops.o_arg);
}

enum supfsm_phase
supfsm_shutdown(struct supfsm *f, uint64_t drain_ms)
{
	if (f->f_phase == SUPFSM_RUN) {
		f->f_phase = SUPFSM_DRAIN;
		f->f_drain_until = now_ms(f) + drain_ms;
		log_info("draining", "queued=%llu timeout_ms=%llu",
		    (unsigned long long)queued_total(f),
		    (unsigned long long)drain_ms);
		return f->f_phase;
	}
	if (f->f_phase == SUPFSM_HALT)
		return f->f_phase;
	f->f_phase = SUPFSM_HALT;
	log_warn("second stop signal: killing every actor now", NULL);
	for (uint32_t k = 0; k < f->f_nkids; k++)
		if (pid_of(f, k) > 0)
			signal_kid(f, k, SIGKILL);
	return f->f_phase;
}

/* ---- inspection ---- */

enum supfsm_phase
supfsm_phase(const struct supfsm *f)
{
	return f->f_phase;
}

size_t
supfsm_chain(const struct supfsm *f, uint32_t k, const char **names,
    size_t max)
{
	return k < f->f_nkids ? supgrp_chain(f->f_groups, gi_of(f, k), names,
	    max) : 0;
}

/* Out of range reads as a fresh child. */
static const struct supfsm_child *
kid_or_none(const struct supfsm *f, uint32_t k)
{
	static const struct supfsm_child none;

	return k < f->f_nkids ? &f->f_kids[k] : &none;
}

bool
supfsm_group_failed(const struct supfsm *f, uint32_t k)
{
	return k < f->f_nkids && gfailed(f, k);
}

uint32_t
supfsm_restarts(const struct supfsm *f, uint32_t k)
{
	return kid_or_none(f, k)->c_restarts;
}

uint32_t
supfsm_backoff_n(const struct supfsm *f, uint32_t k)
{
	return kid_or_none(f, k)->c_backoff_n;
}

uint64_t
supfsm_restart_at(const struct supfsm *f, uint32_t k)
{
	return kid_or_none(f, k)->c_restart_at_ms;
}

uint64_t
supfsm_kill_at(const struct supfsm *f, uint32_t k)
{
	return kid_or_none(f, k)->c_kill_at_ms;
}

bool
supfsm_dynamic(const struct supfsm *f, uint32_t k)
{
	return kid_or_none(f, k)->c_dynamic;
}

void
supfsm_set_dynamic(struct supfsm *f, uint32_t k, bool on)
{
	if (k < f->f_nkids)
		f->f_kids[k].c_dynamic = on;
}

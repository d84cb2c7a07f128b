/*
 * br_sup — the supervision tree and the node's lifecycle: a state x event
 * table per actor, restart intensity windows and backoff per group, the
 * drain and the ordered stop, and SIGHUP reloads.  Loop thread only.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "br.h"
#include "br_actor.h"
#include "br_answer.h"
#include "br_durable.h"
#include "br_log.h"
#include "br_sup.h"

#define BACKOFF_N_MAX 32	/* doublings beyond this change nothing */

enum sup_phase { SUP_RUN, SUP_DRAIN, SUP_STOP, SUP_HALT };

enum sup_ev {
	EV_START,		/* start, or restart if running */
	EV_STOP,		/* stop and stay down */
	EV_EXIT,		/* the process ended */
	EV_TIMER,		/* the periodic tick */
	EV_LINK,		/* the mailbox link dropped */
	EV_SIBLING,		/* a sibling crashed (one_for_all...) */
	SUP_NEV
};

struct sup_group {
	struct br_conf_sup g_conf;
	int32_t		 g_parent;	/* group index, -1 at the top */
	bool		 g_failed;
	uint64_t	*g_times;	/* ring: when its last restarts were */
	uint32_t	 g_ntimes;
	uint32_t	 g_head;
};

struct sup_tree {
	struct sup_group *t_groups;
	size_t		 t_ngroups;
	enum sup_phase	 t_phase;
	uint64_t	 t_drain_until;
	uint32_t	 t_rand;	/* xorshift state for jitter */
};

struct sup_ctx {
	uint64_t	 c_now;
	int		 c_status;	/* EV_EXIT: waitpid status */
	uint64_t	 c_at;		/* EV_SIBLING: restart time */
};

typedef void (*sup_fn)(struct br_actor *, const struct sup_ctx *);

static void fire(struct br_actor *a, enum sup_ev ev, const struct sup_ctx *c);

/* ---- groups ---- */

static int32_t
group_index(const struct sup_group *gs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(gs[i].g_conf.cs_name, name) == 0)
			return (int32_t)i;
	return -1;
}

static struct sup_group *
grp(const struct br_actor *a)
{
	return &a->a_br->b_sup->t_groups[a->a_group];
}

static void
groups_free(struct sup_group *gs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(gs[i].g_times);
	free(gs);
}

static int
groups_build(const struct br_conf *conf, struct sup_group **out,
    size_t *nout)
{
	size_t n = conf->c_nsups;
	struct sup_group *gs;

	if ((gs = calloc(n ? n : 1, sizeof(*gs))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint32_t cap = conf->c_sups[i].cs_intensity;

		gs[i].g_conf = conf->c_sups[i];
		if ((gs[i].g_times = calloc(cap ? cap : 1,
		    sizeof(uint64_t))) == NULL) {
			groups_free(gs, n);
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++)
		gs[i].g_parent = group_index(gs, n, gs[i].g_conf.cs_parent);
	*out = gs;
	*nout = n;
	return 0;
}

/* A group unchanged by a reload keeps its failure and restart history. */
static void
groups_carry(const struct sup_tree *t, struct sup_group *gs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int32_t o = group_index(t->t_groups, t->t_ngroups,
		    gs[i].g_conf.cs_name);
		const struct sup_group *og = o >= 0 ? &t->t_groups[o] : NULL;

		if (og == NULL ||
		    !br_conf_sup_same(&og->g_conf, &gs[i].g_conf))
			continue;
		gs[i].g_failed = og->g_failed;
		gs[i].g_ntimes = og->g_ntimes;
		gs[i].g_head = og->g_head;
		memcpy(gs[i].g_times, og->g_times, og->g_ntimes *
		    sizeof(uint64_t));
	}
}

static uint32_t
actor_group(const struct sup_tree *t, const char *name)
{
	int32_t i = group_index(t->t_groups, t->t_ngroups, name);

	return i < 0 ? 0 : (uint32_t)i;	/* config validation: never */
}

/* True when another restart fits in the intensity window (and is then
 * counted); false when the group must give up. */
static bool
window_admit(struct sup_group *g, uint64_t now)
{
	uint32_t cap = g->g_conf.cs_intensity, n = 0;

	for (uint32_t i = 0; i < g->g_ntimes; i++)
		if (now - g->g_times[i] < g->g_conf.cs_period_ms)
			n++;
	if (n >= cap)
		return false;
	g->g_times[g->g_head] = now;
	g->g_head = (g->g_head + 1) % cap;
	if (g->g_ntimes < cap)
		g->g_ntimes++;
	return true;
}

static bool
is_under(const struct sup_tree *t, uint32_t gi, uint32_t top)
{
	int32_t i = (int32_t)gi;

	for (size_t hops = 0; i >= 0 && hops <= t->t_ngroups; hops++) {
		if ((uint32_t)i == top)
			return true;
		i = t->t_groups[i].g_parent;
	}
	return false;
}

/* Stops every actor of group gi and of the groups under it, marks them
 * failed, and counts the failure against the parent, which may give up
 * in turn.  The broker itself stays up. */
static void
group_fail(struct br *br, uint32_t gi, uint64_t now)
{
	struct sup_tree *t = br->b_sup;
	struct sup_group *g = &t->t_groups[gi];
	struct sup_ctx c = { .c_now = now };

	for (size_t i = 0; i < t->t_ngroups; i++)
		if (is_under(t, (uint32_t)i, gi))
			t->t_groups[i].g_failed = true;
	log_error("supervisor gave up", "supervisor=%s intensity=%u "
	    "period_ms=%llu", g->g_conf.cs_name, g->g_conf.cs_intensity,
	    (unsigned long long)g->g_conf.cs_period_ms);
	for (uint32_t i = 0; i < br->b_nactors; i++) {
		struct br_actor *a = br->b_actors[i];

		if (!a->a_removed && is_under(t, a->a_group, gi))
			fire(a, EV_STOP, &c);
	}
	if (g->g_parent < 0 || t->t_groups[g->g_parent].g_failed)
		return;
	log_warn("supervisor failure escalated", "supervisor=%s parent=%s",
	    g->g_conf.cs_name, t->t_groups[g->g_parent].g_conf.cs_name);
	if (!window_admit(&t->t_groups[g->g_parent], now))
		group_fail(br, (uint32_t)g->g_parent, now);
}

/* ---- actions ---- */

static uint32_t
jitter(struct sup_tree *t, uint64_t span)
{
	uint32_t x = t->t_rand;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	t->t_rand = x;
	return span ? (uint32_t)(x % (span + 1)) : 0;
}

/* backoff_min doubled per crash in a row, plus up to a quarter more,
 * within [backoff_min, backoff_max]; a run longer than the group's period
 * forgives the earlier crashes. */
static uint64_t
backoff(struct br_actor *a, const struct sup_group *g, uint64_t now)
{
	uint64_t lo = g->g_conf.cs_backoff_min_ms, d = lo;
	uint64_t hi = g->g_conf.cs_backoff_max_ms > lo ?
	    g->g_conf.cs_backoff_max_ms : lo;

	if (now - a->a_started_ms >= g->g_conf.cs_period_ms)
		a->a_backoff_n = 0;
	for (uint32_t i = 0; i < a->a_backoff_n && d < hi; i++)
		d *= 2;
	if (d > hi)
		d = hi;
	d += jitter(a->a_br->b_sup, d / 4);
	if (a->a_backoff_n < BACKOFF_N_MAX)
		a->a_backoff_n++;
	return d > hi ? hi : d;
}

/* The actor is down for good (or until asked): failed with its group,
 * else stopped; a removed actor gives its mailbox back. */
static void
settle(struct br_actor *a)
{
	a->a_state = grp(a)->g_failed ? BR_A_FAILED : BR_A_STOPPED;
	a->a_kill_at_ms = 0;
	if (a->a_removed)
		br_actor_retire(a);
}

static void
terminate(struct br_actor *a, enum br_astate next, uint64_t now)
{
	log_info("actor stopping", "actor=%s pid=%ld", a->a_conf.ca_name,
	    (long)a->a_pid);
	kill(a->a_pid, SIGTERM);
	a->a_kill_at_ms = now + a->a_conf.ca_shutdown_ms;
	a->a_state = next;
}

static void crashed(struct br_actor *a, uint64_t now, bool normal);

static void
act_spawn(struct br_actor *a, uint64_t now)
{
	if (a->a_br->b_sup->t_phase >= SUP_STOP) {
		settle(a);
		return;
	}
	if (br_actor_spawn(a) == 0)
		a->a_kill_at_ms = 0;
	else
		crashed(a, now, false);	/* exec failed: a crash at start */
}

static void
restart_siblings(struct br_actor *a, const struct sup_group *g,
    uint64_t at, uint64_t now)
{
	struct br *br = a->a_br;
	struct sup_ctx c = { .c_now = now, .c_at = at };

	if (g->g_conf.cs_strategy == BR_ST_ONE_FOR_ONE)
		return;
	for (uint32_t i = 0; i < br->b_nactors; i++) {
		struct br_actor *b = br->b_actors[i];

		if (b == a || b->a_removed || b->a_group != a->a_group)
			continue;
		if (g->g_conf.cs_strategy == BR_ST_REST_FOR_ONE &&
		    b->a_idx < a->a_idx)
			continue;
		fire(b, EV_SIBLING, &c);
	}
}

/* An unplanned exit: the restart type decides whether it matters, the
 * group's window whether it may restart, its strategy who else goes. */
static void
crashed(struct br_actor *a, uint64_t now, bool normal)
{
	struct sup_group *g = grp(a);
	enum br_restart rs = a->a_conf.ca_restart;
	uint64_t at;

	if (a->a_br->b_sup->t_phase >= SUP_STOP || rs == BR_RS_TEMPORARY ||
	    (normal && rs == BR_RS_TRANSIENT)) {
		settle(a);
		return;
	}
	if (g->g_failed || !window_admit(g, now)) {
		a->a_state = BR_A_FAILED;
		if (!g->g_failed)
			group_fail(a->a_br, a->a_group, now);
		return;
	}
	at = now + backoff(a, g, now);
	a->a_state = BR_A_BACKOFF;
	a->a_restart_at_ms = at;
	log_info("actor restart scheduled", "actor=%s in_ms=%llu",
	    a->a_conf.ca_name, (unsigned long long)(at - now));
	restart_siblings(a, g, at, now);
}

/* ---- the state x event table ---- */

static void
on_start_down(struct br_actor *a, const struct sup_ctx *c)
{
	act_spawn(a, c->c_now);
}

static void
on_start_live(struct br_actor *a, const struct sup_ctx *c)
{
	a->a_restart_at_ms = c->c_now;
	terminate(a, BR_A_RESTARTING, c->c_now);
}

static void
on_start_stopping(struct br_actor *a, const struct sup_ctx *c)
{
	a->a_restart_at_ms = c->c_now;
	a->a_state = BR_A_RESTARTING;
}

static void
on_stop_live(struct br_actor *a, const struct sup_ctx *c)
{
	terminate(a, BR_A_STOPPING, c->c_now);
}

static void
on_stop_down(struct br_actor *a, const struct sup_ctx *c)
{
	settle(a);
}

static void
on_stop_restarting(struct br_actor *a, const struct sup_ctx *c)
{
	a->a_state = BR_A_STOPPING;
}

static void
on_exit_live(struct br_actor *a, const struct sup_ctx *c)
{
	crashed(a, c->c_now, WIFEXITED(c->c_status) &&
	    WEXITSTATUS(c->c_status) == 0);
}

static void
on_exit_restarting(struct br_actor *a, const struct sup_ctx *c)
{
	if (a->a_br->b_sup->t_phase >= SUP_STOP)
		settle(a);
	else
		a->a_state = BR_A_BACKOFF;
}

static void
on_timer_backoff(struct br_actor *a, const struct sup_ctx *c)
{
	if (a->a_br->b_sup->t_phase >= SUP_STOP)
		settle(a);
	else if (c->c_now >= a->a_restart_at_ms) {
		a->a_restarts++;
		act_spawn(a, c->c_now);
	}
}

static void
on_timer_kill(struct br_actor *a, const struct sup_ctx *c)
{
	if (a->a_kill_at_ms == 0 || c->c_now < a->a_kill_at_ms ||
	    a->a_pid <= 0)
		return;
	log_warn("actor did not stop in time, killing", "actor=%s pid=%ld "
	    "shutdown_ms=%llu", a->a_conf.ca_name, (long)a->a_pid,
	    (unsigned long long)a->a_conf.ca_shutdown_ms);
	kill(a->a_pid, SIGKILL);
	a->a_kill_at_ms = 0;
}

/* A live process without its link can never work again: the exit that
 * follows is then handled as a crash. */
static void
on_link_running(struct br_actor *a, const struct sup_ctx *c)
{
	if (a->a_pid <= 0 || a->a_kill_at_ms != 0)
		return;
	log_warn("mailbox link dropped", "actor=%s pid=%ld",
	    a->a_conf.ca_name, (long)a->a_pid);
	kill(a->a_pid, SIGTERM);
	a->a_kill_at_ms = c->c_now + a->a_conf.ca_shutdown_ms;
}

static void
on_sibling_live(struct br_actor *a, const struct sup_ctx *c)
{
	a->a_restart_at_ms = c->c_at;
	terminate(a, BR_A_RESTARTING, c->c_now);
}

static void
on_sibling_backoff(struct br_actor *a, const struct sup_ctx *c)
{
	if (a->a_restart_at_ms < c->c_at)
		a->a_restart_at_ms = c->c_at;
}

/* NULL: the event means nothing in that state. */
static const sup_fn fsm[BR_A_NSTATES][SUP_NEV] = {
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

static void
fire(struct br_actor *a, enum sup_ev ev, const struct sup_ctx *c)
{
	sup_fn fn = fsm[a->a_state][ev];

	if (fn != NULL)
		fn(a, c);
}

static void
fire_now(struct br_actor *a, enum sup_ev ev)
{
	struct sup_ctx c = { .c_now = br_now_ms() };

	fire(a, ev, &c);
}

/* ---- public: setup, events ---- */

int
sup_init(struct br *br)
{
	struct sup_tree *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	if (groups_build(br->b_conf, &t->t_groups, &t->t_ngroups) != 0) {
		free(t);
		return -1;
	}
	t->t_rand = (uint32_t)getpid() ^ (uint32_t)br_now_ms() ^ 0x9e3779b9u;
	if (t->t_rand == 0)
		t->t_rand = 1;
	br->b_sup = t;
	return 0;
}

void
sup_fini(struct br *br)
{
	if (br->b_sup == NULL)
		return;
	groups_free(br->b_sup->t_groups, br->b_sup->t_ngroups);
	free(br->b_sup);
	br->b_sup = NULL;
}

int
sup_start_all(struct br *br)
{
	for (uint32_t i = 0; i < br->b_nactors; i++) {
		struct br_actor *a = br->b_actors[i];

		a->a_group = actor_group(br->b_sup, a->a_conf.ca_supervisor);
		fire_now(a, EV_START);
	}
	return 0;
}

static void stop_next(struct br *);

void
sup_exited(struct br_actor *a, int status)
{
	struct sup_ctx c = { .c_now = br_now_ms(), .c_status = status };

	fire(a, EV_EXIT, &c);
	/* Stopping in order: the next actor need not wait for a tick. */
	if (a->a_br->b_sup->t_phase == SUP_STOP)
		stop_next(a->a_br);
}

void
sup_link_down(struct br_actor *a)
{
	fire_now(a, EV_LINK);
}

/* ---- node lifecycle ---- */

static bool
drained(struct br *br)
{
	for (uint32_t i = 0; i < br->b_nactors; i++) {
		struct br_actor *a = br->b_actors[i];

		if (a->a_removed || a->a_state == BR_A_STOPPED ||
		    a->a_state == BR_A_FAILED)
			continue;
		if (mbx_depth(&a->a_mbx) > 0 || a->a_nwait > 0)
			return false;
	}
	return true;
}

static uint64_t
queued_total(struct br *br)
{
	uint64_t n = 0;

	for (uint32_t i = 0; i < br->b_nactors; i++)
		n += mbx_depth(&br->b_actors[i]->a_mbx);
	return n;
}

/* One actor at a time, from the last started: the next one is asked to
 * stop only once the previous one is gone. */
static void
stop_next(struct br *br)
{
	struct sup_ctx c = { .c_now = br_now_ms() };

	for (uint32_t i = br->b_nactors; i-- > 0;) {
		struct br_actor *a = br->b_actors[i];

		if (a->a_pid <= 0) {
			if (a->a_state == BR_A_BACKOFF)
				settle(a);
			continue;
		}
		if (a->a_state != BR_A_STOPPING &&
		    a->a_state != BR_A_RESTARTING)
			fire(a, EV_STOP, &c);
		return;
	}
	log_info("all actors stopped", NULL);
	br_loop_stop(&br->b_loop);
}

static bool
any_alive(struct br *br)
{
	for (uint32_t i = 0; i < br->b_nactors; i++)
		if (br->b_actors[i]->a_pid > 0)
			return true;
	return false;
}

void
sup_tick(struct br *br, uint64_t now)
{
	struct sup_tree *t = br->b_sup;
	struct sup_ctx c = { .c_now = now };

	for (uint32_t i = 0; i < br->b_nactors; i++)
		fire(br->b_actors[i], EV_TIMER, &c);
	if (t->t_phase == SUP_DRAIN && (drained(br) ||
	    now >= t->t_drain_until)) {
		log_info("drain over, stopping actors", "left=%llu",
		    (unsigned long long)queued_total(br));
		t->t_phase = SUP_STOP;
	}
	if (t->t_phase == SUP_STOP)
		stop_next(br);
	else if (t->t_phase == SUP_HALT && !any_alive(br))
		br_loop_stop(&br->b_loop);
}

void
sup_shutdown(struct br *br)
{
	struct sup_tree *t = br->b_sup;

	if (t->t_phase == SUP_RUN) {
		t->t_phase = SUP_DRAIN;
		br->b_stopping = true;
		t->t_drain_until = br_now_ms() +
		    br->b_conf->c_drain_timeout_ms;
		log_info("draining", "queued=%llu timeout_ms=%llu",
		    (unsigned long long)queued_total(br),
		    (unsigned long long)br->b_conf->c_drain_timeout_ms);
		return;
	}
	if (t->t_phase == SUP_HALT)
		return;
	t->t_phase = SUP_HALT;
	log_warn("second stop signal: killing every actor now", NULL);
	for (uint32_t i = 0; i < br->b_nactors; i++)
		if (br->b_actors[i]->a_pid > 0)
			kill(br->b_actors[i]->a_pid, SIGKILL);
}

/* ---- control ops ---- */

static int
refuse_stopping(struct br *br, char *err, size_t len)
{
	if (br->b_sup->t_phase == SUP_RUN)
		return 0;
	snprintf(err, len, "broker '%s' is shutting down", br->b_node);
	return BR_E_SHUTDOWN;
}

/* Checks the actor as the config file would, with the live groups. */
static int
spawn_conf(struct br *br, const char *name, const char *sup,
    const char *const *ovr, size_t n, struct br_conf_actor *out,
    char *err, size_t len)
{
	const struct br_conf_actor *ca;
	struct br_conf *c;

	if (group_index(br->b_sup->t_groups, br->b_sup->t_ngroups,
	    sup) < 0)
		return snprintf(err, len, "unknown supervisor '%s'", sup),
		    BR_E_BADREQ;
	if (br_conf_load_string("", "spawn", ovr, n, &c, err, len) != 0)
		return BR_E_BADREQ;
	if ((ca = br_conf_actor(c, name)) == NULL) {
		br_conf_free(c);
		return snprintf(err, len, "spawn needs \"exec\""),
		    BR_E_BADREQ;
	}
	*out = *ca;
	snprintf(out->ca_supervisor, sizeof(out->ca_supervisor), "%s", sup);
	br_conf_free(c);
	return 0;
}

int
sup_spawn(struct br *br, const char *name, const char *sup,
    const char *const *ovr, size_t n, struct br_actor **out, char *err,
    size_t len)
{
	struct br_conf_actor ca;
	struct br_actor *a;
	int rc;

	if ((rc = refuse_stopping(br, err, len)) != 0 ||
	    (rc = spawn_conf(br, name, sup ? sup : "root", ovr, n, &ca, err,
	    len)) != 0)
		return rc;
	a = br_actor_lookup(br, name, strlen(name));
	if (a != NULL && !a->a_removed && a->a_state != BR_A_STOPPED)
		return snprintf(err, len, "actor '%s' exists (%s)", name,
		    br_astate_name(a->a_state)), BR_E_BADREQ;
	if (a != NULL)
		rc = br_actor_revive(a, &ca);
	else if ((rc = br_actor_add(br, &ca)) == 0)
		a = br->b_actors[br->b_nactors - 1];
	if (rc != 0)
		return snprintf(err, len, "cannot add actor '%s'", name),
		    BR_E_BUSY;
	a->a_dynamic = true;
	a->a_group = actor_group(br->b_sup, ca.ca_supervisor);
	fire_now(a, EV_START);
	*out = a;
	return 0;
}

int
sup_stop(struct br_actor *a, char *err, size_t len)
{
	int rc;

	if ((rc = refuse_stopping(a->a_br, err, len)) != 0)
		return rc;
	fire_now(a, EV_STOP);
	return 0;
}

/* A restart by hand also revives a failed group: its window starts
 * afresh and its failed actors start again. */
int
sup_restart(struct br_actor *a, char *err, size_t len)
{
	struct br *br = a->a_br;
	struct sup_tree *t = br->b_sup;
	int rc;

	if ((rc = refuse_stopping(br, err, len)) != 0)
		return rc;
	for (size_t i = 0; i < t->t_ngroups; i++)
		if (t->t_groups[i].g_failed && is_under(t, a->a_group,
		    (uint32_t)i)) {
			t->t_groups[i].g_failed = false;
			t->t_groups[i].g_ntimes = 0;
		}
	a->a_backoff_n = 0;
	for (uint32_t i = 0; i < br->b_nactors; i++) {
		struct br_actor *b = br->b_actors[i];

		if (b != a && b->a_state == BR_A_FAILED && !grp(b)->g_failed)
			fire_now(b, EV_START);
	}
	fire_now(a, EV_START);
	return 0;
}

/* ---- reload ---- */

struct reload_counts {
	unsigned	 r_added, r_removed, r_changed, r_same;
};

static size_t
count_new(struct br *br, const struct br_conf *nc)
{
	size_t n = 0;

	for (size_t i = 0; i < nc->c_nactors; i++) {
		const char *name = nc->c_actors[i].ca_name;

		if (br_actor_lookup(br, name, strlen(name)) == NULL)
			n++;
	}
	return n;
}

static void
reload_existing(struct br *br, const struct br_conf *nc,
    struct reload_counts *rc)
{
	struct sup_tree *t = br->b_sup;

	for (uint32_t i = 0; i < br->b_nactors; i++) {
		struct br_actor *a = br->b_actors[i];
		const struct br_conf_actor *ca;

		if (a->a_removed)
			continue;
		ca = br_conf_actor(nc, a->a_conf.ca_name);
		if (ca == NULL && a->a_dynamic) {
			a->a_group = actor_group(t, a->a_conf.ca_supervisor);
			continue;
		}
		if (ca == NULL) {
			a->a_removed = true;
			a->a_group = 0;
			rc->r_removed++;
			if (a->a_pid > 0)
				fire_now(a, EV_STOP);
			else
				settle(a);
			continue;
		}
		a->a_group = actor_group(t, ca->ca_supervisor);
		a->a_dynamic = false;
		if (br_conf_actor_same(&a->a_conf, ca)) {
			rc->r_same++;
			continue;
		}
		a->a_conf = *ca;
		mbx_set_limits(&a->a_mbx, ca->ca_mailbox,
		    ca->ca_mailbox_bytes, ca->ca_overflow, ca->ca_inflight);
		/* durable turned on opens (and recovers) the log, off closes
		 * it; a log that will not open keeps the actor down */
		if (br_dur_attach(a->a_br, &a->a_dur, &a->a_conf, &a->a_mbx) !=
		    0) {
			rc->r_changed++;
			fire_now(a, EV_STOP);
			continue;
		}
		rc->r_changed++;
		fire_now(a, EV_START);
	}
}

static void
reload_added(struct br *br, const struct br_conf *nc,
    struct reload_counts *rc)
{
	for (size_t i = 0; i < nc->c_nactors; i++) {
		const struct br_conf_actor *ca = &nc->c_actors[i];
		struct br_actor *a;
		int rv;

		a = br_actor_lookup(br, ca->ca_name, strlen(ca->ca_name));
		if (a != NULL && !a->a_removed)
			continue;
		if (a != NULL)
			rv = br_actor_revive(a, ca);
		else if ((rv = br_actor_add(br, ca)) == 0)
			a = br->b_actors[br->b_nactors - 1];
		if (rv != 0) {
			log_error("reload: cannot add actor", "actor=%s",
			    ca->ca_name);
			continue;
		}
		a->a_group = actor_group(br->b_sup, ca->ca_supervisor);
		rc->r_added++;
		fire_now(a, EV_START);
	}
}

int
sup_reload(struct br *br, struct br_conf *nc)
{
	struct sup_tree *t = br->b_sup;
	struct reload_counts rc = { 0, 0, 0, 0 };
	struct sup_group *gs;
	size_t ng;

	if (t->t_phase != SUP_RUN || br->b_nactors + count_new(br, nc) >
	    BR_MAX_ACTORS || groups_build(nc, &gs, &ng) != 0) {
		log_error("reload refused, config unchanged", "reason=\"%s\"",
		    t->t_phase != SUP_RUN ? "shutting down" :
		    "too many actors or out of memory");
		br_conf_free(nc);
		return -1;
	}
	if (strcmp(nc->c_node, br->b_node) != 0)
		log_warn("reload: node name changes need a restart",
		    "node=%s new=%s", br->b_node, nc->c_node);
	groups_carry(t, gs, ng);
	groups_free(t->t_groups, t->t_ngroups);
	t->t_groups = gs;
	t->t_ngroups = ng;
	reload_existing(br, nc, &rc);
	reload_added(br, nc, &rc);
	br_conf_free(br->b_conf);
	br->b_conf = nc;
	log_info("config reloaded", "added=%u removed=%u changed=%u "
	    "unchanged=%u", rc.r_added, rc.r_removed, rc.r_changed,
	    rc.r_same);
	return 0;
}

/* ---- inspection ---- */

size_t
sup_chain(const struct br_actor *a, const char **names, size_t max)
{
	const struct sup_tree *t = a->a_br->b_sup;
	int32_t i = (int32_t)a->a_group;
	size_t n = 0;

	while (i >= 0 && n < max && n <= t->t_ngroups) {
		names[n++] = t->t_groups[i].g_conf.cs_name;
		i = t->t_groups[i].g_parent;
	}
	return n;
}

const char *
sup_group_state(const struct br_actor *a)
{
	return grp(a)->g_failed ? "failed" : "running";
}

/*
 * Unit tests for supervision's core (br_supfsm, br_supgrp), linked
 * without the broker: the children are a fake world behind the core's
 * ops (arrays of states and pids, counters of what was asked), the
 * groups a real br_conf.  The state x event table cell by cell, every
 * strategy, intensity and escalation, backoff, and the node phases.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include "br_conf.h"
#include "br_log.h"
#include "br_supfsm.h"

#define NK 8
#define CRASH (1 << 8)		/* waitpid status: exited with 1 */
#define CLEAN 0			/* exited with 0 */

struct world {
	struct supfsm	*f;
	struct br_conf	*conf;
	uint32_t	 n;
	uint64_t	 now;
	enum br_astate	 st[NK];
	long		 pid[NK];
	struct br_conf_actor ca[NK];
	uint64_t	 depth[NK];
	uint32_t	 waiters[NK];
	bool		 spawn_fails[NK];
	int		 spawns[NK], terms[NK], kills[NK], retires[NK];
	int		 done;
	long		 next_pid;
};

static struct world w;

static int
w_spawn(void *arg, uint32_t k)
{
	if (w.spawn_fails[k])
		return -1;
	w.spawns[k]++;
	w.pid[k] = w.next_pid++;
	w.st[k] = BR_A_STARTING;
	return 0;
}

static void
w_signal(void *arg, uint32_t k, int sig)
{
	cr_assert_gt(w.pid[k], 0, "signal %d to dead child %u", sig, k);
	if (sig == SIGTERM)
		w.terms[k]++;
	else if (sig == SIGKILL)
		w.kills[k]++;
}

static void
w_retire(void *arg, uint32_t k)
{
	w.retires[k]++;
	w.st[k] = BR_A_STOPPED;
}

static enum br_astate
w_state(void *arg, uint32_t k)
{
	return w.st[k];
}

static void
w_set_state(void *arg, uint32_t k, enum br_astate s)
{
	w.st[k] = s;
}

static long
w_pid(void *arg, uint32_t k)
{
	return w.pid[k];
}

static const struct br_conf_actor *
w_conf(void *arg, uint32_t k)
{
	return &w.ca[k];
}

static uint64_t
w_now(void *arg)
{
	return w.now;
}

static uint64_t
w_depth(void *arg, uint32_t k)
{
	return w.depth[k];
}

static uint32_t
w_waiters(void *arg, uint32_t k)
{
	return w.waiters[k];
}

static void
w_done(void *arg)
{
	w.done++;
}

static const struct supfsm_ops w_ops = { &w, w_spawn, w_signal, w_retire,
    w_state, w_set_state, w_pid, w_conf, w_now, w_depth, w_waiters,
    w_done };

/* Root has room for many restarts unless the test's config says not. */
static const char *base_conf =
    "[supervisor root]\n"
    "intensity = 100\nperiod = 10s\nbackoff_min = 100ms\n"
    "backoff_max = 1s\n";

static struct br_conf *
conf_load(const char *text)
{
	struct br_conf *c = NULL;
	char err[256] = "";

	cr_assert_eq(br_conf_load_string(text, "t.conf", NULL, 0, &c, err,
	    sizeof(err)), 0, "config: %s", err);
	return c;
}

/* n children, child k under groups[k] (NULL: root), all stopped. */
static void
world_init(const char *text, uint32_t n, const char *const *groups)
{
	memset(&w, 0, sizeof(w));
	w.n = n;
	w.now = 1000000;
	w.next_pid = 100;
	w.conf = conf_load(text ? text : base_conf);
	cr_assert_not_null(w.f = supfsm_new(w.conf, &w_ops, NK, 7));
	for (uint32_t k = 0; k < n; k++) {
		snprintf(w.ca[k].ca_name, sizeof(w.ca[k].ca_name), "c%u", k);
		w.ca[k].ca_restart = BR_RS_PERMANENT;
		w.ca[k].ca_shutdown_ms = 500;
		cr_assert_eq(supfsm_add(w.f, k), 0);
		supfsm_set_group(w.f, k, groups && groups[k] ? groups[k] :
		    "root");
	}
}

static void
world_fini(void)
{
	supfsm_free(w.f);
	br_conf_free(w.conf);
	w.f = NULL;
	w.conf = NULL;
}

static void
quiet(void)
{
	br_log_set_level(BR_LOG_ERROR);
}

/* Started and past its hello. */
static void
run(uint32_t k)
{
	supfsm_start(w.f, k);
	cr_assert_eq(w.st[k], BR_A_STARTING);
	w.st[k] = BR_A_RUNNING;
}

/* The process ends with status. */
static void
die(uint32_t k, int status)
{
	w.pid[k] = 0;
	supfsm_exited(w.f, k, status);
}

/* Ticks until child k has been spawned again (at most 20 s of time). */
static uint64_t
tick_until_spawn(uint32_t k)
{
	int before = w.spawns[k];

	for (int i = 0; i < 1000 && w.spawns[k] == before; i++) {
		w.now += 20;
		supfsm_tick(w.f, w.now);
	}
	cr_assert_gt(w.spawns[k], before, "child %u never restarted", k);
	return w.now;
}

TestSuite(sup, .init = quiet, .fini = world_fini);

/* ---- the state x event table, cell by cell ---- */

enum act { A_NONE, A_SPAWN, A_TERM, A_RETIRE };

struct cell {
	enum br_astate	 c_from;
	enum supfsm_evkind c_ev;
	enum br_astate	 c_to;
	enum act	 c_act;
};

/* docs/ARCHITECTURE.md "Supervision": the child is alive in the live
 * states, its group has room, it is permanent, EXIT is a crash. */
static struct cell cells[] = {
	{ BR_A_STOPPED, SUPFSM_EV_START, BR_A_STARTING, A_SPAWN },
	{ BR_A_STOPPED, SUPFSM_EV_STOP, BR_A_STOPPED, A_NONE },
	{ BR_A_STOPPED, SUPFSM_EV_EXIT, BR_A_STOPPED, A_NONE },
	{ BR_A_STOPPED, SUPFSM_EV_TIMER, BR_A_STOPPED, A_NONE },
	{ BR_A_STOPPED, SUPFSM_EV_LINK, BR_A_STOPPED, A_NONE },
	{ BR_A_STOPPED, SUPFSM_EV_SIBLING, BR_A_STOPPED, A_NONE },
	{ BR_A_STARTING, SUPFSM_EV_START, BR_A_RESTARTING, A_TERM },
	{ BR_A_STARTING, SUPFSM_EV_STOP, BR_A_STOPPING, A_TERM },
	{ BR_A_STARTING, SUPFSM_EV_EXIT, BR_A_BACKOFF, A_NONE },
	{ BR_A_STARTING, SUPFSM_EV_TIMER, BR_A_STARTING, A_NONE },
	{ BR_A_STARTING, SUPFSM_EV_LINK, BR_A_STARTING, A_NONE },
	{ BR_A_STARTING, SUPFSM_EV_SIBLING, BR_A_RESTARTING, A_TERM },
	{ BR_A_RUNNING, SUPFSM_EV_START, BR_A_RESTARTING, A_TERM },
	{ BR_A_RUNNING, SUPFSM_EV_STOP, BR_A_STOPPING, A_TERM },
	{ BR_A_RUNNING, SUPFSM_EV_EXIT, BR_A_BACKOFF, A_NONE },
	{ BR_A_RUNNING, SUPFSM_EV_TIMER, BR_A_RUNNING, A_NONE },
	{ BR_A_RUNNING, SUPFSM_EV_LINK, BR_A_RUNNING, A_TERM },
	{ BR_A_RUNNING, SUPFSM_EV_SIBLING, BR_A_RESTARTING, A_TERM },
	{ BR_A_BACKOFF, SUPFSM_EV_START, BR_A_STARTING, A_SPAWN },
	{ BR_A_BACKOFF, SUPFSM_EV_STOP, BR_A_STOPPED, A_NONE },
	{ BR_A_BACKOFF, SUPFSM_EV_EXIT, BR_A_STOPPED, A_NONE },
	{ BR_A_BACKOFF, SUPFSM_EV_TIMER, BR_A_STARTING, A_SPAWN },
	{ BR_A_BACKOFF, SUPFSM_EV_LINK, BR_A_BACKOFF, A_NONE },
	{ BR_A_BACKOFF, SUPFSM_EV_SIBLING, BR_A_BACKOFF, A_NONE },
	{ BR_A_FAILED, SUPFSM_EV_START, BR_A_STARTING, A_SPAWN },
	{ BR_A_FAILED, SUPFSM_EV_STOP, BR_A_FAILED, A_NONE },
	{ BR_A_FAILED, SUPFSM_EV_EXIT, BR_A_STOPPED, A_NONE },
	{ BR_A_FAILED, SUPFSM_EV_TIMER, BR_A_FAILED, A_NONE },
	{ BR_A_FAILED, SUPFSM_EV_LINK, BR_A_FAILED, A_NONE },
	{ BR_A_FAILED, SUPFSM_EV_SIBLING, BR_A_FAILED, A_NONE },
	{ BR_A_STOPPING, SUPFSM_EV_START, BR_A_RESTARTING, A_NONE },
	{ BR_A_STOPPING, SUPFSM_EV_STOP, BR_A_STOPPING, A_NONE },
	{ BR_A_STOPPING, SUPFSM_EV_EXIT, BR_A_STOPPED, A_NONE },
	{ BR_A_STOPPING, SUPFSM_EV_TIMER, BR_A_STOPPING, A_NONE },
	{ BR_A_STOPPING, SUPFSM_EV_LINK, BR_A_STOPPING, A_NONE },
	{ BR_A_STOPPING, SUPFSM_EV_SIBLING, BR_A_STOPPING, A_NONE },
	{ BR_A_RESTARTING, SUPFSM_EV_START, BR_A_RESTARTING, A_NONE },
	{ BR_A_RESTARTING, SUPFSM_EV_STOP, BR_A_STOPPING, A_NONE },
	{ BR_A_RESTARTING, SUPFSM_EV_EXIT, BR_A_BACKOFF, A_NONE },
	{ BR_A_RESTARTING, SUPFSM_EV_TIMER, BR_A_RESTARTING, A_NONE },
	{ BR_A_RESTARTING, SUPFSM_EV_LINK, BR_A_RESTARTING, A_NONE },
	{ BR_A_RESTARTING, SUPFSM_EV_SIBLING, BR_A_RESTARTING, A_NONE },
};

ParameterizedTestParameters(sup, table)
{
	return cr_make_param_array(struct cell, cells,
	    sizeof(cells) / sizeof(cells[0]));
}

static bool
live(enum br_astate s)
{
	return s == BR_A_STARTING || s == BR_A_RUNNING ||
	    s == BR_A_STOPPING || s == BR_A_RESTARTING;
}

ParameterizedTest(struct cell *c, sup, table)
{
	struct supfsm_event e = { .ev_kind = c->c_ev, .ev_status = CRASH };
	enum act did;

	cr_assert_eq(BR_A_NSTATES * SUPFSM_NEV, 42);
	world_init(NULL, 1, NULL);
	e.ev_now = w.now;
	e.ev_at = w.now + 5000;
	w.st[0] = c->c_from;
	w.pid[0] = live(c->c_from) && c->c_ev != SUPFSM_EV_EXIT ? 42 : 0;
	supfsm_fire(w.f, 0, &e);
	did = w.spawns[0] ? A_SPAWN : w.terms[0] ? A_TERM :
	    w.retires[0] ? A_RETIRE : A_NONE;
	cr_expect_eq(w.st[0], c->c_to, "state %d event %d: to %d, want %d",
	    c->c_from, c->c_ev, w.st[0], c->c_to);
	cr_expect_eq(did, c->c_act, "state %d event %d: action %d, want %d",
	    c->c_from, c->c_ev, did, c->c_act);
	cr_expect_eq(w.spawns[0] + w.terms[0] + w.kills[0] + w.retires[0],
	    did != A_NONE, "one action at most");
	if (did == A_TERM)
		cr_expect_eq(supfsm_kill_at(w.f, 0), w.now + 500,
		    "SIGTERM arms the SIGKILL deadline");
	if (c->c_ev == SUPFSM_EV_SIBLING && (c->c_from == BR_A_STARTING ||
	    c->c_from == BR_A_RUNNING || c->c_from == BR_A_BACKOFF))
		cr_expect_eq(supfsm_restart_at(w.f, 0), w.now + 5000,
		    "a sibling's crash sets when it starts again");
}

/* A live child that ignores SIGTERM gets SIGKILL at its deadline, once. */
Test(sup, kill_deadline)
{
	world_init(NULL, 1, NULL);
	run(0);
	supfsm_stop(w.f, 0);
	cr_assert_eq(w.terms[0], 1);
	w.now += 499;
	supfsm_tick(w.f, w.now);
	cr_expect_eq(w.kills[0], 0);
	w.now += 1;
	supfsm_tick(w.f, w.now);
	cr_expect_eq(w.kills[0], 1);
	cr_expect_eq(supfsm_kill_at(w.f, 0), 0);
	supfsm_tick(w.f, w.now + 1000);
	cr_expect_eq(w.kills[0], 1, "SIGKILL once");
	die(0, SIGKILL);
	cr_expect_eq(w.st[0], BR_A_STOPPED);
}

/* A dropped link asks the process to go once; its exit is a crash. */
Test(sup, link_down_then_exit_is_a_crash)
{
	world_init(NULL, 1, NULL);
	run(0);
	supfsm_link_down(w.f, 0);
	supfsm_link_down(w.f, 0);
	cr_expect_eq(w.terms[0], 1);
	cr_expect_eq(w.st[0], BR_A_RUNNING);
	die(0, CRASH);
	cr_expect_eq(w.st[0], BR_A_BACKOFF);
}

Test(sup, restart_types)
{
	world_init(NULL, 4, NULL);
	w.ca[1].ca_restart = BR_RS_TRANSIENT;
	w.ca[2].ca_restart = BR_RS_TRANSIENT;
	w.ca[3].ca_restart = BR_RS_TEMPORARY;
	for (uint32_t k = 0; k < 4; k++)
		run(k);
	die(0, CLEAN);
	die(1, CLEAN);
	die(2, CRASH);
	die(3, CRASH);
	cr_expect_eq(w.st[0], BR_A_BACKOFF, "permanent: always restarted");
	cr_expect_eq(w.st[1], BR_A_STOPPED, "transient: a clean exit stays");
	cr_expect_eq(w.st[2], BR_A_BACKOFF, "transient: a crash restarts");
	cr_expect_eq(w.st[3], BR_A_STOPPED, "temporary: never restarted");
}

/* exec failing is a crash at start: backoff, and it counts. */
Test(sup, spawn_failure_is_a_crash)
{
	world_init(NULL, 1, NULL);
	w.spawn_fails[0] = true;
	supfsm_start(w.f, 0);
	cr_expect_eq(w.st[0], BR_A_BACKOFF);
	cr_expect_eq(supfsm_backoff_n(w.f, 0), 1);
	w.spawn_fails[0] = false;
	tick_until_spawn(0);
	cr_expect_eq(w.st[0], BR_A_STARTING);
	cr_expect_eq(supfsm_restarts(w.f, 0), 1);
}

/* ---- strategies ---- */

static const char *three_in_g[] = { "g", "g", "g", "root" };

static void
strategy_world(const char *strategy)
{
	char text[512];

	snprintf(text, sizeof(text), "%s[supervisor g]\nstrategy = %s\n"
	    "intensity = 10\nperiod = 10s\nbackoff_min = 100ms\n"
	    "backoff_max = 1s\n", base_conf, strategy);
	world_init(text, 4, three_in_g);
	for (uint32_t k = 0; k < 4; k++)
		run(k);
}

Test(sup, one_for_one)
{
	strategy_world("one_for_one");
	die(1, CRASH);
	cr_expect_eq(w.st[1], BR_A_BACKOFF);
	for (uint32_t k = 0; k < 4; k++)
		if (k != 1) {
			cr_expect_eq(w.st[k], BR_A_RUNNING);
			cr_expect_eq(w.terms[k], 0);
		}
	tick_until_spawn(1);
	cr_expect_eq(w.spawns[0] + w.spawns[2] + w.spawns[3], 3);
}

/* Every sibling goes too and all start again at the crashed one's time;
 * a child of another group is left alone. */
Test(sup, one_for_all)
{
	uint64_t at;

	strategy_world("one_for_all");
	die(1, CRASH);
	at = supfsm_restart_at(w.f, 1);
	for (uint32_t k = 0; k < 3; k += 2) {
		cr_expect_eq(w.st[k], BR_A_RESTARTING);
		cr_expect_eq(w.terms[k], 1);
		cr_expect_eq(supfsm_restart_at(w.f, k), at);
	}
	cr_expect_eq(w.st[3], BR_A_RUNNING);
	cr_expect_eq(w.terms[3], 0);
	die(0, SIGTERM);
	die(2, SIGTERM);
	cr_expect_eq(w.st[0], BR_A_BACKOFF, "a planned exit is no crash");
	cr_expect_eq(w.st[2], BR_A_BACKOFF);
	supfsm_tick(w.f, at - 1);
	cr_expect_eq(w.spawns[0] + w.spawns[1] + w.spawns[2], 3);
	supfsm_tick(w.f, at);
	for (uint32_t k = 0; k < 3; k++) {
		cr_expect_eq(w.st[k], BR_A_STARTING);
		cr_expect_eq(w.spawns[k], 2);
	}
}

/* Only the siblings started after the crashed one go. */
Test(sup, rest_for_one)
{
	strategy_world("rest_for_one");
	die(1, CRASH);
	cr_expect_eq(w.st[0], BR_A_RUNNING);
	cr_expect_eq(w.terms[0], 0);
	cr_expect_eq(w.st[2], BR_A_RESTARTING);
	cr_expect_eq(w.terms[2], 1);
	cr_expect_eq(w.st[3], BR_A_RUNNING);
}

/* Siblings already in backoff wait for the later of the two times. */
Test(sup, sibling_in_backoff_waits_for_the_later)
{
	uint64_t first, second;

	strategy_world("rest_for_one");
	die(1, CRASH);
	first = supfsm_restart_at(w.f, 1);
	die(2, SIGTERM);
	cr_assert_eq(w.st[2], BR_A_BACKOFF);
	cr_assert_eq(supfsm_restart_at(w.f, 2), first);
	w.now += 50;		/* 0's delay is >= 100: ends after first */
	die(0, CRASH);
	second = supfsm_restart_at(w.f, 0);
	cr_assert_gt(second, first);
	cr_expect_eq(supfsm_restart_at(w.f, 1), second);
	cr_expect_eq(supfsm_restart_at(w.f, 2), second);
	supfsm_tick(w.f, second - 1);
	cr_expect_eq(w.spawns[1] + w.spawns[2], 2, "none before second");
	supfsm_tick(w.f, second);
	cr_expect_eq(w.spawns[1] + w.spawns[2], 4);
}

/* ---- intensity and escalation ---- */

/* The restart that exceeds intensity fails the group: the crashed child
 * and its siblings end failed, the node stays up. */
Test(sup, intensity_fails_the_group)
{
	world_init("[supervisor root]\nintensity = 100\n"
	    "[supervisor g]\nintensity = 2\nperiod = 10s\n"
	    "backoff_min = 10ms\nbackoff_max = 10ms\n", 4, three_in_g);
	for (uint32_t k = 0; k < 4; k++)
		run(k);
	for (int i = 0; i < 2; i++) {
		die(0, CRASH);
		cr_assert_eq(w.st[0], BR_A_BACKOFF, "restart %d admitted", i);
		tick_until_spawn(0);
		w.st[0] = BR_A_RUNNING;
	}
	die(0, CRASH);
	cr_expect_eq(w.st[0], BR_A_FAILED);
	cr_expect(supfsm_group_failed(w.f, 0));
	cr_expect_str_eq(br_log_last_error(), "supervisor gave up "
	    "supervisor=g intensity=2 period_ms=10000");
	cr_expect_eq(w.st[1], BR_A_STOPPING);
	cr_expect_eq(w.terms[1], 1);
	die(1, SIGTERM);
	cr_expect_eq(w.st[1], BR_A_FAILED, "settles failed with its group");
	cr_expect_eq(w.st[3], BR_A_RUNNING, "root's child untouched");
	cr_expect(!supfsm_group_failed(w.f, 3));
	w.now += 60000;
	supfsm_tick(w.f, w.now);
	cr_expect_eq(w.st[0], BR_A_FAILED, "a failed group stays failed");
	/* a restart by hand revives the group and its failed children */
	supfsm_restart(w.f, 0);
	cr_expect(!supfsm_group_failed(w.f, 0));
	cr_expect_eq(w.st[0], BR_A_STARTING);
	cr_expect_eq(w.st[1], BR_A_STARTING);
}

/* Restarts older than the period no longer count. */
Test(sup, intensity_window_slides)
{
	world_init("[supervisor root]\nintensity = 2\nperiod = 1s\n"
	    "backoff_min = 10ms\nbackoff_max = 10ms\n", 1, NULL);
	run(0);
	for (int i = 0; i < 10; i++) {
		die(0, CRASH);
		cr_assert_eq(w.st[0], BR_A_BACKOFF, "crash %d", i);
		tick_until_spawn(0);
		w.st[0] = BR_A_RUNNING;
		w.now += 600;	/* two crashes are never within 1 s... */
	}
	cr_expect_eq(supfsm_restarts(w.f, 0), 10);
}

/* db (under mid, under root) failing counts once in mid's window; when
 * that is full mid fails too, and with it web, its other child group. */
Test(sup, escalation_to_parent)
{
	static const char *groups[] = { "db", "web", "root" };

	world_init("[supervisor root]\nintensity = 100\n"
	    "[supervisor mid]\nintensity = 1\nperiod = 10s\n"
	    "[supervisor db]\nparent = mid\nintensity = 0\n"
	    "[supervisor web]\nparent = mid\n", 3, groups);
	for (uint32_t k = 0; k < 3; k++)
		run(k);
	die(0, CRASH);
	cr_expect_eq(w.st[0], BR_A_FAILED);
	cr_expect(supfsm_group_failed(w.f, 0));
	cr_expect(!supfsm_group_failed(w.f, 1), "mid had room for one");
	cr_expect_eq(w.st[1], BR_A_RUNNING);
	supfsm_restart(w.f, 0);
	w.st[0] = BR_A_RUNNING;
	die(0, CRASH);
	cr_expect(supfsm_group_failed(w.f, 0));
	cr_expect(supfsm_group_failed(w.f, 1), "mid gave up: web with it");
	cr_expect_eq(w.st[1], BR_A_STOPPING);
	die(1, SIGTERM);
	cr_expect_eq(w.st[1], BR_A_FAILED);
	cr_expect_eq(w.st[2], BR_A_RUNNING, "root stays up");
	cr_expect(!supfsm_group_failed(w.f, 2));
}

/* Root giving up has nothing above it: its children fail, nothing else. */
Test(sup, top_group_fails_alone)
{
	world_init("[supervisor root]\nintensity = 0\n", 2, NULL);
	run(0);
	run(1);
	die(0, CRASH);
	cr_expect_eq(w.st[0], BR_A_FAILED);
	cr_expect_eq(w.st[1], BR_A_STOPPING);
	cr_expect_eq(w.done, 0);
}

/* ---- backoff ---- */

static uint64_t
crash_delay(uint32_t k)
{
	uint64_t t;

	w.st[k] = BR_A_RUNNING;
	die(k, CRASH);
	cr_assert_eq(w.st[k], BR_A_BACKOFF);
	t = supfsm_restart_at(w.f, k) - w.now;
	tick_until_spawn(k);
	return t;
}

/* min * 2^n plus up to a quarter, capped at max; a long run and a
 * restart by hand forget the crashes. */
Test(sup, backoff_growth_cap_reset)
{
	static const uint64_t lo[] = { 100, 200, 400, 800, 1000, 1000 };
	uint64_t d;

	world_init(NULL, 1, NULL);
	run(0);
	for (size_t i = 0; i < sizeof(lo) / sizeof(lo[0]); i++) {
		d = crash_delay(0);
		cr_expect_geq(d, lo[i], "crash %zu: %llu", i,
		    (unsigned long long)d);
		cr_expect_leq(d, lo[i] + lo[i] / 4 > 1000 ? 1000 :
		    lo[i] + lo[i] / 4, "crash %zu: %llu", i,
		    (unsigned long long)d);
	}
	cr_expect_eq(supfsm_backoff_n(w.f, 0), 6);
	w.now += 10000;		/* a run as long as the period */
	d = crash_delay(0);
	cr_expect(d >= 100 && d <= 125, "forgiven: %llu",
	    (unsigned long long)d);
	d = crash_delay(0);
	cr_expect(d >= 200 && d <= 250, "grows again: %llu",
	    (unsigned long long)d);
	w.st[0] = BR_A_RUNNING;
	supfsm_restart(w.f, 0);
	cr_expect_eq(supfsm_backoff_n(w.f, 0), 0, "restart by hand");
}

/* Doublings stop counting; the delay stays at the cap. */
Test(sup, backoff_counter_bounded)
{
	world_init(NULL, 1, NULL);
	run(0);
	for (int i = 0; i < 40; i++)
		cr_expect_eq(crash_delay(0) <= 1000, true);
	cr_expect_eq(supfsm_backoff_n(w.f, 0), 32);
}

/* ---- node phases ---- */

/* Drain waits for the mailboxes, then the children stop one by one from
 * the last, each once the one after it is gone; then the node ends. */
Test(sup, drain_then_ordered_stop)
{
	world_init(NULL, 3, NULL);
	for (uint32_t k = 0; k < 3; k++)
		run(k);
	w.depth[1] = 5;
	cr_expect_eq(supfsm_shutdown(w.f, 1000), SUPFSM_DRAIN);
	supfsm_tick(w.f, w.now + 20);
	cr_expect_eq(supfsm_phase(w.f), SUPFSM_DRAIN, "mail still queued");
	w.depth[1] = 0;
	w.waiters[2] = 1;
	supfsm_tick(w.f, w.now + 40);
	cr_expect_eq(supfsm_phase(w.f), SUPFSM_DRAIN, "a sender waits");
	w.waiters[2] = 0;
	supfsm_tick(w.f, w.now + 60);
	cr_expect_eq(supfsm_phase(w.f), SUPFSM_STOP);
	cr_expect_eq(w.terms[2], 1);
	cr_expect_eq(w.terms[1] + w.terms[0], 0, "one at a time");
	supfsm_tick(w.f, w.now + 80);
	cr_expect_eq(w.terms[1], 0, "the next waits for the exit");
	die(2, SIGTERM);
	cr_expect_eq(w.st[2], BR_A_STOPPED);
	cr_expect_eq(w.terms[1], 1);
	die(1, SIGTERM);
	cr_expect_eq(w.terms[0], 1);
	cr_expect_eq(w.done, 0);
	die(0, CRASH);
	cr_expect_eq(w.st[0], BR_A_STOPPED, "no restart while stopping");
	cr_expect_eq(w.done, 1, "nothing left: the loop ends");
}

/* The drain ends at its timeout even with mail left. */
Test(sup, drain_timeout)
{
	world_init(NULL, 1, NULL);
	run(0);
	w.depth[0] = 3;
	supfsm_shutdown(w.f, 1000);
	supfsm_tick(w.f, w.now + 999);
	cr_expect_eq(supfsm_phase(w.f), SUPFSM_DRAIN);
	supfsm_tick(w.f, w.now + 1000);
	cr_expect_eq(supfsm_phase(w.f), SUPFSM_STOP);
	cr_expect_eq(w.terms[0], 1);
}

/* Crashes during the drain still restart; in the stop phase a child in
 * backoff settles and nothing is started. */
Test(sup, restarts_during_drain_not_stop)
{
	world_init(NULL, 2, NULL);
	run(0);
	run(1);
	w.depth[1] = 1;
	supfsm_shutdown(w.f, 100000);
	die(0, CRASH);
	cr_expect_eq(w.st[0], BR_A_BACKOFF);
	tick_until_spawn(0);
	die(0, CRASH);
	w.depth[1] = 0;
	supfsm_tick(w.f, w.now);
	cr_expect_eq(supfsm_phase(w.f), SUPFSM_STOP);
	cr_expect_eq(w.terms[1], 1, "the last live child is asked first");
	supfsm_tick(w.f, w.now);
	cr_expect_eq(w.st[0], BR_A_STOPPED, "backoff settles");
	supfsm_start(w.f, 0);
	cr_expect_eq(w.st[0], BR_A_STOPPED, "no start once stopping");
}

/* A second stop signal kills everything at once; the node ends when all
 * are reaped. */
Test(sup, halt)
{
	world_init(NULL, 3, NULL);
	for (uint32_t k = 0; k < 3; k++)
		run(k);
	supfsm_shutdown(w.f, 1000);
	cr_expect_eq(supfsm_shutdown(w.f, 1000), SUPFSM_HALT);
	for (uint32_t k = 0; k < 3; k++)
		cr_expect_eq(w.kills[k], 1);
	cr_expect_eq(supfsm_shutdown(w.f, 1000), SUPFSM_HALT);
	cr_expect_eq(w.kills[0], 1, "a third signal changes nothing");
	w.pid[0] = w.pid[1] = 0;
	supfsm_tick(w.f, w.now);
	cr_expect_eq(w.done, 0);
	w.pid[2] = 0;
	supfsm_tick(w.f, w.now);
	cr_expect_eq(w.done, 1);
}

/* ---- removal, groups across reloads, inspection ---- */

Test(sup, remove_retires_once_down)
{
	world_init(NULL, 2, NULL);
	run(0);
	supfsm_remove(w.f, 0);
	cr_expect_eq(w.st[0], BR_A_STOPPING);
	cr_expect_eq(w.retires[0], 0);
	die(0, SIGTERM);
	cr_expect_eq(w.retires[0], 1);
	supfsm_remove(w.f, 1);	/* never started */
	cr_expect_eq(w.retires[1], 1);
	cr_expect_eq(supfsm_add(w.f, 1), 0);	/* revived by a reload */
	supfsm_start(w.f, 1);
	cr_expect_eq(w.st[1], BR_A_STARTING);
	w.pid[1] = 0;
	supfsm_exited(w.f, 1, CRASH);
	cr_expect_eq(w.retires[1], 1, "a revived child is not retired");
}

/* An unchanged group keeps its failure over a reload, a changed one
 * starts afresh. */
Test(sup, regroup_carries_unchanged)
{
	static const char *g[] = { "g" };
	const char *t1 = "[supervisor g]\nintensity = 0\n";
	struct br_conf *c;

	world_init(t1, 1, g);
	run(0);
	die(0, CRASH);
	cr_assert(supfsm_group_failed(w.f, 0));
	c = conf_load(t1);
	cr_assert_eq(supfsm_regroup(w.f, c), 0);
	br_conf_free(c);
	supfsm_set_group(w.f, 0, "g");
	cr_expect(supfsm_group_failed(w.f, 0), "same settings: still failed");
	c = conf_load("[supervisor g]\nintensity = 3\n");
	cr_assert_eq(supfsm_regroup(w.f, c), 0);
	br_conf_free(c);
	supfsm_set_group(w.f, 0, "g");
	cr_expect(!supfsm_group_failed(w.f, 0), "changed: afresh");
}

Test(sup, chain_and_groups)
{
	static const char *g[] = { "db", "nosuch" };
	const char *names[4];
	size_t n;

	world_init("[supervisor mid]\n[supervisor db]\nparent = mid\n", 2, g);
	n = supfsm_chain(w.f, 0, names, 4);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(names[0], "db");
	cr_expect_str_eq(names[1], "mid");
	cr_expect_str_eq(names[2], "root");
	cr_expect_eq(supfsm_chain(w.f, 0, names, 1), 1);
	n = supfsm_chain(w.f, 1, names, 4);
	cr_expect_eq(n, 1, "unknown group: root");
	cr_expect_str_eq(names[0], "root");
	cr_expect_eq(supfsm_group_index(w.f, "nosuch"), -1);
	cr_expect_eq(supfsm_add(w.f, NK), -1, "bounded");
	supfsm_set_dynamic(w.f, 1, true);
	cr_expect(supfsm_dynamic(w.f, 1));
	cr_expect(!supfsm_dynamic(w.f, 0));
}

/* An index below a child that was never added (a pool's head: no
 * process) is never acted on, whatever its state says: not spawned
 * when it reads "backoff", not waited for by the drain, not stopped. */
Test(sup, unadded_index_is_never_acted_on)
{
	world_init(NULL, 1, NULL);
	cr_assert_eq(supfsm_add(w.f, 2), 0);	/* 1 is left out */
	run(0);
	w.st[2] = BR_A_STOPPED;
	supfsm_start(w.f, 2);
	w.st[1] = BR_A_BACKOFF;
	w.depth[1] = 5;
	for (int i = 0; i < 10; i++) {
		w.now += 1000;
		supfsm_tick(w.f, w.now);
	}
	cr_expect_eq(w.spawns[1], 0, "never spawned");
	supfsm_start(w.f, 1);
	cr_expect_eq(w.spawns[1], 0, "not even when asked");
	supfsm_shutdown(w.f, 10000);
	supfsm_tick(w.f, w.now);
	cr_expect_eq(supfsm_phase(w.f), SUPFSM_STOP, "its depth is not "
	    "drained for");
	cr_expect_eq(w.terms[1], 0);
}

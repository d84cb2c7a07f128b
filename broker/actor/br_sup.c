/*
 * br_sup — supervision over the broker's actors: fills br_supfsm's ops
 * with br_actor's calls, hears exits and link drops through the actor
 * table's callbacks, and does what needs the broker: the control ops
 * spawn/stop/restart, SIGHUP reloads, the drain's start.  It calls
 * br_actor; br_actor never calls it (exits and link drops come through
 * br_actor_ops, which trouped.c points here).  Loop thread only.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "br.h"
#include "br_actor.h"
#include "br_answer.h"
#include "br_log.h"
#include "br_sup.h"
#include "br_supfsm.h"
#include "br_topic.h"

struct sup_tree {
	struct br	*t_br;
	struct supfsm	*t_fsm;
};

static struct supfsm *
fsm_of(const struct br *br)
{
	return br->b_sup->t_fsm;
}

/* ---- the core's ops, over br_actor ---- */

static struct br_actor *
kid(void *arg, uint32_t k)
{
	return ((struct br *)arg)->b_actors[k];
}

static int
op_spawn(void *arg, uint32_t k)
{
	return br_actor_spawn(kid(arg, k));
}

/* pid 0 would be our own process group: never signalled. */
static void
op_signal(void *arg, uint32_t k, int sig)
{
	struct br_actor *a = kid(arg, k);

	if (a->a_pid > 0)
		kill(a->a_pid, sig);
}

static void
op_retire(void *arg, uint32_t k)
{
	br_actor_retire(kid(arg, k));
}

static enum br_astate
op_state(void *arg, uint32_t k)
{
	return kid(arg, k)->a_state;
}

static void
op_set_state(void *arg, uint32_t k, enum br_astate st)
{
	br_actor_set_state(kid(arg, k), st);
}

static long
op_pid(void *arg, uint32_t k)
{
	return (long)kid(arg, k)->a_pid;
}

static const struct br_conf_actor *
op_conf(void *arg, uint32_t k)
{
	return &kid(arg, k)->a_conf;
}

static uint64_t
op_now(void *arg)
{
	return br_now_ms();
}

/* A pool instance drains with its pool: the queue is the pool's. */
static uint64_t
op_depth(void *arg, uint32_t k)
{
	struct br_actor *a = kid(arg, k);
	uint64_t n = mbx_depth(&a->a_mbx);

	return a->a_pool != NULL ? n + mbx_queued(&a->a_pool->a_mbx) : n;
}

/* A pool's instances drain with its wait list too.  (The drain's
 * "queued" log line counts a pool's queue once per instance.) */
static uint32_t
op_waiters(void *arg, uint32_t k)
{
	struct br_actor *a = kid(arg, k);

	return br_wait_count(&br_actor_home(a)->a_waitq);
}

static void
op_done(void *arg)
{
	br_loop_stop(&((struct br *)arg)->b_loop);
}

/* ---- what the actor table tells us (through trouped.c) ---- */

void
sup_exited(struct br_actor *a, int status)
{
	supfsm_exited(fsm_of(a->a_br), a->a_idx, status);
}

void
sup_link_down(struct br_actor *a)
{
	supfsm_link_down(fsm_of(a->a_br), a->a_idx);
}

/* ---- setup ---- */

int
sup_init(struct br *br)
{
	const struct supfsm_ops ops = { br, op_spawn, op_signal, op_retire,
	    op_state, op_set_state, op_pid, op_conf, op_now, op_depth,
	    op_waiters, op_done };
	uint32_t seed = (uint32_t)getpid() ^ (uint32_t)br_now_ms() ^
	    0x9e3779b9u;
	struct sup_tree *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->t_br = br;
	if ((t->t_fsm = supfsm_new(br->b_conf, &ops, BR_MAX_ACTORS,
	    seed)) == NULL) {
		free(t);
		return -1;
	}
	br->b_sup = t;
	return 0;
}

void
sup_fini(struct br *br)
{
	if (br->b_sup == NULL)
		return;
	supfsm_free(br->b_sup->t_fsm);
	free(br->b_sup);
	br->b_sup = NULL;
}

/* a joins the core (again) under its configured group.  A pool's head
 * is no child (it has no process): its instances are, one by one. */
static void
adopt(struct br *br, struct br_actor *a)
{
	if (br_actor_is_pool(a))
		return;
	supfsm_add(fsm_of(br), a->a_idx);
	supfsm_set_group(fsm_of(br), a->a_idx, a->a_conf.ca_supervisor);
}

/* The children behind a: itself, or a pool's live instances. */
#define EACH_KID(a, k, c) \
	for (uint32_t k = 0; k < (br_actor_is_pool(a) ? (a)->a_ninst : 1); \
	    k++) \
		for (struct br_actor *c = br_actor_is_pool(a) ? \
		    br_actor_pool_slot(a, k) : (a); c != NULL; c = NULL)

/* Starts (restarts) every child behind a; dyn marks `troupe spawn`'s. */
static void
start_kids(struct br *br, struct br_actor *a, bool dyn)
{
	EACH_KID(a, k, c) {
		adopt(br, c);
		if (dyn)
			supfsm_set_dynamic(fsm_of(br), c->a_idx, true);
		supfsm_start(fsm_of(br), c->a_idx);
	}
}

int
sup_start_all(struct br *br)
{
	for (uint32_t i = 0; i < br->b_nactors; i++) {
		struct br_actor *a = br->b_actors[i];

		adopt(br, a);
		if (!br_actor_is_pool(a))
			supfsm_start(fsm_of(br), i);
	}
	return 0;
}

void
sup_tick(struct br *br, uint64_t now)
{
	supfsm_tick(fsm_of(br), now);
}

void
sup_shutdown(struct br *br)
{
	if (supfsm_shutdown(fsm_of(br), br->b_conf->c_drain_timeout_ms) !=
	    SUPFSM_RUN)
		br->b_stopping = true;
}

/* ---- control ops ---- */

static int
refuse_stopping(struct br *br, char *err, size_t len)
{
	if (supfsm_phase(fsm_of(br)) == SUPFSM_RUN)
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

	if (supfsm_group_index(fsm_of(br), sup) < 0)
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

/* A removed (or stopped) slot is revived, else a new one is added;
 * returns the actor or NULL.  A slot is a pool or not for good. */
static struct br_actor *
take_slot(struct br *br, struct br_actor *a, const struct br_conf_actor *ca)
{
	uint32_t n = br->b_nactors;

	if (a != NULL && br_actor_is_pool(a) != (ca->ca_instances > 0))
		return NULL;
	if (a != NULL)
		return br_actor_revive(a, ca) == 0 && (ca->ca_instances == 0 ||
		    br_actor_pool_resize(a, ca->ca_instances) == 0) ? a : NULL;
	if (br_actor_add(br, ca) != 0)
		return n < br->b_nactors ? br->b_actors[n] : NULL;
	return br->b_actors[n];
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
	if ((a = take_slot(br, a, &ca)) == NULL)
		return snprintf(err, len, "cannot add actor '%s'", name),
		    BR_E_BUSY;
	start_kids(br, a, true);
	br_topic_sync_conf(br);		/* its `subscribe =` list */
	*out = a;
	return 0;
}

int
sup_stop(struct br_actor *a, char *err, size_t len)
{
	int rc;

	if ((rc = refuse_stopping(a->a_br, err, len)) != 0)
		return rc;
	EACH_KID(a, k, c)
		supfsm_stop(fsm_of(a->a_br), c->a_idx);
	return 0;
}

int
sup_restart(struct br_actor *a, char *err, size_t len)
{
	int rc;

	if ((rc = refuse_stopping(a->a_br, err, len)) != 0)
		return rc;
	EACH_KID(a, k, c)
		supfsm_restart(fsm_of(a->a_br), c->a_idx);
	return 0;
}

/* Instances from n on stop and are retired once down; their messages go
 * back to the pool (br_apool.c), so a scale down loses nothing. */
static void
shrink(struct br *br, struct br_actor *h, uint32_t from)
{
	for (uint32_t k = from; k < h->a_nslots; k++) {
		struct br_actor *c = br_actor_pool_slot(h, k);

		br_actor_mark_removed(c);	/* no new work as it stops */
		if (!c->a_retired)
			supfsm_remove(fsm_of(br), c->a_idx);
	}
}

/* Pool h to n instances: new ones start, removed ones stop. */
static int
scale_to(struct br *br, struct br_actor *h, uint32_t n)
{
	uint32_t was = h->a_ninst;
	int rv = br_actor_pool_resize(h, n);

	shrink(br, h, h->a_ninst);
	for (uint32_t k = was; k < h->a_ninst; k++) {
		struct br_actor *c = br_actor_pool_slot(h, k);

		adopt(br, c);
		if (supfsm_dynamic(fsm_of(br), br_actor_pool_slot(h,
		    0)->a_idx))
			supfsm_set_dynamic(fsm_of(br), c->a_idx, true);
		supfsm_start(fsm_of(br), c->a_idx);
	}
	return rv;
}

int
sup_scale(struct br_actor *h, uint32_t n, char *err, size_t len)
{
	int rc;

	if ((rc = refuse_stopping(h->a_br, err, len)) != 0)
		return rc;
	if (!br_actor_is_pool(h))
		return snprintf(err, len, "actor '%s' is not a pool (give it "
		    "instances = N in its config, or spawn it with "
		    "--instances N)", h->a_conf.ca_name), BR_E_BADREQ;
	if (n < 1 || n > BR_POOL_MAX)
		return snprintf(err, len, "instances must be in 1..%d",
		    BR_POOL_MAX), BR_E_BADREQ;
	h->a_conf.ca_instances = n;
	if (scale_to(h->a_br, h, n) != 0)
		return snprintf(err, len, "pool '%s': only %u instances could "
		    "be made", h->a_conf.ca_name, h->a_ninst), BR_E_BUSY;
	log_info("pool scaled", "actor=%s instances=%u", h->a_conf.ca_name,
	    n);
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
			n += 1 + nc->c_actors[i].ca_instances;
	}
	return n;
}

/* A pool the new config may have dropped, changed, resized or kept. */
static void
reload_pool(struct br *br, struct br_actor *h, const struct br_conf_actor *ca,
    struct reload_counts *rc)
{
	struct supfsm *f = fsm_of(br);
	uint32_t k0 = br_actor_pool_slot(h, 0)->a_idx;
	struct br_conf_actor same;

	if (ca == NULL && supfsm_dynamic(f, k0))
		return;
	if (ca == NULL || ca->ca_instances == 0) {
		if (ca != NULL)
			log_warn("reload: a pool becomes one actor only when "
			    "it is removed and added again", "actor=%s",
			    ca->ca_name);
		br_actor_mark_removed(h);	/* retired when all are down */
		rc->r_removed++;
		shrink(br, h, 0);
		br_actor_pool_state(h);
		return;
	}
	EACH_KID(h, k, c) {
		supfsm_set_group(f, c->a_idx, ca->ca_supervisor);
		supfsm_set_dynamic(f, c->a_idx, false);
	}
	same = *ca;
	same.ca_instances = h->a_conf.ca_instances;
	if (br_conf_actor_same(&h->a_conf, &same)) {
		if (ca->ca_instances != h->a_conf.ca_instances) {
			h->a_conf.ca_instances = ca->ca_instances;
			scale_to(br, h, ca->ca_instances);
			rc->r_changed++;
		} else
			rc->r_same++;
		return;
	}
	rc->r_changed++;
	if (br_actor_reconf(h, ca) != 0) {
		EACH_KID(h, k, c)
			supfsm_stop(f, c->a_idx);
		return;
	}
	scale_to(br, h, ca->ca_instances);
	EACH_KID(h, k, c)
		supfsm_start(f, c->a_idx);
}

/* One actor the new config may have dropped, changed or kept. */
static void
reload_one(struct br *br, struct br_actor *a, const struct br_conf *nc,
    struct reload_counts *rc)
{
	struct supfsm *f = fsm_of(br);
	const struct br_conf_actor *ca = br_conf_actor(nc, a->a_conf.ca_name);
	uint32_t k = a->a_idx;

	if (a->a_pool != NULL)
		return;		/* with its pool */
	if (br_actor_is_pool(a)) {
		reload_pool(br, a, ca, rc);
		return;
	}
	if (ca != NULL && ca->ca_instances > 0) {
		log_warn("reload: an actor becomes a pool only when it is "
		    "removed and added again", "actor=%s", ca->ca_name);
		return;
	}
	if (ca == NULL && supfsm_dynamic(f, k)) {
		supfsm_set_group(f, k, a->a_conf.ca_supervisor);
		return;
	}
	if (ca == NULL) {
		br_actor_mark_removed(a);	/* no new work as it stops */
		rc->r_removed++;
		supfsm_remove(f, k);
		return;
	}
	supfsm_set_group(f, k, ca->ca_supervisor);
	supfsm_set_dynamic(f, k, false);
	if (br_conf_actor_same(&a->a_conf, ca)) {
		rc->r_same++;
		return;
	}
	rc->r_changed++;
	/* durable turned on opens (and recovers) the log, off closes it; a
	 * log that will not open keeps the actor down */
	if (br_actor_reconf(a, ca) != 0)
		supfsm_stop(f, k);
	else
		supfsm_start(f, k);
}

static void
reload_added(struct br *br, const struct br_conf *nc,
    struct reload_counts *rc)
{
	for (size_t i = 0; i < nc->c_nactors; i++) {
		const struct br_conf_actor *ca = &nc->c_actors[i];
		struct br_actor *a;

		a = br_actor_lookup(br, ca->ca_name, strlen(ca->ca_name));
		if (a != NULL && !a->a_removed)
			continue;
		if ((a = take_slot(br, a, ca)) == NULL) {
			log_error("reload: cannot add actor", "actor=%s",
			    ca->ca_name);
			continue;
		}
		rc->r_added++;
		start_kids(br, a, false);
	}
}

int
sup_reload(struct br *br, struct br_conf *nc)
{
	struct reload_counts rc = { 0, 0, 0, 0 };
	bool run = supfsm_phase(fsm_of(br)) == SUPFSM_RUN;

	if (!run || br->b_nactors + count_new(br, nc) > BR_MAX_ACTORS ||
	    supfsm_regroup(fsm_of(br), nc) != 0) {
		log_error("reload refused, config unchanged", "reason=\"%s\"",
		    !run ? "shutting down" :
		    "too many actors or out of memory");
		br_conf_free(nc);
		return -1;
	}
	if (strcmp(nc->c_node, br->b_node) != 0)
		log_warn("reload: node name changes need a restart",
		    "node=%s new=%s", br->b_node, nc->c_node);
	for (uint32_t i = 0; i < br->b_nactors; i++)
		if (!br->b_actors[i]->a_removed)
			reload_one(br, br->b_actors[i], nc, &rc);
	reload_added(br, nc, &rc);
	br_conf_free(br->b_conf);
	br->b_conf = nc;
	log_info("config reloaded", "added=%u removed=%u changed=%u "
	    "unchanged=%u", rc.r_added, rc.r_removed, rc.r_changed,
	    rc.r_same);
	return 0;
}

/* ---- inspection ---- */

/* A pool answers for its first instance (all share the group). */
static uint32_t
kid_index(const struct br_actor *a)
{
	const struct br_actor *c = br_actor_is_pool(a) ?
	    br_actor_pool_slot(a, 0) : a;

	return c != NULL ? c->a_idx : a->a_idx;
}

size_t
sup_chain(const struct br_actor *a, const char **names, size_t max)
{
	return supfsm_chain(fsm_of(a->a_br), kid_index(a), names, max);
}

const char *
sup_group_state(const struct br_actor *a)
{
	return supfsm_group_failed(fsm_of(a->a_br), kid_index(a)) ?
	    "failed" : "running";
}

/* A pool's: the sum of its instances'. */
uint32_t
sup_restarts(const struct br_actor *a)
{
	uint32_t n = 0;

	if (!br_actor_is_pool(a))
		return supfsm_restarts(fsm_of(a->a_br), a->a_idx);
	for (uint32_t k = 0; k < a->a_nslots; k++)
		n += supfsm_restarts(fsm_of(a->a_br),
		    br_actor_pool_slot(a, k)->a_idx);
	return n;
}

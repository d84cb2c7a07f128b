/*
 * br_route — routing of SEND/ASK into mailboxes or onto peer links,
 * confirmations, and answers (REPLY, ERROR, ACK) back through the
 * pending ring.  Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "br.h"
#include "br_actor.h"
#include "br_answer.h"
#include "br_pend.h"
#include "br_route.h"
#include "br_route_int.h"
#include "br_wait.h"
#include "br_await.h"
#include "br_disc.h"
#include "br_durable.h"
#include "br_log.h"
#include "br_peer.h"
#include "tp_nng.h"

/* Peers as origins: answers and credits go back on their link. */
static int
peer_send(void *arg, const struct br_origin *o, const struct tp_env *env)
{
	struct br_link *l = br_peer_link_of(arg, o->o_actor);

	return l != NULL ? br_plink_send_env(l, env) : -1;
}

/* Of this link-up only: a message placed after its link was reset
 * returns no credit to the new session. */
static void
peer_credit(void *arg, const struct br_origin *o)
{
	struct br_link *l = br_peer_link_of(arg, o->o_actor);

	if (l != NULL)
		br_plink_owe_credit(l);
}

static const struct br_answer_ops peer_ops = { peer_send, peer_credit,
    NULL };

struct br_pend *
br_route_pend_alloc(struct br *br, const struct br_origin *o, uint32_t kind,
    uint64_t orig_id)
{
	return br_pend_alloc(br->b_pend, o, kind, orig_id,
	    br_now_ms() + br->b_conf->c_ask_ttl_ms);
}

/* "name@node" into buf (BR_NAME_MAX * 2 + 2 bytes): both names are
 * bounded by the config, and this runs once per routed message, so no
 * snprintf. */
static struct tp_slice
origin_name(const struct br *br, const struct br_origin *o, char *buf)
{
	enum br_oclass c = br_origin_class(o);
	const struct br_actor *a;
	const char *name;
	size_t n, m;
	struct tp_slice sl;

	if (c == BR_OC_ACTOR) {
		a = br->b_actors[o->o_actor];
		sl.s_ptr = a->a_from;
		sl.s_len = a->a_from_len;
		return sl;
	}
	name = c == BR_OC_CLI ? "cli" : br_answer_name(o);
	n = strnlen(name, BR_NAME_MAX);
	m = strnlen(br->b_node, BR_NAME_MAX);
	sl.s_ptr = buf;
	sl.s_len = n + 1 + m;

	memcpy(buf, name, n);
	buf[n] = '@';
	memcpy(buf + n + 1, br->b_node, m);
	return sl;
}

/* The envelope as the target will see it: `from` is who really sent it,
 * never what the sender claimed.  Packed straight into an item of its
 * exact size: one allocation, no copy. */
struct mbx_item *
br_route_encode(struct br *br, const struct br_origin *o,
    const struct tp_env *in, uint64_t id)
{
	char from[BR_NAME_MAX * 2 + 2];
	struct mbx_item *it;
	struct tp_env env = *in;
	size_t len;

	/* a peer broker already set `from` on its side */
	if (!BR_IS_PEER(o->o_actor))
		env.e_from = origin_name(br, o, from);
	env.e_id = id;
	/* CONFIRM asks the broker holding the mailbox for an ACK; TOPIC
	 * tells a subscriber (and a peer broker) that `to` is a topic */
	env.e_flags = in->e_flags & (TP_F_CONFIRM | TP_F_TOPIC);
	len = tp_env_size(&env);
	if ((it = mbx_item_alloc(len)) == NULL)
		return NULL;
	if (tp_env_pack_buf(&env, it->mi_data, len) != 0) {
		mbx_item_free(it);
		return NULL;
	}
	return it;
}

/* Where a message goes: a local actor, or a peer link. */
struct target {
	struct br_actor	*t_actor;
	struct br_link	*t_link;
};

/* A local sender's request the cluster cannot route yet but soon will
 * (br_await_needed) waits in br_await: 1 when held, -1 when refused
 * (answered), 0 when it must not wait. */
static int
wait_for_cluster(struct br *br, const struct br_origin *o,
    const struct tp_env *env, enum br_await_why want)
{
	if (BR_IS_PEER(o->o_actor) || br_await_needed(br, env->e_to.s_ptr,
	    env->e_to.s_len) != want)
		return 0;
	return br_await_hold(br, o, env, want) == 0 ? 1 : -1;
}

/* name@node for another node goes to that node's link, which must be up
 * (or coming up: then the request waits); a message from a peer is never
 * forwarded again (no loops). */
static int
resolve_node(struct br *br, const struct br_origin *o,
    const struct tp_env *env, const char *node, size_t nlen,
    struct target *t)
{
	struct br_link *l = br_peer_by_node(br, node, nlen);
	const char *why;
	int rc;

	if (l != NULL && br_plink_is_up(l) && !BR_IS_PEER(o->o_actor)) {
		t->t_link = l;
		return 0;
	}
	if ((rc = wait_for_cluster(br, o, env, BR_AWAIT_LINK)) != 0)
		return rc;
	why = BR_IS_PEER(o->o_actor) ? "not forwarded between peers" :
	    l == NULL ? "not a member of the cluster" :
	    strcmp(br_plink_node_state(l), "alive") != 0 ?
	    br_plink_node_state(l) : "no link yet";
	br_answer_error(br, o, env->e_id, BR_E_UNREACHABLE, "node '%.*s' is "
	    "unreachable (%s)", (int)nlen, node, why);
	return -1;
}

/* A bare name is local first, else on some node that has it (round-robin
 * when several do: a group), else it waits while names are on their way.
 * Returns 0 (t set), 1 (held by br_await) or -1 (answered). */
static int
resolve(struct br *br, const struct br_origin *o, const struct tp_env *env,
    struct target *t)
{
	const char *to = env->e_to.s_ptr, *at;
	size_t len = env->e_to.s_len;
	int rc;

	*t = (struct target){ NULL, NULL };
	if ((at = memchr(to, '@', len)) != NULL) {
		size_t nlen = len - (size_t)(at - to) - 1;

		if (!br_is_self(br, at + 1, nlen))
			return resolve_node(br, o, env, at + 1, nlen, t);
		len = (size_t)(at - to);
	}
	if ((t->t_actor = br_actor_find(br, to, len)) != NULL)
		return 0;
	if (at == NULL && !BR_IS_PEER(o->o_actor) &&
	    (t->t_link = br_peer_pick(br, to, len)) != NULL)
		return 0;
	if (at == NULL && (rc = wait_for_cluster(br, o, env,
	    BR_AWAIT_NAMES)) != 0)
		return rc;
	br->b_stats.st_unknown_actor++;
	br_answer_error(br, o, env->e_id, BR_E_UNKNOWN_ACTOR,
	    "unknown actor '%.*s'", (int)len, to);
	return -1;
}

/* The sender's message has been placed (queued, dropped or rejected): an
 * actor gets its credit back, a CLI SEND its ACK. */
void
br_route_placed(struct br *br, const struct br_origin *o, uint32_t kind,
    uint64_t id, bool acked)
{
	/* an actor sender's credit directly: once per routed message */
	if (br_origin_class(o) == BR_OC_ACTOR)
		br_actor_owe_credit(br->b_actors[o->o_actor], 1);
	else if (o->o_actor != BR_ORIGIN_CLI)
		br_answer_credit(o);
	else if (kind == TP_K_SEND && acked)
		br_answer(br, o, TP_K_ACK, id, NULL, 0);
}

/* A SEND is accepted for good: its sender is confirmed (a CLI that
 * waited through pending slot p gets its ACK there).  An actor or a peer
 * that set CONFIRM also hears ACK corr=id (a CLI's ACK is its answer). */
static void
confirm_now(struct br *br, const struct br_origin *o, struct br_pend *p,
    uint64_t id, uint32_t flags)
{
	if (p != NULL && p->p_kind == TP_K_SEND) {
		struct br_origin po = br_pend_origin(p);

		br_answer(br, &po, TP_K_ACK, p->p_orig_id, NULL, 0);
		br_pend_release(br->b_pend, p);
		return;
	}
	if (o->o_actor == BR_ORIGIN_CLI && o->o_hdr == NULL)
		return;		/* nobody left to answer */
	br_route_placed(br, o, TP_K_SEND, id, true);
	if ((flags & TP_F_CONFIRM) && o->o_actor != BR_ORIGIN_CLI)
		br_answer(br, o, TP_K_ACK, id, NULL, 0);
}

static void
durable_confirm(void *arg, uint32_t origin, uint64_t pend, uint64_t id,
    uint32_t flags)
{
	struct br *br = arg;
	struct br_origin o = { origin, NULL, 0 };

	confirm_now(br, &o, br_pend_get(br->b_pend, pend), id, flags);
}

/* The durable log could not take it: out of the mailbox again, and the
 * sender hears it was not accepted. */
static void
not_logged(struct br *br, struct br_actor *t, struct mbx_item *it,
    const struct br_origin *o, struct br_pend *p, uint64_t id)
{
	mbx_unput(&t->a_mbx, it);
	mbx_item_free(it);
	if (p != NULL) {
		struct br_origin po = br_pend_origin(p);

		br_answer_error(br, &po, p->p_orig_id, BR_E_REJECTED, "cannot "
		    "write the durable mailbox of '%s'", t->a_conf.ca_name);
		br_pend_release(br->b_pend, p);
	} else
		br_answer_error(br, o, id, BR_E_REJECTED, "cannot write the "
		    "durable mailbox of '%s'", t->a_conf.ca_name);
	br_route_placed(br, o, TP_K_SEND, id, false);
}

/*
 * A SEND is in t's mailbox (it is the queue's tail): its sender is
 * confirmed now, or, for a durable mailbox, once its record is on disk
 * by the fsync policy.  pend: the CLI's pending slot if it waited.
 */
static void
accepted(struct br *br, struct br_actor *t, struct mbx_item *it,
    const struct br_origin *o, uint64_t id, uint32_t flags, uint64_t pend)
{
	struct br_pend *p = br_pend_get(br->b_pend, pend);
	int rc;

	if (!br_dur_is(t->a_dur) || (rc = br_dur_append(t->a_dur, it)) ==
	    1) {
		confirm_now(br, o, p, id, flags);
		return;
	}
	if (rc < 0) {
		not_logged(br, t, it, o, p, id);
		return;
	}
	if (o->o_actor == BR_ORIGIN_CLI && p == NULL &&
	    (p = br_route_pend_alloc(br, o, TP_K_SEND, id)) != NULL)
		br_pend_set_deadline(br->b_pend, p, UINT64_MAX);
	if (o->o_actor == BR_ORIGIN_CLI && p == NULL) {
		/* queued and logged, but nowhere to remember the CLI */
		br->b_stats.st_busy++;
		br_answer_error(br, o, id, BR_E_BUSY, "broker busy: too many "
		    "requests waiting");
		return;
	}
	if (br_dur_wait(t->a_dur, it->mi_dseq, o->o_actor, p ? p->p_id : 0, id,
	    flags) != 0)
		confirm_now(br, o, p, id, flags);	/* better late: never */
}

static void
refuse(struct br *br, const struct br_origin *o, struct br_actor *t,
    uint64_t id, int rc)
{
	const char *name = t->a_conf.ca_name;

	if (rc == MBX_TOOBIG)
		br_answer_error(br, o, id, BR_E_REJECTED, "message too large "
		    "for the mailbox of '%s' (%llu bytes)", name,
		    (unsigned long long)t->a_conf.ca_mailbox_bytes);
	else if (rc == MBX_REJECTED)
		br_answer_error(br, o, id, BR_E_REJECTED, "mailbox of '%s' is "
		    "full (%u messages, policy reject)", name,
		    mbx_depth(&t->a_mbx));
	else
		br_answer_error(br, o, id, BR_E_DROPPED, "mailbox of '%s' is "
		    "full: message dropped (policy drop-newest)", name);
}

/*
 * Offers it to t's mailbox.  An ASK already holds a pending slot (pend);
 * a CLI SEND that must wait takes one to keep its backtrace.
 */
static void
place(struct br *br, struct br_actor *t, struct mbx_item *it,
    const struct br_origin *o, uint32_t kind, uint64_t id, uint64_t pend,
    uint32_t flags)
{
	struct mbx_item *dropped;
	struct br_pend *p;
	int rc;

	/* Senders already waiting go first: order is kept per mailbox. */
	rc = br_wait_count(&t->a_waitq) > 0 ? MBX_FULL_BLOCK :
	    mbx_put(&t->a_mbx, it, &dropped);

	if (rc == MBX_OK) {
		br_actor_mark_dirty(t);
		if (dropped != NULL) {	/* drop-oldest made room */
			br_dur_dropped(t->a_dur, dropped);
			br_route_dropped(br, dropped);
		}
		if (kind == TP_K_SEND)
			accepted(br, t, it, o, id, flags, 0);
		else
			br_route_placed(br, o, kind, id, true);
		return;
	}
	if (rc == MBX_FULL_BLOCK) {
		if (o->o_actor == BR_ORIGIN_CLI && kind == TP_K_SEND) {
			if ((p = br_route_pend_alloc(br, o, kind, id)) == NULL)
				goto busy;
			br_pend_set_deadline(br->b_pend, p, UINT64_MAX);
			pend = p->p_id;
		}
		if (br_wait_push(&t->a_waitq, it, o->o_actor, pend, id,
		    flags) == 0)
			return;
		if ((p = br_pend_get(br->b_pend, pend)) != NULL &&
		    kind == TP_K_SEND)
			br_pend_release(br->b_pend, p);
		goto busy;
	}
	if (rc == MBX_DROPPED_NEW && kind == TP_K_SEND) {
		/* drop-newest is the sender's agreed fate, not an error: the
		 * counters tell; only an asker must hear, or it would wait */
		mbx_item_free(it);
		confirm_now(br, o, NULL, id, flags);
		return;
	}
	refuse(br, o, t, id, rc);
	goto out_free;
busy:
	br->b_stats.st_busy++;
	br_answer_error(br, o, id, BR_E_BUSY, "broker busy: too many "
	    "requests waiting");
out_free:
	if ((p = br_pend_get(br->b_pend, pend)) != NULL && kind == TP_K_ASK)
		br_pend_release(br->b_pend, p);
	mbx_item_free(it);
	br_route_placed(br, o, kind, id, false);
}

/*
 * Sends it on link l while the link has credit (the peer broker owns the
 * mailbox and lends us a window, like an actor sender's); without credit
 * the sender waits on the link as on a full `block` mailbox.
 */
static void
place_remote(struct br *br, struct br_link *l, struct mbx_item *it,
    const struct br_origin *o, uint32_t kind, uint64_t id, uint64_t pend)
{
	struct br_waitq *q = br_plink_waitq(l);
	struct br_pend *p;

	if (q->wq_head == NULL && br_plink_try_send(l, it) == 0) {
		/* pend: an ASK, or a confirmed SEND acked by the peer */
		br_route_placed(br, o, kind, id, pend == 0);
		return;
	}
	if (o->o_actor == BR_ORIGIN_CLI && kind == TP_K_SEND && pend == 0) {
		if ((p = br_route_pend_alloc(br, o, kind, id)) == NULL)
			goto busy;
		br_pend_set_deadline(br->b_pend, p, UINT64_MAX);
		p->p_target = br_plink_origin(l);
		pend = p->p_id;
	}
	if (br_wait_push(q, it, o->o_actor, pend, id, 0) == 0)
		return;
	if ((p = br_pend_get(br->b_pend, pend)) != NULL && kind == TP_K_SEND)
		br_pend_release(br->b_pend, p);
busy:
	br->b_stats.st_busy++;
	br_answer_error(br, o, id, BR_E_BUSY, "broker busy: too many "
	    "requests waiting");
	if ((p = br_pend_get(br->b_pend, pend)) != NULL && kind == TP_K_ASK)
		br_pend_release(br->b_pend, p);
	mbx_item_free(it);
	br_route_placed(br, o, kind, id, false);
}

void
br_route_env(struct br *br, const struct br_origin *o,
    const struct tp_env *env)
{
	struct target t;
	struct mbx_item *it;
	struct br_pend *p = NULL;
	uint64_t id = env->e_id;
	int rv;

	if (br->b_stopping) {
		br_answer_error(br, o, env->e_id, BR_E_SHUTDOWN, "broker "
		    "'%s' is shutting down", br->b_node);
		br_route_placed(br, o, env->e_kind, env->e_id, false);
		return;
	}
	if (env->e_flags & TP_F_TOPIC) {
		br_route_publish(br, o, env);
		return;
	}
	if ((rv = resolve(br, o, env, &t)) != 0) {
		if (rv < 0)	/* held (1): its credit stays out */
			br_route_placed(br, o, env->e_kind, env->e_id, false);
		return;
	}
	/* a confirmed SEND to another node waits for that node's ACK */
	if (env->e_kind == TP_K_ASK || (t.t_link != NULL &&
	    (env->e_flags & TP_F_CONFIRM))) {
		if ((p = br_route_pend_alloc(br, o, env->e_kind, env->e_id)) == NULL) {
			br->b_stats.st_busy++;
			br_answer_error(br, o, env->e_id, BR_E_BUSY, "broker "
			    "busy: too many asks pending");
			br_route_placed(br, o, env->e_kind, env->e_id, false);
			return;
		}
		p->p_target = t.t_actor != NULL ? t.t_actor->a_idx :
		    br_plink_origin(t.t_link);
		id = p->p_id;
		p->p_confirm = env->e_kind == TP_K_SEND;
		br->b_stats.st_asks += env->e_kind == TP_K_ASK;
	}
	if ((it = br_route_encode(br, o, env, id)) == NULL) {
		if (p != NULL)
			br_pend_release(br->b_pend, p);
		br_answer_error(br, o, env->e_id, BR_E_BUSY, "out of memory");
		br_route_placed(br, o, env->e_kind, env->e_id, false);
		return;
	}
	br->b_stats.st_routed++;
	br_tap_routed(&br->b_tap, it->mi_data, it->mi_len);
	if (t.t_link != NULL)
		place_remote(br, t.t_link, it, o, env->e_kind, env->e_id,
		    p ? p->p_id : 0);
	else
		place(br, t.t_actor, it, o, env->e_kind, env->e_id,
		    p ? p->p_id : 0, env->e_flags);
}

static void
held_route(void *arg, const struct br_origin *o, const struct tp_env *env)
{
	br_route_env(arg, o, env);
}

static void
held_fail(void *arg, const struct br_origin *o, uint32_t kind, uint64_t id,
    int code, const char *text)
{
	br_answer_error(arg, o, id, code, "%s", text);
	br_route_placed(arg, o, kind, id, false);
}

static const struct br_await_ops await_ops = { held_route, held_fail };
static const struct br_dur_ops dur_ops = { durable_confirm };

/* A waiting sender's message went in: a CLI SEND gets its ACK, an actor
 * its credit back (a CLI ASK waits on for the reply). */
static void
admitted(struct br *br, struct br_wait *w)
{
	struct br_origin o = { w->w_origin, NULL, 0 };
	struct br_pend *p = br_pend_get(br->b_pend, w->w_pend);

	if (p != NULL && p->p_kind == TP_K_SEND && !p->p_confirm) {
		struct br_origin po = br_pend_origin(p);

		br_answer(br, &po, TP_K_ACK, p->p_orig_id, NULL, 0);
		br_pend_release(br->b_pend, p);
	} else if (w->w_origin != BR_ORIGIN_CLI)
		br_route_placed(br, &o, TP_K_SEND, w->w_id, true);
}

void
br_route_room(struct br_actor *t)
{
	struct br *br = t->a_br;
	const struct br_wait *next;
	struct mbx_item *dropped;

	while ((next = br_wait_peek(&t->a_waitq)) != NULL &&
	    mbx_has_room(&t->a_mbx, next->w_item->mi_len)) {
		struct br_wait *w = br_wait_pop(&t->a_waitq);
		struct br_pend *p;
		struct br_origin o = { 0, NULL, 0 };
		int rc;

		rc = mbx_put(&t->a_mbx, w->w_item, &dropped);
		br_dur_dropped(t->a_dur, dropped);
		br_route_dropped(br, dropped);
		if (w->w_hold != NULL) {	/* a topic copy */
			if (rc != MBX_OK)
				mbx_item_free(w->w_item);
			br_route_copy_in(br, w, rc == MBX_OK ?
			    &br->b_stats.st_topic_copies : NULL);
			br_actor_mark_dirty(t);
			continue;
		}
		p = br_pend_get(br->b_pend, w->w_pend);
		o.o_actor = w->w_origin;
		if (rc == MBX_OK && (p == NULL || p->p_kind == TP_K_SEND))
			accepted(br, t, w->w_item, &o, w->w_id, w->w_flags,
			    w->w_pend);
		else {
			if (rc != MBX_OK)
				mbx_item_free(w->w_item);
			admitted(br, w);
		}
		free(w);
		br_actor_mark_dirty(t);
	}
}

/* A REPLY or ERROR to a broker id: back to whoever asked, with their id.
 * A peer may only answer the asks sent to it (src = its origin value);
 * actors answer by the ids they were delivered (src = BR_ORIGIN_CLI:
 * unchecked). */
void
br_route_answer_back(struct br *br, const struct tp_env *env, uint32_t src)
{
	struct br_pend *p = br_pend_get(br->b_pend, env->e_corr);
	struct br_origin o;

	/* an ASK hears REPLY or ERROR, a confirmed SEND ACK or ERROR */
	if (p == NULL || (p->p_confirm ? env->e_kind == TP_K_REPLY :
	    p->p_kind != TP_K_ASK || env->e_kind == TP_K_ACK) ||
	    (BR_IS_PEER(src) && p->p_target != src)) {
		log_debug("late or stray reply dropped", "corr=%llu",
		    (unsigned long long)env->e_corr);
		return;
	}
	o = br_pend_origin(p);
	br->b_stats.st_replies++;
	br_answer(br, &o, env->e_kind, p->p_orig_id, env->e_body,
	    env->e_body_len);
	br_pend_release(br->b_pend, p);
}

void
br_route_peer_env(struct br *br, struct br_link *l, const struct tp_env *env)
{
	struct br_origin o = { br_plink_origin(l), NULL, 0 };

	if (env->e_kind == TP_K_SEND || env->e_kind == TP_K_ASK)
		br_route_env(br, &o, env);
	else
		br_route_answer_back(br, env, o.o_actor);
}

void
br_route_link_room(struct br *br, struct br_link *l)
{
	struct br_waitq *q = br_plink_waitq(l);
	struct br_wait *w;

	while (br_plink_can_send(l) &&
	    (w = br_wait_pop(q)) != NULL) {
		br_plink_try_send(l, w->w_item);
		if (w->w_hold != NULL)
			br_route_copy_in(br, w, &br->b_stats.st_topic_forwarded);
		else {
			admitted(br, w);
			free(w);
		}
	}
}

/* Senders waiting for the link's credit hear "unreachable" (an ask
 * through its pending slot, below). */
static void
fail_link_waiters(struct br *br, struct br_link *l)
{
	struct br_waitq *q = br_plink_waitq(l);
	struct br_wait *w;

	while ((w = br_wait_pop(q)) != NULL) {
		struct br_origin o = { w->w_origin, NULL, 0 };
		struct br_pend *p = br_pend_get(br->b_pend, w->w_pend);

		if (w->w_hold != NULL) {	/* that node's copy is lost */
			mbx_item_free(w->w_item);
			br_route_copy_in(br, w, NULL);
			continue;
		}
		mbx_item_free(w->w_item);
		if (p != NULL && p->p_kind == TP_K_SEND) {
			struct br_origin po = br_pend_origin(p);

			br_answer_error(br, &po, p->p_orig_id,
			    BR_E_UNREACHABLE, "node '%s' is unreachable "
			    "(link down)", br_plink_node_name(l));
			br_pend_release(br->b_pend, p);
		} else if (p == NULL && w->w_origin != BR_ORIGIN_CLI)
			br_answer_error(br, &o, w->w_id, BR_E_UNREACHABLE,
			    "node '%s' is unreachable (link down)",
			    br_plink_node_name(l));
		if (w->w_origin != BR_ORIGIN_CLI)
			br_route_placed(br, &o, TP_K_SEND, w->w_id, false);
		free(w);
	}
}

struct link_down {
	struct br	*ld_br;
	struct br_link	*ld_link;
	uint32_t	 ld_mark;
};

/* A request that came from the link has nobody left to answer; one sent
 * on it (an ask, a confirmed send) hears "unreachable". */
static void
pend_link_down(void *arg, struct br_pend *p)
{
	struct link_down *ld = arg;
	struct br_origin o;

	if (p->p_origin == ld->ld_mark) {
		br_pend_release(ld->ld_br->b_pend, p);
		return;
	}
	if (p->p_target != ld->ld_mark || (p->p_kind != TP_K_ASK &&
	    !p->p_confirm))
		return;
	o = br_pend_origin(p);
	br_answer_error(ld->ld_br, &o, p->p_orig_id, BR_E_UNREACHABLE, "node "
	    "'%s' is unreachable (link down before the reply)",
	    br_plink_node_name(ld->ld_link));
	br_pend_release(ld->ld_br->b_pend, p);
}

void
br_route_link_down(struct br *br, struct br_link *l)
{
	struct link_down ld = { br, l, br_plink_origin(l) };

	fail_link_waiters(br, l);
	br_pend_each(br->b_pend, pend_link_down, &ld);
}

void
br_route_dropped(struct br *br, struct mbx_item *list)
{
	struct tp_env env;

	for (struct mbx_item *it = list; it != NULL; it = it->mi_next) {
		struct br_pend *p;
		struct br_origin o;

		if (tp_env_decode(it->mi_data, it->mi_len, &br->b_lim, &env,
		    NULL) != 0 || env.e_kind != TP_K_ASK ||
		    (p = br_pend_get(br->b_pend, env.e_id)) == NULL)
			continue;
		o = br_pend_origin(p);
		br_answer_error(br, &o, p->p_orig_id, BR_E_DROPPED, "ask "
		    "dropped from a full mailbox (policy drop-oldest)");
		br_pend_release(br->b_pend, p);
	}
	mbx_item_free_list(list);
}

static void
pend_expired(void *arg, struct br_pend *p)
{
	struct br *br = arg;
	struct br_origin o = br_pend_origin(p);

	br->b_stats.st_ask_timeouts++;
	br_answer_error(br, &o, p->p_orig_id, BR_E_TIMEOUT, "no reply from "
	    "'%s' within the ask ttl", BR_IS_PEER(p->p_target) ?
	    "a remote actor" : br->b_actors[p->p_target]->a_conf.ca_name);
	br_pend_release(br->b_pend, p);
}

void
br_route_tick(struct br *br, uint64_t now)
{
	br_pend_expire(br->b_pend, now, pend_expired, br);
}

int
br_route_init(struct br *br)
{
	if ((br->b_pend = br_pend_new(br->b_conf->c_max_pending,
	    &br->b_next_id)) == NULL)
		return -1;
	br->b_next_id = 1;
	br_answer_set_ops(BR_OC_PEER, &peer_ops, br);
	br_await_set_ops(&await_ops, br);
	br_dur_set_ops(&dur_ops, br);
	return 0;
}

void
br_route_fini(struct br *br)
{
	br_pend_destroy(br->b_pend);
	br->b_pend = NULL;
}

uint32_t
br_route_pending(const struct br *br)
{
	return br->b_pend != NULL ? br_pend_count(br->b_pend) : 0;
}

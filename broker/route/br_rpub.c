/*
 * br_rpub — publishing to a topic (docs/ARCHITECTURE.md "Topics").
 *
 * A message published to topic T is placed, as a copy of its one
 * encoded envelope, in the mailbox of every local actor or pool whose
 * subscription matches T (br_topic), under that subscriber's own
 * overflow policy: a drop-* or reject subscriber that is full loses the
 * copy itself (its mailbox counts it); a full `block` subscriber's copy
 * waits in its wait list, and the publisher's credit (a CLI's ACK) is
 * held until every waiting copy of that message is in, so a publisher
 * runs at most its window ahead of its slowest `block` subscriber and
 * never blocks the others.  A message crosses each peer link whose node
 * subscribes to T once (the peer places its own copies and never
 * forwards: no loops); without the link's credit it waits like a block
 * copy.  Loop thread only.
 */
#include <stdlib.h>

#include "br.h"
#include "br_actor.h"
#include "br_await.h"
#include "br_durable.h"
#include "br_log.h"
#include "br_peer.h"
#include "br_plink.h"
#include "br_route.h"
#include "br_route_int.h"
#include "br_topic.h"
#include "tp_topic.h"

#define PUB_LINKS_MAX 256	/* peer links one message crosses */

/* Every copy is in: an actor, client or peer publisher gets its credit
 * (and the ACK it asked for with CONFIRM: a client always does). */
static void
confirm(struct br *br, const struct br_origin *o, const struct br_hold *h)
{
	br_route_placed(br, o, TP_K_SEND, h->h_id, true);
	if ((h->h_flags & TP_F_CONFIRM) && o->o_actor != BR_ORIGIN_CLI)
		br_answer(br, o, TP_K_ACK, h->h_id, NULL, 0);
}

/* The last waiting copy is in: the publisher hears it once. */
static void
hold_done(void *arg, struct br_hold *h)
{
	struct br *br = arg;
	struct br_pend *p = br_pend_get(br->b_pend, h->h_pend);
	struct br_origin o = { h->h_origin, NULL, 0 };

	if (p != NULL) {
		struct br_origin po = br_pend_origin(p);

		br_answer(br, &po, TP_K_ACK, p->p_orig_id, NULL, 0);
		br_pend_release(br->b_pend, p);
	} else if (h->h_origin != BR_ORIGIN_CLI)
		confirm(br, &o, h);
	free(h);
}

void
br_route_copy_in(struct br *br, struct br_wait *w, uint64_t *counter)
{
	if (counter != NULL)
		(*counter)++;
	br_wait_unhold(w->w_hold);
	free(w);
}

/* One copy into home t's mailbox under t's policy. */
static void
copy_local(struct br *br, struct br_actor *t, struct mbx_item *it,
    struct br_hold *h)
{
	struct mbx_item *dropped;
	int rc;

	/* copies already waiting go first: order per publisher holds */
	rc = br_wait_count(&t->a_waitq) > 0 ? MBX_FULL_BLOCK :
	    mbx_put(&t->a_mbx, it, &dropped);
	if (rc == MBX_OK) {
		br->b_stats.st_topic_copies++;
		br_actor_mark_dirty(t);
		if (dropped != NULL) {	/* drop-oldest: its own loss */
			br_dur_dropped(t->a_dur, dropped);
			br_route_dropped(br, dropped);
		}
		return;
	}
	if (rc == MBX_FULL_BLOCK && br_wait_push_held(&t->a_waitq, it,
	    h) == 0)
		return;
	if (rc == MBX_FULL_BLOCK)
		br->b_stats.st_busy++;
	mbx_item_free(it);	/* dropped, rejected: t's mailbox counted it */
}

/* One copy across link l, with its credit or waiting for it. */
static void
copy_remote(struct br *br, struct br_link *l, struct mbx_item *it,
    struct br_hold *h)
{
	struct br_waitq *q = br_plink_waitq(l);

	if (q->wq_head == NULL && br_plink_try_send(l, it) == 0) {
		br->b_stats.st_topic_forwarded++;
		return;
	}
	if (br_wait_push_held(q, it, h) == 0)
		return;
	br->b_stats.st_busy++;
	mbx_item_free(it);
}

/* Each copy is its own item (each mailbox frees its own); the first
 * gets the encoded one itself. */
static struct mbx_item *
copy_of(struct mbx_item *orig, bool *used)
{
	if (!*used) {
		*used = true;
		return orig;
	}
	return mbx_item_new(orig->mi_data, orig->mi_len);
}

static void
fan_out(struct br *br, const struct br_origin *o, const struct tp_env *env,
    struct mbx_item *it, struct br_hold *h)
{
	static uint32_t homes[BR_MAX_ACTORS];
	struct br_link *links[PUB_LINKS_MAX];
	struct br_tap_note note = { "publish", "", 0 };
	size_t nh, nl = 0;
	bool used = false;
	struct mbx_item *c;

	nh = br_topic_match(br, env->e_to.s_ptr, env->e_to.s_len, homes,
	    BR_MAX_ACTORS);
	if (!BR_IS_PEER(o->o_actor))	/* a peer's copy stops here */
		nl = br_peer_topic_links(br, env->e_to.s_ptr, env->e_to.s_len,
		    links, PUB_LINKS_MAX);
	note.tn_fanout = (uint32_t)(nh + nl);	/* before it is handed on */
	br_tap_noted(&br->b_tap, it->mi_data, it->mi_len, &note);
	for (size_t i = 0; i < nh + nl; i++) {
		if ((c = copy_of(it, &used)) == NULL) {
			br->b_stats.st_busy++;
			continue;
		}
		if (i < nh)
			copy_local(br, br->b_actors[homes[i]], c, h);
		else
			copy_remote(br, links[i - nh], c, h);
	}
	if (!used)
		mbx_item_free(it);	/* nobody subscribes: gone */
}

void
br_route_publish(struct br *br, const struct br_origin *o,
    const struct tp_env *env)
{
	struct tp_env copy = *env;
	struct br_hold *h;
	struct mbx_item *it;
	struct br_pend *p;

	if (env->e_kind != TP_K_SEND || !tp_topic_name_ok(env->e_to.s_ptr,
	    env->e_to.s_len)) {
		br_answer_error(br, o, env->e_id, BR_E_BADREQ, "%s",
		    env->e_kind != TP_K_SEND ? "a topic takes SENDs only "
		    "(publish), not asks" : "bad topic name");
		br_route_placed(br, o, env->e_kind, env->e_id, false);
		return;
	}
	/* right after start a member's subscriptions may be on their way */
	if (!BR_IS_PEER(o->o_actor) &&
	    br_await_topic_needed(br) == BR_AWAIT_TOPIC) {
		if (br_await_hold(br, o, env, BR_AWAIT_TOPIC) != 0)
			br_route_placed(br, o, env->e_kind, env->e_id, false);
		return;
	}
	copy.e_flags = TP_F_TOPIC;	/* a copy asks nobody for an ACK */
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (it = br_route_encode(br, o, &copy, env->e_id)) == NULL) {
		free(h);
		br_answer_error(br, o, env->e_id, BR_E_BUSY, "out of memory");
		br_route_placed(br, o, env->e_kind, env->e_id, false);
		return;
	}
	*h = (struct br_hold){ 1, o->o_actor, env->e_flags, env->e_id, 0,
	    hold_done, br };
	br->b_stats.st_published++;
	fan_out(br, o, env, it, h);
	if (h->h_refs == 1) {		/* every copy is in */
		confirm(br, o, h);
		free(h);
		return;
	}
	/* a CLI's ACK waits with the copies: its request needs a slot */
	if (o->o_actor == BR_ORIGIN_CLI && (p = br_route_pend_alloc(br, o,
	    TP_K_SEND, env->e_id)) != NULL) {
		br_pend_set_deadline(br->b_pend, p, UINT64_MAX);
		h->h_pend = p->p_id;
	} else if (o->o_actor == BR_ORIGIN_CLI)
		br_route_placed(br, o, TP_K_SEND, env->e_id, true);
	br_wait_unhold(h);
}

/*
 * br_apool — worker pools in the actor table: N instances behind one
 * name share the pool's mailbox.  The pool (its head) holds the queue,
 * the wait list of `block` senders and the durable log; each instance
 * holds only what was handed to it, at most its window (`inflight`).
 * Work goes to an instance with room, one message at a time round the
 * instances, so a slow instance (its window full) is passed over and the
 * others take the rest; a crashed or removed instance's messages go
 * back to the head of the pool's queue, flagged redelivered, and on to
 * the others at once.  Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "br.h"
#include "br_actor_int.h"
#include "br_durable.h"
#include "br_log.h"

/* Instance k's settings: the pool's, named NAME#k, a mailbox of its
 * window (what it holds is counted in the pool's capacity before it is
 * handed over), no log and no subscriptions of its own (the pool's). */
static void
inst_conf(const struct br_actor *h, uint32_t k, struct br_conf_actor *ca)
{
	*ca = h->a_conf;
	snprintf(ca->ca_name, sizeof(ca->ca_name), "%.*s#%u",
	    BR_NAME_MAX - 5, h->a_conf.ca_name, k & (BR_POOL_MAX - 1));
	ca->ca_instances = 0;
	ca->ca_durable = 0;
	ca->ca_subscribe[0] = '\0';
	ca->ca_mailbox = ca->ca_inflight;
	ca->ca_overflow = BR_OVF_BLOCK;
}

static bool
takes_work(const struct br_actor *a)
{
	return a->a_state == BR_A_RUNNING && a->a_pid > 0 && !a->a_removed &&
	    mbx_depth(&a->a_mbx) < a->a_conf.ca_inflight;
}

void
br_actor_pool_fill(struct br_actor *h)
{
	uint32_t n = h->a_ninst < h->a_nslots ? h->a_ninst : h->a_nslots;
	struct br_tap_note note = { "deliver", "", 1 };
	const struct mbx_item *it;
	uint32_t miss = 0;

	while (n > 0 && miss < n && mbx_peek(&h->a_mbx) != NULL) {
		struct br_actor *a = h->a_insts[h->a_rr++ % n];

		if (!takes_work(a)) {
			miss++;
			continue;
		}
		it = mbx_move_head(&h->a_mbx, &a->a_mbx);
		note.tn_via = a->a_conf.ca_name;
		br_tap_noted(&h->a_br->b_tap, it->mi_data, it->mi_len, &note);
		br_actor_mark_dirty(a);
		miss = 0;
	}
}

static bool
all_down(const struct br_actor *h)
{
	for (uint32_t k = 0; k < h->a_nslots; k++) {
		const struct br_actor *a = h->a_insts[k];

		if (a->a_pid > 0 || a->a_state != BR_A_STOPPED)
			return false;
	}
	return true;
}

void
br_actor_pool_give_back(struct br_actor *a)
{
	struct br_actor *h = a->a_pool;
	uint32_t n = mbx_give_back(&a->a_mbx, &h->a_mbx);

	if (n > 0)
		log_info("pool instance's messages given back", "actor=%s "
		    "messages=%u", a->a_conf.ca_name, n);
	br_actor_pool_fill(h);
}

/* RUNNING when any instance runs, else the liveliest state there is. */
void
br_actor_pool_state(struct br_actor *h)
{
	static const enum br_astate rank[] = { BR_A_RUNNING, BR_A_STARTING,
	    BR_A_RESTARTING, BR_A_BACKOFF, BR_A_STOPPING, BR_A_FAILED };
	uint32_t n = h->a_ninst < h->a_nslots ? h->a_ninst : h->a_nslots;

	for (size_t r = 0; r < sizeof(rank) / sizeof(rank[0]); r++)
		for (uint32_t k = 0; k < n; k++)
			if (h->a_insts[k]->a_state == rank[r]) {
				h->a_state = rank[r];
				return;
			}
	h->a_state = BR_A_STOPPED;
	if (h->a_removed && all_down(h))
		br_actor_retire(h);
}

int
br_actor_pool_resize(struct br_actor *h, uint32_t n)
{
	struct br_conf_actor ca;
	struct br_actor *a;
	uint32_t k;
	int rv = 0;

	if (n > BR_POOL_MAX)
		n = BR_POOL_MAX;
	for (k = 0; k < n && rv == 0; k++) {
		inst_conf(h, k, &ca);
		if (k < h->a_nslots) {
			a = h->a_insts[k];
			if (a->a_removed && br_actor_revive(a, &ca) != 0)
				rv = -1;
			continue;
		}
		if ((a = br_actor_slot_new(h->a_br, &ca, h)) == NULL) {
			rv = -1;
			break;
		}
		a->a_inst = k;
		h->a_insts[h->a_nslots++] = a;
	}
	h->a_ninst = rv == 0 ? n : k - 1;
	for (k = h->a_ninst; k < h->a_nslots; k++)
		br_actor_mark_removed(h->a_insts[k]);
	br_actor_pool_state(h);
	return rv;
}

int
br_actor_pool_reconf(struct br_actor *h)
{
	struct br_conf_actor ca;
	int rv = 0;

	for (uint32_t k = 0; k < h->a_nslots; k++) {
		inst_conf(h, k, &ca);
		if (br_actor_reconf(h->a_insts[k], &ca) != 0)
			rv = -1;
	}
	return rv;
}

static void
add_own(const struct br_actor *a, struct br_pool_sums *s)
{
	const struct mbx_stats *st = mbx_stats(&a->a_mbx);

	s->ps_delivered += st->mst_delivered;
	s->ps_acknowledged += st->mst_acknowledged;
	s->ps_redelivered += st->mst_redelivered;
	s->ps_inflight += mbx_inflight(&a->a_mbx);
	s->ps_running += a->a_state == BR_A_RUNNING;
}

void
br_actor_pool_sums(const struct br_actor *a, struct br_pool_sums *s)
{
	memset(s, 0, sizeof(*s));
	if (a->a_insts == NULL)
		add_own(a, s);
	for (uint32_t k = 0; a->a_insts != NULL && k < a->a_nslots; k++)
		add_own(a->a_insts[k], s);
}

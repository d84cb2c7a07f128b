/*
 * Unit tests for br_pend, the pending-request ring: ids index slots,
 * late replies find nothing, the ring is bounded (count, header size,
 * busy neighbourhood), deadlines expire exactly once and the walk is
 * skipped until the earliest one is due.  Links only br_pend.o.
 */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "br_pend.h"
#include "tp_env.h"

static uint64_t next_id;

static struct br_pends *
ring(uint32_t max)
{
	struct br_pends *r;

	next_id = 1;
	r = br_pend_new(max, &next_id);
	cr_assert_not_null(r);
	return r;
}

static const struct br_origin cli = { BR_ORIGIN_CLI,
    (const uint8_t *)"\x80\x00\x00\x07", 4 };
static const struct br_origin actor3 = { 3, NULL, 0 };

Test(pend, alloc_get_release_and_late_reply)
{
	struct br_pends *r = ring(8);
	struct br_pend *p = br_pend_alloc(r, &cli, TP_K_ASK, 42, 1000);
	struct br_origin o;
	uint64_t id;

	cr_assert_not_null(p);
	id = p->p_id;
	cr_assert_neq(id, 0);
	cr_assert_eq(br_pend_get(r, id), p);
	cr_assert_eq(p->p_orig_id, 42);
	cr_assert_eq(br_pend_count(r), 1);
	o = br_pend_origin(p);
	cr_assert_eq(o.o_actor, BR_ORIGIN_CLI);
	cr_assert_eq(o.o_hdrlen, 4);
	cr_assert_eq(memcmp(o.o_hdr, cli.o_hdr, 4), 0, "header copied");
	br_pend_release(r, p);
	cr_assert_eq(br_pend_count(r), 0);
	cr_assert_null(br_pend_get(r, id), "a late reply finds nothing");
	cr_assert_null(br_pend_get(r, 0), "0 is never an id");
	br_pend_destroy(r);
}

/* A slot reused by a newer id does not answer the older one. */
Test(pend, reused_slot_is_not_the_old_request)
{
	struct br_pends *r = ring(8);
	struct br_pend *p = br_pend_alloc(r, &actor3, TP_K_ASK, 1, 1000);
	uint64_t old = p->p_id, mask;

	br_pend_release(r, p);
	mask = 63;	/* the ring's size for max 8 is 64 */
	next_id = old + mask + 1;	/* same slot, next lap */
	p = br_pend_alloc(r, &actor3, TP_K_ASK, 2, 1000);
	cr_assert_not_null(p);
	cr_assert_eq(p->p_id, old + mask + 1);
	cr_assert_null(br_pend_get(r, old));
	cr_assert_eq(br_pend_get(r, p->p_id), p);
	br_pend_destroy(r);
}

Test(pend, bounded_by_max_and_header)
{
	struct br_pends *r = ring(3);
	uint8_t big[65] = { 0 };
	struct br_origin fat = { BR_ORIGIN_CLI, big, sizeof(big) };

	for (int i = 0; i < 3; i++)
		cr_assert_not_null(br_pend_alloc(r, &actor3, TP_K_ASK, i,
		    100));
	cr_assert_null(br_pend_alloc(r, &actor3, TP_K_ASK, 9, 100),
	    "max_pending requests wait at most");
	br_pend_destroy(r);
	r = ring(8);
	cr_assert_null(br_pend_alloc(r, &fat, TP_K_SEND, 1, 100),
	    "a header larger than a slot's is refused, not cut");
	br_pend_destroy(r);
}

/* Ids whose slots are all busy: the allocation gives up after a bounded
 * number of probes instead of walking the ring. */
Test(pend, busy_neighbourhood_gives_up)
{
	struct br_pends *r = ring(4096);	/* 4096 slots */
	struct br_pend *p[40];
	uint64_t start;

	for (int i = 0; i < 40; i++)
		cr_assert_not_null(p[i] = br_pend_alloc(r, &actor3, TP_K_ASK,
		    i, 100));
	start = p[0]->p_id;
	next_id = start;	/* the next 40 ids all map to busy slots */
	cr_assert_null(br_pend_alloc(r, &actor3, TP_K_ASK, 99, 100));
	cr_assert_gt(next_id, start, "probes consumed ids");
	cr_assert_leq(next_id - start, 16, "at most 16 probes");
	br_pend_destroy(r);
}

struct seen {
	uint64_t	 ids[16];
	int		 n;
	struct br_pends	*r;
};

static void
take(void *arg, struct br_pend *p)
{
	struct seen *s = arg;

	s->ids[s->n++] = p->p_orig_id;
	br_pend_release(s->r, p);
}

Test(pend, deadlines_expire_once_in_time)
{
	struct br_pends *r = ring(16);
	struct seen s = { .r = r };
	struct br_pend *forever;

	cr_assert_not_null(br_pend_alloc(r, &actor3, TP_K_ASK, 1, 100));
	cr_assert_not_null(br_pend_alloc(r, &actor3, TP_K_ASK, 2, 300));
	cr_assert_not_null(forever = br_pend_alloc(r, &cli, TP_K_SEND, 3,
	    200));
	br_pend_set_deadline(r, forever, UINT64_MAX);
	br_pend_expire(r, 99, take, &s);
	cr_assert_eq(s.n, 0, "nothing before its deadline");
	br_pend_expire(r, 100, take, &s);
	cr_assert_eq(s.n, 1);
	cr_assert_eq(s.ids[0], 1);
	br_pend_expire(r, 250, take, &s);
	cr_assert_eq(s.n, 1, "the next deadline is 300");
	br_pend_expire(r, 100000, take, &s);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.ids[1], 2);
	cr_assert_eq(br_pend_count(r), 1, "a held SEND has no deadline");
	br_pend_destroy(r);
}

static void
count(void *arg, struct br_pend *p)
{
	(*(int *)arg)++;
}

Test(pend, each_visits_every_busy_slot)
{
	struct br_pends *r = ring(64);
	int n = 0;

	for (int i = 0; i < 10; i++)
		cr_assert_not_null(br_pend_alloc(r, &actor3, TP_K_ASK, i,
		    1000));
	br_pend_each(r, count, &n);
	cr_assert_eq(n, 10);
	br_pend_destroy(r);
}

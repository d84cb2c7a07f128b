/*
 * Unit tests for br_mbx: overflow policies by count and by bytes, the
 * in-flight window, cumulative ACK, requeue on actor death, and a long
 * bounded loop.  Counters are checked exactly.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "br_mbx.h"
#include "tp_env.h"

/* An item of len bytes whose first bytes hold tag (for order checks). */
static struct mbx_item *
item(uint32_t tag, size_t len)
{
	uint8_t buf[256];
	struct mbx_item *it;

	cr_assert(len >= sizeof(tag) && len <= sizeof(buf));
	memset(buf, 0xa5, len);
	memcpy(buf, &tag, sizeof(tag));
	it = mbx_item_new(buf, len);
	cr_assert_not_null(it);
	return it;
}

static uint32_t
tag_of(const struct mbx_item *it)
{
	uint32_t tag;

	memcpy(&tag, it->mi_data, sizeof(tag));
	return tag;
}

static void
put_ok(struct mbx *mb, uint32_t tag, size_t len)
{
	struct mbx_item *dropped = (struct mbx_item *)1;

	cr_assert_eq(mbx_put(mb, item(tag, len), &dropped), MBX_OK);
	cr_assert_null(dropped);
}

/* Puts one more item and expects rc; returns the caller-owned item
 * (freed here) and checks nothing was handed back. */
static void
put_expect(struct mbx *mb, size_t len, int rc)
{
	struct mbx_item *it = item(999, len), *dropped = NULL;
	int got = mbx_put(mb, it, &dropped);

	cr_assert_eq(got, rc, "rc %d, want %d", got, rc);
	cr_assert_null(dropped);
	if (rc != MBX_OK)
		mbx_item_free(it);
}

static void
expect_stats(const struct mbx *mb, uint64_t rcv, uint64_t dlv, uint64_t ack,
    uint64_t drop, uint64_t rej, uint64_t redlv)
{
	const struct mbx_stats *st = mbx_stats(mb);

	cr_expect_eq(st->mst_received, rcv, "received %lu",
	    (unsigned long)st->mst_received);
	cr_expect_eq(st->mst_delivered, dlv, "delivered %lu",
	    (unsigned long)st->mst_delivered);
	cr_expect_eq(st->mst_acknowledged, ack, "acked %lu",
	    (unsigned long)st->mst_acknowledged);
	cr_expect_eq(st->mst_dropped, drop, "dropped %lu",
	    (unsigned long)st->mst_dropped);
	cr_expect_eq(st->mst_rejected, rej, "rejected %lu",
	    (unsigned long)st->mst_rejected);
	cr_expect_eq(st->mst_redelivered, redlv, "redelivered %lu",
	    (unsigned long)st->mst_redelivered);
	cr_assert_eq(mbx_check(mb), MBX_OK);
}

Test(mbx, init_rejects_zero_limits)
{
	struct mbx mb;

	cr_assert_eq(mbx_init(&mb, 0, 100, BR_OVF_BLOCK, 1), MBX_EINVAL);
	cr_assert_eq(mbx_init(&mb, 1, 0, BR_OVF_BLOCK, 1), MBX_EINVAL);
	cr_assert_eq(mbx_init(&mb, 1, 100, BR_OVF_BLOCK, 0), MBX_EINVAL);
	cr_assert_eq(mbx_init(&mb, 1, 100, (enum br_overflow)42, 1),
	    MBX_EINVAL);
	cr_assert_eq(mbx_init(&mb, 1, 100, BR_OVF_REJECT, 1), MBX_OK);
	cr_assert_eq(mbx_depth(&mb), 0);
	cr_assert_null(mbx_next_delivery(&mb));
	cr_assert_eq(mbx_ack(&mb, 5), 0);
	mbx_fini(&mb);
}

Test(mbx, idle_mailbox_is_small)
{
	/* 1,000 idle actors must cost well under 64 KiB each. */
	cr_assert_leq(sizeof(struct mbx), 256);
	cr_assert_null(mbx_item_alloc((size_t)UINT32_MAX + 1));
}

Test(mbx, item_copies_bytes)
{
	char src[] = "hello";
	struct mbx_item *it = mbx_item_new(src, sizeof(src));

	cr_assert_not_null(it);
	src[0] = 'j';
	cr_assert_eq(it->mi_len, sizeof(src));
	cr_assert_str_eq((char *)it->mi_data, "hello");
	cr_assert_eq(it->mi_flags, 0);
	mbx_item_free(it);
}

Test(mbx, block_by_count)
{
	struct mbx mb;

	cr_assert_eq(mbx_init(&mb, 3, 1000, BR_OVF_BLOCK, 8), MBX_OK);
	for (uint32_t i = 1; i <= 3; i++)
		put_ok(&mb, i, 8);
	cr_assert_not(mbx_has_room(&mb, 8));
	put_expect(&mb, 8, MBX_FULL_BLOCK);
	put_expect(&mb, 8, MBX_FULL_BLOCK);
	cr_assert_eq(mbx_depth(&mb), 3);
	expect_stats(&mb, 3, 0, 0, 0, 0, 0);
	/* Delivery alone frees nothing: in-flight still counts. */
	cr_assert_not_null(mbx_next_delivery(&mb));
	cr_assert_not(mbx_has_room(&mb, 8));
	put_expect(&mb, 8, MBX_FULL_BLOCK);
	cr_assert_eq(mbx_ack(&mb, 1), 1);
	cr_assert(mbx_has_room(&mb, 8));
	put_ok(&mb, 4, 8);
	expect_stats(&mb, 4, 1, 1, 0, 0, 0);
	cr_assert_eq(mbx_stats(&mb)->mst_high_water, 3);
	mbx_fini(&mb);
}

Test(mbx, block_by_bytes)
{
	struct mbx mb;

	cr_assert_eq(mbx_init(&mb, 100, 50, BR_OVF_BLOCK, 8), MBX_OK);
	put_ok(&mb, 1, 20);
	put_ok(&mb, 2, 20);
	cr_assert(mbx_has_room(&mb, 10));
	cr_assert_not(mbx_has_room(&mb, 11));
	put_expect(&mb, 11, MBX_FULL_BLOCK);
	put_ok(&mb, 3, 10);
	cr_assert_eq(mbx_bytes(&mb), 50);
	put_expect(&mb, 4, MBX_FULL_BLOCK);
	expect_stats(&mb, 3, 0, 0, 0, 0, 0);
	mbx_fini(&mb);
}

Test(mbx, reject_by_count_and_bytes)
{
	struct mbx mb;

	cr_assert_eq(mbx_init(&mb, 2, 40, BR_OVF_REJECT, 8), MBX_OK);
	put_ok(&mb, 1, 10);
	put_ok(&mb, 2, 10);
	put_expect(&mb, 4, MBX_REJECTED);		/* by count */
	cr_assert_eq(mbx_ack(&mb, 1), 0);		/* nothing in flight */
	cr_assert_not_null(mbx_next_delivery(&mb));
	cr_assert_eq(mbx_ack(&mb, 1), 1);
	put_expect(&mb, 31, MBX_REJECTED);		/* 10 + 31 > 40 */
	put_ok(&mb, 3, 30);
	expect_stats(&mb, 3, 1, 1, 0, 2, 0);
	cr_assert_eq(mbx_depth(&mb), 2);
	mbx_fini(&mb);
}

Test(mbx, drop_newest_by_count_and_bytes)
{
	struct mbx mb;
	struct mbx_item *it;

	cr_assert_eq(mbx_init(&mb, 3, 60, BR_OVF_DROP_NEWEST, 8), MBX_OK);
	for (uint32_t i = 1; i <= 3; i++)
		put_ok(&mb, i, 10);
	put_expect(&mb, 4, MBX_DROPPED_NEW);		/* by count */
	cr_assert_eq(mbx_ack(&mb, 0), 0);
	it = mbx_next_delivery(&mb);
	cr_assert_eq(tag_of(it), 1);
	mbx_ack(&mb, 1);
	put_expect(&mb, 41, MBX_DROPPED_NEW);		/* by bytes */
	put_ok(&mb, 4, 40);
	/* The queue kept the oldest: 2, 3, 4. */
	for (uint32_t i = 2; i <= 4; i++)
		cr_assert_eq(tag_of(mbx_next_delivery(&mb)), i);
	expect_stats(&mb, 4, 4, 1, 2, 0, 0);
	mbx_fini(&mb);
}

Test(mbx, drop_oldest_by_count)
{
	struct mbx mb;
	struct mbx_item *dropped = NULL;

	cr_assert_eq(mbx_init(&mb, 3, 1000, BR_OVF_DROP_OLDEST, 8), MBX_OK);
	for (uint32_t i = 1; i <= 3; i++)
		put_ok(&mb, i, 10);
	cr_assert_eq(mbx_put(&mb, item(4, 10), &dropped), MBX_OK);
	cr_assert_not_null(dropped);
	cr_assert_eq(tag_of(dropped), 1);
	cr_assert_null(dropped->mi_next);
	mbx_item_free_list(dropped);
	for (uint32_t i = 2; i <= 4; i++)
		cr_assert_eq(tag_of(mbx_next_delivery(&mb)), i);
	expect_stats(&mb, 4, 3, 0, 1, 0, 0);
	mbx_fini(&mb);
}

Test(mbx, drop_oldest_by_bytes_drops_several_in_order)
{
	struct mbx mb;
	struct mbx_item *dropped = NULL, *d;
	uint32_t want = 1;

	cr_assert_eq(mbx_init(&mb, 100, 40, BR_OVF_DROP_OLDEST, 8), MBX_OK);
	for (uint32_t i = 1; i <= 4; i++)
		put_ok(&mb, i, 10);
	/* 40 + 25 > 40: must shed 10, 10, 10 (three oldest) to reach 35. */
	cr_assert_eq(mbx_put(&mb, item(5, 25), &dropped), MBX_OK);
	for (d = dropped; d != NULL; d = d->mi_next)
		cr_assert_eq(tag_of(d), want++);
	cr_assert_eq(want, 4);
	mbx_item_free_list(dropped);
	cr_assert_eq(mbx_depth(&mb), 2);
	cr_assert_eq(mbx_bytes(&mb), 35);
	cr_assert_eq(tag_of(mbx_next_delivery(&mb)), 4);
	cr_assert_eq(tag_of(mbx_next_delivery(&mb)), 5);
	expect_stats(&mb, 5, 2, 0, 3, 0, 0);
	mbx_fini(&mb);
}

Test(mbx, drop_oldest_never_drops_inflight)
{
	struct mbx mb;
	struct mbx_item *dropped = NULL, *a, *b, *c;

	cr_assert_eq(mbx_init(&mb, 3, 1000, BR_OVF_DROP_OLDEST, 8), MBX_OK);
	for (uint32_t i = 1; i <= 3; i++)
		put_ok(&mb, i, 10);
	a = mbx_next_delivery(&mb);
	b = mbx_next_delivery(&mb);
	/* Full: the only queued item (3) goes, not the in-flight 1 and 2. */
	cr_assert_eq(mbx_put(&mb, item(4, 10), &dropped), MBX_OK);
	cr_assert_eq(tag_of(dropped), 3);
	mbx_item_free_list(dropped);
	c = mbx_next_delivery(&mb);
	cr_assert_eq(tag_of(c), 4);
	/* All three in flight: nothing queued to drop, so the new one goes. */
	put_expect(&mb, 10, MBX_DROPPED_NEW);
	/* Bytes too: in flight 30 of 35, a 6-byte item cannot fit. */
	cr_assert_eq(mbx_set_limits(&mb, 10, 35, BR_OVF_DROP_OLDEST, 8),
	    MBX_OK);
	put_ok(&mb, 5, 5);
	c = item(6, 6);
	cr_assert_eq(mbx_put(&mb, c, &dropped), MBX_DROPPED_NEW);
	cr_assert_null(dropped);
	mbx_item_free(c);	/* the caller keeps a dropped-new item */
	cr_assert_eq(mbx_queued(&mb), 1, "queued item 5 must survive");
	cr_assert_eq(tag_of(a), 1);
	cr_assert_eq(tag_of(b), 2);
	cr_assert_eq(mbx_inflight(&mb), 3);
	expect_stats(&mb, 5, 3, 0, 3, 0, 0);
	mbx_fini(&mb);
}

Test(mbx, too_big_under_every_policy)
{
	enum br_overflow p[] = { BR_OVF_BLOCK, BR_OVF_DROP_NEWEST,
	    BR_OVF_DROP_OLDEST, BR_OVF_REJECT };
	struct mbx mb;

	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		cr_assert_eq(mbx_init(&mb, 10, 20, p[i], 8), MBX_OK);
		cr_assert_not(mbx_has_room(&mb, 21));
		put_expect(&mb, 21, MBX_TOOBIG);
		put_ok(&mb, 1, 20);
		expect_stats(&mb, 1, 0, 0, 0, 1, 0);
		mbx_fini(&mb);
	}
}

Test(mbx, put_bad_args)
{
	struct mbx mb;
	struct mbx_item *d;

	cr_assert_eq(mbx_init(&mb, 1, 10, BR_OVF_BLOCK, 1), MBX_OK);
	cr_assert_eq(mbx_put(&mb, NULL, &d), MBX_EINVAL);
	cr_assert_null(d);
	expect_stats(&mb, 0, 0, 0, 0, 0, 0);
	mbx_fini(&mb);
}

Test(mbx, window_limits_delivery)
{
	struct mbx mb;
	struct mbx_item *it;

	cr_assert_eq(mbx_init(&mb, 10, 1000, BR_OVF_BLOCK, 2), MBX_OK);
	for (uint32_t i = 1; i <= 5; i++)
		put_ok(&mb, i, 8);
	cr_assert_eq(tag_of(mbx_next_delivery(&mb)), 1);
	cr_assert_eq(tag_of(mbx_next_delivery(&mb)), 2);
	cr_assert_null(mbx_next_delivery(&mb));
	cr_assert_eq(mbx_inflight(&mb), 2);
	cr_assert_eq(mbx_queued(&mb), 3);
	cr_assert_eq(mbx_depth(&mb), 5);
	cr_assert_eq(mbx_ack(&mb, 1), 1);
	it = mbx_next_delivery(&mb);
	cr_assert_eq(tag_of(it), 3);
	cr_assert_null(mbx_next_delivery(&mb));
	/* A larger window on reload opens more slots at once. */
	cr_assert_eq(mbx_set_limits(&mb, 10, 1000, BR_OVF_BLOCK, 4), MBX_OK);
	cr_assert_eq(tag_of(mbx_next_delivery(&mb)), 4);
	cr_assert_eq(tag_of(mbx_next_delivery(&mb)), 5);
	cr_assert_null(mbx_next_delivery(&mb));
	expect_stats(&mb, 5, 5, 1, 0, 0, 0);
	mbx_fini(&mb);
}

Test(mbx, cumulative_ack_and_over_ack)
{
	struct mbx mb;

	cr_assert_eq(mbx_init(&mb, 10, 1000, BR_OVF_BLOCK, 10), MBX_OK);
	for (uint32_t i = 1; i <= 6; i++)
		put_ok(&mb, i, 8);
	for (int i = 0; i < 4; i++)
		cr_assert_not_null(mbx_next_delivery(&mb));
	cr_assert_eq(mbx_ack(&mb, 3), 3);
	cr_assert_eq(mbx_inflight(&mb), 1);
	cr_assert_eq(tag_of(mb.mb_inflight.ml_head), 4);
	/* Acking more than is in flight pops what exists: a protocol error
	 * for the caller, never a crash or a queued item lost. */
	cr_assert_eq(mbx_ack(&mb, 5), 1);
	cr_assert_eq(mbx_ack(&mb, 1), 0);
	cr_assert_eq(mbx_queued(&mb), 2);
	expect_stats(&mb, 6, 4, 4, 0, 0, 0);
	mbx_fini(&mb);
}

/* Encodes a SEND envelope with flags into a new item. */
static struct mbx_item *
env_item(uint64_t id, uint32_t flags)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct tp_env env = { .e_version = TP_WIRE_VERSION,
	    .e_kind = TP_K_SEND, .e_id = id, .e_corr = 77, .e_flags = flags };
	static const uint8_t body[] = { 0x92, 0x01, 0xa1, 'x' };
	struct mbx_item *it;

	env.e_from = tp_slice_str("cli");
	env.e_to = tp_slice_str("echo");
	env.e_body = body;
	env.e_body_len = sizeof(body);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	cr_assert_eq(tp_env_pack(&pk, &env), 0);
	it = mbx_item_new(sb.data, sb.size);
	msgpack_sbuffer_destroy(&sb);
	cr_assert_not_null(it);
	return it;
}

static void
expect_env(const struct mbx_item *it, uint64_t id, uint32_t flags)
{
	struct tp_env env;

	cr_assert_eq(tp_env_decode(it->mi_data, it->mi_len,
	    &tp_limits_default, &env, NULL), 0);
	cr_expect_eq(env.e_id, id);
	cr_expect_eq(env.e_flags, flags, "flags %u, want %u", env.e_flags,
	    flags);
	cr_expect_eq(env.e_corr, 77);
	cr_expect_eq(env.e_kind, TP_K_SEND);
	cr_expect_eq(env.e_to.s_len, 4);
	cr_expect_eq(memcmp(env.e_to.s_ptr, "echo", 4), 0);
	cr_expect_eq(env.e_body_len, 4);
}

Test(mbx, requeue_keeps_order_and_flags)
{
	struct mbx mb;
	struct mbx_item *d, *it;
	uint32_t fl[] = { 0, TP_F_CONFIRM, 0, 0, 0 };

	cr_assert_eq(mbx_init(&mb, 10, 10000, BR_OVF_BLOCK, 3), MBX_OK);
	for (uint64_t i = 0; i < 5; i++)
		cr_assert_eq(mbx_put(&mb, env_item(i + 1, fl[i]), &d), MBX_OK);
	for (int i = 0; i < 3; i++)
		cr_assert_not_null(mbx_next_delivery(&mb));
	cr_assert_eq(mbx_ack(&mb, 1), 1);	/* id 1 done */
	cr_assert_eq(mbx_requeue_inflight(&mb), 2);
	cr_assert_eq(mbx_inflight(&mb), 0);
	cr_assert_eq(mbx_queued(&mb), 4);
	cr_assert_eq(mbx_check(&mb), MBX_OK);
	/* 2 and 3 back at the head, flagged, before 4 and 5. */
	for (uint64_t id = 2; id <= 5; id++) {
		bool redlv = id <= 3;

		it = mbx_next_delivery(&mb);
		if (it == NULL) {
			mbx_ack(&mb, 3);
			it = mbx_next_delivery(&mb);
		}
		cr_assert_not_null(it);
		cr_assert_eq(it->mi_flags, redlv ? MBX_F_REDELIVERED : 0u);
		expect_env(it, id, fl[id - 1] |
		    (redlv ? TP_F_REDELIVERED : 0u));
	}
	/* A second death flags 5 too and leaves the others as they were. */
	cr_assert_eq(mbx_requeue_inflight(&mb), 1);
	it = mbx_next_delivery(&mb);
	expect_env(it, 5, TP_F_REDELIVERED);
	expect_stats(&mb, 5, 8, 4, 0, 0, 3);
	mbx_fini(&mb);
}

Test(mbx, requeue_onto_empty_queue_then_put)
{
	struct mbx mb;

	cr_assert_eq(mbx_init(&mb, 10, 1000, BR_OVF_BLOCK, 10), MBX_OK);
	put_ok(&mb, 1, 8);
	put_ok(&mb, 2, 8);
	mbx_next_delivery(&mb);
	mbx_next_delivery(&mb);
	cr_assert_eq(mbx_requeue_inflight(&mb), 2);
	put_ok(&mb, 3, 8);	/* must land behind 2: tail pointer moved */
	for (uint32_t i = 1; i <= 3; i++) {
		struct mbx_item *it = mbx_next_delivery(&mb);

		cr_assert_eq(tag_of(it), i);
		/* Not envelopes: flagged but bytes left as they were. */
		cr_assert_eq(it->mi_flags, i <= 2 ?
		    (MBX_F_REDELIVERED | MBX_F_UNPATCHED) : 0u);
		cr_assert_eq(it->mi_data[4], 0xa5);
	}
	expect_stats(&mb, 3, 5, 0, 0, 0, 2);
	mbx_fini(&mb);
}

Test(mbx, patch_flags_every_width)
{
	uint32_t fl[] = { 0, 2, 0x7e, 0x80, 0xff, 0x100, 0xfffe, 0x10000,
	    0xfffffffe };

	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		struct mbx_item *it = env_item(42, fl[i]);
		uint32_t len = it->mi_len;

		cr_assert_eq(mbx_env_mark_redelivered(it->mi_data, len),
		    MBX_OK);
		cr_assert_eq(it->mi_len, len);
		expect_env(it, 42, fl[i] | TP_F_REDELIVERED);
		/* Idempotent. */
		cr_assert_eq(mbx_env_mark_redelivered(it->mi_data, len),
		    MBX_OK);
		expect_env(it, 42, fl[i] | TP_F_REDELIVERED);
		mbx_item_free(it);
	}
}

Test(mbx, patch_refuses_non_envelopes)
{
	struct mbx_item *it = env_item(1, 0);
	uint8_t *copy = malloc(it->mi_len + 1);
	uint8_t junk[] = { 0x98, 0x01, 0x01, 0x01, 0xa0, 0xa0, 0x00, 0xff,
	    0xc0 };

	cr_assert_not_null(copy);
	memcpy(copy, it->mi_data, it->mi_len);
	/* Truncated by one byte, or one trailing byte: untouched. */
	cr_assert_eq(mbx_env_mark_redelivered(copy, it->mi_len - 1),
	    MBX_EINVAL);
	copy[it->mi_len] = 0xc0;
	cr_assert_eq(mbx_env_mark_redelivered(copy, it->mi_len + 1),
	    MBX_EINVAL);
	cr_assert_eq(memcmp(copy, it->mi_data, it->mi_len), 0);
	/* flags a negative fixint (0xff): not a uint. */
	cr_assert_eq(mbx_env_mark_redelivered(junk, sizeof(junk)),
	    MBX_EINVAL);
	cr_assert_eq(junk[7], 0xff);
	junk[7] = 0x00;
	cr_assert_eq(mbx_env_mark_redelivered(junk, sizeof(junk)), MBX_OK);
	cr_assert_eq(junk[7], 0x01);
	cr_assert_eq(mbx_env_mark_redelivered(NULL, 0), MBX_EINVAL);
	cr_assert_eq(mbx_env_mark_redelivered(junk, 0), MBX_EINVAL);
	free(copy);
	mbx_item_free(it);
}

Test(mbx, high_water_counts_inflight)
{
	struct mbx mb;

	cr_assert_eq(mbx_init(&mb, 10, 1000, BR_OVF_BLOCK, 10), MBX_OK);
	for (uint32_t i = 1; i <= 4; i++)
		put_ok(&mb, i, 8);
	for (int i = 0; i < 4; i++)
		mbx_next_delivery(&mb);
	cr_assert_eq(mbx_stats(&mb)->mst_high_water, 4);
	put_ok(&mb, 5, 8);	/* 4 in flight + 1 queued */
	cr_assert_eq(mbx_stats(&mb)->mst_high_water, 5);
	mbx_ack(&mb, 4);
	put_ok(&mb, 6, 8);
	put_ok(&mb, 7, 8);
	cr_assert_eq(mbx_depth(&mb), 3);
	cr_assert_eq(mbx_stats(&mb)->mst_high_water, 5);
	mbx_fini(&mb);
}

Test(mbx, shrink_keeps_items_and_blocks)
{
	struct mbx mb;

	cr_assert_eq(mbx_init(&mb, 10, 1000, BR_OVF_DROP_OLDEST, 10), MBX_OK);
	for (uint32_t i = 1; i <= 5; i++)
		put_ok(&mb, i, 8);
	cr_assert_eq(mbx_set_limits(&mb, 2, 1000, BR_OVF_REJECT, 10), MBX_OK);
	cr_assert_eq(mbx_set_limits(&mb, 0, 1000, BR_OVF_REJECT, 10),
	    MBX_EINVAL);
	cr_assert_eq(mb.mb_cap_msgs, 2);
	cr_assert_eq(mbx_depth(&mb), 5);
	put_expect(&mb, 8, MBX_REJECTED);
	for (int i = 0; i < 4; i++)
		mbx_next_delivery(&mb);
	mbx_ack(&mb, 4);
	put_ok(&mb, 6, 8);
	expect_stats(&mb, 6, 4, 4, 0, 1, 0);
	mbx_fini(&mb);
}

Test(mbx, take_all_hands_back_in_order)
{
	struct mbx mb;
	struct mbx_item *all, *it;
	uint32_t want = 1;

	cr_assert_eq(mbx_init(&mb, 10, 1000, BR_OVF_BLOCK, 2), MBX_OK);
	for (uint32_t i = 1; i <= 5; i++)
		put_ok(&mb, i, 8);
	mbx_next_delivery(&mb);
	mbx_next_delivery(&mb);
	all = mbx_take_all(&mb);
	for (it = all; it != NULL; it = it->mi_next)
		cr_assert_eq(tag_of(it), want++);
	cr_assert_eq(want, 6);
	cr_assert_eq(mbx_depth(&mb), 0);
	cr_assert_eq(mbx_bytes(&mb), 0);
	cr_assert_eq(mbx_check(&mb), MBX_OK);
	cr_assert_null(mbx_take_all(&mb));
	put_ok(&mb, 6, 8);	/* still usable */
	mbx_item_free_list(all);
	mbx_fini(&mb);
}

static struct mbx_item *
free_one(struct mbx_item *it)
{
	struct mbx_item *next = it->mi_next;

	mbx_item_free(it);
	return next;
}

/*
 * A producer far faster than the consumer, for 1,000,000 messages through
 * a capacity of 8 and a window of 3, with an actor death every so often.
 * Depth must never exceed the capacity, and every message must be
 * accounted for exactly.
 */
static void
long_loop(enum br_overflow ovf)
{
	/* Not br_overflow_name: keeps this test free of br_conf. */
	static const char *const ovf_name[] = { "block", "drop-newest",
	    "drop-oldest", "reject" };
	const uint64_t total = 1000000;
	struct mbx mb;
	struct mbx_item *held = NULL, *d;
	uint64_t made = 0, back = 0, dropped_list = 0, refused = 0;
	uint64_t lost_new = 0, deaths = 0, requeued = 0;
	unsigned seed = 12345;

	cr_assert_eq(mbx_init(&mb, 8, 8 * 40, ovf, 3), MBX_OK);
	while (made < total || mbx_depth(&mb) > 0 || held != NULL) {
		/* Produce up to 4 per round. */
		for (int k = 0; k < 4 && (held != NULL || made < total); k++) {
			struct mbx_item *it = held;
			int rc;

			if (it == NULL) {
				it = item((uint32_t)made, 4 + made % 60);
				made++;
			}
			held = NULL;
			rc = mbx_put(&mb, it, &d);
			for (; d != NULL; d = free_one(d))
				dropped_list++;
			if (rc == MBX_FULL_BLOCK) {
				held = it;	/* the caller's wait list */
				break;
			}
			if (rc == MBX_REJECTED)
				refused++;
			else if (rc == MBX_DROPPED_NEW)
				lost_new++;
			else
				cr_assert_eq(rc, MBX_OK);
			if (rc != MBX_OK)
				mbx_item_free(it);
		}
		cr_assert_leq(mbx_depth(&mb), 8);
		cr_assert_leq(mbx_bytes(&mb), 8 * 40);
		cr_assert_leq(mbx_inflight(&mb), 3);
		while (mbx_next_delivery(&mb) != NULL)
			;
		seed = seed * 1103515245 + 12345;
		if ((seed >> 16) % 1000 == 0) {
			deaths++;
			requeued += mbx_requeue_inflight(&mb);
		} else
			back += mbx_ack(&mb, 1 + (seed >> 16) % 2);
	}
	cr_assert_eq(mbx_check(&mb), MBX_OK);
	const struct mbx_stats *st = mbx_stats(&mb);
	cr_assert_eq(made, total);
	cr_assert_eq(st->mst_acknowledged, back);
	cr_assert_eq(st->mst_dropped, dropped_list + lost_new);
	cr_assert_eq(st->mst_rejected, refused);
	cr_assert_eq(st->mst_received + lost_new + refused, total);
	cr_assert_eq(st->mst_received, back + dropped_list);
	/* Every delivery ends acked or requeued by a death. */
	cr_assert_eq(st->mst_delivered, back + requeued);
	cr_assert_leq(st->mst_redelivered, requeued);
	if (ovf == BR_OVF_BLOCK || ovf == BR_OVF_REJECT)
		cr_assert_eq(st->mst_redelivered, requeued);
	cr_assert_leq(st->mst_high_water, 8);
	cr_assert_gt(deaths, 100);
	cr_log_info("%s: received %lu delivered %lu acked %lu dropped %lu "
	    "rejected %lu redelivered %lu high_water %u deaths %lu",
	    ovf_name[ovf], (unsigned long)st->mst_received,
	    (unsigned long)st->mst_delivered,
	    (unsigned long)st->mst_acknowledged,
	    (unsigned long)st->mst_dropped, (unsigned long)st->mst_rejected,
	    (unsigned long)st->mst_redelivered, st->mst_high_water,
	    (unsigned long)deaths);
	mbx_fini(&mb);
}

Test(mbx, million_block, .timeout = 120)
{
	long_loop(BR_OVF_BLOCK);
}

Test(mbx, million_drop_oldest, .timeout = 120)
{
	long_loop(BR_OVF_DROP_OLDEST);
}

Test(mbx, million_drop_newest, .timeout = 120)
{
	long_loop(BR_OVF_DROP_NEWEST);
}

Test(mbx, million_reject, .timeout = 120)
{
	long_loop(BR_OVF_REJECT);
}

/* A durable append failed: the item just put comes out again, counted
 * rejected instead of received; only the tail can be taken back. */
Test(mbx, unput_takes_back_the_tail)
{
	struct mbx mb;
	struct mbx_item *head, *tail;
	const struct mbx_stats *st;

	cr_assert_eq(mbx_init(&mb, 4, 1 << 20, BR_OVF_BLOCK, 2), MBX_OK);
	st = mbx_stats(&mb);
	put_ok(&mb, 1, 8);
	head = mb.mb_queue.ml_head;
	put_ok(&mb, 2, 8);
	cr_expect_eq(mbx_unput(&mb, head), MBX_EINVAL);
	tail = mb.mb_queue.ml_tail;
	cr_expect_eq(mbx_unput(&mb, tail), MBX_OK);
	mbx_item_free(tail);	/* unput hands it back to us */
	cr_expect_eq(mbx_depth(&mb), 1);
	cr_expect_eq(mbx_bytes(&mb), 8);
	cr_expect_eq(st->mst_received, 1);
	cr_expect_eq(st->mst_rejected, 1);
	cr_expect_eq(mbx_check(&mb), MBX_OK);
	/* the only item: the queue ends empty, and takes puts again */
	cr_expect_eq(mbx_unput(&mb, head), MBX_OK);
	mbx_item_free(head);
	cr_expect_eq(mbx_depth(&mb), 0);
	cr_expect_eq(mbx_check(&mb), MBX_OK);
	put_ok(&mb, 3, 8);
	cr_expect_eq(tag_of(mb.mb_queue.ml_head), 3);
	mbx_fini(&mb);
}

/* Recovered records: over capacity if need be, flagged redelivered,
 * counted recovered; puts then see a full mailbox. */
Test(mbx, restore_bypasses_capacity)
{
	struct mbx mb;
	struct mbx_item *it;
	const struct mbx_stats *st;

	cr_assert_eq(mbx_init(&mb, 2, 1 << 20, BR_OVF_BLOCK, 8), MBX_OK);
	st = mbx_stats(&mb);
	for (uint32_t i = 0; i < 3; i++) {
		it = item(i, 16);
		it->mi_dseq = 10 + i;
		cr_assert_eq(mbx_restore(&mb, it), MBX_OK);
	}
	cr_expect_eq(mbx_restore(&mb, NULL), MBX_EINVAL);
	cr_expect_eq(mbx_depth(&mb), 3);
	cr_expect_eq(st->mst_recovered, 3);
	cr_expect_eq(st->mst_received, 0);
	put_expect(&mb, 16, MBX_FULL_BLOCK);
	for (uint32_t i = 0; i < 3; i++) {
		it = mbx_next_delivery(&mb);
		cr_assert_not_null(it);
		cr_expect_eq(tag_of(it), i);
		cr_expect_eq(it->mi_dseq, 10 + i);
		cr_expect(it->mi_flags & MBX_F_REDELIVERED);
	}
	cr_expect_eq(st->mst_redelivered, 3);
	cr_expect_eq(mbx_check(&mb), MBX_OK);
	mbx_fini(&mb);
}

/* Worker pools: the pool's queue hands its head to an instance whatever
 * the instance's capacity; an instance that goes gives back what it held
 * (in-flight first, flagged redelivered, then the undelivered) before the
 * pool's queue, in order. */
Test(mbx, pool_move_and_give_back)
{
	struct mbx pool, inst;
	const struct mbx_item *it;
	uint32_t want[] = { 1, 2, 3, 4, 5, 6 };

	cr_assert_eq(mbx_init(&pool, 100, 1 << 20, BR_OVF_BLOCK, 100),
	    MBX_OK);
	cr_assert_eq(mbx_init(&inst, 2, 1 << 20, BR_OVF_BLOCK, 2), MBX_OK);
	for (uint32_t t = 1; t <= 6; t++)
		put_ok(&pool, t, 8);
	cr_assert_null(mbx_move_head(&inst, &pool), "inst has none queued");
	for (int i = 0; i < 3; i++)		/* beyond inst's capacity */
		cr_assert_not_null(mbx_move_head(&pool, &inst));
	cr_assert_eq(mbx_depth(&inst), 3);
	cr_assert_eq(mbx_queued(&pool), 3);
	cr_assert_not_null(mbx_next_delivery(&inst));	/* 1, 2 in flight */
	cr_assert_not_null(mbx_next_delivery(&inst));
	cr_assert_eq(mbx_give_back(&inst, &pool), 3);
	cr_assert_eq(mbx_depth(&inst), 0);
	cr_assert_eq(mbx_queued(&pool), 6);
	for (size_t i = 0; i < 6; i++) {
		it = mbx_next_delivery(&pool);
		cr_assert_not_null(it);
		cr_expect_eq(tag_of(it), want[i], "order at %zu", i);
		cr_expect_eq((it->mi_flags & MBX_F_REDELIVERED) != 0, i < 2,
		    "only the in-flight ones are redelivered (%zu)", i);
	}
	expect_stats(&pool, 6, 9, 0, 0, 0, 2);
	expect_stats(&inst, 3, 2, 0, 0, 0, 0);
	mbx_fini(&pool);
	mbx_fini(&inst);
}

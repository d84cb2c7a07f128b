/*
 * br_mbx — the per-actor mailbox: bounded queue + in-flight window.
 * See br_mbx.h for the contract and the capacity rule.
 */
#include <stdlib.h>
#include <string.h>

#include "br_mbx.h"
#include "tp_env.h"
#include "tp_mpck.h"

/* The envelope is a fixarray of 8: version, kind, id, from, to, corr,
 * flags, body (tp_env_pack). */
#define MBX_ENV_HEAD	0x98
#define MBX_ENV_FLAGS	6	/* fields before flags */

/* --- lists --------------------------------------------------------- */

static void
list_push_tail(struct mbx_list *l, struct mbx_item *it)
{
	it->mi_next = NULL;
	if (l->ml_tail != NULL)
		l->ml_tail->mi_next = it;
	else
		l->ml_head = it;
	l->ml_tail = it;
	l->ml_count++;
	l->ml_bytes += it->mi_len;
}

static struct mbx_item *
list_pop_head(struct mbx_list *l)
{
	struct mbx_item *it = l->ml_head;

	if (it == NULL)
		return NULL;
	l->ml_head = it->mi_next;
	if (l->ml_head == NULL)
		l->ml_tail = NULL;
	it->mi_next = NULL;
	l->ml_count--;
	l->ml_bytes -= it->mi_len;
	return it;
}

/* Puts all of src, in order, before dst's head; src ends empty. */
static void
list_splice_head(struct mbx_list *dst, struct mbx_list *src)
{
	if (src->ml_head == NULL)
		return;
	src->ml_tail->mi_next = dst->ml_head;
	if (dst->ml_tail == NULL)
		dst->ml_tail = src->ml_tail;
	dst->ml_head = src->ml_head;
	dst->ml_count += src->ml_count;
	dst->ml_bytes += src->ml_bytes;
	memset(src, 0, sizeof(*src));
}

/* Appends all of src to dst; src ends empty. */
static void
list_splice_tail(struct mbx_list *dst, struct mbx_list *src)
{
	struct mbx_list tmp = *dst;

	*dst = *src;
	memset(src, 0, sizeof(*src));
	list_splice_head(dst, &tmp);
}

static int
list_check(const struct mbx_list *l)
{
	const struct mbx_item *it, *last = NULL;
	uint64_t bytes = 0;
	uint32_t n = 0;

	for (it = l->ml_head; it != NULL; last = it, it = it->mi_next) {
		if (last != NULL && last->mi_seq >= it->mi_seq)
			return MBX_EINVAL;
		if (++n > l->ml_count)
			return MBX_EINVAL;
		bytes += it->mi_len;
	}
	if (n != l->ml_count || bytes != l->ml_bytes || last != l->ml_tail)
		return MBX_EINVAL;
	return MBX_OK;
}

/* --- items ---------------------------------------------------------- */

/*
 * Small items (most messages) come from a free list instead of malloc:
 * every routed message allocates one and every ACK frees one, and glibc
 * serves these sizes from its slower bins once a burst outruns its
 * per-thread cache.  A small item always takes a whole block of
 * POOL_DATA bytes, so its size class follows from mi_len alone.  At most
 * POOL_MAX blocks wait here (~1.1 MiB: a window of 1,024 in flight and
 * the queue behind it recycle without malloc); the rest go back to malloc.
 * Loop thread only, like the mailboxes.
 */
#define POOL_DATA	240
#define POOL_MAX	4096

static struct mbx_item *pool_head;
static uint32_t pool_n;

struct mbx_item *
mbx_item_alloc(size_t len)
{
	struct mbx_item *it;

	if (len > UINT32_MAX)
		return NULL;
	if (len <= POOL_DATA && pool_head != NULL) {
		it = pool_head;
		pool_head = it->mi_next;
		pool_n--;
	} else if ((it = malloc(sizeof(*it) + (len <= POOL_DATA ? POOL_DATA :
	    len))) == NULL)
		return NULL;
	it->mi_next = NULL;
	it->mi_len = (uint32_t)len;
	it->mi_flags = 0;
	it->mi_seq = 0;
	it->mi_dseq = 0;
	return it;
}

struct mbx_item *
mbx_item_new(const void *bytes, size_t len)
{
	struct mbx_item *it;

	if (len > 0 && bytes == NULL)
		return NULL;
	if ((it = mbx_item_alloc(len)) != NULL && len > 0)
		memcpy(it->mi_data, bytes, len);
	return it;
}

void
mbx_item_free(struct mbx_item *it)
{
	if (it == NULL)
		return;
	if (it->mi_len > POOL_DATA || pool_n >= POOL_MAX) {
		free(it);
		return;
	}
	it->mi_next = pool_head;
	pool_head = it;
	pool_n++;
}

void
mbx_item_free_list(struct mbx_item *head)
{
	struct mbx_item *next;

	for (; head != NULL; head = next) {
		next = head->mi_next;
		mbx_item_free(head);
	}
}

void
mbx_item_pool_drain(void)
{
	struct mbx_item *it;

	while ((it = pool_head) != NULL) {
		pool_head = it->mi_next;
		free(it);
	}
	pool_n = 0;
}

/*
 * Bit 0 of a msgpack positive integer lives in its last byte whatever the
 * width (fixint or big-endian uint8..64), so OR-ing it in never changes
 * the encoding's length: the envelope can be patched in place.
 */
int
mbx_env_mark_redelivered(uint8_t *buf, size_t len)
{
	size_t off = 1, flags_off, flags_end;
	unsigned i;

	if (buf == NULL || len < 1 || buf[0] != MBX_ENV_HEAD)
		return MBX_EINVAL;
	for (i = 0; i < MBX_ENV_FLAGS; i++)
		if (tp_mpck_walk(buf, len, &off, 0, NULL) != 0)
			return MBX_EINVAL;
	flags_off = off;
	if (tp_mpck_walk(buf, len, &off, 0, NULL) != 0)
		return MBX_EINVAL;
	flags_end = off;
	if (tp_mpck_walk(buf, len, &off, TP_MPCK_DEPTH_MAX, NULL) != 0 ||
	    off != len)
		return MBX_EINVAL;
	if (buf[flags_off] >= 0x80 &&
	    (buf[flags_off] < 0xcc || buf[flags_off] > 0xcf))
		return MBX_EINVAL;	/* not a positive integer */
	buf[flags_end - 1] |= TP_F_REDELIVERED;
	return MBX_OK;
}

/* --- the mailbox --------------------------------------------------- */

static bool
limits_ok(uint32_t cap_msgs, uint64_t cap_bytes, enum br_overflow ovf,
    uint32_t window)
{
	if (cap_msgs == 0 || cap_bytes == 0 || window == 0)
		return false;
	switch (ovf) {
	case BR_OVF_BLOCK:
	case BR_OVF_DROP_NEWEST:
	case BR_OVF_DROP_OLDEST:
	case BR_OVF_REJECT:
		return true;
	}
	return false;
}

int
mbx_init(struct mbx *mb, uint32_t cap_msgs, uint64_t cap_bytes,
    enum br_overflow ovf, uint32_t window)
{
	if (mb == NULL)
		return MBX_EINVAL;
	memset(mb, 0, sizeof(*mb));
	return mbx_set_limits(mb, cap_msgs, cap_bytes, ovf, window);
}

int
mbx_set_limits(struct mbx *mb, uint32_t cap_msgs, uint64_t cap_bytes,
    enum br_overflow ovf, uint32_t window)
{
	if (mb == NULL || !limits_ok(cap_msgs, cap_bytes, ovf, window))
		return MBX_EINVAL;
	mb->mb_cap_msgs = cap_msgs;
	mb->mb_cap_bytes = cap_bytes;
	mb->mb_overflow = ovf;
	mb->mb_window = window;
	return MBX_OK;
}

void
mbx_fini(struct mbx *mb)
{
	if (mb == NULL)
		return;
	mbx_item_free_list(mbx_take_all(mb));
}

/* Would extra items of extra_bytes fit beside the in-flight ones and,
 * when with_queue, the queued ones? */
static bool
fits(const struct mbx *mb, bool with_queue, uint64_t extra_bytes)
{
	uint64_t n = (uint64_t)mb->mb_inflight.ml_count + 1;
	uint64_t bytes = mb->mb_inflight.ml_bytes + extra_bytes;

	if (with_queue) {
		n += mb->mb_queue.ml_count;
		bytes += mb->mb_queue.ml_bytes;
	}
	return n <= mb->mb_cap_msgs && bytes <= mb->mb_cap_bytes;
}

static void
note_high_water(struct mbx *mb)
{
	uint32_t d = mbx_depth(mb);

	if (d > mb->mb_stats.mst_high_water)
		mb->mb_stats.mst_high_water = d;
}

static void
enqueue(struct mbx *mb, struct mbx_item *it)
{
	it->mi_seq = ++mb->mb_seq;
	list_push_tail(&mb->mb_queue, it);
	mb->mb_stats.mst_received++;
	note_high_water(mb);
}

/* Drops queued items from the head until it fits; the caller checked
 * that it fits once the queue is empty. */
static struct mbx_item *
drop_oldest(struct mbx *mb, const struct mbx_item *it)
{
	struct mbx_list out = { NULL, NULL, 0, 0 };

	while (!fits(mb, true, it->mi_len)) {
		list_push_tail(&out, list_pop_head(&mb->mb_queue));
		mb->mb_stats.mst_dropped++;
	}
	return out.ml_head;
}

/* The policy when it does not fit as things stand. */
static int
overflow(struct mbx *mb, struct mbx_item *it, struct mbx_item **dropped)
{
	switch (mb->mb_overflow) {
	case BR_OVF_BLOCK:
		return MBX_FULL_BLOCK;
	case BR_OVF_REJECT:
		mb->mb_stats.mst_rejected++;
		return MBX_REJECTED;
	case BR_OVF_DROP_OLDEST:
		if (fits(mb, false, it->mi_len)) {
			*dropped = drop_oldest(mb, it);
			enqueue(mb, it);
			return MBX_OK;
		}
		break;
	case BR_OVF_DROP_NEWEST:
		break;
	}
	mb->mb_stats.mst_dropped++;
	return MBX_DROPPED_NEW;
}

int
mbx_put(struct mbx *mb, struct mbx_item *it, struct mbx_item **dropped)
{
	if (dropped == NULL)
		return MBX_EINVAL;
	*dropped = NULL;
	if (mb == NULL || it == NULL)
		return MBX_EINVAL;
	if (it->mi_len > mb->mb_cap_bytes) {
		mb->mb_stats.mst_rejected++;
		return MBX_TOOBIG;
	}
	if (!fits(mb, true, it->mi_len))
		return overflow(mb, it, dropped);
	enqueue(mb, it);
	return MBX_OK;
}

int
mbx_unput(struct mbx *mb, struct mbx_item *it)
{
	struct mbx_list *q = &mb->mb_queue;
	struct mbx_item *prev = NULL;

	if (it == NULL || q->ml_tail != it)
		return MBX_EINVAL;
	/* O(queue), but only on the failure path of a durable append */
	if (q->ml_head != it)
		for (prev = q->ml_head; prev->mi_next != it;
		    prev = prev->mi_next)
			;
	if (prev != NULL)
		prev->mi_next = NULL;
	else
		q->ml_head = NULL;
	q->ml_tail = prev;
	q->ml_count--;
	q->ml_bytes -= it->mi_len;
	it->mi_next = NULL;
	mb->mb_stats.mst_received--;
	mb->mb_stats.mst_rejected++;
	return MBX_OK;
}

static void mark_redelivered(struct mbx_item *it);

int
mbx_restore(struct mbx *mb, struct mbx_item *it)
{
	if (mb == NULL || it == NULL)
		return MBX_EINVAL;
	mark_redelivered(it);
	it->mi_seq = ++mb->mb_seq;
	list_push_tail(&mb->mb_queue, it);
	mb->mb_stats.mst_recovered++;
	note_high_water(mb);
	return MBX_OK;
}

struct mbx_item *
mbx_next_delivery(struct mbx *mb)
{
	struct mbx_item *it;

	if (mb->mb_inflight.ml_count >= mb->mb_window ||
	    (it = list_pop_head(&mb->mb_queue)) == NULL)
		return NULL;
	list_push_tail(&mb->mb_inflight, it);
	mb->mb_stats.mst_delivered++;
	if (it->mi_flags & MBX_F_REDELIVERED)
		mb->mb_stats.mst_redelivered++;
	return it;
}

uint32_t
mbx_ack(struct mbx *mb, uint32_t n)
{
	uint32_t done;

	for (done = 0; done < n && mb->mb_inflight.ml_head != NULL; done++)
		mbx_item_free(list_pop_head(&mb->mb_inflight));
	mb->mb_stats.mst_acknowledged += done;
	return done;
}

static void
mark_redelivered(struct mbx_item *it)
{
	if ((it->mi_flags & (MBX_F_REDELIVERED | MBX_F_UNPATCHED)) == 0 &&
	    mbx_env_mark_redelivered(it->mi_data, it->mi_len) != MBX_OK)
		it->mi_flags |= MBX_F_UNPATCHED;
	it->mi_flags |= MBX_F_REDELIVERED;
}

uint32_t
mbx_requeue_inflight(struct mbx *mb)
{
	uint32_t n = mb->mb_inflight.ml_count;
	struct mbx_item *it;

	for (it = mb->mb_inflight.ml_head; it != NULL; it = it->mi_next)
		mark_redelivered(it);
	list_splice_head(&mb->mb_queue, &mb->mb_inflight);
	return n;
}

struct mbx_item *
mbx_take_all(struct mbx *mb)
{
	struct mbx_list all = mb->mb_inflight;

	memset(&mb->mb_inflight, 0, sizeof(mb->mb_inflight));
	list_splice_tail(&all, &mb->mb_queue);
	return all.ml_head;
}

struct mbx_item *
mbx_move_head(struct mbx *from, struct mbx *to)
{
	struct mbx_item *it;

	if ((it = list_pop_head(&from->mb_queue)) == NULL)
		return NULL;
	from->mb_stats.mst_delivered++;
	it->mi_seq = ++to->mb_seq;
	list_push_tail(&to->mb_queue, it);
	to->mb_stats.mst_received++;
	note_high_water(to);
	return it;
}

uint32_t
mbx_give_back(struct mbx *from, struct mbx *to)
{
	uint32_t n;

	mbx_requeue_inflight(from);
	n = from->mb_queue.ml_count;
	list_splice_head(&to->mb_queue, &from->mb_queue);
	note_high_water(to);
	return n;
}

bool
mbx_has_room(const struct mbx *mb, size_t len)
{
	return len <= mb->mb_cap_bytes && fits(mb, true, len);
}

uint32_t
mbx_depth(const struct mbx *mb)
{
	return mb->mb_queue.ml_count + mb->mb_inflight.ml_count;
}

uint64_t
mbx_bytes(const struct mbx *mb)
{
	return mb->mb_queue.ml_bytes + mb->mb_inflight.ml_bytes;
}

uint32_t
mbx_queued(const struct mbx *mb)
{
	return mb->mb_queue.ml_count;
}

uint32_t
mbx_inflight(const struct mbx *mb)
{
	return mb->mb_inflight.ml_count;
}

const struct mbx_stats *
mbx_stats(const struct mbx *mb)
{
	return &mb->mb_stats;
}

int
mbx_check(const struct mbx *mb)
{
	if (list_check(&mb->mb_queue) != MBX_OK ||
	    list_check(&mb->mb_inflight) != MBX_OK)
		return MBX_EINVAL;
	if (mb->mb_inflight.ml_tail != NULL && mb->mb_queue.ml_head != NULL &&
	    mb->mb_inflight.ml_tail->mi_seq >= mb->mb_queue.ml_head->mi_seq)
		return MBX_EINVAL;
	return MBX_OK;
}

/*
 * br_pend — the pending-request ring.  Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "br_pend.h"

#define PEND_PROBES 16

struct br_pends {
	struct br_pend	*r_slots;
	uint32_t	 r_mask;
	uint32_t	 r_max;
	uint32_t	 r_n;
	uint64_t	*r_next_id;
	uint64_t	 r_next_ms;	/* earliest deadline, or later */
};

struct br_pends *
br_pend_new(uint32_t max, uint64_t *next_id)
{
	struct br_pends *r;
	uint32_t n = 64;

	while (n < max)
		n <<= 1;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->r_slots = calloc(n, sizeof(*r->r_slots))) == NULL) {
		free(r);
		return NULL;
	}
	r->r_mask = n - 1;
	r->r_max = max;
	r->r_next_id = next_id;
	r->r_next_ms = UINT64_MAX;
	return r;
}

void
br_pend_destroy(struct br_pends *r)
{
	if (r == NULL)
		return;
	free(r->r_slots);
	free(r);
}

/* Broker ids index the ring directly; a busy slot is skipped, and a full
 * neighbourhood means too many requests in flight. */
struct br_pend *
br_pend_alloc(struct br_pends *r, const struct br_origin *o, uint32_t kind,
    uint64_t orig_id, uint64_t deadline)
{
	struct br_pend *p;

	if (r->r_n >= r->r_max || o->o_hdrlen > sizeof(p->p_hdr))
		return NULL;
	for (int i = 0; i < PEND_PROBES; i++) {
		uint64_t id = (*r->r_next_id)++;

		if (id == 0)	/* 0 means free */
			id = (*r->r_next_id)++;
		p = &r->r_slots[id & r->r_mask];
		if (p->p_id != 0)
			continue;
		*p = (struct br_pend){ .p_id = id, .p_orig_id = orig_id,
		    .p_origin = o->o_actor, .p_kind = kind,
		    .p_hdrlen = (uint8_t)o->o_hdrlen,
		    .p_deadline_ms = deadline };
		if (deadline < r->r_next_ms)
			r->r_next_ms = deadline;
		if (o->o_hdrlen > 0)	/* actors and peers have none */
			memcpy(p->p_hdr, o->o_hdr, o->o_hdrlen);
		r->r_n++;
		return p;
	}
	return NULL;
}

struct br_pend *
br_pend_get(struct br_pends *r, uint64_t id)
{
	struct br_pend *p = &r->r_slots[id & r->r_mask];

	return id != 0 && p->p_id == id ? p : NULL;
}

void
br_pend_release(struct br_pends *r, struct br_pend *p)
{
	p->p_id = 0;
	r->r_n--;
}

void
br_pend_set_deadline(struct br_pends *r, struct br_pend *p,
    uint64_t deadline)
{
	p->p_deadline_ms = deadline;
	if (deadline < r->r_next_ms)
		r->r_next_ms = deadline;
}

struct br_origin
br_pend_origin(const struct br_pend *p)
{
	struct br_origin o = { p->p_origin, p->p_hdr, p->p_hdrlen };

	return o;
}

uint32_t
br_pend_count(const struct br_pends *r)
{
	return r->r_n;
}

/* The ring is large; walk it only when a deadline is due, and learn the
 * next one on the way. */
void
br_pend_expire(struct br_pends *r, uint64_t now,
    void (*fn)(void *arg, struct br_pend *p), void *arg)
{
	uint64_t next = UINT64_MAX;

	if (now < r->r_next_ms)
		return;
	for (uint32_t i = 0; i <= r->r_mask && r->r_n > 0; i++) {
		struct br_pend *p = &r->r_slots[i];

		if (p->p_id == 0)
			continue;
		if (p->p_deadline_ms > now) {
			if (p->p_deadline_ms < next)
				next = p->p_deadline_ms;
			continue;
		}
		fn(arg, p);
	}
	r->r_next_ms = next;
}

void
br_pend_each(struct br_pends *r, void (*fn)(void *arg, struct br_pend *p),
    void *arg)
{
	for (uint32_t i = 0; i <= r->r_mask && r->r_n > 0; i++)
		if (r->r_slots[i].p_id != 0)
			fn(arg, &r->r_slots[i]);
}

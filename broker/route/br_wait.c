/*
 * br_wait — wait lists in arrival order.  Loop thread only.
 */
#include <stdlib.h>

#include "br_wait.h"

int
br_wait_push(struct br_waitq *q, struct mbx_item *it, uint32_t origin,
    uint64_t pend, uint64_t id, uint32_t flags)
{
	struct br_wait *w;

	if ((w = malloc(sizeof(*w))) == NULL)
		return -1;
	*w = (struct br_wait){ .w_item = it, .w_origin = origin,
	    .w_pend = pend, .w_id = id, .w_flags = flags };
	if (q->wq_tail != NULL)
		q->wq_tail->w_next = w;
	else
		q->wq_head = w;
	q->wq_tail = w;
	q->wq_n++;
	return 0;
}

int
br_wait_push_held(struct br_waitq *q, struct mbx_item *it, struct br_hold *h)
{
	if (br_wait_push(q, it, 0, 0, 0, 0) != 0)
		return -1;
	q->wq_tail->w_hold = h;
	h->h_refs++;
	return 0;
}

void
br_wait_unhold(struct br_hold *h)
{
	if (--h->h_refs == 0)
		h->h_done(h->h_arg, h);
}

struct br_wait *
br_wait_pop(struct br_waitq *q)
{
	struct br_wait *w = q->wq_head;

	if (w == NULL)
		return NULL;
	if ((q->wq_head = w->w_next) == NULL)
		q->wq_tail = NULL;
	q->wq_n--;
	w->w_next = NULL;
	return w;
}

const struct br_wait *
br_wait_peek(const struct br_waitq *q)
{
	return q->wq_head;
}

uint32_t
br_wait_count(const struct br_waitq *q)
{
	return q->wq_n;
}

void
br_wait_clear(struct br_waitq *q)
{
	struct br_wait *w;

	while ((w = br_wait_pop(q)) != NULL) {
		mbx_item_free(w->w_item);
		if (w->w_hold != NULL && --w->w_hold->h_refs == 0)
			free(w->w_hold);
		free(w);
	}
}

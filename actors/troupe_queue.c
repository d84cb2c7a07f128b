/*
 * troupe_queue — deliveries waiting for receive(), in two rings: the
 * frames they point into (freed after their last delivery) and the
 * decoded deliveries themselves.  Both grow by doubling, bounded by the
 * in-flight window.
 */
#include <stdlib.h>

#include "tp_err.h"
#include "troupe_queue.h"

#define QUEUE_MIN	16
#define DRING_MIN	64

/* A frame holding deliveries not yet handed to receive(). */
struct qframe {
	nng_msg		*q_msg;
	size_t		 q_left;	/* deliveries in it not yet done */
};

struct troupe_queue {
	struct qframe	*tq_f;		/* ring of frames */
	size_t		 tq_fcap, tq_fhead, tq_flen;
	struct tp_env	*tq_d;		/* ring of deliveries */
	size_t		 tq_dcap, tq_dhead, tq_dlen;
	size_t		 tq_queued;	/* committed deliveries not done */
	size_t		 tq_pending;	/* added since the last commit */
	size_t		 tq_max;
};

struct troupe_queue *
troupe_queue_new(size_t max)
{
	struct troupe_queue *q = calloc(1, sizeof(*q));

	if (q != NULL)
		q->tq_max = max;
	return q;
}

static struct qframe *
frame_at(struct troupe_queue *q, size_t i)
{
	return &q->tq_f[(q->tq_fhead + i) % q->tq_fcap];
}

static void
frame_pop(struct troupe_queue *q)
{
	struct qframe *f = frame_at(q, 0);

	nng_msg_free(f->q_msg);
	q->tq_queued -= f->q_left;
	q->tq_fhead = (q->tq_fhead + 1) % q->tq_fcap;
	q->tq_flen--;
}

void
troupe_queue_free(struct troupe_queue *q)
{
	if (q == NULL)
		return;
	while (q->tq_flen > 0)
		frame_pop(q);
	free(q->tq_f);
	free(q->tq_d);
	free(q);
}

static int
frames_grow(struct troupe_queue *q)
{
	size_t ncap = q->tq_fcap ? q->tq_fcap * 2 : QUEUE_MIN;
	struct qframe *nf;

	if ((nf = calloc(ncap, sizeof(*nf))) == NULL)
		return TP_ENOMEM;
	for (size_t i = 0; i < q->tq_flen; i++)
		nf[i] = *frame_at(q, i);
	free(q->tq_f);
	q->tq_f = nf;
	q->tq_fcap = ncap;
	q->tq_fhead = 0;
	return 0;
}

static int
dring_grow(struct troupe_queue *q)
{
	size_t ncap = q->tq_dcap ? q->tq_dcap * 2 : DRING_MIN;
	struct tp_env *nd;

	if ((nd = calloc(ncap, sizeof(*nd))) == NULL)
		return TP_ENOMEM;
	for (size_t i = 0; i < q->tq_dlen; i++)
		nd[i] = q->tq_d[(q->tq_dhead + i) % q->tq_dcap];
	free(q->tq_d);
	q->tq_d = nd;
	q->tq_dcap = ncap;
	q->tq_dhead = 0;
	return 0;
}

int
troupe_queue_add(struct troupe_queue *q, const struct tp_env *env)
{
	int rv;

	if (q->tq_queued + q->tq_pending >= q->tq_max)
		return TP_ETOOBIG;
	if (q->tq_dlen == q->tq_dcap && (rv = dring_grow(q)) != 0)
		return rv;
	q->tq_d[(q->tq_dhead + q->tq_dlen++) % q->tq_dcap] = *env;
	q->tq_pending++;
	return 0;
}

void
troupe_queue_abort(struct troupe_queue *q)
{
	q->tq_dlen -= q->tq_pending;	/* they pointed into the frame */
	q->tq_pending = 0;
}

int
troupe_queue_commit(struct troupe_queue *q, nng_msg *msg)
{
	struct qframe *f;
	int rv;

	if (q->tq_pending == 0)
		return 0;
	if (q->tq_flen == q->tq_fcap && (rv = frames_grow(q)) != 0) {
		troupe_queue_abort(q);
		return rv;
	}
	f = frame_at(q, q->tq_flen++);
	f->q_msg = msg;
	f->q_left = q->tq_pending;
	q->tq_queued += q->tq_pending;
	q->tq_pending = 0;
	return 1;
}

bool
troupe_queue_ready(const struct troupe_queue *q)
{
	return q->tq_flen > 0;
}

bool
troupe_queue_next(struct troupe_queue *q, struct tp_env *env)
{
	if (q->tq_flen == 0)
		return false;
	*env = q->tq_d[q->tq_dhead];
	q->tq_dhead = (q->tq_dhead + 1) % q->tq_dcap;
	q->tq_dlen--;
	return true;
}

void
troupe_queue_done(struct troupe_queue *q)
{
	struct qframe *f = frame_at(q, 0);

	f->q_left--;
	q->tq_queued--;
	if (f->q_left == 0)
		frame_pop(q);
}

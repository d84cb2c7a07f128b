/*
 * tp_link — the one link layer (see tp_link.h): frame building with a
 * reserved head, one set of batching limits, the bounded ring of refused
 * frames, the credit window and the frame receive loop.
 */
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "tp_env.h"
#include "tp_link.h"
#include "tp_mpck.h"
#include "tp_nng.h"

#define CREDIT_MAX	24	/* [2,5,0,"","",0,0,bin(uint32)] */
#define FIRST_ROOM	512	/* tail room of a new frame */

_Static_assert(CREDIT_MAX + TP_BATCH_HEAD_MAX <= TP_LINK_HEAD,
    "the head room holds a batch head and a CREDIT");

struct tp_link {
	nng_socket	 lk_sock;
	int		 lk_recv_ms;	/* RECVTIMEO set; 0: not yet */
	const struct tp_link_ops *lk_ops;
	void		*lk_arg;
	const struct tp_limits *lk_lim;
	uint32_t	 lk_max_env;
	size_t		 lk_max_bytes;
	size_t		 lk_max_len;	/* one envelope, alone in a frame */
	int		 lk_send_flags;
	nng_msg		*lk_frame;	/* being built; NULL = none */
	uint8_t		*lk_base;	/* its body; envelopes are written
					 * past its length, which is set once
					 * at finish (no nng call per put) */
	size_t		 lk_cap;	/* bytes from lk_base it can hold */
	uint32_t	 lk_n;		/* envelopes in it */
	size_t		 lk_bytes;	/* their bytes, after the head */
	bool		 lk_plain;	/* its kind */
	size_t		 lk_hint;	/* bytes of the last frame: a busy
					 * link sizes the next one at once */
	nng_msg		**lk_ring;	/* built frames the socket refused */
	uint32_t	 lk_rcap, lk_rhead, lk_rlen;
	uint32_t	 lk_credit;
	uint32_t	 lk_max_credit;
	uint32_t	 lk_credit_due;
	bool		 lk_dirty;
	int		 lk_put_err;	/* why put_slow took nothing */
	nng_pipe	 lk_pipe;	/* of the frame being received */
	bool		 lk_skim;	/* bodies forwarded, not walked */
	struct tp_frame_cache *lk_cache;
	struct tp_link_stats lk_st;
};

struct tp_link *
tp_link_new(nng_socket sock, const struct tp_link_ops *ops, void *arg,
    const struct tp_link_conf *conf)
{
	struct tp_link_conf c = conf != NULL ? *conf :
	    (struct tp_link_conf){ 0 };
	struct tp_link *lk;

	if (ops == NULL || ops->lo_env == NULL ||
	    (lk = calloc(1, sizeof(*lk))) == NULL)
		return NULL;
	lk->lk_rcap = c.lc_ring ? c.lc_ring : TP_LINK_RING;
	if ((lk->lk_ring = calloc(lk->lk_rcap, sizeof(*lk->lk_ring))) ==
	    NULL) {
		free(lk);
		return NULL;
	}
	lk->lk_sock = sock;
	lk->lk_ops = ops;
	lk->lk_arg = arg;
	lk->lk_lim = c.lc_lim ? c.lc_lim : &tp_limits_default;
	lk->lk_max_env = c.lc_max_env ? c.lc_max_env : TP_LINK_MAX_ENV;
	if (lk->lk_max_env > lk->lk_lim->l_max_batch - 1)
		lk->lk_max_env = lk->lk_lim->l_max_batch - 1;	/* + CREDIT */
	lk->lk_max_len = lk->lk_lim->l_max_frame - TP_LINK_HEAD;
	lk->lk_max_bytes = c.lc_max_bytes ? c.lc_max_bytes :
	    TP_LINK_MAX_BYTES;
	if (lk->lk_max_bytes > lk->lk_max_len)
		lk->lk_max_bytes = lk->lk_max_len;
	lk->lk_send_flags = c.lc_block ? 0 : NNG_FLAG_NONBLOCK;
	lk->lk_max_credit = c.lc_max_credit ? c.lc_max_credit : UINT32_MAX;
	lk->lk_skim = c.lc_skim;
	lk->lk_cache = c.lc_cache;
	return lk;
}

static void
drop_pending(struct tp_link *lk)
{
	if (lk->lk_frame != NULL)
		nng_msg_free(lk->lk_frame);
	lk->lk_frame = NULL;
	lk->lk_n = 0;
	lk->lk_bytes = 0;
	for (; lk->lk_rlen > 0; lk->lk_rlen--) {
		nng_msg_free(lk->lk_ring[lk->lk_rhead]);
		lk->lk_rhead = (lk->lk_rhead + 1) % lk->lk_rcap;
	}
}

void
tp_link_free(struct tp_link *lk)
{
	if (lk == NULL)
		return;
	drop_pending(lk);
	free(lk->lk_ring);
	free(lk);
}

void
tp_link_reset(struct tp_link *lk)
{
	drop_pending(lk);
	lk->lk_credit = 0;
	lk->lk_credit_due = 0;
	lk->lk_dirty = false;
}

void
tp_link_rebind(struct tp_link *lk, nng_socket sock)
{
	tp_link_reset(lk);
	lk->lk_sock = sock;
	lk->lk_recv_ms = 0;
}

static void
mark_dirty(struct tp_link *lk)
{
	if (lk->lk_dirty)
		return;
	lk->lk_dirty = true;
	if (lk->lk_ops->lo_dirty != NULL)
		lk->lk_ops->lo_dirty(lk->lk_arg);
}

/* ---- sending ---- */

/* Sends the ring in order: 0 once it is empty, TP_LINK_FULL when the
 * socket refuses, or the code of a send that failed for good (that frame
 * is dropped: nothing will take it). */
static int
ring_drain(struct tp_link *lk)
{
	int rv;

	while (lk->lk_rlen > 0) {
		nng_msg *m = lk->lk_ring[lk->lk_rhead];

		if ((rv = nng_sendmsg(lk->lk_sock, m, lk->lk_send_flags)) ==
		    NNG_EAGAIN) {
			lk->lk_st.ls_full++;
			return TP_LINK_FULL;
		}
		if (rv != 0)
			nng_msg_free(m);
		else
			lk->lk_st.ls_frames_out++;
		lk->lk_rhead = (lk->lk_rhead + 1) % lk->lk_rcap;
		lk->lk_rlen--;
		if (rv != 0)
			return tp_nng_err(NULL, rv, "send", NULL);
	}
	return 0;
}

/* The CREDIT owed, packed into buf (CREDIT_MAX bytes); 0 if none. */
static size_t
pack_credit(const struct tp_link *lk, uint8_t *buf)
{
	uint8_t body[8];
	struct tp_env env = { .e_kind = TP_K_CREDIT, .e_body = body };
	size_t len;

	env.e_body_len = (size_t)(tp_mpck_put_uint(body, lk->lk_credit_due) -
	    body);
	len = tp_env_size(&env);
	return len <= CREDIT_MAX && tp_env_pack_buf(&env, buf, len) == 0 ?
	    len : 0;
}

/* Writes the CREDIT owed (not in a plain frame) and the batch head into
 * the head room and trims what is left of it: the frame is ready. */
static nng_msg *
frame_finish(struct tp_link *lk)
{
	uint8_t *body = lk->lk_base, hb[TP_BATCH_HEAD_MAX];
	size_t off = TP_LINK_HEAD, clen = 0, hlen;
	uint32_t n = lk->lk_n;
	nng_msg *m = lk->lk_frame;

	if (!lk->lk_plain && lk->lk_credit_due > 0 &&
	    (clen = pack_credit(lk, body + off - CREDIT_MAX)) > 0) {
		memmove(body + off - clen, body + off - CREDIT_MAX, clen);
		off -= clen;
		n++;
		lk->lk_credit_due = 0;
	}
	/* within the capacity: sets the length, moves nothing */
	nng_msg_realloc(m, TP_LINK_HEAD + lk->lk_bytes);
	if (n > 1) {
		hlen = tp_batch_head_put(hb, n);
		off -= hlen;
		memcpy(body + off, hb, hlen);
	}
	nng_msg_trim(m, off);
	lk->lk_hint = lk->lk_bytes;
	lk->lk_frame = NULL;
	lk->lk_st.ls_envs_out += lk->lk_n;
	lk->lk_n = 0;
	lk->lk_bytes = 0;
	return m;
}

/*
 * The frame being built leaves: sealed (once) unless plain, onto the
 * ring's tail, then the ring is sent.  With the ring full the frame stays
 * where it is: TP_LINK_FULL.
 */
static int
frame_ship(struct tp_link *lk)
{
	bool plain = lk->lk_plain;
	nng_msg *m;
	int rv;

	if (lk->lk_frame == NULL)
		return ring_drain(lk);
	if (lk->lk_rlen == lk->lk_rcap && (rv = ring_drain(lk)) != 0)
		return rv;
	m = frame_finish(lk);
	if (!plain && lk->lk_ops->lo_seal != NULL &&
	    (rv = lk->lk_ops->lo_seal(lk->lk_arg, &m)) != 0) {
		nng_msg_free(m);
		return rv < 0 ? rv : TP_EINVAL;
	}
	lk->lk_ring[(lk->lk_rhead + lk->lk_rlen++) % lk->lk_rcap] = m;
	return ring_drain(lk);
}

/* Out of line: the put fast path stays a leaf. */
static __attribute__((noinline)) int
frame_ship_nl(struct tp_link *lk)
{
	return frame_ship(lk);
}

static int
frame_begin(struct tp_link *lk, size_t len, bool plain)
{
	size_t want = len + FIRST_ROOM;

	if (want < lk->lk_hint)
		want = lk->lk_hint;
	if (nng_msg_alloc(&lk->lk_frame, TP_LINK_HEAD) != 0)
		return TP_ENOMEM;
	if (nng_msg_reserve(lk->lk_frame, TP_LINK_HEAD + want) != 0) {
		nng_msg_free(lk->lk_frame);
		lk->lk_frame = NULL;
		return TP_ENOMEM;
	}
	lk->lk_base = nng_msg_body(lk->lk_frame);
	lk->lk_cap = nng_msg_capacity(lk->lk_frame);
	lk->lk_plain = plain;
	return 0;
}

/* True when an envelope of len bytes and this kind must start a new
 * frame. */
static bool
needs_ship(const struct tp_link *lk, size_t len, bool plain)
{
	return lk->lk_frame != NULL && (lk->lk_plain != plain ||
	    lk->lk_n + 1 > lk->lk_max_env ||
	    lk->lk_bytes + len > lk->lk_max_bytes);
}

bool
tp_link_room(const struct tp_link *lk, size_t len)
{
	return lk->lk_rlen < lk->lk_rcap || !needs_ship(lk, len, false);
}

/* Room for len more bytes at the frame's tail (doubling: growing piece
 * by piece would copy the frame again each time); returns where they go
 * or NULL.  nng copies only a message's length when it grows it: the
 * length is set to what is written first. */
static uint8_t *
frame_grow(struct tp_link *lk, size_t len)
{
	size_t used = TP_LINK_HEAD + lk->lk_bytes;
	nng_msg *m = lk->lk_frame;

	if (used + len <= lk->lk_cap)
		return lk->lk_base + used;
	if (nng_msg_realloc(m, used) != 0 || nng_msg_reserve(m,
	    used + len > 2 * used ? used + len : 2 * used) != 0)
		return NULL;
	lk->lk_base = nng_msg_body(m);
	lk->lk_cap = nng_msg_capacity(m);
	return lk->lk_base + used;
}

/* A frame with room for len bytes of the kind plain: ships the current
 * one when it is of the other kind or at a limit. */
static int
make_room(struct tp_link *lk, size_t len, bool plain)
{
	int rv;

	if (len > lk->lk_max_len)
		return TP_ETOOBIG;
	if (needs_ship(lk, len, plain) && (rv = frame_ship(lk)) != 0 &&
	    (rv < 0 || lk->lk_frame != NULL))
		return rv;
	if (lk->lk_frame == NULL)
		return frame_begin(lk, len, plain);
	return 0;
}

/* The envelope is in: a frame at a limit leaves now (a full ring leaves
 * it built: the next put says TP_LINK_FULL). */
static inline int
put_done(struct tp_link *lk, size_t len)
{
	int rv;

	lk->lk_n++;
	lk->lk_bytes += len;
	if (!lk->lk_dirty)
		mark_dirty(lk);
	if (lk->lk_n < lk->lk_max_env && lk->lk_bytes < lk->lk_max_bytes)
		return 0;
	rv = frame_ship_nl(lk);
	return rv < 0 ? rv : 0;
}

/*
 * Where len bytes of the kind flags says go: at the tail of the frame
 * being built when it takes them as it is (the hot path: a few compares,
 * no call), else after make_room and frame_grow.  NULL with *rv set when
 * the envelope is not taken.
 */
/* The slow path leaves its code in lk_put_err: no local's address is
 * taken on the fast path (that would cost it a stack guard). */
static __attribute__((noinline)) uint8_t *
put_slow(struct tp_link *lk, size_t len, bool plain)
{
	uint8_t *p;

	if ((lk->lk_put_err = make_room(lk, len, plain)) != 0)
		return NULL;
	if ((p = frame_grow(lk, len)) == NULL)
		lk->lk_put_err = TP_ENOMEM;
	return p;
}

static inline uint8_t *
put_at(struct tp_link *lk, size_t len, unsigned flags)
{
	bool plain = (flags & TP_LINK_PLAIN) != 0;
	size_t used = TP_LINK_HEAD + lk->lk_bytes;

	if (lk->lk_frame != NULL && lk->lk_plain == plain &&
	    lk->lk_n + 1 <= lk->lk_max_env &&
	    lk->lk_bytes + len <= lk->lk_max_bytes && used + len <= lk->lk_cap)
		return lk->lk_base + used;
	return put_slow(lk, len, plain);
}

int
tp_link_put(struct tp_link *lk, const struct tp_env *env, unsigned flags)
{
	size_t len = tp_env_size(env);
	uint8_t *p;

	if ((p = put_at(lk, len, flags)) == NULL)
		return lk->lk_put_err;
	if (tp_env_pack_buf(env, p, len) != 0)
		return TP_ETOOBIG;	/* not counted: overwritten next */
	return put_done(lk, len);
}

int
tp_link_put_raw(struct tp_link *lk, const void *buf, size_t len,
    unsigned flags)
{
	uint8_t *p;

	if ((p = put_at(lk, len, flags)) == NULL)
		return lk->lk_put_err;
	memcpy(p, buf, len);
	return put_done(lk, len);
}

int
tp_link_flush(struct tp_link *lk)
{
	int rv;

	if ((rv = frame_ship(lk)) != 0)
		goto out;
	/* credit owed with nothing else to say, or behind a plain frame */
	if (lk->lk_credit_due > 0) {
		if ((rv = frame_begin(lk, 0, false)) != 0 ||
		    (rv = frame_ship(lk)) != 0)
			goto out;
	}
out:
	lk->lk_dirty = false;
	return rv;
}

uint32_t
tp_link_pending(const struct tp_link *lk)
{
	return lk->lk_rlen + (lk->lk_frame != NULL);
}

/* ---- receiving ---- */

/* A CREDIT the link consumes itself (lo_credit set). */
static int
take_credit(struct tp_link *lk, const struct tp_env *env, struct tp_err *err)
{
	uint64_t n;

	if (tp_env_body_uint(env, &n) != 0)
		return tp_err_set(err, TP_ETYPE, "CREDIT without a count");
	tp_link_credit_add(lk, n);
	lk->lk_ops->lo_credit(lk->lk_arg, n);
	return 0;
}

/* Every envelope of msg to lk's hooks: 0, TP_LINK_STOP, or < 0 (bad). */
static int
frame_walk(struct tp_link *lk, nng_msg *msg, struct tp_err *err)
{
	const struct tp_link_ops *ops = lk->lk_ops;
	bool credit = ops->lo_credit != NULL;
	struct tp_frame fr;
	struct tp_env env;
	int rv;

	if ((rv = tp_frame_open_cached(&fr, nng_msg_body(msg),
	    nng_msg_len(msg), lk->lk_lim, lk->lk_skim, lk->lk_cache,
	    err)) != 0)
		goto out;
	while ((rv = tp_frame_next(&fr, &env, err)) == 1) {
		lk->lk_st.ls_envs_in++;
		if (credit && env.e_kind == TP_K_CREDIT)
			rv = take_credit(lk, &env, err);
		else
			rv = ops->lo_env(lk->lk_arg, &env);
		if (rv == 0)
			continue;
		if (rv < 0 && err->e_msg[0] == '\0')
			tp_err_set(err, rv, "%s: envelope refused (%s)",
			    ops->lo_name ? ops->lo_name : "link",
			    tp_kind_name(env.e_kind));
		break;
	}
out:
	tp_frame_close(&fr);
	return rv;
}

static void
frame_bad(struct tp_link *lk, nng_msg *msg, int rv, struct tp_err *err)
{
	lk->lk_st.ls_bad_frames++;
	if (err->e_msg[0] == '\0')
		tp_err_set(err, rv, "%s", tp_strerror(rv));
	if (lk->lk_ops->lo_bad != NULL)
		lk->lk_ops->lo_bad(lk->lk_arg, msg, rv, err);
	nng_msg_free(msg);
}

static void
take_frame(struct tp_link *lk, nng_msg *msg)
{
	struct tp_link *t = lk;
	struct tp_err err = { 0 };
	int rv;

	lk->lk_pipe = nng_msg_get_pipe(msg);
	if (lk->lk_ops->lo_admit != NULL && (rv = lk->lk_ops->lo_admit(
	    lk->lk_arg, lk, msg, &t, &err)) != 0) {
		if (rv == TP_LINK_DROP) {
			nng_msg_free(msg);
			return;
		}
		frame_bad(lk, msg, rv < 0 ? rv : TP_EINVAL, &err);
		return;
	}
	t->lk_pipe = lk->lk_pipe;
	t->lk_st.ls_frames_in++;
	if ((t->lk_ops->lo_open != NULL &&
	    (rv = t->lk_ops->lo_open(t->lk_arg, &msg, &err)) != 0) ||
	    (rv = frame_walk(t, msg, &err)) < 0) {
		frame_bad(t, msg, rv < 0 ? rv : TP_EINVAL, &err);
		return;
	}
	if (t->lk_ops->lo_keep == NULL || !t->lk_ops->lo_keep(t->lk_arg, msg))
		nng_msg_free(msg);
}

int
tp_link_recv(struct tp_link *lk, int budget)
{
	nng_msg *msg;
	int i, rv;

	for (i = 0; i < budget; i++) {
		if ((rv = nng_recvmsg(lk->lk_sock, &msg, NNG_FLAG_NONBLOCK)) ==
		    NNG_EAGAIN)
			break;
		if (rv != 0)
			return tp_nng_err(NULL, rv, "receive", NULL);
		take_frame(lk, msg);
	}
	return i;
}

int
tp_link_recv_wait(struct tp_link *lk, int timeout_ms, int budget)
{
	nng_msg *msg;
	int rv;

	if (timeout_ms == 0)
		return tp_link_recv(lk, budget);
	if (timeout_ms != lk->lk_recv_ms) {
		if ((rv = nng_socket_set_ms(lk->lk_sock, NNG_OPT_RECVTIMEO,
		    timeout_ms < 0 ? NNG_DURATION_INFINITE : timeout_ms)) != 0)
			return tp_nng_err(NULL, rv, "receive timeout", NULL);
		lk->lk_recv_ms = timeout_ms;
	}
	if ((rv = nng_recvmsg(lk->lk_sock, &msg, 0)) == NNG_ETIMEDOUT)
		return 0;
	if (rv != 0)
		return tp_nng_err(NULL, rv, "receive", NULL);
	take_frame(lk, msg);
	return budget > 1 ? 1 + tp_link_recv(lk, budget - 1) : 1;
}

nng_pipe
tp_link_pipe(const struct tp_link *lk)
{
	return lk->lk_pipe;
}

nng_socket
tp_link_socket(const struct tp_link *lk)
{
	return lk->lk_sock;
}

void *
tp_link_arg(const struct tp_link *lk)
{
	return lk->lk_arg;
}

/* ---- credit ---- */

uint32_t
tp_link_credit(const struct tp_link *lk)
{
	return lk->lk_credit;
}

void
tp_link_credit_add(struct tp_link *lk, uint64_t n)
{
	uint64_t v = (uint64_t)lk->lk_credit + n;

	lk->lk_credit = v > lk->lk_max_credit ? lk->lk_max_credit :
	    (uint32_t)v;
}

bool
tp_link_credit_take(struct tp_link *lk)
{
	if (lk->lk_credit == 0)
		return false;
	lk->lk_credit--;
	return true;
}

void
tp_link_credit_owe(struct tp_link *lk, uint32_t n)
{
	if (n > UINT32_MAX - lk->lk_credit_due)
		lk->lk_credit_due = UINT32_MAX;
	else
		lk->lk_credit_due += n;
	if (!lk->lk_dirty && n > 0)
		mark_dirty(lk);
}

uint32_t
tp_link_credit_due(const struct tp_link *lk)
{
	return lk->lk_credit_due;
}

void
tp_link_stats(const struct tp_link *lk, struct tp_link_stats *out)
{
	*out = lk->lk_st;
}

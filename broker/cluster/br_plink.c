/*
 * br_plink — one peer link: streams, the state machine, heartbeats,
 * credits and what arrives on it.  Loop thread only; the only nng
 * objects touched are sockets polled through their receive fd.  The
 * hello and handshake are br_hello's, name tables br_names'.  Frames are
 * tp_link's: each link has one, sending on its stream (hellos plain, the
 * rest sealed by the seal hook) and taking the sealed frames the
 * registry's listener picks for it (the open hook, then one env hook per
 * envelope); CREDIT and the window are the tp_link's too.
 */
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>

#include "br.h"
#include "br_answer.h"
#include "br_disc.h"
#include "br_hello.h"
#include "br_kv.h"
#include "br_log.h"
#include "br_names.h"
#include "br_plink.h"
#include "tp_body.h"
#include "tp_link.h"
#include "tp_nng.h"

#define OUT_SENDBUF 64
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
/* Refused frames a link keeps: every SEND/ASK of the window and an answer
 * to each of the peer's, in lone frames, fit; it fills only when the
 * peer stopped reading. */
#define LINK_RING (2 * BR_LINK_WINDOW + OUT_SENDBUF)

struct br_link {
	struct br	*l_br;
	struct br_plink_ctx *l_ctx;
	struct br_node	*l_node;
	uint32_t	 l_idx;
	enum br_lstate	 l_state;
	nng_socket	 l_out;		/* our stream to the peer */
	bool		 l_out_open;
	struct br_hello	 l_hello;	/* sessions and handshake */
	struct tp_link	*l_tl;		/* frames, both ways; the window */
	struct br_waitq	 l_wait;	/* the router's: senders for credit */
	struct br_rtable l_names;	/* the peer's actors */
	uint64_t	 l_names_sent;	/* hash of the table last sent */
	uint64_t	 l_opened_ms;
	uint64_t	 l_last_rx_ms;
	uint64_t	 l_next_hb_ms;
	uint64_t	 l_retry_ms;
	uint64_t	 l_backoff_ms;
	uint64_t	 l_rtt_us;
	bool		 l_dirty;
	bool		 l_blocked;	/* send buffer full: retry on tick */
	bool		 l_broken;	/* a frame was lost: reset at flush */
	bool		 l_rx_sealfail;	/* the frame now refused did not open */
	struct br_link	*l_dirty_next;
	uint64_t	 l_resets;
	uint32_t	 l_gen;		/* link-ups so far, BR_LINK_GEN_MASK */
};

static void on_control(struct br_link *l, const struct tp_env *env);
static struct br_link *peer_hello(struct br *br, nng_pipe pipe,
    const struct tp_env *env);

/* ---- views ---- */

enum br_lstate
br_plink_state(const struct br_link *l)
{
	return l->l_state;
}

bool
br_plink_is_up(const struct br_link *l)
{
	return l->l_state == BR_L_UP;
}

const char *
br_plink_state_name(const struct br_link *l)
{
	static const char *names[] = { "down", "hello", "up" };

	return names[l->l_state];
}

const struct br_node *
br_plink_node(const struct br_link *l)
{
	return l->l_node;
}

const char *
br_plink_node_name(const struct br_link *l)
{
	return l->l_node->n_name;
}

const char *
br_plink_node_state(const struct br_link *l)
{
	return br_mstate_name(l->l_node->n_state);
}

uint32_t
br_plink_index(const struct br_link *l)
{
	return l->l_idx;
}

bool
br_plink_names_in(const struct br_link *l)
{
	return l->l_names.rt_rx;
}

bool
br_plink_has_name(const struct br_link *l, const char *name, size_t len)
{
	return br_names_has(&l->l_names, name, len);
}

const struct br_rtable *
br_plink_names(const struct br_link *l)
{
	return &l->l_names;
}

void
br_plink_pack_names(const struct br_link *l, msgpack_packer *pk)
{
	br_names_pack(&l->l_names, l->l_node->n_name, pk);
}

uint64_t
br_plink_rtt(const struct br_link *l)
{
	return l->l_rtt_us;
}

uint64_t
br_plink_resets(const struct br_link *l)
{
	return l->l_resets;
}

struct br_waitq *
br_plink_waitq(struct br_link *l)
{
	return &l->l_wait;
}

uint32_t
br_plink_origin(const struct br_link *l)
{
	return BR_ORIGIN_PEER | (l->l_gen & BR_LINK_GEN_MASK) << 8 | l->l_idx;
}

static void
changed(struct br_link *l)
{
	l->l_ctx->pc_ops->po_changed(l->l_br);
}

/* Also tp_link's lo_dirty (arg: the link). */
static void
mark_dirty(void *arg)
{
	struct br_link *l = arg;
	struct br_plink_ctx *c = l->l_ctx;

	if (l->l_dirty)
		return;
	l->l_dirty = true;
	l->l_dirty_next = c->pc_dirty;
	c->pc_dirty = l;
}

/* ---- the link's tp_link hooks: every frame passes here ---- */

/* Seals a built frame with the session (tp_link calls it once a frame):
 * *msgp is replaced by the sealed frame, the plaintext freed. */
static int
tl_seal(void *arg, nng_msg **msgp)
{
	struct br_link *l = arg;
	nng_msg *in = *msgp, *out;
	size_t len = nng_msg_len(in), olen;
	int rv;

	if (nng_msg_alloc(&out, len + tp_sec_overhead()) != 0)
		return TP_ENOMEM;
	if ((rv = tp_sec_seal(br_hello_sess(&l->l_hello), nng_msg_body(in),
	    len, nng_msg_body(out), nng_msg_len(out), &olen)) != 0) {
		nng_msg_free(out);
		return rv;
	}
	nng_msg_chop(out, nng_msg_len(out) - olen);
	nng_msg_free(in);
	*msgp = out;
	return 0;
}

/* Opens a sealed frame of an UP link: the session checks the tag and
 * that the counter is exactly the next one.  One that does not open
 * (tampered, replayed, reordered, wrong mode) is counted here, and
 * tl_bad resets the link.  A frame that opens is a sign of life. */
static int
tl_open(void *arg, nng_msg **msgp, struct tp_err *err)
{
	struct br_link *l = arg;
	struct br_node *n = l->l_node;
	nng_msg *in = *msgp, *out;
	size_t len = nng_msg_len(in), plen;
	int rv;

	if (nng_msg_alloc(&out, len) != 0)
		return tp_err_set(err, TP_ENOMEM, "out of memory");
	if ((rv = tp_sec_open(br_hello_sess(&l->l_hello), nng_msg_body(in),
	    len, nng_msg_body(out), len, &plen, err)) != 0) {
		nng_msg_free(out);
		l->l_ctx->pc_st.ps_tampered++;
		l->l_rx_sealfail = true;
		log_warn("peer frame rejected", "node=%s error=\"%s\"",
		    n->n_name, err->e_msg);
		return rv;
	}
	nng_msg_chop(out, len - plen);
	nng_msg_free(in);
	*msgp = out;
	l->l_last_rx_ms = br_now_ms();
	br_disc_heard(l->l_br, n->n_name, strlen(n->n_name), n->n_inc, NULL);
	return 0;
}

/* An envelope of a sealed frame (CREDIT is tp_link's: tl_credit). */
static int
tl_env(void *arg, const struct tp_env *env)
{
	struct br_link *l = arg;

	if (l->l_state != BR_L_UP)	/* reset by an earlier envelope */
		return TP_LINK_STOP;
	switch (env->e_kind) {
	case TP_K_CONTROL:
		on_control(l, env);
		break;
	case TP_K_SEND:
	case TP_K_ASK:
	case TP_K_REPLY:
	case TP_K_ERROR:
	case TP_K_ACK:		/* a confirmed SEND was placed there */
		l->l_ctx->pc_ops->po_env(l->l_br, l, env);
		break;
	default:
		l->l_br->b_stats.st_bad_frames++;
	}
	return 0;
}

/* Credit back (tp_link added it, capped at the window): senders waiting
 * for it may go. */
static void
tl_credit(void *arg, uint64_t n)
{
	struct br_link *l = arg;

	l->l_ctx->pc_ops->po_room(l->l_br, l);
}

/* A sealed frame that did not open (counted by tl_open) or does not
 * decode: the link resets and the stream is closed. */
static void
tl_bad(void *arg, nng_msg *msg, int code, const struct tp_err *err)
{
	struct br_link *l = arg;
	nng_pipe pipe = tp_link_pipe(l->l_tl);

	if (!l->l_rx_sealfail) {
		l->l_br->b_stats.st_bad_frames++;
		log_warn("bad frame from peer", "node=%s error=\"%s\"",
		    l->l_node->n_name, err->e_msg);
	}
	l->l_rx_sealfail = false;
	br_plink_reset(l, "frame rejected");
	nng_pipe_close(pipe);
}

static const struct tp_link_ops tl_ops = {
	.lo_name = "peer",
	.lo_open = tl_open,
	.lo_seal = tl_seal,
	.lo_env = tl_env,
	.lo_credit = tl_credit,
	.lo_bad = tl_bad,
	.lo_dirty = mark_dirty,
};

struct tp_link *
br_plink_rx(struct br_link *l)
{
	return l->l_state == BR_L_UP ? l->l_tl : NULL;
}

uint32_t
br_plink_pipe(const struct br_link *l)
{
	return br_hello_pipe(&l->l_hello);
}

/* ---- plain frames: hellos, or a stray stream ---- */

void
br_plink_stray(struct br_plink_ctx *ctx, nng_pipe pipe)
{
	ctx->pc_st.ps_stray++;
	log_debug("stray peer frame", "pipe=%u", (unsigned)nng_pipe_id(pipe));
	nng_pipe_close(pipe);
}

/* Before the handshake ends a stream carries hellos only; anything else
 * is stray and its stream is closed. */
int
br_plink_hello(struct br *br, struct br_plink_ctx *ctx, nng_pipe pipe,
    const struct tp_env *env)
{
	if (peer_hello(br, pipe, env) != NULL)
		return 0;
	br_plink_stray(ctx, pipe);
	return TP_LINK_STOP;
}

/* ---- sending ---- */

/* What a put said: 0 when taken.  A full ring leaves the envelope out
 * (the tick retries the flush); any other failure may have lost a sealed
 * frame (a gap in the counters): the link resets at the next flush. */
static int
put_result(struct br_link *l, int rv)
{
	if (rv == 0)
		return 0;
	if (rv == TP_LINK_FULL)
		l->l_blocked = true;
	else if (rv != TP_ETOOBIG)
		l->l_broken = true;
	mark_dirty(l);
	return -1;
}

/* Puts env: plain (a hello) or sealed at flush time (only on an UP
 * link).  0, or -1 when the stream is not open, the link not up, or the
 * link cannot take it. */
static int
link_queue(struct br_link *l, const struct tp_env *env, bool plain)
{
	if (!l->l_out_open || (!plain && l->l_state != BR_L_UP))
		return -1;
	return put_result(l, tp_link_put(l->l_tl, env, plain ?
	    TP_LINK_PLAIN : 0));
}

/* An envelope of kind with body sb (copied), from this node to the
 * peer; as link_queue. */
static int
send_body(struct br_link *l, uint32_t kind, const msgpack_sbuffer *sb,
    bool plain)
{
	struct tp_env env = { .e_kind = kind, .e_body = (uint8_t *)sb->data,
	    .e_body_len = sb->size, .e_id = l->l_br->b_next_id++ };

	env.e_from = tp_slice_str(l->l_br->b_node);
	env.e_to = tp_slice_str(l->l_node->n_name);
	return link_queue(l, &env, plain);
}

static int
send_control(struct br_link *l, const msgpack_sbuffer *sb)
{
	return send_body(l, TP_K_CONTROL, sb, false);
}

/* Room is judged for the largest envelope, so that a put after a true
 * answer is never refused for room. */
bool
br_plink_can_send(const struct br_link *l)
{
	return l->l_state == BR_L_UP && !l->l_broken &&
	    tp_link_credit(l->l_tl) > 0 &&
	    tp_link_room(l->l_tl, TP_LINK_MAX_BYTES);
}

/* Taken whenever br_plink_can_send says so, even if the put then fails
 * (the link resets at the next flush, as with a frame that cannot be
 * sealed: what it held is lost with it). */
int
br_plink_try_send(struct br_link *l, struct mbx_item *it)
{
	if (!br_plink_can_send(l))
		return -1;
	tp_link_credit_take(l->l_tl);
	put_result(l, tp_link_put_raw(l->l_tl, it->mi_data, it->mi_len, 0));
	mbx_item_free(it);
	return 0;
}

int
br_plink_send_env(struct br_link *l, const struct tp_env *env)
{
	return link_queue(l, env, false);
}

void
br_plink_owe_credit(struct br_link *l)
{
	if (l->l_state == BR_L_UP)
		tp_link_credit_owe(l->l_tl, 1);
}

/* The ring (owed credit first), then the frame being built; a full
 * socket leaves the rest for the tick (and wakes the senders once it
 * drains), a frame that cannot be sealed or sent resets. */
static void
link_flush(struct br_link *l)
{
	bool was_blocked = l->l_blocked;
	int rv;

	if (l->l_broken) {
		br_plink_reset(l, "cannot seal a frame");
		return;
	}
	rv = tp_link_flush(l->l_tl);
	l->l_blocked = rv == TP_LINK_FULL;
	if (rv < 0)
		br_plink_reset(l, "cannot seal a frame");
	else if (was_blocked && !l->l_blocked && l->l_state == BR_L_UP)
		l->l_ctx->pc_ops->po_room(l->l_br, l);
}

void
br_plink_flush(struct br_plink_ctx *ctx)
{
	struct br_link *l;

	while ((l = ctx->pc_dirty) != NULL) {
		ctx->pc_dirty = l->l_dirty_next;
		l->l_dirty = false;
		if (l->l_out_open)
			link_flush(l);
	}
}

/* ---- hello and handshake: binding the peer's stream ---- */

static struct br_hello_self
self_of(const struct br_link *l)
{
	struct br *br = l->l_br;

	return (struct br_hello_self){ .sf_node = br->b_node,
	    .sf_peer = l->l_node->n_name, .sf_inc = br_disc_incarnation(br),
	    .sf_endpoint = br_disc_endpoint(br), .sf_key = br_disc_key(br),
	    .sf_encrypt = br_disc_encrypt(br), .sf_window = BR_LINK_WINDOW };
}

/* hs (hsi 1..3) is a handshake message to carry, or NULL. */
static void
send_hello(struct br_link *l, const uint8_t *hs, size_t hslen, unsigned hsi)
{
	struct br_hello_self me = self_of(l);
	msgpack_sbuffer sb;

	msgpack_sbuffer_init(&sb);
	br_hello_pack(&l->l_hello, &me, &sb, hs, hslen, hsi);
	if (send_body(l, TP_K_CONTROL, &sb, true) == 0)
		br_hello_sent(&l->l_hello);
	msgpack_sbuffer_destroy(&sb);
}

static void
send_names(struct br_link *l, uint64_t hash)
{
	msgpack_sbuffer sb;

	msgpack_sbuffer_init(&sb);
	br_names_pack_table(l->l_br, &sb);
	if (send_control(l, &sb) == 0)
		l->l_names_sent = hash;
	msgpack_sbuffer_destroy(&sb);
}

static void
send_members(struct br_link *l)
{
	msgpack_sbuffer sb;

	msgpack_sbuffer_init(&sb);
	br_names_pack_members(l->l_br, &sb);
	send_control(l, &sb);
	msgpack_sbuffer_destroy(&sb);
}

static int
open_out(struct br_link *l)
{
	struct tp_sockopts o = tp_sockopts_default;
	struct br *br = l->l_br;
	struct tp_err err;

	o.o_max_frame = br->b_lim.l_max_frame + tp_sec_overhead();
	o.o_sendbuf = OUT_SENDBUF;
	if (tp_sock_open(&l->l_out, TP_PAIR, &o, &err) != 0)
		goto fail;
	nng_socket_set_ms(l->l_out, NNG_OPT_RECONNMINT, 50);
	nng_socket_set_ms(l->l_out, NNG_OPT_RECONNMAXT, 1000);
	if (tp_dial(l->l_out, l->l_node->n_endpoint, false, &err) != 0) {
		nng_close(l->l_out);
		goto fail;
	}
	l->l_out_open = true;
	tp_link_rebind(l->l_tl, l->l_out);
	br_hello_open(&l->l_hello);
	l->l_state = BR_L_HELLO;
	l->l_opened_ms = l->l_last_rx_ms = br_now_ms();
	return 0;
fail:
	log_warn("cannot open peer link", "node=%s endpoint=%s error=\"%s\"",
	    l->l_node->n_name, l->l_node->n_endpoint, err.e_msg);
	return -1;
}

static void
link_up(struct br_link *l)
{
	l->l_state = BR_L_UP;
	l->l_gen = (l->l_gen + 1) & BR_LINK_GEN_MASK;
	tp_link_credit_add(l->l_tl, BR_LINK_WINDOW);	/* capped: the window */
	l->l_backoff_ms = 0;
	l->l_next_hb_ms = 0;
	l->l_ctx->pc_st.ps_hs_ok++;
	send_names(l, br_names_hash(l->l_br));
	log_info("peer link up", "node=%s encrypt=%s", l->l_node->n_name,
	    br_hello_sess(&l->l_hello)->ss_encrypt ? "on" : "off");
	changed(l);	/* requests waiting for it go out now */
}

static void
hs_fail(struct br_link *l, const char *what)
{
	l->l_ctx->pc_st.ps_hs_failed++;
	log_warn("peer handshake failed", "node=%s error=\"%s\"",
	    l->l_node->n_name, what);
	br_plink_reset(l, "handshake failed");
}

/* The member a hello speaks for: hellos are not authenticated until the
 * handshake ends, so they never create a member, change its incarnation
 * nor count as a sign of life (beacons and sealed frames do). */
static struct br_node *
hello_node(struct br *br, const struct br_hello_msg *m)
{
	struct br_node *n = br_disc_find(br, m->hm_node, m->hm_node_len);

	return n != NULL && n->n_inc == m->hm_inc ? n : NULL;
}

/* Binds the peer's session to l; a new session of the peer while up
 * means the peer reset its side, so this side resets too.  Returns true
 * when the binding changed (a new handshake starts). */
static bool
hello_bind(struct br_link *l, nng_pipe pipe, const struct br_hello_msg *m)
{
	uint32_t id = (uint32_t)nng_pipe_id(pipe);

	if (br_hello_same(&l->l_hello, id, m))
		return false;
	if (l->l_state == BR_L_UP)
		br_plink_reset(l, "peer started a new session");
	br_hello_bind(&l->l_hello, id, m);
	return true;
}

/* A hello (see br_hello.h): bind, answer, and up once ready. */
static struct br_link *
peer_hello(struct br *br, nng_pipe pipe, const struct tp_env *env)
{
	uint8_t out[TP_SEC_HS_MAX];
	struct br_hello_self me;
	struct br_hello_msg m;
	struct tp_err err;
	size_t outlen = 0;
	struct br_node *n;
	struct br_link *l;
	unsigned hsi = 0;
	bool rebound;

	msgpack_zone_clear(br->b_zone);
	if (br_hello_parse(env, br->b_zone, &m) != 0 ||
	    (n = hello_node(br, &m)) == NULL)
		return NULL;
	l = n->n_link;
	rebound = hello_bind(l, pipe, &m);
	l->l_last_rx_ms = br_now_ms();
	if (!l->l_out_open && open_out(l) != 0)
		return l;
	me = self_of(l);
	if (br_hello_advance(&l->l_hello, &me, &m, rebound, out, &outlen,
	    &hsi, &err) != 0) {
		hs_fail(l, err.e_msg);
		return l;
	}
	if (br_hello_owed(&l->l_hello) || outlen > 0)
		send_hello(l, outlen > 0 ? out : NULL, outlen, hsi);
	if (br_hello_ready(&l->l_hello) && l->l_state != BR_L_UP)
		link_up(l);
	return l;
}

/* ---- receiving ---- */

static void
send_hb(struct br_link *l, const char *op, uint64_t t)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	br_kv_str(&pk, "op", op);
	br_kv_uint(&pk, "t", t);
	send_control(l, &sb);
	msgpack_sbuffer_destroy(&sb);
}

/* A malformed table is ignored (the next one replaces it): 0 always. */
static int
on_names(struct br_link *l, const msgpack_object *body)
{
	int n;

	if ((n = br_names_on(&l->l_names, body)) < 0)
		return 0;
	log_debug("peer names", "node=%s count=%d", l->l_node->n_name, n);
	changed(l);	/* bare names waiting for it */
	return 0;
}

/* A heartbeat {op: hb|hb_ack, t}: 0, or -1 when malformed. */
static int
on_hb(struct br_link *l, struct tp_body *b, bool ack)
{
	uint64_t t;

	tp_body_uint(b, "t", 0, 0, UINT64_MAX, &t);
	if (tp_body_end(b) != 0)
		return -1;
	if (!ack)
		send_hb(l, "hb_ack", t);
	else if (t <= br_now_us())
		l->l_rtt_us = br_now_us() - t;
	return 0;
}

/* Dispatches on op; a body that is not one of ours is a bad frame's
 * worth (counted, the link goes on). */
static void
on_control(struct br_link *l, const struct tp_env *env)
{
	struct br *br = l->l_br;
	msgpack_object body;
	struct tp_body b;
	const char *op;
	size_t len;
	int rv = -1;

	msgpack_zone_clear(br->b_zone);
	if (tp_env_body(env, br->b_zone, &body, NULL) != 0)
		return;
	tp_body_open(&b, &body, 0, "peer control", NULL);
	if (tp_body_str(&b, "op", 0, 16, &op, &len) == 0) {
		if (tp_body_streq(op, len, "hb") ||
		    tp_body_streq(op, len, "hb_ack"))
			rv = on_hb(l, &b, len == 6);
		else if (tp_body_streq(op, len, "names"))
			rv = on_names(l, &body);
		else if (tp_body_streq(op, len, "members")) {
			br_names_on_members(br, &body);
			rv = 0;
		}
	}
	if (rv != 0)
		br->b_stats.st_bad_frames++;
}

/* ---- life cycle ---- */

struct br_link *
br_plink_new(struct br *br, struct br_plink_ctx *ctx, struct br_node *n,
    uint32_t idx)
{
	struct tp_link_conf conf = { .lc_ring = LINK_RING,
	    .lc_max_credit = BR_LINK_WINDOW, .lc_lim = &br->b_lim,
	    .lc_skim = true, .lc_cache = &br->b_fcache };
	struct br_link *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	/* no stream yet: open_out rebinds it */
	if ((l->l_tl = tp_link_new(l->l_out, &tl_ops, l, &conf)) == NULL) {
		free(l);
		return NULL;
	}
	l->l_br = br;
	l->l_ctx = ctx;
	l->l_node = n;
	l->l_idx = idx;
	br_hello_init(&l->l_hello);
	return l;
}

static void
link_clear(struct br_link *l)
{
	if (l->l_out_open)
		nng_close(l->l_out);
	l->l_out_open = false;
	tp_link_reset(l->l_tl);
	l->l_blocked = l->l_broken = false;
	br_names_clear(&l->l_names);
	br_hello_clear(&l->l_hello);
	l->l_state = BR_L_DOWN;
}

void
br_plink_reset(struct br_link *l, const char *why)
{
	if (l->l_state == BR_L_UP)
		log_warn("peer link down", "node=%s reason=\"%s\"",
		    l->l_node->n_name, why);
	if (l->l_state == BR_L_DOWN && !l->l_out_open &&
	    br_hello_idle(&l->l_hello))
		return;
	l->l_resets++;
	l->l_state = BR_L_DOWN;	/* route sees it down while failing */
	l->l_ctx->pc_ops->po_down(l->l_br, l);
	link_clear(l);
	l->l_backoff_ms = l->l_backoff_ms == 0 ? BACKOFF_MIN_MS :
	    l->l_backoff_ms * 2;
	if (l->l_backoff_ms > BACKOFF_MAX_MS)
		l->l_backoff_ms = BACKOFF_MAX_MS;
	l->l_retry_ms = br_now_ms() + l->l_backoff_ms;
	changed(l);	/* fail what waits unless it may retry */
}

void
br_plink_tick(struct br_link *l, uint64_t now)
{
	const struct br_conf *c = l->l_br->b_conf;
	struct br_node *n = l->l_node;
	uint64_t h;

	if (l->l_blocked)
		mark_dirty(l);
	if (l->l_state == BR_L_DOWN) {
		if (n->n_state == BR_M_ALIVE && n->n_endpoint[0] != '\0' &&
		    now >= l->l_retry_ms && open_out(l) == 0)
			send_hello(l, NULL, 0, 0);
		return;
	}
	if (now - l->l_last_rx_ms > c->c_suspect_after_ms) {
		br_plink_reset(l, l->l_state == BR_L_UP ? "link silent" :
		    "handshake timed out");
		return;
	}
	if (l->l_state != BR_L_UP || now < l->l_next_hb_ms)
		return;
	l->l_next_hb_ms = now + c->c_beacon_interval_ms;
	send_hb(l, "hb", br_now_us());
	send_members(l);
	if ((h = br_names_hash(l->l_br)) != l->l_names_sent)
		send_names(l, h);
}

void
br_plink_free(struct br_link *l)
{
	l->l_state = BR_L_DOWN;
	l->l_ctx->pc_ops->po_down(l->l_br, l);
	link_clear(l);
	tp_link_free(l->l_tl);
	free(l);
}

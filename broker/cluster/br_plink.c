/*
 * br_plink — one peer link: streams, the state machine, heartbeats,
 * credits and what arrives on it.  Loop thread only; the only nng
 * objects touched are sockets polled through their receive fd.  The
 * hello and handshake are br_hello's, frames br_link's, name tables
 * br_names'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "br.h"
#include "br_answer.h"
#include "br_disc.h"
#include "br_hello.h"
#include "br_kv.h"
#include "br_link.h"
#include "br_log.h"
#include "br_names.h"
#include "br_plink.h"
#include "tp_nng.h"

#define OUT_SENDBUF 64
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

struct br_link {
	struct br	*l_br;
	struct br_plink_ctx *l_ctx;
	struct br_node	*l_node;
	uint32_t	 l_idx;
	enum br_lstate	 l_state;
	nng_socket	 l_out;		/* our stream to the peer */
	bool		 l_out_open;
	struct br_hello	 l_hello;	/* sessions and handshake */
	uint32_t	 l_credit;	/* SEND/ASK we may still send */
	uint32_t	 l_credit_due;	/* placed for the peer, not yet told */
	struct br_lframes l_fr;		/* frames not yet sent */
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
	struct br_link	*l_dirty_next;
	uint64_t	 l_frames_in;
	uint64_t	 l_resets;
	uint32_t	 l_gen;		/* link-ups so far, BR_LINK_GEN_MASK */
};

static void link_recv_env(struct br_link *l, const struct tp_env *env);
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

uint32_t
br_plink_nnames(const struct br_link *l)
{
	return l->l_names.rt_n;
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

static void
mark_dirty(struct br_link *l)
{
	struct br_plink_ctx *c = l->l_ctx;

	if (l->l_dirty)
		return;
	l->l_dirty = true;
	l->l_dirty_next = c->pc_dirty;
	c->pc_dirty = l;
}

/* ---- the two choke points: every frame passes here ---- */

/* A sealed frame on an UP link: one that does not open (tampered,
 * replayed, reordered, wrong mode) resets the link and is counted. */
static void
recv_sealed(struct br *br, struct br_link *l, nng_pipe pipe, nng_msg *msg)
{
	struct tp_frame fr;
	struct tp_env env;
	struct tp_err err;
	int rv = 0;

	if (br_link_open(br_hello_sess(&l->l_hello), &msg, &err) != 0) {
		l->l_ctx->pc_st.ps_tampered++;
		log_warn("peer frame rejected", "node=%s error=\"%s\"",
		    l->l_node->n_name, err.e_msg);
		goto reset;
	}
	if (tp_frame_open(&fr, nng_msg_body(msg), nng_msg_len(msg),
	    &br->b_lim, &err) != 0)
		goto bad;
	l->l_frames_in++;
	while (l->l_state == BR_L_UP &&
	    (rv = tp_frame_next(&fr, &env, &err)) == 1)
		link_recv_env(l, &env);
	if (rv < 0)
		goto bad;
	nng_msg_free(msg);
	return;
bad:
	br->b_stats.st_bad_frames++;
	log_warn("bad frame from peer", "node=%s error=\"%s\"",
	    l->l_node->n_name, err.e_msg);
reset:
	br_plink_reset(l, "frame rejected");
	nng_pipe_close(pipe);
	nng_msg_free(msg);
}

/* Before the handshake ends a stream carries hellos only, one envelope
 * per frame; anything else is stray and its stream is closed. */
static void
recv_plain(struct br *br, struct br_plink_ctx *ctx, nng_pipe pipe,
    nng_msg *msg)
{
	struct tp_env env;

	if (tp_env_decode(nng_msg_body(msg), nng_msg_len(msg), &br->b_lim,
	    &env, NULL) != 0 || peer_hello(br, pipe, &env) == NULL) {
		ctx->pc_st.ps_stray++;
		log_debug("stray peer frame", "pipe=%u",
		    (unsigned)nng_pipe_id(pipe));
		nng_pipe_close(pipe);
	}
	nng_msg_free(msg);
}

void
br_plink_recv(struct br *br, struct br_plink_ctx *ctx, struct br_link *l,
    nng_pipe pipe, nng_msg *msg)
{
	if (l != NULL && l->l_state == BR_L_UP)
		recv_sealed(br, l, pipe, msg);
	else
		recv_plain(br, ctx, pipe, msg);
}

uint32_t
br_plink_pipe(const struct br_link *l)
{
	return br_hello_pipe(&l->l_hello);
}

/* ---- sending ---- */

/* Queues env: plain (a hello, while the link is not up) or sealed at
 * flush time (only on an UP link).  0, or -1 when the stream is not
 * open, the link not up, or out of memory. */
static int
link_queue(struct br_link *l, const struct tp_env *env, bool plain)
{
	if (!l->l_out_open || (!plain && l->l_state != BR_L_UP) ||
	    br_link_queue(&l->l_fr, env, plain) != 0)
		return -1;
	mark_dirty(l);
	return 0;
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

bool
br_plink_can_send(const struct br_link *l)
{
	return l->l_state == BR_L_UP && l->l_credit > 0;
}

int
br_plink_try_send(struct br_link *l, struct mbx_item *it)
{
	if (!br_plink_can_send(l))
		return -1;
	l->l_credit--;
	br_link_push(&l->l_fr, it);
	mark_dirty(l);
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
	if (l->l_state != BR_L_UP)
		return;
	l->l_credit_due++;
	mark_dirty(l);
}

static void
send_credit(struct br_link *l)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_uint32(&pk, l->l_credit_due);
	if (send_body(l, TP_K_CREDIT, &sb, false) == 0)
		l->l_credit_due = 0;
	msgpack_sbuffer_destroy(&sb);
}

/* Owed credit first, then what the queue holds; a full socket leaves
 * the rest for the tick, a frame that cannot be sealed resets. */
static void
link_flush(struct br_link *l)
{
	int rv;

	if (l->l_credit_due > 0 && l->l_state == BR_L_UP)
		send_credit(l);
	rv = br_link_flush(&l->l_fr, l->l_out, br_hello_sess(&l->l_hello));
	if (rv > 0)
		l->l_blocked = true;
	else if (rv < 0)
		br_plink_reset(l, "cannot seal a frame");
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
	l->l_credit = BR_LINK_WINDOW;
	l->l_credit_due = 0;
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

static int
parse_hello(struct br *br, const struct tp_env *env, struct br_hello_msg *m)
{
	msgpack_object body;

	if (env->e_kind != TP_K_CONTROL)
		return -1;
	msgpack_zone_clear(br->b_zone);
	if (tp_env_body(env, br->b_zone, &body, NULL) != 0)
		return -1;
	return br_hello_parse(&body, m);
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

	if (parse_hello(br, env, &m) != 0 || (n = hello_node(br, &m)) == NULL)
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

static void
on_names(struct br_link *l, const msgpack_object *body)
{
	int n;

	if ((n = br_names_on(&l->l_names, body)) < 0)
		return;
	log_debug("peer names", "node=%s count=%d", l->l_node->n_name, n);
	changed(l);	/* bare names waiting for it */
}

static void
on_control(struct br_link *l, const struct tp_env *env)
{
	struct br *br = l->l_br;
	const msgpack_object *t;
	msgpack_object body;

	msgpack_zone_clear(br->b_zone);
	if (tp_env_body(env, br->b_zone, &body, NULL) != 0)
		return;
	t = br_names_get(&body, "t", MSGPACK_OBJECT_POSITIVE_INTEGER);
	if (br_names_op_is(&body, "hb") && t != NULL)
		send_hb(l, "hb_ack", t->via.u64);
	else if (br_names_op_is(&body, "hb_ack") && t != NULL &&
	    t->via.u64 <= br_now_us())
		l->l_rtt_us = br_now_us() - t->via.u64;
	else if (br_names_op_is(&body, "names"))
		on_names(l, &body);
	else if (br_names_op_is(&body, "members"))
		br_names_on_members(br, &body);
	else
		br->b_stats.st_bad_frames++;
}

static void
on_credit(struct br_link *l, const struct tp_env *env)
{
	uint64_t n;

	if (tp_env_body_uint(env, l->l_br->b_zone, &n) != 0)
		n = 0;
	if (n > BR_LINK_WINDOW - l->l_credit) {
		log_warn("peer returned more credit than lent", "node=%s",
		    l->l_node->n_name);
		n = BR_LINK_WINDOW - l->l_credit;
	}
	l->l_credit += (uint32_t)n;
	l->l_ctx->pc_ops->po_room(l->l_br, l);
}

/* An envelope of a sealed frame: the link is UP. */
static void
link_recv_env(struct br_link *l, const struct tp_env *env)
{
	struct br_node *n = l->l_node;

	l->l_last_rx_ms = br_now_ms();
	br_disc_heard(l->l_br, n->n_name, strlen(n->n_name), n->n_inc, NULL);
	switch (env->e_kind) {
	case TP_K_CONTROL:
		on_control(l, env);
		break;
	case TP_K_CREDIT:
		on_credit(l, env);
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
}

/* ---- life cycle ---- */

struct br_link *
br_plink_new(struct br *br, struct br_plink_ctx *ctx, struct br_node *n,
    uint32_t idx)
{
	struct br_link *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
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
	br_link_drop(&l->l_fr);
	br_names_clear(&l->l_names);
	br_hello_clear(&l->l_hello);
	l->l_credit = l->l_credit_due = 0;
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

	if (l->l_blocked) {
		l->l_blocked = false;
		mark_dirty(l);
	}
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
	free(l);
}

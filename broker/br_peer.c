/*
 * br_peer — peer links: streams, the hello and its tp_sec handshake,
 * sealed frames, heartbeats, credits and batching.  Loop thread only; the
 * only nng objects touched are sockets polled through their receive fd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <sodium.h>

#include "br.h"
#include "br_await.h"
#include "br_disc.h"
#include "br_link.h"
#include "br_log.h"
#include "br_names.h"
#include "br_peer.h"
#include "tp_nng.h"

#define OUT_SENDBUF 64
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

struct br_peers {
	nng_socket	 p_in;		/* polyamorous pair1, receive only */
	int		 p_in_fd;
	struct br_link	*p_links[BR_MAX_NODES];
	uint32_t	 p_nlinks;
	uint32_t	 p_rr;		/* round-robin cursor for groups */
	struct br_link	*p_dirty;
	struct br_peer_stats p_st;
};

/* A hello as received; hs is the handshake message it carries, if any
 * (borrowed from the envelope). */
struct hello {
	const char	*h_node;
	size_t		 h_node_len;
	uint64_t	 h_inc, h_sess, h_seen;
	const uint8_t	*h_hs;
	size_t		 h_hs_len;
	uint64_t	 h_hsi;		/* 1..3: which handshake message */
};

static void link_recv_env(struct br_link *l, const struct tp_env *env);
static struct br_link *peer_hello(struct br *br, nng_pipe pipe,
    const struct tp_env *env);

const char *
br_peer_link_state(const struct br_link *l)
{
	static const char *names[] = { "down", "hello", "up" };

	return names[l->l_state];
}

uint64_t
br_peer_link_rtt(const struct br_link *l)
{
	return l->l_rtt_us;
}

struct br_link *
br_peer_link(struct br *br, uint32_t idx)
{
	struct br_peers *p = br->b_peers;

	return p != NULL && idx < p->p_nlinks ? p->p_links[idx] : NULL;
}

uint32_t
br_peer_origin(const struct br_link *l)
{
	return BR_ORIGIN_PEER | (l->l_gen & BR_LINK_GEN_MASK) << 8 | l->l_idx;
}

struct br_link *
br_peer_link_of(struct br *br, uint32_t o)
{
	struct br_link *l = br_peer_link(br, o & 0xff);

	return l != NULL && br_peer_origin(l) == o ? l : NULL;
}

void
br_peers_stats(const struct br *br, struct br_peer_stats *out)
{
	if (br->b_peers != NULL)
		*out = br->b_peers->p_st;
	else
		memset(out, 0, sizeof(*out));
}

uint32_t
br_peers_count(const struct br *br)
{
	return br->b_peers != NULL ? br->b_peers->p_nlinks : 0;
}

const struct br_link *
br_peers_at(const struct br *br, uint32_t i)
{
	return br->b_peers->p_links[i];
}

void
br_peer_mark_dirty(struct br_link *l)
{
	struct br_peers *p = l->l_br->b_peers;

	if (l->l_dirty)
		return;
	l->l_dirty = true;
	l->l_dirty_next = p->p_dirty;
	p->p_dirty = l;
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

	if (br_link_open(l, &msg, &err) != 0) {
		br->b_peers->p_st.ps_tampered++;
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
	br_peer_link_reset(l, "frame rejected");
	nng_pipe_close(pipe);
	nng_msg_free(msg);
}

/* Before the handshake ends a stream carries hellos only, one envelope
 * per frame; anything else is stray and its stream is closed. */
static void
recv_plain(struct br *br, nng_pipe pipe, nng_msg *msg)
{
	struct tp_env env;

	if (tp_env_decode(nng_msg_body(msg), nng_msg_len(msg), &br->b_lim,
	    &env, NULL) != 0 || peer_hello(br, pipe, &env) == NULL) {
		br->b_peers->p_st.ps_stray++;
		log_debug("stray peer frame", "pipe=%u",
		    (unsigned)nng_pipe_id(pipe));
		nng_pipe_close(pipe);
	}
	nng_msg_free(msg);
}

/* l: the link whose bound stream msg came on, or NULL. */
static void
link_recv_frame(struct br *br, struct br_link *l, nng_pipe pipe,
    nng_msg *msg)
{
	if (l != NULL && l->l_state == BR_L_UP)
		recv_sealed(br, l, pipe, msg);
	else
		recv_plain(br, pipe, msg);
}

/* ---- sending ---- */

int
br_peer_enqueue(struct br_link *l, struct mbx_item *it)
{
	if (l->l_state != BR_L_UP)
		return -1;
	br_link_push(l, it);
	return 0;
}

int
br_peer_send_env(struct br_link *l, const struct tp_env *env)
{
	return br_link_queue(l, env, false);
}

int
br_peer_send_control(struct br_link *l, const msgpack_sbuffer *sb)
{
	return br_link_send_body(l, TP_K_CONTROL, sb, false);
}

void
br_peers_flush(struct br *br)
{
	struct br_peers *p = br->b_peers;
	struct br_link *l;

	if (p == NULL)
		return;
	while ((l = p->p_dirty) != NULL) {
		p->p_dirty = l->l_dirty_next;
		l->l_dirty = false;
		if (l->l_out_open)
			br_link_flush(l);
	}
}

/* ---- hello and handshake: binding the peer's stream ---- */

static const uint8_t *
cluster_key(const struct br_link *l)
{
	return br_disc_key(l->l_br);
}

static bool
is_initiator(const struct br_link *l)
{
	return strcmp(l->l_br->b_node, l->l_node->n_name) < 0;
}

/* hs (hsi 1..3) is a handshake message to carry, or NULL. */
static void
send_hello(struct br_link *l, const uint8_t *hs, size_t hslen, unsigned hsi)
{
	struct br *br = l->l_br;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, hs != NULL ? 9 : 7);
	br_kv_str(&pk, "op", "hello");
	br_kv_str(&pk, "node", br->b_node);
	br_kv_uint(&pk, "inc", br_disc_incarnation(br));
	br_kv_str(&pk, "endpoint", br_disc_endpoint(br));
	br_kv_uint(&pk, "sess", l->l_sess);
	br_kv_uint(&pk, "seen", l->l_peer_sess);
	br_kv_uint(&pk, "window", BR_LINK_WINDOW);
	if (hs != NULL) {
		br_kv_uint(&pk, "hsi", hsi);
		msgpack_pack_str_with_body(&pk, "hs", 2);
		msgpack_pack_bin_with_body(&pk, hs, hslen);
	}
	if (br_link_send_body(l, TP_K_CONTROL, &sb, true) == 0)
		l->l_sent_seen = l->l_peer_sess;
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
	randombytes_buf(&l->l_sess, sizeof(l->l_sess));
	l->l_sess |= 1;
	l->l_state = BR_L_HELLO;
	l->l_opened_ms = l->l_last_rx_ms = br_now_ms();
	l->l_confirmed = false;
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
	l->l_br->b_peers->p_st.ps_hs_ok++;
	br_names_send(l, br_names_hash(l->l_br));
	log_info("peer link up", "node=%s encrypt=%s", l->l_node->n_name,
	    l->l_ss.ss_encrypt ? "on" : "off");
	br_await_kick(l->l_br);	/* requests waiting for it go out now */
}

static int
parse_hello(struct br *br, const struct tp_env *env, struct hello *h)
{
	const msgpack_object *node, *inc, *sess, *seen, *hs, *hsi;
	msgpack_object body;

	if (env->e_kind != TP_K_CONTROL)
		return -1;
	msgpack_zone_clear(br->b_zone);
	if (tp_env_body(env, br->b_zone, &body, NULL) != 0 ||
	    !br_names_op_is(&body, "hello") ||
	    (node = br_names_get(&body, "node", MSGPACK_OBJECT_STR)) == NULL ||
	    (inc = br_names_get(&body, "inc",
	    MSGPACK_OBJECT_POSITIVE_INTEGER)) == NULL ||
	    (sess = br_names_get(&body, "sess",
	    MSGPACK_OBJECT_POSITIVE_INTEGER)) == NULL ||
	    (seen = br_names_get(&body, "seen",
	    MSGPACK_OBJECT_POSITIVE_INTEGER)) == NULL || sess->via.u64 == 0)
		return -1;
	memset(h, 0, sizeof(*h));
	h->h_node = node->via.str.ptr;
	h->h_node_len = node->via.str.size;
	h->h_inc = inc->via.u64;
	h->h_sess = sess->via.u64;
	h->h_seen = seen->via.u64;
	hs = br_names_get(&body, "hs", MSGPACK_OBJECT_BIN);
	hsi = br_names_get(&body, "hsi", MSGPACK_OBJECT_POSITIVE_INTEGER);
	if (hs != NULL && hsi != NULL && hs->via.bin.size <= TP_SEC_HS_MAX) {
		h->h_hs = (const uint8_t *)hs->via.bin.ptr;
		h->h_hs_len = hs->via.bin.size;
		h->h_hsi = hsi->via.u64;
	}
	return 0;
}

static void
hs_fail(struct br_link *l, const char *what)
{
	l->l_br->b_peers->p_st.ps_hs_failed++;
	log_warn("peer handshake failed", "node=%s error=\"%s\"",
	    l->l_node->n_name, what);
	br_peer_link_reset(l, "handshake failed");
}

/* Starts this side of a fresh handshake: the initiator's hs1 goes into
 * out.  Both sides start over whenever the peer's session changes. */
static int
hs_start(struct br_link *l, uint8_t *out, size_t *outlen)
{
	struct tp_err err;

	l->l_hs_done = false;
	if (tp_sec_hs_start(&l->l_hs, cluster_key(l), l->l_br->b_node,
	    is_initiator(l), br_disc_encrypt(l->l_br), out, TP_SEC_HS_MAX,
	    outlen, &err) != 0) {
		hs_fail(l, err.e_msg);
		return -1;
	}
	return 0;
}

/* Whether hello message hsi is the one this side waits for now: stale
 * ones (from a session pair that was replaced) are ignored, not fatal. */
static bool
hs_expected(const struct br_link *l, uint64_t hsi)
{
	if (is_initiator(l))
		return hsi == 2 && l->l_hs.hs_state == TP_SEC_HS_SENT1;
	return hsi == 1 || (hsi == 3 && l->l_hs.hs_state == TP_SEC_HS_SENT2);
}

/* Once done, the peer's name must be the member's (the MAC proves it
 * holds the key, the name says which node it claims to be). */
static int
hs_finish(struct br_link *l)
{
	struct tp_err err;

	if (strcmp(tp_sec_hs_peer(&l->l_hs), l->l_node->n_name) != 0) {
		hs_fail(l, "peer authenticated under another node name");
		return -1;
	}
	if (tp_sec_sess_from_hs(&l->l_ss, &l->l_hs, &err) != 0) {
		hs_fail(l, err.e_msg);
		return -1;
	}
	l->l_hs_done = true;
	return 0;
}

/* Feeds the hello's handshake message; out gets the answer, if any.
 * Returns 0 or -1 (the link was reset). */
static int
hs_step(struct br_link *l, const struct hello *h, uint8_t *out,
    size_t *outlen)
{
	struct tp_err err;
	bool done = false;

	if (h->h_hs == NULL || l->l_hs_done || !hs_expected(l, h->h_hsi))
		return 0;
	if (!is_initiator(l) && h->h_hsi == 1 &&
	    l->l_hs.hs_state != TP_SEC_HS_IDLE && hs_start(l, out,
	    outlen) != 0)
		return -1;
	if (tp_sec_hs_step(&l->l_hs, h->h_hs, h->h_hs_len, out,
	    TP_SEC_HS_MAX, outlen, &done, &err) != 0) {
		hs_fail(l, err.e_msg);
		return -1;
	}
	return done ? hs_finish(l) : 0;
}

/* The member a hello speaks for: hellos are not authenticated until the
 * handshake ends, so they never create a member, change its incarnation
 * nor count as a sign of life (beacons and sealed frames do). */
static struct br_node *
hello_node(struct br *br, const struct hello *h)
{
	struct br_node *n = br_disc_find(br, h->h_node, h->h_node_len);

	return n != NULL && n->n_inc == h->h_inc ? n : NULL;
}

/* Binds the peer's session to l; a new session of the peer while up
 * means the peer reset its side, so this side resets too.  Returns true
 * when the binding changed (a new handshake starts). */
static bool
hello_bind(struct br_link *l, nng_pipe pipe, const struct hello *h)
{
	if (h->h_sess == l->l_peer_sess &&
	    (uint32_t)nng_pipe_id(pipe) == l->l_in_pipe) {
		if (h->h_seen == l->l_sess && l->l_sess != 0)
			l->l_confirmed = true;
		return false;
	}
	if (l->l_state == BR_L_UP)
		br_peer_link_reset(l, "peer started a new session");
	l->l_peer_sess = h->h_sess;
	l->l_in_pipe = (uint32_t)nng_pipe_id(pipe);
	l->l_confirmed = l->l_sess != 0 && h->h_seen == l->l_sess;
	return true;
}

/*
 * A hello names the sender's session, the last session of ours it has
 * seen, and may carry a handshake message.  The link is up once each
 * side has bound the other's session, heard it confirmed, and finished
 * the handshake of that session pair.
 */
static struct br_link *
peer_hello(struct br *br, nng_pipe pipe, const struct tp_env *env)
{
	uint8_t out[TP_SEC_HS_MAX];
	size_t outlen = 0;
	struct br_node *n;
	struct br_link *l;
	struct hello h;
	bool rebound;

	if (parse_hello(br, env, &h) != 0 || (n = hello_node(br, &h)) == NULL)
		return NULL;
	l = n->n_link;
	rebound = hello_bind(l, pipe, &h);
	l->l_last_rx_ms = br_now_ms();
	if (!l->l_out_open && open_out(l) != 0)
		return l;
	if (rebound && hs_start(l, out, &outlen) != 0)
		return l;
	if (!(rebound && is_initiator(l)) && hs_step(l, &h, out,
	    &outlen) != 0)
		return l;
	if (l->l_sent_seen != l->l_peer_sess || outlen > 0)
		send_hello(l, outlen > 0 ? out : NULL, outlen,
		    is_initiator(l) ? (l->l_hs_done ? 3 : 1) : 2);
	if (l->l_confirmed && l->l_hs_done && l->l_state != BR_L_UP)
		link_up(l);
	return l;
}

/* ---- routing helpers over links ---- */

struct br_link *
br_peer_pick(struct br *br, const char *name, size_t len)
{
	struct br_peers *p = br->b_peers;

	if (p == NULL || p->p_nlinks == 0)
		return NULL;
	for (uint32_t k = 0; k < p->p_nlinks; k++) {
		struct br_link *l = p->p_links[(p->p_rr + k) % p->p_nlinks];

		if (l->l_state == BR_L_UP && br_names_has(l, name, len)) {
			p->p_rr = (p->p_rr + k + 1) % p->p_nlinks;
			return l;
		}
	}
	return NULL;
}

struct br_link *
br_peer_by_node(struct br *br, const char *name, size_t len)
{
	struct br_node *n = br_disc_find(br, name, len);

	return n != NULL ? n->n_link : NULL;
}

static bool
node_match(const struct br_link *l, const char *filter, size_t flen)
{
	return filter == NULL || (strlen(l->l_node->n_name) == flen &&
	    memcmp(l->l_node->n_name, filter, flen) == 0);
}

uint32_t
br_peer_actor_count(struct br *br, const char *filter, size_t flen)
{
	struct br_peers *p = br->b_peers;
	uint32_t n = 0;

	for (uint32_t i = 0; p != NULL && i < p->p_nlinks; i++)
		if (node_match(p->p_links[i], filter, flen))
			n += p->p_links[i]->l_nnames;
	return n;
}

void
br_peer_pack_actors(struct br *br, msgpack_packer *pk, const char *filter,
    size_t flen)
{
	struct br_peers *p = br->b_peers;

	for (uint32_t i = 0; p != NULL && i < p->p_nlinks; i++)
		if (node_match(p->p_links[i], filter, flen))
			br_names_pack(p->p_links[i], pk);
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
	br_peer_send_control(l, &sb);
	msgpack_sbuffer_destroy(&sb);
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
		br_names_on(l, &body);
	else if (br_names_op_is(&body, "members"))
		br_names_on_members(l, &body);
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
	br_route_link_room(l);
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
		br_route_peer_env(l, env);
		break;
	default:
		l->l_br->b_stats.st_bad_frames++;
	}
}

static struct br_link *
link_by_pipe(struct br_peers *p, uint32_t id)
{
	for (uint32_t i = 0; i < p->p_nlinks; i++)
		if (p->p_links[i]->l_in_pipe == id)
			return p->p_links[i];
	return NULL;
}

static void
on_peer_in(void *arg)
{
	struct br *br = arg;
	struct br_peers *p = br->b_peers;
	nng_msg *msg;

	for (int i = 0; i < 256; i++) {
		nng_pipe pipe;

		if (nng_recvmsg(p->p_in, &msg, NNG_FLAG_NONBLOCK) != 0)
			return;
		pipe = nng_msg_get_pipe(msg);
		link_recv_frame(br, link_by_pipe(p,
		    (uint32_t)nng_pipe_id(pipe)), pipe, msg);
	}
}

/* ---- life cycle ---- */

struct br_link *
br_peer_link_new(struct br *br, struct br_node *n)
{
	struct br_peers *p = br->b_peers;
	struct br_link *l;

	if (p == NULL || p->p_nlinks >= BR_MAX_NODES ||
	    (l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->l_br = br;
	l->l_node = n;
	l->l_idx = p->p_nlinks;
	l->l_hs.hs_state = TP_SEC_HS_FAILED;
	p->p_links[p->p_nlinks++] = l;
	return l;
}

static void
link_clear(struct br_link *l)
{
	if (l->l_out_open)
		nng_close(l->l_out);
	l->l_out_open = false;
	br_link_drop(l);
	free(l->l_names);
	l->l_names = NULL;
	l->l_nnames = 0;
	l->l_names_rx = false;
	l->l_sess = l->l_peer_sess = l->l_sent_seen = 0;
	l->l_in_pipe = 0;
	l->l_confirmed = false;
	l->l_credit = l->l_credit_due = 0;
	l->l_hs_done = false;
	tp_sec_hs_wipe(&l->l_hs);
	tp_sec_sess_wipe(&l->l_ss);
	l->l_state = BR_L_DOWN;
}

void
br_peer_link_reset(struct br_link *l, const char *why)
{
	if (l->l_state == BR_L_UP)
		log_warn("peer link down", "node=%s reason=\"%s\"",
		    l->l_node->n_name, why);
	if (l->l_state == BR_L_DOWN && !l->l_out_open &&
	    l->l_peer_sess == 0)
		return;
	l->l_resets++;
	l->l_state = BR_L_DOWN;	/* route sees it down while failing */
	br_route_link_down(l);
	link_clear(l);
	l->l_backoff_ms = l->l_backoff_ms == 0 ? BACKOFF_MIN_MS :
	    l->l_backoff_ms * 2;
	if (l->l_backoff_ms > BACKOFF_MAX_MS)
		l->l_backoff_ms = BACKOFF_MAX_MS;
	l->l_retry_ms = br_now_ms() + l->l_backoff_ms;
	br_await_kick(l->l_br);	/* fail what waits unless it may retry */
}

static void
link_tick(struct br_link *l, uint64_t now)
{
	const struct br_conf *c = l->l_br->b_conf;
	struct br_node *n = l->l_node;
	uint64_t h;

	if (l->l_blocked) {
		l->l_blocked = false;
		br_peer_mark_dirty(l);
	}
	if (l->l_state == BR_L_DOWN) {
		if (n->n_state == BR_M_ALIVE && n->n_endpoint[0] != '\0' &&
		    now >= l->l_retry_ms && open_out(l) == 0)
			send_hello(l, NULL, 0, 0);
		return;
	}
	if (now - l->l_last_rx_ms > c->c_suspect_after_ms) {
		br_peer_link_reset(l, l->l_state == BR_L_UP ? "link silent" :
		    "handshake timed out");
		return;
	}
	if (l->l_state != BR_L_UP || now < l->l_next_hb_ms)
		return;
	l->l_next_hb_ms = now + c->c_beacon_interval_ms;
	send_hb(l, "hb", br_now_us());
	br_names_send_members(l);
	if ((h = br_names_hash(l->l_br)) != l->l_names_sent)
		br_names_send(l, h);
}

void
br_peers_tick(struct br *br, uint64_t now)
{
	struct br_peers *p = br->b_peers;

	for (uint32_t i = 0; p != NULL && i < p->p_nlinks; i++)
		link_tick(p->p_links[i], now);
}

/* The receiving side: a polyamorous pair1 listener (receive only, see
 * br_peer.h), with the same frame limit (plus the seal) and buffers as
 * tp_sock_open. */
static int
open_in(struct br *br, struct br_peers *p)
{
	char bound[BR_ENDPOINT_MAX];
	struct tp_err err;
	int rv;

	if ((rv = nng_pair1_open_poly(&p->p_in)) != 0) {
		tp_nng_err(&err, rv, "open peer listener", NULL);
		log_error("cannot open peer listener", "error=\"%s\"",
		    err.e_msg);
		return -1;
	}
	nng_socket_set_size(p->p_in, NNG_OPT_RECVMAXSZ,
	    br->b_lim.l_max_frame + tp_sec_overhead());
	nng_socket_set_int(p->p_in, NNG_OPT_RECVBUF, 256);
	if (tp_listen_bound(p->p_in, br->b_conf->c_listen, bound,
	    sizeof(bound), &err) != 0 ||
	    tp_recv_fd(p->p_in, &p->p_in_fd, &err) != 0) {
		log_error("cannot listen for peers", "listen=%s error=\"%s\"",
		    br->b_conf->c_listen, err.e_msg);
		return -1;
	}
	/* port 0 (zero-config): beacons announce the port we got */
	if (br_disc_bound(br, bound) != 0)
		return -1;
	log_info("listening for peers", "listen=%s", bound);
	return br_loop_add(&br->b_loop, p->p_in_fd, on_peer_in, br, NULL);
}

int
br_peers_init(struct br *br)
{
	struct br_peers *p;

	if (strcmp(br->b_conf->c_discovery, "off") == 0)
		return 0;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	br->b_peers = p;
	return open_in(br, p);
}

void
br_peers_fini(struct br *br)
{
	struct br_peers *p = br->b_peers;

	if (p == NULL)
		return;
	nng_close(p->p_in);
	for (uint32_t i = 0; i < p->p_nlinks; i++) {
		struct br_link *l = p->p_links[i];

		l->l_state = BR_L_DOWN;
		br_route_link_down(l);
		link_clear(l);
		free(l);
	}
	free(p);
	br->b_peers = NULL;
}

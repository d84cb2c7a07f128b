/*
 * br_hello — binding a peer's session and the tp_sec handshake of a
 * session pair.  Pure state: the caller does every send and reset.
 */
#include <string.h>

#include <sodium.h>

#include "br_hello.h"
#include "br_kv.h"
#include "tp_body.h"

static bool
is_initiator(const struct br_hello_self *me)
{
	return strcmp(me->sf_node, me->sf_peer) < 0;
}

void
br_hello_init(struct br_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->he_hs.hs_state = TP_SEC_HS_FAILED;
}

void
br_hello_open(struct br_hello *h)
{
	randombytes_buf(&h->he_sess, sizeof(h->he_sess));
	h->he_sess |= 1;
	h->he_confirmed = false;
}

void
br_hello_clear(struct br_hello *h)
{
	h->he_sess = h->he_peer_sess = h->he_sent_seen = 0;
	h->he_in_pipe = 0;
	h->he_confirmed = false;
	h->he_done = false;
	tp_sec_hs_wipe(&h->he_hs);
	tp_sec_sess_wipe(&h->he_ss);
}

/* Strict: a hello has exactly the keys br_hello_pack writes (endpoint
 * and window are read from beacons and the hello's sender's config, not
 * from here).  A handshake message counts only with its number. */
int
br_hello_parse(const struct tp_env *env, msgpack_zone *zone,
    struct br_hello_msg *m)
{
	msgpack_object body;
	struct tp_body b;
	const char *op;
	size_t oplen;
	int hsi, hs;

	memset(m, 0, sizeof(*m));
	if (env->e_kind != TP_K_CONTROL ||
	    tp_env_body(env, zone, &body, NULL) != 0)
		return -1;
	tp_body_open(&b, &body, 0, "hello", NULL);
	if (tp_body_str(&b, "op", 0, 5, &op, &oplen) != 0 ||
	    !tp_body_streq(op, oplen, "hello"))
		return -1;
	tp_body_str(&b, "node", TP_BODY_NONEMPTY, TP_SEC_NAME_MAX,
	    &m->hm_node, &m->hm_node_len);
	tp_body_uint(&b, "inc", 0, 0, UINT64_MAX, &m->hm_inc);
	tp_body_uint(&b, "sess", 0, 1, UINT64_MAX, &m->hm_sess);
	tp_body_uint(&b, "seen", 0, 0, UINT64_MAX, &m->hm_seen);
	tp_body_skip(&b, "endpoint");
	tp_body_skip(&b, "window");
	hsi = tp_body_uint(&b, "hsi", TP_BODY_OPT, 1, 3, &m->hm_hsi);
	hs = tp_body_bin(&b, "hs", TP_BODY_OPT, TP_SEC_HS_MAX, &m->hm_hs,
	    &m->hm_hs_len);
	if (tp_body_end(&b) != 0)
		return -1;
	if (hsi != 0 || hs != 0) {
		m->hm_hs = NULL;
		m->hm_hs_len = 0;
		m->hm_hsi = 0;
	}
	return 0;
}

void
br_hello_pack(const struct br_hello *h, const struct br_hello_self *me,
    msgpack_sbuffer *sb, const uint8_t *hs, size_t hslen, unsigned hsi)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, hs != NULL ? 9 : 7);
	br_kv_str(&pk, "op", "hello");
	br_kv_str(&pk, "node", me->sf_node);
	br_kv_uint(&pk, "inc", me->sf_inc);
	br_kv_str(&pk, "endpoint", me->sf_endpoint);
	br_kv_uint(&pk, "sess", h->he_sess);
	br_kv_uint(&pk, "seen", h->he_peer_sess);
	br_kv_uint(&pk, "window", me->sf_window);
	if (hs != NULL) {
		br_kv_uint(&pk, "hsi", hsi);
		msgpack_pack_str_with_body(&pk, "hs", 2);
		msgpack_pack_bin_with_body(&pk, hs, hslen);
	}
}

void
br_hello_sent(struct br_hello *h)
{
	h->he_sent_seen = h->he_peer_sess;
}

bool
br_hello_same(struct br_hello *h, uint32_t pipe, const struct br_hello_msg *m)
{
	if (m->hm_sess != h->he_peer_sess || pipe != h->he_in_pipe)
		return false;
	if (m->hm_seen == h->he_sess && h->he_sess != 0)
		h->he_confirmed = true;
	return true;
}

void
br_hello_bind(struct br_hello *h, uint32_t pipe, const struct br_hello_msg *m)
{
	h->he_peer_sess = m->hm_sess;
	h->he_in_pipe = pipe;
	h->he_confirmed = h->he_sess != 0 && m->hm_seen == h->he_sess;
}

/* Starts this side of a fresh handshake: the initiator's hs1 goes into
 * out.  Both sides start over whenever the peer's session changes. */
static int
hs_start(struct br_hello *h, const struct br_hello_self *me, uint8_t *out,
    size_t *outlen, struct tp_err *err)
{
	h->he_done = false;
	return tp_sec_hs_start(&h->he_hs, me->sf_key, me->sf_node,
	    is_initiator(me), me->sf_encrypt, out, TP_SEC_HS_MAX, outlen,
	    err) != 0 ? -1 : 0;
}

/* Whether hello message hsi is the one this side waits for now: stale
 * ones (from a session pair that was replaced) are ignored, not fatal. */
static bool
hs_expected(const struct br_hello *h, bool initiator, uint64_t hsi)
{
	if (initiator)
		return hsi == 2 && h->he_hs.hs_state == TP_SEC_HS_SENT1;
	return hsi == 1 || (hsi == 3 && h->he_hs.hs_state == TP_SEC_HS_SENT2);
}

/* Once done, the peer's name must be the member's (the MAC proves it
 * holds the key, the name says which node it claims to be). */
static int
hs_finish(struct br_hello *h, const struct br_hello_self *me,
    struct tp_err *err)
{
	if (strcmp(tp_sec_hs_peer(&h->he_hs), me->sf_peer) != 0) {
		tp_err_set(err, TP_EPEER, "peer authenticated under another "
		    "node name");
		return -1;
	}
	if (tp_sec_sess_from_hs(&h->he_ss, &h->he_hs, err) != 0)
		return -1;
	h->he_done = true;
	return 0;
}

/* Feeds the hello's handshake message; out gets the answer, if any. */
static int
hs_step(struct br_hello *h, const struct br_hello_self *me,
    const struct br_hello_msg *m, uint8_t *out, size_t *outlen,
    struct tp_err *err)
{
	bool done = false, init = is_initiator(me);

	if (m->hm_hs == NULL || h->he_done || !hs_expected(h, init,
	    m->hm_hsi))
		return 0;
	if (!init && m->hm_hsi == 1 && h->he_hs.hs_state != TP_SEC_HS_IDLE &&
	    hs_start(h, me, out, outlen, err) != 0)
		return -1;
	if (tp_sec_hs_step(&h->he_hs, m->hm_hs, m->hm_hs_len, out,
	    TP_SEC_HS_MAX, outlen, &done, err) != 0)
		return -1;
	return done ? hs_finish(h, me, err) : 0;
}

int
br_hello_advance(struct br_hello *h, const struct br_hello_self *me,
    const struct br_hello_msg *m, bool rebound, uint8_t *out,
    size_t *outlen, unsigned *hsi, struct tp_err *err)
{
	bool init = is_initiator(me);

	*outlen = 0;
	if (rebound && hs_start(h, me, out, outlen, err) != 0)
		return -1;
	if (!(rebound && init) && hs_step(h, me, m, out, outlen, err) != 0)
		return -1;
	*hsi = init ? (h->he_done ? 3 : 1) : 2;
	return 0;
}

bool
br_hello_owed(const struct br_hello *h)
{
	return h->he_sent_seen != h->he_peer_sess;
}

bool
br_hello_ready(const struct br_hello *h)
{
	return h->he_confirmed && h->he_done;
}

struct tp_sec_sess *
br_hello_sess(struct br_hello *h)
{
	return &h->he_ss;
}

uint32_t
br_hello_pipe(const struct br_hello *h)
{
	return h->he_in_pipe;
}

bool
br_hello_idle(const struct br_hello *h)
{
	return h->he_peer_sess == 0;
}

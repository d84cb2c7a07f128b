/*
 * tp_sec — beacon MACs and replay checks, the peer-link handshake and the
 * per-frame session (see tp_sec.h); the key file is in tp_key.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "tp_env.h"
#include "tp_mpck.h"
#include "tp_sec.h"

/* KDF contexts are exactly crypto_kdf_CONTEXTBYTES (8) characters. */
#define CTX_BEACON	"troupebc"
#define CTX_HS		"troupehs"
#define SUBKEY_MAC	1
#define SUBKEY_BIND	2

#define HS_NONCE	32
/* hs1, hs2: version, type, node, pk, nonce, encrypt, mac */
#define HS12_FIELDS	7
#define HS3_FIELDS	3	/* version, type, mac */
#define BEACON_FIELDS	3	/* version, payload, mac */
#define MAX_FIELDS	7

#define FR_ENC		'S'
#define FR_PLAIN	'P'
#define FR_HDR		9	/* marker + 64-bit counter */

const char *
tp_sec_strerror(int code)
{
	switch (code) {
	case TP_SEC_EBADMAC:	return "bad MAC";
	case TP_SEC_ESTALE:	return "timestamp outside the window";
	case TP_SEC_EREPLAY:	return "replayed";
	case TP_SEC_ETAMPER:	return "tampered or undecryptable";
	case TP_SEC_EORDER:	return "out of order";
	case TP_SEC_EMODE:	return "encryption mode mismatch";
	case TP_SEC_EPERM:	return "key file permissions too loose";
	case TP_SEC_ESTATE:	return "out of turn";
	default:		return tp_strerror(code);
	}
}

int
tp_sec_init(struct tp_err *err)
{
	if (sodium_init() < 0)
		return tp_err_set(err, TP_ESYS, "libsodium failed to "
		    "initialise");
	return 0;
}

/* ---- msgpack into a fixed buffer, and strict field decoding ---- */


/* Every message of this module is a fixarray of scalars: walked first
 * (depth 1, nothing after it), then unpacked field by field so that the
 * offset where the MAC field starts is known.  str/bin objects point into
 * the input; the zone holds nothing for scalars. */
static int
fields(const uint8_t *b, size_t len, size_t max, msgpack_object *f,
    size_t *offs, unsigned *n, struct tp_err *err)
{
	msgpack_zone zone;
	size_t off = 0;
	int rv;

	if (len > max)
		return tp_err_set(err, TP_ETOOBIG, "%zu bytes, limit %zu",
		    len, max);
	if ((rv = tp_mpck_walk(b, len, &off, 1, err)) != 0)
		return rv;
	if (off != len)
		return tp_err_set(err, TP_ETRAILING, "%zu bytes after the "
		    "message", len - off);
	if ((b[0] & 0xf0) != 0x90 || (b[0] & 0x0f) == 0 ||
	    (b[0] & 0x0f) > MAX_FIELDS)
		return tp_err_set(err, TP_ETYPE, "not an array of 1..%d "
		    "fields", MAX_FIELDS);
	*n = b[0] & 0x0f;
	if (!msgpack_zone_init(&zone, 64))
		return tp_err_set(err, TP_ENOMEM, "no memory for a zone");
	off = 1;
	for (unsigned i = 0; i < *n && rv == 0; i++) {
		offs[i] = off;
		if (msgpack_unpack((const char *)b, len, &off, &zone, &f[i]) <
		    0)
			rv = tp_err_set(err, TP_ETRUNC, "field %u: cannot "
			    "unpack", i);
	}
	msgpack_zone_destroy(&zone);
	return rv;
}

static int
want_version(const msgpack_object *o, struct tp_err *err)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return tp_err_set(err, TP_ETYPE, "version: expected unsigned "
		    "integer");
	if (o->via.u64 != TP_SEC_VERSION)
		return tp_err_set(err, TP_EVERSION, "unsupported security "
		    "version %llu (this build speaks %d)",
		    (unsigned long long)o->via.u64, TP_SEC_VERSION);
	return 0;
}

/* A bin field of exactly size bytes (size 0: any size up to max). */
static int
want_bin(const msgpack_object *o, size_t size, size_t max,
    const char *what, struct tp_err *err)
{
	if (o->type != MSGPACK_OBJECT_BIN)
		return tp_err_set(err, TP_ETYPE, "%s: expected bin", what);
	if (size != 0 && o->via.bin.size != size)
		return tp_err_set(err, TP_ETYPE, "%s: %u bytes, expected %zu",
		    what, o->via.bin.size, size);
	if (o->via.bin.size > max)
		return tp_err_set(err, TP_ETOOBIG, "%s: %u bytes, limit %zu",
		    what, o->via.bin.size, max);
	return 0;
}

/* ---- beacons ---- */

static void
beacon_key(const uint8_t key[TP_SEC_KEYBYTES],
    uint8_t sub[crypto_auth_KEYBYTES])
{
	crypto_kdf_derive_from_key(sub, crypto_auth_KEYBYTES, SUBKEY_MAC,
	    CTX_BEACON, key);
}

void
tp_sec_beacon_mac(const uint8_t key[TP_SEC_KEYBYTES],
    const uint8_t *payload, size_t len, uint8_t mac[TP_SEC_MACBYTES])
{
	uint8_t sub[crypto_auth_KEYBYTES];

	beacon_key(key, sub);
	crypto_auth(mac, payload, len, sub);
	sodium_memzero(sub, sizeof(sub));
}

int
tp_sec_beacon_wrap(const uint8_t key[TP_SEC_KEYBYTES],
    const uint8_t *payload, size_t len, uint8_t *out, size_t cap,
    size_t *out_len)
{
	struct tp_fixbuf fb = { out, cap, 0 };
	uint8_t mac[TP_SEC_MACBYTES];
	msgpack_packer pk;

	if (len > TP_SEC_BEACON_MAX)
		return TP_ETOOBIG;
	tp_sec_beacon_mac(key, payload, len, mac);
	msgpack_packer_init(&pk, &fb, tp_fixbuf_write);
	if (msgpack_pack_array(&pk, BEACON_FIELDS) != 0 ||
	    msgpack_pack_uint32(&pk, TP_SEC_VERSION) != 0 ||
	    msgpack_pack_bin_with_body(&pk, payload, len) != 0 ||
	    msgpack_pack_bin_with_body(&pk, mac, sizeof(mac)) != 0)
		return TP_ETOOBIG;
	*out_len = fb.fb_len;
	return 0;
}

int
tp_sec_beacon_unwrap(const uint8_t *buf, size_t len,
    const uint8_t **payload, size_t *plen, const uint8_t **mac,
    size_t *maclen, struct tp_err *err)
{
	msgpack_object f[MAX_FIELDS];
	size_t offs[MAX_FIELDS];
	unsigned n;
	int rv;

	if ((rv = fields(buf, len, TP_SEC_BEACON_MAX + 64, f, offs, &n,
	    err)) != 0)
		return rv;
	if (n != BEACON_FIELDS)
		return tp_err_set(err, TP_ETYPE, "beacon has %u fields, "
		    "expected %d", n, BEACON_FIELDS);
	if ((rv = want_version(&f[0], err)) != 0 ||
	    (rv = want_bin(&f[1], 0, TP_SEC_BEACON_MAX, "payload",
	    err)) != 0 ||
	    (rv = want_bin(&f[2], TP_SEC_MACBYTES, TP_SEC_MACBYTES, "mac",
	    err)) != 0)
		return rv;
	*payload = (const uint8_t *)f[1].via.bin.ptr;
	*plen = f[1].via.bin.size;
	*mac = (const uint8_t *)f[2].via.bin.ptr;
	*maclen = f[2].via.bin.size;
	return 0;
}

void
tp_sec_replay_init(struct tp_sec_replay *rp, uint64_t window_ms)
{
	memset(rp, 0, sizeof(*rp));
	rp->rp_window_ms = window_ms ? window_ms : TP_SEC_WINDOW_MS;
	if (sodium_init() >= 0)
		randombytes_buf(rp->rp_hkey, sizeof(rp->rp_hkey));
}

/* The slot of (node, incarnation), or the one to reuse: a free slot,
 * else the least recently updated. */
static struct tp_sec_replay_slot *
replay_slot(struct tp_sec_replay *rp, uint64_t node, uint64_t inc,
    bool *found)
{
	struct tp_sec_replay_slot *victim = &rp->rp_slot[0];

	for (size_t i = 0; i < TP_SEC_REPLAY_SLOTS; i++) {
		struct tp_sec_replay_slot *s = &rp->rp_slot[i];

		if (s->rs_used != 0 && s->rs_node == node &&
		    s->rs_incarnation == inc) {
			*found = true;
			return s;
		}
		if (s->rs_used < victim->rs_used)
			victim = s;
	}
	*found = false;
	return victim;
}

static int
check_ts(const struct tp_sec_replay *rp, uint64_t ts, uint64_t now,
    struct tp_err *err)
{
	uint64_t skew = ts > now ? ts - now : now - ts;

	if (skew > rp->rp_window_ms)
		return tp_err_set(err, TP_SEC_ESTALE, "beacon timestamp is "
		    "%llu ms %s, window %llu ms", (unsigned long long)skew,
		    ts > now ? "ahead" : "old",
		    (unsigned long long)rp->rp_window_ms);
	return 0;
}

int
tp_sec_beacon_check(struct tp_sec_replay *rp,
    const uint8_t key[TP_SEC_KEYBYTES], const uint8_t *payload, size_t len,
    const uint8_t *mac, size_t maclen, const char *node, size_t node_len,
    uint64_t incarnation, uint64_t seq, uint64_t ts_ms, uint64_t now_ms,
    struct tp_err *err)
{
	uint8_t sub[crypto_auth_KEYBYTES];
	struct tp_sec_replay_slot *s;
	uint64_t h;
	bool found;
	int bad;

	beacon_key(key, sub);
	bad = maclen != TP_SEC_MACBYTES ||
	    crypto_auth_verify(mac, payload, len, sub) != 0;
	sodium_memzero(sub, sizeof(sub));
	if (bad)
		return tp_err_set(err, TP_SEC_EBADMAC, "beacon MAC does not "
		    "verify (another cluster key?)");
	if ((bad = check_ts(rp, ts_ms, now_ms, err)) != 0)
		return bad;
	crypto_shorthash((uint8_t *)&h, (const uint8_t *)node, node_len,
	    rp->rp_hkey);
	s = replay_slot(rp, h, incarnation, &found);
	if (found && seq <= s->rs_seq)
		return tp_err_set(err, TP_SEC_EREPLAY, "beacon of %.*s "
		    "incarnation %llu seq %llu already seen (highest %llu)",
		    (int)(node_len > 64 ? 64 : node_len), node,
		    (unsigned long long)incarnation,
		    (unsigned long long)seq, (unsigned long long)s->rs_seq);
	s->rs_node = h;
	s->rs_incarnation = incarnation;
	s->rs_seq = seq;
	s->rs_used = ++rp->rp_tick;
	return 0;
}

/* ---- handshake ---- */

static bool
node_ok(const char *s, size_t len)
{
	if (len == 0 || len > TP_SEC_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

/* HMAC-SHA512-256 (what crypto_auth is) over the concatenation of up to
 * three pieces: the earlier messages and this one up to its MAC field. */
static void
hs_mac(const struct tp_sec_hs *hs, const uint8_t *cur, size_t curlen,
    unsigned nprev, uint8_t mac[TP_SEC_MACBYTES])
{
	crypto_auth_hmacsha512256_state st;

	crypto_auth_hmacsha512256_init(&st, hs->hs_mackey,
	    sizeof(hs->hs_mackey));
	for (unsigned i = 0; i < nprev; i++)
		crypto_auth_hmacsha512256_update(&st, hs->hs_msg[i],
		    hs->hs_msglen[i]);
	crypto_auth_hmacsha512256_update(&st, cur, curlen);
	crypto_auth_hmacsha512256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

/* Packs hs1 (idx 0), hs2 (1) or hs3 (2) into out, MAC last. */
static int
hs_pack(struct tp_sec_hs *hs, unsigned idx, uint8_t *out, size_t cap,
    size_t *out_len, struct tp_err *err)
{
	static const char *const type[] = { "hs1", "hs2", "hs3" };
	struct tp_fixbuf fb = { out, cap < TP_SEC_HS_MAX ? cap : TP_SEC_HS_MAX,
	    0 };
	uint8_t mac[TP_SEC_MACBYTES];
	msgpack_packer pk;
	size_t nlen = strlen(hs->hs_node);
	int bad;

	msgpack_packer_init(&pk, &fb, tp_fixbuf_write);
	bad = msgpack_pack_array(&pk, idx < 2 ? HS12_FIELDS : HS3_FIELDS) ||
	    msgpack_pack_uint32(&pk, TP_SEC_VERSION) ||
	    msgpack_pack_str_with_body(&pk, type[idx], 3);
	if (idx < 2)
		bad = bad || msgpack_pack_str_with_body(&pk, hs->hs_node,
		    nlen) ||
		    msgpack_pack_bin_with_body(&pk, hs->hs_pk,
		    sizeof(hs->hs_pk)) ||
		    msgpack_pack_bin_with_body(&pk, hs->hs_nonce, HS_NONCE) ||
		    (hs->hs_encrypt ? msgpack_pack_true(&pk) :
		    msgpack_pack_false(&pk));
	if (bad)
		return tp_err_set(err, TP_ETOOBIG, "handshake message does "
		    "not fit in %zu bytes", fb.fb_cap);
	hs_mac(hs, out, fb.fb_len, idx, mac);
	if (msgpack_pack_bin_with_body(&pk, mac, sizeof(mac)) != 0)
		return tp_err_set(err, TP_ETOOBIG, "handshake message does "
		    "not fit in %zu bytes", fb.fb_cap);
	*out_len = fb.fb_len;
	if (idx < 2) {
		memcpy(hs->hs_msg[idx], out, fb.fb_len);
		hs->hs_msglen[idx] = fb.fb_len;
	}
	return 0;
}

int
tp_sec_hs_start(struct tp_sec_hs *hs, const uint8_t key[TP_SEC_KEYBYTES],
    const char *my_node, bool initiator, bool encrypt, uint8_t *out,
    size_t cap, size_t *out_len, struct tp_err *err)
{
	int rv;

	memset(hs, 0, sizeof(*hs));
	hs->hs_state = TP_SEC_HS_FAILED;
	if ((rv = tp_sec_init(err)) != 0)
		return rv;
	if (!node_ok(my_node, strlen(my_node)))
		return tp_err_set(err, TP_EINVAL, "node name must be 1..%d "
		    "printable characters", TP_SEC_NAME_MAX);
	snprintf(hs->hs_node, sizeof(hs->hs_node), "%s", my_node);
	hs->hs_initiator = initiator;
	hs->hs_encrypt = encrypt;
	crypto_kdf_derive_from_key(hs->hs_mackey, sizeof(hs->hs_mackey),
	    SUBKEY_MAC, CTX_HS, key);
	crypto_kdf_derive_from_key(hs->hs_bindkey, sizeof(hs->hs_bindkey),
	    SUBKEY_BIND, CTX_HS, key);
	crypto_kx_keypair(hs->hs_pk, hs->hs_sk);
	randombytes_buf(hs->hs_nonce, HS_NONCE);
	*out_len = 0;
	hs->hs_state = TP_SEC_HS_IDLE;
	if (!initiator)
		return 0;
	if ((rv = hs_pack(hs, 0, out, cap, out_len, err)) != 0) {
		hs->hs_state = TP_SEC_HS_FAILED;
		return rv;
	}
	hs->hs_state = TP_SEC_HS_SENT1;
	return 0;
}

/* Decodes hs1/hs2 (idx 0/1) or hs3 (idx 2) and verifies its MAC; for
 * hs1/hs2 stores the peer's name and key.  *peer_enc gets its mode. */
static int
hs_read(struct tp_sec_hs *hs, unsigned idx, const uint8_t *in, size_t len,
    bool *peer_enc, struct tp_err *err)
{
	static const char *const type[] = { "hs1", "hs2", "hs3" };
	unsigned want = idx < 2 ? HS12_FIELDS : HS3_FIELDS;
	msgpack_object f[MAX_FIELDS];
	uint8_t mac[TP_SEC_MACBYTES];
	size_t offs[MAX_FIELDS];
	unsigned n;
	int rv;

	if ((rv = fields(in, len, TP_SEC_HS_MAX, f, offs, &n, err)) != 0)
		return rv;
	if (n != want)
		return tp_err_set(err, TP_ETYPE, "%s: %u fields, expected %u",
		    type[idx], n, want);
	if ((rv = want_version(&f[0], err)) != 0)
		return rv;
	if (f[1].type != MSGPACK_OBJECT_STR || f[1].via.str.size != 3 ||
	    memcmp(f[1].via.str.ptr, type[idx], 3) != 0)
		return tp_err_set(err, TP_SEC_ESTATE, "expected handshake "
		    "message %s", type[idx]);
	if ((rv = want_bin(&f[n - 1], TP_SEC_MACBYTES, TP_SEC_MACBYTES,
	    "mac", err)) != 0)
		return rv;
	if (idx < 2) {
		if (f[2].type != MSGPACK_OBJECT_STR ||
		    !node_ok(f[2].via.str.ptr, f[2].via.str.size))
			return tp_err_set(err, TP_ETYPE, "node: expected "
			    "1..%d printable characters", TP_SEC_NAME_MAX);
		if ((rv = want_bin(&f[3], crypto_kx_PUBLICKEYBYTES,
		    crypto_kx_PUBLICKEYBYTES, "public key", err)) != 0 ||
		    (rv = want_bin(&f[4], HS_NONCE, HS_NONCE, "nonce",
		    err)) != 0)
			return rv;
		if (f[5].type != MSGPACK_OBJECT_BOOLEAN)
			return tp_err_set(err, TP_ETYPE, "encrypt: expected "
			    "boolean");
	}
	hs_mac(hs, in, offs[n - 1], idx, mac);
	if (sodium_memcmp(mac, f[n - 1].via.bin.ptr, sizeof(mac)) != 0)
		return tp_err_set(err, TP_SEC_EBADMAC, "%s: MAC does not "
		    "verify (the peer has another cluster key, or the message "
		    "was altered)", type[idx]);
	if (idx == 2)
		return 0;
	memcpy(hs->hs_peer, f[2].via.str.ptr, f[2].via.str.size);
	hs->hs_peer[f[2].via.str.size] = '\0';
	memcpy(hs->hs_peer_pk, f[3].via.bin.ptr, crypto_kx_PUBLICKEYBYTES);
	memcpy(hs->hs_msg[idx], in, len);
	hs->hs_msglen[idx] = len;
	*peer_enc = f[5].via.boolean;
	return 0;
}

static int
mode_err(const struct tp_sec_hs *hs, struct tp_err *err)
{
	return tp_err_set(err, TP_SEC_EMODE, "refusing link with %.64s: it "
	    "has cluster.encrypt = %s, this node %s (set both alike)",
	    hs->hs_peer, hs->hs_encrypt ? "off" : "on",
	    hs->hs_encrypt ? "on" : "off");
}

/* The transcript hash binds the session keys to every handshake byte. */
static void
hs_finish(struct tp_sec_hs *hs, const uint8_t *hs3, size_t len)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof(hs->hs_th));
	crypto_generichash_update(&st, hs->hs_msg[0], hs->hs_msglen[0]);
	crypto_generichash_update(&st, hs->hs_msg[1], hs->hs_msglen[1]);
	crypto_generichash_update(&st, hs3, len);
	crypto_generichash_final(&st, hs->hs_th, sizeof(hs->hs_th));
	hs->hs_state = TP_SEC_HS_DONE;
}

/* Responder got hs1: answers hs2 (even on a mode mismatch, so that the
 * initiator can say why too). */
static int
hs_on1(struct tp_sec_hs *hs, const uint8_t *in, size_t len, uint8_t *out,
    size_t cap, size_t *out_len, struct tp_err *err)
{
	bool penc = false;
	int rv;

	if ((rv = hs_read(hs, 0, in, len, &penc, err)) != 0 ||
	    (rv = hs_pack(hs, 1, out, cap, out_len, err)) != 0)
		return rv;
	if (penc != hs->hs_encrypt)
		return mode_err(hs, err);
	hs->hs_state = TP_SEC_HS_SENT2;
	return 0;
}

/* Initiator got hs2: confirms with hs3 and is done. */
static int
hs_on2(struct tp_sec_hs *hs, const uint8_t *in, size_t len, uint8_t *out,
    size_t cap, size_t *out_len, struct tp_err *err)
{
	bool penc = false;
	int rv;

	if ((rv = hs_read(hs, 1, in, len, &penc, err)) != 0)
		return rv;
	if (penc != hs->hs_encrypt)
		return mode_err(hs, err);
	if ((rv = hs_pack(hs, 2, out, cap, out_len, err)) != 0)
		return rv;
	hs_finish(hs, out, *out_len);
	return 0;
}

int
tp_sec_hs_step(struct tp_sec_hs *hs, const uint8_t *in, size_t in_len,
    uint8_t *out, size_t cap, size_t *out_len, bool *done,
    struct tp_err *err)
{
	int rv;

	*out_len = 0;
	*done = false;
	if (hs->hs_state == TP_SEC_HS_IDLE && !hs->hs_initiator)
		rv = hs_on1(hs, in, in_len, out, cap, out_len, err);
	else if (hs->hs_state == TP_SEC_HS_SENT1)
		rv = hs_on2(hs, in, in_len, out, cap, out_len, err);
	else if (hs->hs_state == TP_SEC_HS_SENT2) {
		bool unused;

		if ((rv = hs_read(hs, 2, in, in_len, &unused, err)) == 0)
			hs_finish(hs, in, in_len);
	} else
		rv = tp_err_set(err, TP_SEC_ESTATE, "handshake message out "
		    "of turn");
	if (rv != 0 && rv != TP_SEC_EMODE)
		*out_len = 0;
	if (rv != 0)
		hs->hs_state = TP_SEC_HS_FAILED;
	*done = hs->hs_state == TP_SEC_HS_DONE;
	return rv;
}

const char *
tp_sec_hs_peer(const struct tp_sec_hs *hs)
{
	return hs->hs_peer;
}

void
tp_sec_hs_wipe(struct tp_sec_hs *hs)
{
	sodium_memzero(hs, sizeof(*hs));
	hs->hs_state = TP_SEC_HS_FAILED;
}

/* ---- session ---- */

static void
bind_key(const struct tp_sec_hs *hs,
    const uint8_t kx[crypto_kx_SESSIONKEYBYTES],
    uint8_t out[crypto_aead_xchacha20poly1305_ietf_KEYBYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, hs->hs_bindkey, sizeof(hs->hs_bindkey),
	    crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
	crypto_generichash_update(&st, kx, crypto_kx_SESSIONKEYBYTES);
	crypto_generichash_update(&st, hs->hs_th, sizeof(hs->hs_th));
	crypto_generichash_final(&st, out,
	    crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
}

int
tp_sec_sess_from_hs(struct tp_sec_sess *ss, struct tp_sec_hs *hs,
    struct tp_err *err)
{
	uint8_t rx[crypto_kx_SESSIONKEYBYTES], tx[crypto_kx_SESSIONKEYBYTES];
	int rv;

	memset(ss, 0, sizeof(*ss));
	if (hs->hs_state != TP_SEC_HS_DONE)
		return tp_err_set(err, TP_SEC_ESTATE, "handshake not done");
	if (hs->hs_initiator)
		rv = crypto_kx_client_session_keys(rx, tx, hs->hs_pk,
		    hs->hs_sk, hs->hs_peer_pk);
	else
		rv = crypto_kx_server_session_keys(rx, tx, hs->hs_pk,
		    hs->hs_sk, hs->hs_peer_pk);
	if (rv != 0) {
		tp_sec_hs_wipe(hs);
		return tp_err_set(err, TP_SEC_EBADMAC, "peer public key is "
		    "unacceptable");
	}
	bind_key(hs, rx, ss->ss_rx);
	bind_key(hs, tx, ss->ss_tx);
	ss->ss_encrypt = hs->hs_encrypt;
	sodium_memzero(rx, sizeof(rx));
	sodium_memzero(tx, sizeof(tx));
	tp_sec_hs_wipe(hs);
	return 0;
}

size_t
tp_sec_overhead(void)
{
	return FR_HDR + crypto_aead_xchacha20poly1305_ietf_ABYTES;
}

/* Keys differ per direction, so the counter alone makes nonces unique. */
static void
frame_nonce(const uint8_t *hdr,
    uint8_t n[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES])
{
	memset(n, 0, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	memcpy(n, hdr, FR_HDR);
}

int
tp_sec_seal(struct tp_sec_sess *ss, const uint8_t *plain, size_t len,
    uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	size_t need = FR_HDR + len +
	    (ss->ss_encrypt ? crypto_aead_xchacha20poly1305_ietf_ABYTES : 0);
	unsigned long long clen;
	uint64_t ctr;

	if (len > cap || cap - len < need - len)
		return TP_ETOOBIG;
	if (ss->ss_tx_ctr == UINT64_MAX)
		return TP_ECLOSED;
	ctr = ++ss->ss_tx_ctr;
	out[0] = ss->ss_encrypt ? FR_ENC : FR_PLAIN;
	for (int i = 0; i < 8; i++)
		out[1 + i] = (uint8_t)(ctr >> (56 - 8 * i));
	if (!ss->ss_encrypt) {
		memmove(out + FR_HDR, plain, len);
		*out_len = need;
		return 0;
	}
	frame_nonce(out, nonce);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + FR_HDR, &clen, plain,
	    len, out, FR_HDR, NULL, nonce, ss->ss_tx);
	*out_len = FR_HDR + (size_t)clen;
	return 0;
}

static int
check_ctr(struct tp_sec_sess *ss, uint64_t ctr, struct tp_err *err)
{
	if (ctr <= ss->ss_rx_ctr)
		return tp_err_set(err, TP_SEC_EREPLAY, "frame %llu replayed "
		    "(last accepted %llu)", (unsigned long long)ctr,
		    (unsigned long long)ss->ss_rx_ctr);
	if (ctr != ss->ss_rx_ctr + 1)
		return tp_err_set(err, TP_SEC_EORDER, "frame %llu out of "
		    "order (expected %llu)", (unsigned long long)ctr,
		    (unsigned long long)ss->ss_rx_ctr + 1);
	return 0;
}

static int
open_enc(struct tp_sec_sess *ss, const uint8_t *in, size_t len,
    uint8_t *out, size_t cap, size_t *out_len, struct tp_err *err)
{
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	unsigned long long plen;

	if (len < tp_sec_overhead())
		return tp_err_set(err, TP_ETRUNC, "sealed frame of %zu "
		    "bytes is shorter than its overhead", len);
	if (cap < len - tp_sec_overhead())
		return tp_err_set(err, TP_ETOOBIG, "no room to open frame");
	frame_nonce(in, nonce);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, &plen, NULL,
	    in + FR_HDR, len - FR_HDR, in, FR_HDR, nonce, ss->ss_rx) != 0)
		return tp_err_set(err, TP_SEC_ETAMPER, "frame does not "
		    "authenticate (tampered, or another session)");
	*out_len = (size_t)plen;
	return 0;
}

int
tp_sec_open(struct tp_sec_sess *ss, const uint8_t *in, size_t len,
    uint8_t *out, size_t cap, size_t *out_len, struct tp_err *err)
{
	uint64_t ctr = 0;
	int rv;

	if (len < FR_HDR)
		return tp_err_set(err, TP_ETRUNC, "frame of %zu bytes is "
		    "shorter than its header", len);
	if (in[0] != FR_ENC && in[0] != FR_PLAIN)
		return tp_err_set(err, TP_ETYPE, "unknown frame marker 0x%02x",
		    in[0]);
	if ((in[0] == FR_ENC) != ss->ss_encrypt)
		return tp_err_set(err, TP_SEC_EMODE, "peer sent a%s frame "
		    "but cluster.encrypt is %s here", ss->ss_encrypt ?
		    " plaintext" : "n encrypted",
		    ss->ss_encrypt ? "on" : "off");
	for (int i = 0; i < 8; i++)
		ctr = ctr << 8 | in[1 + i];
	if (ss->ss_encrypt)
		rv = open_enc(ss, in, len, out, cap, out_len, err);
	else if (cap < len - FR_HDR)
		rv = tp_err_set(err, TP_ETOOBIG, "no room to open frame");
	else {
		memmove(out, in + FR_HDR, len - FR_HDR);
		*out_len = len - FR_HDR;
		rv = 0;
	}
	if (rv == 0 && (rv = check_ctr(ss, ctr, err)) == 0)
		ss->ss_rx_ctr = ctr;
	return rv;
}

void
tp_sec_sess_wipe(struct tp_sec_sess *ss)
{
	sodium_memzero(ss, sizeof(*ss));
}

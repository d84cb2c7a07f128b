/*
 * tp_sec — the cluster's security building blocks, all on libsodium:
 *
 *  - the cluster key: 32 random bytes in a file of mode 0600 (tp_key.h);
 *  - beacon authentication: HMAC-SHA512-256 (crypto_auth) under a subkey
 *    of the cluster key, a timestamp window and a replay table;
 *  - the peer-link handshake: fresh crypto_kx key pairs, every message
 *    MACed with another subkey, session keys bound to the cluster key;
 *  - the session: XChaCha20-Poly1305 IETF AEAD per frame, a 64-bit counter
 *    per direction as nonce and associated data, exactly counter+1
 *    accepted (replays and reordering are refused).
 *
 * docs/SECURITY.md says why each construction and what it does not cover.
 * Functions return 0 or a negative code: the TP_E* codes of tp_err.h or
 * the TP_SEC_E* codes below, with one line in err when err is not NULL.
 * Nothing here allocates on the heap except the handshake decoder's small
 * msgpack zone, bounded before use.  Not thread-safe per object; objects
 * of different links may be used from different threads.
 */
#ifndef TP_SEC_H
#define TP_SEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "tp_err.h"

#define TP_SEC_VERSION		1
#define TP_SEC_KEYBYTES		32
#define TP_SEC_MACBYTES		crypto_auth_BYTES	/* 32 */
#define TP_SEC_NAME_MAX		255	/* node name in a handshake */
#define TP_SEC_HS_MAX		512	/* bytes of one handshake message */
#define TP_SEC_BEACON_MAX	1400	/* bytes of one beacon datagram */
#define TP_SEC_REPLAY_SLOTS	256	/* (node, incarnation) pairs kept */
#define TP_SEC_WINDOW_MS	30000	/* default beacon timestamp window */

/* Codes beyond tp_err's, so that callers can count each kind. */
enum tp_sec_code {
	TP_SEC_EBADMAC = -40,	/* beacon or handshake MAC is wrong */
	TP_SEC_ESTALE = -41,	/* beacon timestamp outside the window */
	TP_SEC_EREPLAY = -42,	/* (incarnation, seq) or frame counter seen */
	TP_SEC_ETAMPER = -43,	/* AEAD tag does not verify */
	TP_SEC_EORDER = -44,	/* frame counter skips ahead */
	TP_SEC_EMODE = -45,	/* encrypt on/off differs between peers */
	TP_SEC_EPERM = -46,	/* key file mode lets others read it */
	TP_SEC_ESTATE = -47,	/* handshake message out of turn */
};

/* Static name of a TP_SEC_E* or TP_E* code. */
const char *tp_sec_strerror(int code);

/* sodium_init once; returns 0 or TP_ESYS.  Every other call does it too. */
int tp_sec_init(struct tp_err *err);

/* The cluster key file (tp_sec_key_*) is in tp_key.h. */

/* ---- beacons ---- */

/* MAC of payload under the beacon subkey (KDF context "troupebc"). */
void tp_sec_beacon_mac(const uint8_t key[TP_SEC_KEYBYTES],
    const uint8_t *payload, size_t len, uint8_t mac[TP_SEC_MACBYTES]);

/*
 * Builds the datagram [TP_SEC_VERSION, payload (bin), mac (bin)] into out
 * (cap bytes).  Returns 0 with *out_len set, or TP_ETOOBIG.
 */
int tp_sec_beacon_wrap(const uint8_t key[TP_SEC_KEYBYTES],
    const uint8_t *payload, size_t len, uint8_t *out, size_t cap,
    size_t *out_len);

/*
 * Splits a received datagram: bounds-walked, strict types, nothing after
 * it.  On success *payload and *mac point into buf (borrowed).  Returns
 * 0, TP_EVERSION, TP_ETYPE, TP_ETRUNC, TP_ETOOBIG or TP_ETRAILING.  The
 * MAC is not checked here (see tp_sec_beacon_check).
 */
int tp_sec_beacon_unwrap(const uint8_t *buf, size_t len,
    const uint8_t **payload, size_t *plen, const uint8_t **mac,
    size_t *maclen, struct tp_err *err);

/* Highest sequence seen per (node, incarnation); fixed size, the least
 * recently updated slot is reused when full. */
struct tp_sec_replay_slot {
	uint64_t	 rs_node;	/* hash of the node name */
	uint64_t	 rs_incarnation;
	uint64_t	 rs_seq;
	uint64_t	 rs_used;	/* tick of the last update, 0 = free */
};

struct tp_sec_replay {
	struct tp_sec_replay_slot rp_slot[TP_SEC_REPLAY_SLOTS];
	uint64_t	 rp_tick;
	uint64_t	 rp_window_ms;	/* timestamp window, +/- */
	uint8_t		 rp_hkey[crypto_shorthash_KEYBYTES];
};

/* Empties the table; window_ms 0 = TP_SEC_WINDOW_MS. */
void tp_sec_replay_init(struct tp_sec_replay *rp, uint64_t window_ms);

/*
 * Checks one beacon, in this order: MAC (TP_SEC_EBADMAC), timestamp
 * within +/- window of now (TP_SEC_ESTALE), then (node, incarnation, seq)
 * newer than the highest seen (TP_SEC_EREPLAY).  Only a beacon that
 * passes all three updates the table.  node (node_len bytes, need not
 * end in NUL), incarnation, seq and ts_ms are the caller's decoding of
 * payload: it must only trust them on 0.
 */
int tp_sec_beacon_check(struct tp_sec_replay *rp,
    const uint8_t key[TP_SEC_KEYBYTES], const uint8_t *payload, size_t len,
    const uint8_t *mac, size_t maclen, const char *node, size_t node_len,
    uint64_t incarnation, uint64_t seq, uint64_t ts_ms, uint64_t now_ms,
    struct tp_err *err);

/* ---- peer-link handshake ---- */

enum tp_sec_hs_state { TP_SEC_HS_IDLE, TP_SEC_HS_SENT1, TP_SEC_HS_SENT2,
    TP_SEC_HS_DONE, TP_SEC_HS_FAILED };

struct tp_sec_hs {
	enum tp_sec_hs_state hs_state;
	bool		 hs_initiator;
	bool		 hs_encrypt;
	uint8_t		 hs_mackey[crypto_auth_KEYBYTES];
	uint8_t		 hs_bindkey[crypto_generichash_KEYBYTES];
	uint8_t		 hs_pk[crypto_kx_PUBLICKEYBYTES];
	uint8_t		 hs_sk[crypto_kx_SECRETKEYBYTES];
	uint8_t		 hs_peer_pk[crypto_kx_PUBLICKEYBYTES];
	uint8_t		 hs_nonce[32];	/* ours, fresh per handshake */
	uint8_t		 hs_msg[2][TP_SEC_HS_MAX];	/* hs1, hs2 as sent */
	size_t		 hs_msglen[2];
	uint8_t		 hs_th[crypto_generichash_BYTES];	/* hash */
	char		 hs_node[TP_SEC_NAME_MAX + 1];
	char		 hs_peer[TP_SEC_NAME_MAX + 1];
};

/*
 * Starts a handshake: fresh kx key pair, subkeys of key.  The initiator
 * gets hs1 in out (cap >= TP_SEC_HS_MAX) to send; the responder gets
 * *out_len = 0 and waits for hs1.  encrypt is this node's
 * cluster.encrypt; both sides must agree.  Returns 0 or TP_EINVAL
 * (node name empty or too long).
 */
int tp_sec_hs_start(struct tp_sec_hs *hs, const uint8_t key[TP_SEC_KEYBYTES],
    const char *my_node, bool initiator, bool encrypt, uint8_t *out,
    size_t cap, size_t *out_len, struct tp_err *err);

/*
 * Feeds one received handshake message.  Three messages in all:
 * hs1 (initiator), hs2 (responder), hs3 (initiator's key confirmation).
 * May set *out_len > 0: send out before anything else.  Sets *done once
 * this side may build its session (initiator after hs2, responder after
 * hs3).  Any error leaves the handshake failed (close the link):
 * TP_SEC_EBADMAC (other key or tampered), TP_SEC_EMODE (encrypt differs,
 * err says which side has what), TP_SEC_ESTATE, or a decoding code.
 */
int tp_sec_hs_step(struct tp_sec_hs *hs, const uint8_t *in, size_t in_len,
    uint8_t *out, size_t cap, size_t *out_len, bool *done,
    struct tp_err *err);

/* The peer's authenticated node name (valid once done). */
const char *tp_sec_hs_peer(const struct tp_sec_hs *hs);

/* Wipes the key material of hs. */
void tp_sec_hs_wipe(struct tp_sec_hs *hs);

/* ---- session ---- */

struct tp_sec_sess {
	bool		 ss_encrypt;
	uint8_t		 ss_tx[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint8_t		 ss_rx[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
	uint64_t	 ss_tx_ctr;	/* last counter sent */
	uint64_t	 ss_rx_ctr;	/* last counter accepted */
};

/*
 * Derives the session of a finished handshake (crypto_kx session keys
 * hashed with the cluster-key subkey and the transcript), then wipes hs.
 * Returns 0 or TP_SEC_ESTATE (handshake not done).
 */
int tp_sec_sess_from_hs(struct tp_sec_sess *ss, struct tp_sec_hs *hs,
    struct tp_err *err);

/* Bytes a sealed frame adds to its plaintext (encrypted mode). */
size_t tp_sec_overhead(void);

/*
 * Seals plain into out (cap >= len + tp_sec_overhead()):
 * 'S' | counter (8 bytes, big endian) | ciphertext+tag, or with encrypt
 * off 'P' | counter | plain.  Returns 0 or TP_ETOOBIG (cap), TP_ECLOSED
 * (the counter would wrap: re-handshake).
 */
int tp_sec_seal(struct tp_sec_sess *ss, const uint8_t *plain, size_t len,
    uint8_t *out, size_t cap, size_t *out_len);

/*
 * Opens one frame into out (cap >= len): exactly the counter after the
 * last accepted one.  Returns 0, TP_ETRUNC (shorter than the header),
 * TP_SEC_EMODE (plaintext frame on an encrypted session or the reverse),
 * TP_SEC_ETAMPER (tag fails), TP_SEC_EREPLAY (old counter),
 * TP_SEC_EORDER (counter skips ahead) or TP_ETOOBIG (cap).  Any error
 * should close the link; the session is not advanced.
 */
int tp_sec_open(struct tp_sec_sess *ss, const uint8_t *in, size_t len,
    uint8_t *out, size_t cap, size_t *out_len, struct tp_err *err);

/* Wipes the session keys. */
void tp_sec_sess_wipe(struct tp_sec_sess *ss);

#endif

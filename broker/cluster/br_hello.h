/*
 * br_hello — the hello of a peer stream and its tp_sec handshake: which
 * session of the peer is bound to the link, whether the peer has seen
 * ours, and the handshake of that session pair.  A state machine with no
 * I/O: br_peer feeds it the hellos that arrive and sends what it says
 * to send.  Loop thread only.
 *
 * A hello names the sender's session, the last session of ours it has
 * seen, and may carry a handshake message (hsi 1..3; initiator: the node
 * whose name sorts first).  The link is up once each side has bound the
 * other's session, heard it confirmed, and finished the handshake of
 * that session pair (br_hello_ready).
 */
#ifndef BR_HELLO_H
#define BR_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "tp_env.h"
#include "tp_err.h"
#include "tp_sec.h"

/* One link's sessions and handshake; embedded in the link.  Fields are
 * br_hello's: br_peer reads the session through br_hello_sess. */
struct br_hello {
	uint64_t	 he_sess;	/* our stream's session, 0 = none */
	uint64_t	 he_peer_sess;	/* the peer's stream bound to us */
	uint32_t	 he_in_pipe;	/* nng pipe id of the peer's stream */
	uint64_t	 he_sent_seen;	/* peer session our last hello named */
	bool		 he_confirmed;	/* the peer has seen he_sess */
	bool		 he_done;	/* handshake of this pair finished */
	struct tp_sec_hs he_hs;
	struct tp_sec_sess he_ss;	/* keys and counters once done */
};

/* Who the two ends are (all borrowed for the call). */
struct br_hello_self {
	const char	*sf_node;	/* this node */
	const char	*sf_peer;	/* the member the link goes to */
	uint64_t	 sf_inc;	/* this node's incarnation */
	const char	*sf_endpoint;	/* this node's advertised endpoint */
	const uint8_t	*sf_key;	/* cluster key, TP_SEC_KEYBYTES */
	bool		 sf_encrypt;	/* cluster.encrypt */
	uint32_t	 sf_window;	/* credit we lend the peer */
};

/* A hello as received; hs is the handshake message it carries, if any
 * (borrowed from the body). */
struct br_hello_msg {
	const char	*hm_node;
	size_t		 hm_node_len;
	uint64_t	 hm_inc, hm_sess, hm_seen;
	const uint8_t	*hm_hs;
	size_t		 hm_hs_len;
	uint64_t	 hm_hsi;	/* 1..3: which handshake message */
};

/* A fresh link's state: no sessions, no handshake. */
void br_hello_init(struct br_hello *h);
/* Our stream opened: a new random session of ours, not yet confirmed. */
void br_hello_open(struct br_hello *h);
/* Forgets both sessions and wipes handshake and keys (link reset). */
void br_hello_clear(struct br_hello *h);

/* Reads a CONTROL envelope whose body is {op: hello, node, inc, endpoint,
 * sess (not 0), seen, window[, hsi (1..3), hs]} and nothing else (decoded
 * in zone, the caller's): 0 with m pointing into env's body, or -1 when
 * it is not such a hello. */
int br_hello_parse(const struct tp_env *env, msgpack_zone *zone,
    struct br_hello_msg *m);

/* Packs our hello into sb (initialised by the caller): with handshake
 * message hs (hsi) when hs is not NULL.  Once it is queued the caller
 * calls br_hello_sent. */
void br_hello_pack(const struct br_hello *h, const struct br_hello_self *me,
    msgpack_sbuffer *sb, const uint8_t *hs, size_t hslen, unsigned hsi);
void br_hello_sent(struct br_hello *h);

/* True when m is from the session (and stream pipe) already bound; it
 * then notes whether the peer has seen our session.  False: the peer
 * started a new session (an UP link must be reset, then br_hello_bind). */
bool br_hello_same(struct br_hello *h, uint32_t pipe,
    const struct br_hello_msg *m);
/* Binds the peer's session of m and its stream pipe. */
void br_hello_bind(struct br_hello *h, uint32_t pipe,
    const struct br_hello_msg *m);

/*
 * Advances the handshake with m (rebound: the binding just changed, so
 * a new handshake starts).  out (TP_SEC_HS_MAX bytes) gets the message
 * to answer with, *outlen its length (0: none) and *hsi its number.
 * Stale handshake messages are ignored.  Returns 0, or -1 with err set
 * when the handshake failed (the link must be reset).
 */
int br_hello_advance(struct br_hello *h, const struct br_hello_self *me,
    const struct br_hello_msg *m, bool rebound, uint8_t *out,
    size_t *outlen, unsigned *hsi, struct tp_err *err);

/* Our hello must go out: the peer's session is not yet named in one. */
bool br_hello_owed(const struct br_hello *h);
/* Both sessions bound and confirmed, the handshake done: link up. */
bool br_hello_ready(const struct br_hello *h);
/* The session keys once ready (for sealing and opening frames). */
struct tp_sec_sess *br_hello_sess(struct br_hello *h);
/* No peer session is bound (nothing to reset). */
bool br_hello_idle(const struct br_hello *h);
/* The nng pipe id of the peer's bound stream (0: none). */
uint32_t br_hello_pipe(const struct br_hello *h);

#endif

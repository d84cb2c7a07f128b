/*
 * tp_env — the troupe wire envelope (DESIGN.md "Wire format") and the batch
 * frame that carries several envelopes in one nng message.
 *
 *   envelope: [ version=1, kind, id, from, to, corr, flags, body ]
 *   batch:    [ version=1, TP_K_BATCH, [ envelope, envelope, ... ] ]
 *
 * A frame (one nng message) is either one envelope or one batch.  Both
 * start with the version, so an unknown version is refused before anything
 * else is read.  Decoding is zero-copy for names and body: they point into
 * the caller's buffer, which must outlive the decoded envelope.
 */
#ifndef TP_ENV_H
#define TP_ENV_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "tp_err.h"

#define TP_WIRE_VERSION 1

enum tp_kind {
	TP_K_SEND = 1,		/* fire and forget */
	TP_K_ASK = 2,		/* request, answered by REPLY or ERROR */
	TP_K_REPLY = 3,		/* corr = id of the ASK */
	TP_K_ACK = 4,		/* receiver processed messages; body = count */
	TP_K_CREDIT = 5,	/* sender may send body = n more messages */
	TP_K_ERROR = 6,		/* corr = id of the failed message */
	TP_K_CONTROL = 7,	/* broker control request/answer */
	TP_K_BATCH = 8,		/* frame of envelopes, never inside one */
	TP_K_MAX
};

enum tp_flag {
	TP_F_REDELIVERED = 1u << 0,	/* delivered before, not acknowledged */
	TP_F_CONFIRM = 1u << 1,		/* sender wants an ACK once queued */
};

/* A counted string that points into someone else's buffer. */
struct tp_slice {
	const char	*s_ptr;
	size_t		 s_len;
};

struct tp_env {
	uint32_t	 e_version;
	uint32_t	 e_kind;
	uint64_t	 e_id;
	struct tp_slice	 e_from;
	struct tp_slice	 e_to;
	uint64_t	 e_corr;
	uint32_t	 e_flags;
	const uint8_t	*e_body;	/* raw msgpack of the body; NULL = nil */
	size_t		 e_body_len;
};

/* Limits applied to untrusted input; all are settings. */
struct tp_limits {
	size_t		 l_max_frame;	/* bytes in one nng message */
	size_t		 l_max_body;	/* bytes of one body */
	size_t		 l_max_name;	/* bytes of from / to */
	unsigned	 l_max_depth;	/* nesting inside a body (<= 16 sane) */
	uint32_t	 l_max_batch;	/* envelopes in one batch */
};

extern const struct tp_limits tp_limits_default;

/* A decoded frame, walked and bounded, ready to yield its envelopes. */
struct tp_frame {
	const uint8_t	*f_buf;
	size_t		 f_len;
	size_t		 f_off;		/* next envelope */
	uint32_t	 f_left;	/* envelopes not yet yielded */
	const struct tp_limits *f_lim;
};

/*
 * Checks a whole frame (one envelope or a batch) against lim before any
 * allocation: bounds walk, version, batch count.  buf is borrowed and must
 * outlive fr.  Returns 0 or a TP_E* code with err filled.
 */
int tp_frame_open(struct tp_frame *fr, const void *buf, size_t len,
    const struct tp_limits *lim, struct tp_err *err);

/*
 * Decodes the next envelope of fr into env (pointing into fr's buffer).
 * Returns 1 when env was filled, 0 when the frame is exhausted, or a
 * negative TP_E* code for a malformed envelope.
 */
int tp_frame_next(struct tp_frame *fr, struct tp_env *env,
    struct tp_err *err);

/*
 * Decodes exactly one envelope from len bytes of untrusted buf (no batch,
 * no trailing bytes).  Names and body point into buf.  Returns 0 or a
 * TP_E* code with err filled; never allocates.
 */
int tp_env_decode(const void *buf, size_t len, const struct tp_limits *lim,
    struct tp_env *env, struct tp_err *err);

/*
 * Packs env with pk (any msgpack-c packer: sbuffer, nng_msg, ...).  The
 * body bytes are copied as they are: they must be one msgpack value (the
 * caller's responsibility; an empty body is packed as nil).
 */
int tp_env_pack(msgpack_packer *pk, const struct tp_env *env);

/* Exactly the bytes tp_env_pack writes for env (to allocate once). */
size_t tp_env_size(const struct tp_env *env);

/*
 * Packs env into buf, which must hold exactly len = tp_env_size(env)
 * bytes (the caller owns buf).  Returns 0, or TP_ETOOBIG when the
 * envelope does not fill buf exactly (buf's contents are then undefined).
 */
int tp_env_pack_buf(const struct tp_env *env, void *buf, size_t len);

/* Packs the head of a batch frame that will hold count envelopes; the
 * caller then packs exactly count envelopes with tp_env_pack. */
int tp_batch_pack_head(msgpack_packer *pk, uint32_t count);

/*
 * Unpacks env's body with msgpack-c into zone; obj then lives as long as
 * zone and env's buffer.  The body was bounded by the frame walk.
 */
int tp_env_body(const struct tp_env *env, msgpack_zone *zone,
    msgpack_object *obj, struct tp_err *err);

/*
 * The body as an unsigned integer (ACK and CREDIT counts), read straight
 * from the bytes in the usual encodings, else through msgpack-c in zone
 * (cleared first).  Returns 0 with *v set, or TP_ETYPE when the body is
 * not one unsigned integer.
 */
int tp_env_body_uint(const struct tp_env *env, msgpack_zone *zone,
    uint64_t *v);

/*
 * A msgpack-c packer target over the caller's fixed buffer: use
 * tp_fixbuf_write as the packer's callback and the struct as its data.
 * Nothing is allocated; a write past fb_cap fails (the packer then returns
 * an error) and leaves fb_len where it was.
 */
struct tp_fixbuf {
	uint8_t		*fb_buf;
	size_t		 fb_cap;
	size_t		 fb_len;	/* bytes written so far */
};
int tp_fixbuf_write(void *data, const char *buf, size_t len);

/* Convenience to fill a slice from a C string (NULL gives an empty one). */
struct tp_slice tp_slice_str(const char *s);

/* Static name of a kind ("send", ...) or "?" */
const char *tp_kind_name(uint32_t kind);

#endif

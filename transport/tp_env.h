/*
 * tp_env — the troupe wire envelope (DESIGN.md "Wire format") and the batch
 * frame that carries several envelopes in one nng message.
 *
 *   envelope: [ version=2, kind, id, from, to, corr, flags, body ]
 *   batch:    [ version=2, TP_K_BATCH, [ envelope, envelope, ... ] ]
 *
 * Version 2 carries the body (one msgpack value) as the bytes of a bin, or
 * nil for none, so that a router finds its end from the bin's head without
 * walking it; version 1 (the body is the value itself) is still decoded,
 * envelope by envelope, and never sent.  A frame (one nng message) is
 * either one envelope or one batch.  Both start with the version, so an
 * unknown version is refused before anything else is read.  Decoding is
 * zero-copy for names and body: they point into the caller's buffer, which
 * must outlive the decoded envelope.
 */
#ifndef TP_ENV_H
#define TP_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "tp_err.h"

#define TP_WIRE_VERSION 2	/* what is sent */
#define TP_WIRE_V1 1		/* still read */
/* Bytes of a batch head: [version, BATCH, array32 head]. */
#define TP_BATCH_HEAD_MAX 8

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
	TP_F_TOPIC = 1u << 2,		/* SEND: e_to is a topic, published to
					 * every subscriber (docs/ARCHITECTURE.md
					 * "Topics"); set on the copies too */
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
	bool		 e_raw;		/* body not walked yet (skimmed):
					 * tp_env_body_check before reading */
	uint8_t		 e_depth;	/* its depth limit then */
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

/*
 * Room for the envelopes a frame's check decodes, so that tp_frame_next
 * hands them out without decoding each a second time.  Owned by whoever
 * receives on one thread (a broker's loop, an actor process); fc_busy
 * keeps a frame opened while another is being read from using it.
 */
struct tp_frame_cache {
	struct tp_env	*fc_envs;	/* fc_cap of them */
	uint32_t	 fc_cap;
	bool		 fc_busy;
};

/* A decoded frame, walked and bounded, ready to yield its envelopes. */
struct tp_frame {
	const uint8_t	*f_buf;
	size_t		 f_len;
	size_t		 f_off;		/* next envelope */
	uint32_t	 f_left;	/* envelopes not yet yielded */
	const struct tp_limits *f_lim;
	bool		 f_skim;	/* v2 bodies not walked */
	struct tp_frame_cache *f_cache;	/* NULL: decode again in next */
	uint32_t	 f_cached;	/* envelopes in it */
	uint32_t	 f_next;	/* next of them */
	size_t		 f_resume;	/* offset after the last cached */
};

/*
 * Checks a whole frame (one envelope or a batch) against lim before any
 * allocation and before any envelope is handed out: every envelope's
 * header is read and typed, every body is bounds-walked as one msgpack
 * value (lim's depth and size), nothing trails.  buf is borrowed and must
 * outlive fr.  Returns 0 or a TP_E* code with err filled.
 */
int tp_frame_open(struct tp_frame *fr, const void *buf, size_t len,
    const struct tp_limits *lim, struct tp_err *err);

/*
 * The same for a router, which forwards bodies without reading them: a
 * version 2 body is bounded by its bin head only, and its envelope comes
 * out with e_raw set (tp_env_body walks it first; anything else that
 * reads the body calls tp_env_body_check).  A version 1 body is walked
 * (its extent is not known otherwise).
 */
int tp_frame_open_skim(struct tp_frame *fr, const void *buf, size_t len,
    const struct tp_limits *lim, struct tp_err *err);

/*
 * tp_frame_open (skim false) or tp_frame_open_skim (true) that keeps the
 * envelopes it decodes in cache (borrowed; NULL or busy: none kept): the
 * first fc_cap come out of tp_frame_next without a second decode.  The
 * cache is the frame's until tp_frame_close.
 */
int tp_frame_open_cached(struct tp_frame *fr, const void *buf, size_t len,
    const struct tp_limits *lim, bool skim, struct tp_frame_cache *cache,
    struct tp_err *err);

/* Gives a frame's cache back (a no-op for a frame without one). */
void tp_frame_close(struct tp_frame *fr);

/* A cache of cap envelopes (0 when out of memory: then none is kept);
 * tp_frame_cache_free frees what it holds. */
int tp_frame_cache_init(struct tp_frame_cache *c, uint32_t cap);
void tp_frame_cache_free(struct tp_frame_cache *c);

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

/* The same head written into buf (TP_BATCH_HEAD_MAX bytes); returns its
 * length. */
size_t tp_batch_head_put(uint8_t *buf, uint32_t count);

/* Walks a skimmed body (e_raw) as one msgpack value within its depth
 * limit; 0 at once for a body that was walked at decode. */
int tp_env_body_check(const struct tp_env *env, struct tp_err *err);

/*
 * Unpacks env's body with msgpack-c into zone; obj then lives as long as
 * zone and env's buffer.  A skimmed body is walked first.
 */
int tp_env_body(const struct tp_env *env, msgpack_zone *zone,
    msgpack_object *obj, struct tp_err *err);

/*
 * The body as an unsigned integer (ACK and CREDIT counts), read with the
 * typed getter (bounded: a skimmed body needs no walk).  Returns 0 with
 * *v set, or TP_ETYPE when the body is not exactly one unsigned integer.
 */
int tp_env_body_uint(const struct tp_env *env, uint64_t *v);

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

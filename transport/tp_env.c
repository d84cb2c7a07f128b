#include <pthread.h>
#include <string.h>

#include "tp_env.h"
#include "tp_mpck.h"

const struct tp_limits tp_limits_default = {
	.l_max_frame = 16u << 20,
	.l_max_body = 1u << 20,
	.l_max_name = 255,
	.l_max_depth = 16,
	.l_max_batch = 4096,
};

#define ENV_FIELDS 8
#define BATCH_FIELDS 3

/*
 * Header scalars are unpacked one at a time with msgpack-c into a zone
 * private to the thread; strings point into the input, so the zone only
 * ever holds what a mistyped (and already bounded) field costs.  A
 * thread-specific key, so that the zone of a thread that exits (the
 * CLI's bench senders) is freed with it; a __thread copy of the pointer
 * spares every decode the pthread_once and the key lookup.
 */
static pthread_key_t hdr_key;
static pthread_once_t hdr_once = PTHREAD_ONCE_INIT;
static __thread msgpack_zone *hdr_tls;

static void
hdr_zone_free(void *zone)
{
	msgpack_zone_free(zone);
}

static void
hdr_key_init(void)
{
	pthread_key_create(&hdr_key, hdr_zone_free);
}

static msgpack_zone *
header_zone(void)
{
	msgpack_zone *z;

	if ((z = hdr_tls) != NULL) {
		msgpack_zone_clear(z);
		return z;
	}
	pthread_once(&hdr_once, hdr_key_init);
	if ((z = msgpack_zone_new(256)) != NULL &&
	    pthread_setspecific(hdr_key, z) != 0) {
		msgpack_zone_free(z);
		z = NULL;
	}
	return hdr_tls = z;
}

struct tp_slice
tp_slice_str(const char *s)
{
	struct tp_slice sl = { s ? s : "", s ? strlen(s) : 0 };
	return sl;
}

const char *
tp_kind_name(uint32_t kind)
{
	static const char *names[TP_K_MAX] = { "?", "send", "ask", "reply",
	    "ack", "credit", "error", "control", "batch" };

	return kind < TP_K_MAX ? names[kind] : "?";
}

/* Reads an array header at *off; returns its count or -1 (not an array). */
static int64_t
array_head(const uint8_t *b, size_t len, size_t *off)
{
	size_t o = *off;

	if (o >= len)
		return -1;
	if ((b[o] & 0xf0) == 0x90) {
		*off = o + 1;
		return b[o] & 0x0f;
	}
	if (b[o] == 0xdc && len - o >= 3) {
		*off = o + 3;
		return (int64_t)b[o + 1] << 8 | b[o + 2];
	}
	if (b[o] == 0xdd && len - o >= 5) {
		*off = o + 5;
		return (int64_t)b[o + 1] << 24 | (int64_t)b[o + 2] << 16 |
		    (int64_t)b[o + 3] << 8 | b[o + 4];
	}
	return -1;
}

static int
unpack_at(const uint8_t *b, size_t end, size_t *off, msgpack_object *o,
    const char *what, struct tp_err *err)
{
	msgpack_zone *zone = header_zone();
	size_t start = *off;
	msgpack_unpack_return r;

	if (zone == NULL)
		return tp_err_set(err, TP_ENOMEM, "%s: no memory for the "
		    "header zone", what);
	/* EXTRA_BYTES is the normal case: more fields follow this one. */
	r = msgpack_unpack((const char *)b, end, off, zone, o);
	if (r != MSGPACK_UNPACK_SUCCESS && r != MSGPACK_UNPACK_EXTRA_BYTES)
		return tp_err_set(err, TP_ETRUNC, "%s: cannot unpack at "
		    "offset %zu", what, start);
	return 0;
}

static int
get_uint(const uint8_t *b, size_t end, size_t *off, uint64_t max,
    uint64_t *v, const char *what, struct tp_err *err)
{
	msgpack_object o;
	int rv;

	if ((rv = unpack_at(b, end, off, &o, what, err)) != 0)
		return rv;
	if (o.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return tp_err_set(err, TP_ETYPE, "%s: expected unsigned "
		    "integer", what);
	if (o.via.u64 > max)
		return tp_err_set(err, TP_ETOOBIG, "%s: %llu out of range",
		    what, (unsigned long long)o.via.u64);
	*v = o.via.u64;
	return 0;
}

static int
get_str(const uint8_t *b, size_t end, size_t *off, size_t max,
    struct tp_slice *s, const char *what, struct tp_err *err)
{
	msgpack_object o;
	int rv;

	if ((rv = unpack_at(b, end, off, &o, what, err)) != 0)
		return rv;
	if (o.type != MSGPACK_OBJECT_STR)
		return tp_err_set(err, TP_ETYPE, "%s: expected string", what);
	if (o.via.str.size > max)
		return tp_err_set(err, TP_ETOOBIG, "%s: %u bytes, limit %zu",
		    what, o.via.str.size, max);
	s->s_ptr = o.via.str.size ? o.via.str.ptr : "";
	s->s_len = o.via.str.size;
	return 0;
}

/* The version comes first in envelopes and batches alike. */
static int
get_version(const uint8_t *b, size_t end, size_t *off, struct tp_err *err)
{
	uint64_t v = 0;
	int rv;

	if ((rv = get_uint(b, end, off, UINT32_MAX, &v, "version", err)) != 0)
		return rv;
	if (v != TP_WIRE_VERSION)
		return tp_err_set(err, TP_EVERSION, "unsupported wire version "
		    "%llu (this build speaks %d)", (unsigned long long)v,
		    TP_WIRE_VERSION);
	return 0;
}

static int
decode_header(const uint8_t *b, size_t end, size_t *off,
    const struct tp_limits *lim, struct tp_env *env, struct tp_err *err)
{
	uint64_t v = 0;
	int rv;

	if ((rv = get_version(b, end, off, err)) != 0)
		return rv;
	env->e_version = TP_WIRE_VERSION;
	if ((rv = get_uint(b, end, off, UINT32_MAX, &v, "kind", err)) != 0)
		return rv;
	if (v == 0 || v >= TP_K_MAX || v == TP_K_BATCH)
		return tp_err_set(err, TP_EKIND, "unknown envelope kind %llu",
		    (unsigned long long)v);
	env->e_kind = (uint32_t)v;
	if ((rv = get_uint(b, end, off, UINT64_MAX, &env->e_id, "id",
	    err)) != 0 ||
	    (rv = get_str(b, end, off, lim->l_max_name, &env->e_from, "from",
	    err)) != 0 ||
	    (rv = get_str(b, end, off, lim->l_max_name, &env->e_to, "to",
	    err)) != 0 ||
	    (rv = get_uint(b, end, off, UINT64_MAX, &env->e_corr, "corr",
	    err)) != 0 ||
	    (rv = get_uint(b, end, off, UINT32_MAX, &v, "flags", err)) != 0)
		return rv;
	env->e_flags = (uint32_t)v;
	return 0;
}

/* Decodes the envelope at [*off, end) and leaves *off after it. */
static int
decode_one(const uint8_t *b, size_t end, size_t *off,
    const struct tp_limits *lim, struct tp_env *env, struct tp_err *err)
{
	size_t body, start = *off;
	int64_t n;
	int rv;

	memset(env, 0, sizeof(*env));
	if ((n = array_head(b, end, off)) < 0)
		return tp_err_set(err, TP_ETYPE, "envelope is not an array");
	if (n == BATCH_FIELDS)
		return tp_err_set(err, TP_ETYPE, "a batch inside a batch "
		    "(3-field envelope at offset %zu)", start);
	if (n != ENV_FIELDS)
		return tp_err_set(err, TP_ETYPE, "envelope has %lld fields, "
		    "expected %d", (long long)n, ENV_FIELDS);
	if ((rv = decode_header(b, end, off, lim, env, err)) != 0)
		return rv;
	body = *off;
	if ((rv = tp_mpck_walk(b, end, off, lim->l_max_depth, err)) != 0)
		return rv;
	if (*off - body > lim->l_max_body)
		return tp_err_set(err, TP_ETOOBIG, "body of %zu bytes, limit "
		    "%zu", *off - body, lim->l_max_body);
	env->e_body = b + body;
	env->e_body_len = *off - body;
	return 0;
}

int
tp_env_decode(const void *buf, size_t len, const struct tp_limits *lim,
    struct tp_env *env, struct tp_err *err)
{
	struct tp_frame fr;
	int rv;

	if ((rv = tp_frame_open(&fr, buf, len, lim, err)) != 0)
		return rv;
	if (fr.f_left != 1 || fr.f_off != 0)
		return tp_err_set(err, TP_ETYPE, "a batch where one envelope "
		    "was expected");
	rv = tp_frame_next(&fr, env, err);
	return rv == 1 ? 0 : rv;
}

/* Walks the frame once with slack for the batch, its array and the
 * envelope (3 levels above a body): every count is bounded by the input
 * before msgpack-c sees any of it.  The body's own limit is checked again
 * per envelope. */
static int
walk_frame(const uint8_t *b, size_t len, const struct tp_limits *lim,
    struct tp_err *err)
{
	size_t off = 0;
	int rv;

	if (len == 0)
		return tp_err_set(err, TP_ETRUNC, "empty frame");
	if (len > lim->l_max_frame)
		return tp_err_set(err, TP_ETOOBIG, "frame of %zu bytes, limit "
		    "%zu", len, lim->l_max_frame);
	if ((rv = tp_mpck_walk(b, len, &off, lim->l_max_depth + 3, err)) != 0)
		return rv;
	if (off != len)
		return tp_err_set(err, TP_ETRAILING, "%zu trailing bytes after "
		    "the frame", len - off);
	return 0;
}

static int
open_batch(struct tp_frame *fr, size_t off, struct tp_err *err)
{
	uint64_t kind = 0;
	int64_t n;
	int rv;

	if ((rv = get_uint(fr->f_buf, fr->f_len, &off, UINT32_MAX, &kind,
	    "kind", err)) != 0)
		return rv;
	if (kind != TP_K_BATCH)
		return tp_err_set(err, TP_ETYPE, "3-element frame of kind "
		    "%llu is not a batch", (unsigned long long)kind);
	if ((n = array_head(fr->f_buf, fr->f_len, &off)) < 0)
		return tp_err_set(err, TP_ETYPE, "batch holds no array");
	if (n > fr->f_lim->l_max_batch)
		return tp_err_set(err, TP_ETOOBIG, "batch of %lld envelopes, "
		    "limit %u", (long long)n, fr->f_lim->l_max_batch);
	fr->f_off = off;
	fr->f_left = (uint32_t)n;
	return 0;
}

int
tp_frame_open(struct tp_frame *fr, const void *buf, size_t len,
    const struct tp_limits *lim, struct tp_err *err)
{
	const uint8_t *b = buf;
	size_t off = 0;
	int64_t n;
	int rv;

	memset(fr, 0, sizeof(*fr));
	if ((rv = walk_frame(b, len, lim, err)) != 0)
		return rv;
	fr->f_buf = b;
	fr->f_len = len;
	fr->f_lim = lim;
	if ((n = array_head(b, len, &off)) < 0)
		return tp_err_set(err, TP_ETYPE, "frame is not an array");
	if (n != ENV_FIELDS && n != BATCH_FIELDS)
		return tp_err_set(err, TP_ETYPE, "frame has %lld fields, "
		    "expected %d (envelope) or %d (batch)", (long long)n,
		    ENV_FIELDS, BATCH_FIELDS);
	if (n >= 1 && (rv = get_version(b, len, &off, err)) != 0)
		return rv;
	if (n == BATCH_FIELDS)
		return open_batch(fr, off, err);
	fr->f_left = 1;
	return 0;
}

int
tp_frame_next(struct tp_frame *fr, struct tp_env *env, struct tp_err *err)
{
	int rv;

	if (fr->f_left == 0)
		return 0;
	if ((rv = decode_one(fr->f_buf, fr->f_len, &fr->f_off, fr->f_lim,
	    env, err)) != 0) {
		fr->f_left = 0;
		return rv;
	}
	fr->f_left--;
	return 1;
}

int
tp_env_pack(msgpack_packer *pk, const struct tp_env *env)
{
	int rv = 0;

	rv |= msgpack_pack_array(pk, ENV_FIELDS);
	rv |= msgpack_pack_uint32(pk, TP_WIRE_VERSION);
	rv |= msgpack_pack_uint32(pk, env->e_kind);
	rv |= msgpack_pack_uint64(pk, env->e_id);
	rv |= msgpack_pack_str_with_body(pk, env->e_from.s_ptr,
	    env->e_from.s_len);
	rv |= msgpack_pack_str_with_body(pk, env->e_to.s_ptr,
	    env->e_to.s_len);
	rv |= msgpack_pack_uint64(pk, env->e_corr);
	rv |= msgpack_pack_uint32(pk, env->e_flags);
	if (env->e_body_len == 0)
		rv |= msgpack_pack_nil(pk);
	else	/* already msgpack: copied as is, not re-encoded */
		rv |= pk->callback(pk->data, (const char *)env->e_body,
		    env->e_body_len);
	return rv ? TP_ENOMEM : 0;
}

/* Bytes msgpack-c packs for an unsigned integer: it always picks the
 * shortest encoding. */
static size_t
uint_size(uint64_t v)
{
	return v < 0x80 ? 1 : v <= UINT8_MAX ? 2 : v <= UINT16_MAX ? 3 :
	    v <= UINT32_MAX ? 5 : 9;
}

static size_t
str_size(size_t n)
{
	return (n < 32 ? 1 : n <= UINT8_MAX ? 2 : n <= UINT16_MAX ? 3 : 5) +
	    n;
}

size_t
tp_env_size(const struct tp_env *env)
{
	return 1 + uint_size(TP_WIRE_VERSION) + uint_size(env->e_kind) +
	    uint_size(env->e_id) + str_size(env->e_from.s_len) +
	    str_size(env->e_to.s_len) + uint_size(env->e_corr) +
	    uint_size(env->e_flags) +
	    (env->e_body_len == 0 ? 1 : env->e_body_len);
}

int
tp_fixbuf_write(void *data, const char *buf, size_t len)
{
	struct tp_fixbuf *fb = data;

	if (len > fb->fb_cap - fb->fb_len)
		return -1;
	if (len > 0)	/* an empty string may come with a NULL pointer */
		memcpy(fb->fb_buf + fb->fb_len, buf, len);
	fb->fb_len += len;
	return 0;
}

int
tp_env_pack_buf(const struct tp_env *env, void *buf, size_t len)
{
	struct tp_fixbuf fb = { buf, len, 0 };
	msgpack_packer pk;

	msgpack_packer_init(&pk, &fb, tp_fixbuf_write);
	if (tp_env_pack(&pk, env) != 0 || fb.fb_len != len)
		return TP_ETOOBIG;
	return 0;
}

int
tp_batch_pack_head(msgpack_packer *pk, uint32_t count)
{
	int rv = 0;

	rv |= msgpack_pack_array(pk, BATCH_FIELDS);
	rv |= msgpack_pack_uint32(pk, TP_WIRE_VERSION);
	rv |= msgpack_pack_uint32(pk, TP_K_BATCH);
	rv |= msgpack_pack_array(pk, count);
	return rv ? TP_ENOMEM : 0;
}

int
tp_env_body_uint(const struct tp_env *env, msgpack_zone *zone, uint64_t *v)
{
	msgpack_object o;

	msgpack_zone_clear(zone);
	if (tp_env_body(env, zone, &o, NULL) != 0 ||
	    o.type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return TP_ETYPE;
	*v = o.via.u64;
	return 0;
}

int
tp_env_body(const struct tp_env *env, msgpack_zone *zone,
    msgpack_object *obj, struct tp_err *err)
{
	size_t off = 0;

	if (env->e_body_len == 0) {
		memset(obj, 0, sizeof(*obj));
		obj->type = MSGPACK_OBJECT_NIL;
		return 0;
	}
	if (msgpack_unpack((const char *)env->e_body, env->e_body_len, &off,
	    zone, obj) != MSGPACK_UNPACK_SUCCESS || off != env->e_body_len)
		return tp_err_set(err, TP_ETYPE, "body does not unpack");
	return 0;
}

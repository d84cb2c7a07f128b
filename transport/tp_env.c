#include <stdlib.h>
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

/* A getter's code as the one error line for field what at offset off.
 * Cold: the getters around it are inlined into the one decode loop. */
static __attribute__((noinline, cold)) int
field_err(int rv, const char *what, size_t off, struct tp_err *err)
{
	if (rv == TP_ETYPE)
		return tp_err_set(err, TP_ETYPE, "%s: unexpected type at "
		    "offset %zu", what, off);
	return tp_err_set(err, TP_ETRUNC, "%s: truncated at offset %zu",
	    what, off);
}

static __attribute__((noinline, cold)) int
range_err(const char *what, uint64_t v, struct tp_err *err)
{
	return tp_err_set(err, TP_ETOOBIG, "%s: %llu out of range", what,
	    (unsigned long long)v);
}

static __attribute__((noinline, cold)) int
name_err(const char *what, size_t n, size_t max, struct tp_err *err)
{
	return tp_err_set(err, TP_ETOOBIG, "%s: %zu bytes, limit %zu", what,
	    n, max);
}

static inline __attribute__((always_inline)) int
get_uint(struct tp_mrd *r, uint64_t max, uint64_t *v, const char *what,
    struct tp_err *err)
{
	size_t at = r->r_off;
	int rv;

	if ((rv = tp_mrd_uint(r, v)) != 0)
		return field_err(rv, what, at, err);
	if (*v > max)
		return range_err(what, *v, err);
	return 0;
}

static inline __attribute__((always_inline)) int
get_str(struct tp_mrd *r, size_t max, struct tp_slice *s, const char *what,
    struct tp_err *err)
{
	const uint8_t *p;
	size_t at = r->r_off, n;
	int rv;

	if ((rv = tp_mrd_str(r, &p, &n)) != 0)
		return field_err(rv, what, at, err);
	if (n > max)
		return name_err(what, n, max, err);
	s->s_ptr = n ? (const char *)p : "";
	s->s_len = n;
	return 0;
}

static __attribute__((noinline, cold)) int
version_err(uint64_t v, struct tp_err *err)
{
	return tp_err_set(err, TP_EVERSION, "unsupported wire version %llu "
	    "(this build speaks %d and %d)", (unsigned long long)v,
	    TP_WIRE_V1, TP_WIRE_VERSION);
}

/* The version comes first in envelopes and batches alike: 1 (the body is
 * the msgpack value itself) or 2 (the body is a bin holding it). */
static inline __attribute__((always_inline)) int
get_version(struct tp_mrd *r, uint32_t *version, struct tp_err *err)
{
	uint64_t v = 0;
	int rv;

	if ((rv = get_uint(r, UINT32_MAX, &v, "version", err)) != 0)
		return rv;
	if (v != TP_WIRE_V1 && v != TP_WIRE_VERSION)
		return version_err(v, err);
	*version = (uint32_t)v;
	return 0;
}

static int
decode_header(struct tp_mrd *r, const struct tp_limits *lim,
    struct tp_env *env, struct tp_err *err)
{
	uint64_t v = 0;
	int rv;

	if ((rv = get_version(r, &env->e_version, err)) != 0)
		return rv;
	if ((rv = get_uint(r, UINT32_MAX, &v, "kind", err)) != 0)
		return rv;
	if (v == 0 || v >= TP_K_MAX || v == TP_K_BATCH)
		return tp_err_set(err, TP_EKIND, "unknown envelope kind %llu",
		    (unsigned long long)v);
	env->e_kind = (uint32_t)v;
	if ((rv = get_uint(r, UINT64_MAX, &env->e_id, "id", err)) != 0 ||
	    (rv = get_str(r, lim->l_max_name, &env->e_from, "from",
	    err)) != 0 ||
	    (rv = get_str(r, lim->l_max_name, &env->e_to, "to", err)) != 0 ||
	    (rv = get_uint(r, UINT64_MAX, &env->e_corr, "corr", err)) != 0 ||
	    (rv = get_uint(r, UINT32_MAX, &v, "flags", err)) != 0)
		return rv;
	env->e_flags = (uint32_t)v;
	return 0;
}

/* A body that is exactly one str or bin (the usual payload) is bounded
 * by its head alone: its bytes are not msgpack.  Fills ptr and n. */
static bool
body_is_bytes(const uint8_t *p, size_t len, bool *bin, const uint8_t **ptr,
    size_t *n)
{
	struct tp_mrd r = { p, len, 0 };

	if (len == 0)
		return false;
	*bin = p[0] >= 0xc4 && p[0] <= 0xc6;
	return tp_mrd_bytes(&r, *bin, ptr, n) == 0 && r.r_off == len;
}

/* Walks body bytes [p, p + len) as exactly one msgpack value. */
static int
walk_body(const uint8_t *p, size_t len, unsigned depth, struct tp_err *err)
{
	const uint8_t *ptr;
	size_t n;
	bool bin;

	if (body_is_bytes(p, len, &bin, &ptr, &n))
		return 0;
	return tp_mpck_walk_one(p, len, depth, err);
}

/* A v1 body is the value itself: its extent is found by walking it. */
static int
body_v1(struct tp_mrd *r, const struct tp_limits *lim, struct tp_env *env,
    struct tp_err *err)
{
	size_t start = r->r_off, off = start;
	int rv;

	if ((rv = tp_mpck_walk(r->r_buf, r->r_end, &off, lim->l_max_depth,
	    err)) != 0)
		return rv;
	r->r_off = off;
	env->e_body = r->r_buf + start;
	env->e_body_len = off - start;
	return 0;
}

/* A v2 body is nil or a bin holding the value: its extent is in its
 * head.  Walked now when walk is set, else marked raw (tp_env_body walks
 * it before anything unpacks it). */
static int
body_v2(struct tp_mrd *r, const struct tp_limits *lim, bool walk,
    struct tp_env *env, struct tp_err *err)
{
	static const uint8_t nil = 0xc0;
	size_t at = r->r_off;
	int rv;

	if (tp_mrd_nil(r)) {	/* the nil value, as version 1 had it */
		env->e_body = &nil;
		env->e_body_len = 1;
		return 0;
	}
	if ((rv = tp_mrd_bin(r, &env->e_body, &env->e_body_len)) != 0)
		return rv == TP_ETYPE ? tp_err_set(err, TP_ETYPE, "body: "
		    "a version 2 body is a bin or nil (offset %zu)", at) :
		    field_err(rv, "body", at, err);
	if (env->e_body_len == 0)
		return tp_err_set(err, TP_ETYPE, "body: an empty bin is not "
		    "a value");
	if (!walk) {
		env->e_raw = true;
		env->e_depth = (uint8_t)lim->l_max_depth;
		return 0;
	}
	return walk_body(env->e_body, env->e_body_len, lim->l_max_depth,
	    err);
}

/* Decodes the envelope at r's offset and leaves r after it. */
static int
decode_one(struct tp_mrd *r, const struct tp_limits *lim, bool walk,
    struct tp_env *env, struct tp_err *err)
{
	size_t start = r->r_off;
	uint32_t n;
	int rv;

	/* every other field is set by decode_header (no memset: this runs
	 * once per envelope) */
	env->e_body = NULL;
	env->e_body_len = 0;
	env->e_raw = false;
	env->e_depth = 0;
	if ((rv = tp_mrd_array(r, &n)) != 0)
		return rv == TP_ETRUNC ? field_err(rv, "envelope", start, err) :
		    tp_err_set(err, TP_ETYPE, "envelope is not an array");
	if (n == BATCH_FIELDS)
		return tp_err_set(err, TP_ETYPE, "a batch inside a batch "
		    "(3-field envelope at offset %zu)", start);
	if (n != ENV_FIELDS)
		return tp_err_set(err, TP_ETYPE, "envelope has %lu fields, "
		    "expected %d", (unsigned long)n, ENV_FIELDS);
	if ((rv = decode_header(r, lim, env, err)) != 0)
		return rv;
	rv = env->e_version == TP_WIRE_V1 ? body_v1(r, lim, env, err) :
	    body_v2(r, lim, walk, env, err);
	if (rv != 0)
		return rv;
	if (env->e_body_len > lim->l_max_body)
		return tp_err_set(err, TP_ETOOBIG, "body of %zu bytes, limit "
		    "%zu", env->e_body_len, lim->l_max_body);
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

static int
open_batch(struct tp_frame *fr, struct tp_mrd *r, struct tp_err *err)
{
	uint64_t kind = 0;
	uint32_t n;
	int rv;

	if ((rv = get_uint(r, UINT32_MAX, &kind, "kind", err)) != 0)
		return rv;
	if (kind != TP_K_BATCH)
		return tp_err_set(err, TP_ETYPE, "3-element frame of kind "
		    "%llu is not a batch", (unsigned long long)kind);
	if ((rv = tp_mrd_array(r, &n)) != 0)
		return rv == TP_ETRUNC ? field_err(rv, "batch", r->r_off,
		    err) : tp_err_set(err, TP_ETYPE, "batch holds no array");
	if (n > fr->f_lim->l_max_batch)
		return tp_err_set(err, TP_ETOOBIG, "batch of %lu envelopes, "
		    "limit %u", (unsigned long)n, fr->f_lim->l_max_batch);
	fr->f_off = r->r_off;
	fr->f_left = n;
	return 0;
}

/* Every envelope is decoded once before any is handed out, so a frame is
 * taken whole or refused whole; bodies are walked here unless skimmed. */
static int
check_envelopes(struct tp_frame *fr, struct tp_err *err)
{
	struct tp_mrd r = { fr->f_buf, fr->f_len, fr->f_off };
	struct tp_frame_cache *c = fr->f_cache;
	struct tp_env env, *e;
	int rv;

	for (uint32_t i = 0; i < fr->f_left; i++) {
		e = c != NULL && i < c->fc_cap ? &c->fc_envs[i] : &env;
		if ((rv = decode_one(&r, fr->f_lim, !fr->f_skim, e, err)) != 0)
			return rv;
		if (!fr->f_skim)
			e->e_raw = false;
		if (e != &env) {
			fr->f_cached++;
			fr->f_resume = r.r_off;
		}
	}
	if (r.r_off != fr->f_len)
		return tp_err_set(err, TP_ETRAILING, "%zu trailing bytes after "
		    "the frame", fr->f_len - r.r_off);
	return 0;
}

static int
frame_open(struct tp_frame *fr, const void *buf, size_t len,
    const struct tp_limits *lim, bool skim, struct tp_err *err)
{
	struct tp_frame_cache *c = fr->f_cache;
	struct tp_mrd r = { buf, len, 0 };
	uint32_t n, version;
	int rv;

	memset(fr, 0, sizeof(*fr));
	fr->f_cache = c;
	if (len == 0)
		return tp_err_set(err, TP_ETRUNC, "empty frame");
	if (len > lim->l_max_frame)
		return tp_err_set(err, TP_ETOOBIG, "frame of %zu bytes, limit "
		    "%zu", len, lim->l_max_frame);
	fr->f_buf = buf;
	fr->f_len = len;
	fr->f_lim = lim;
	fr->f_skim = skim;
	if ((rv = tp_mrd_array(&r, &n)) != 0)
		return rv == TP_ETRUNC ? field_err(rv, "frame", 0, err) :
		    tp_err_set(err, TP_ETYPE, "frame is not an array");
	if (n != ENV_FIELDS && n != BATCH_FIELDS)
		return tp_err_set(err, TP_ETYPE, "frame has %lu fields, "
		    "expected %d (envelope) or %d (batch)", (unsigned long)n,
		    ENV_FIELDS, BATCH_FIELDS);
	if (n == BATCH_FIELDS) {
		if ((rv = get_version(&r, &version, err)) != 0 ||
		    (rv = open_batch(fr, &r, err)) != 0)
			return rv;
	} else
		fr->f_left = 1;
	if ((rv = check_envelopes(fr, err)) != 0) {
		fr->f_left = 0;
		fr->f_cached = 0;
		return rv;
	}
	return 0;
}

int
tp_frame_open(struct tp_frame *fr, const void *buf, size_t len,
    const struct tp_limits *lim, struct tp_err *err)
{
	fr->f_cache = NULL;
	return frame_open(fr, buf, len, lim, false, err);
}

int
tp_frame_open_skim(struct tp_frame *fr, const void *buf, size_t len,
    const struct tp_limits *lim, struct tp_err *err)
{
	fr->f_cache = NULL;
	return frame_open(fr, buf, len, lim, true, err);
}

int
tp_frame_open_cached(struct tp_frame *fr, const void *buf, size_t len,
    const struct tp_limits *lim, bool skim, struct tp_frame_cache *cache,
    struct tp_err *err)
{
	fr->f_cache = NULL;
	if (cache != NULL && !cache->fc_busy && cache->fc_cap > 0) {
		fr->f_cache = cache;
		cache->fc_busy = true;
	}
	return frame_open(fr, buf, len, lim, skim, err);
}

void
tp_frame_close(struct tp_frame *fr)
{
	if (fr->f_cache != NULL)
		fr->f_cache->fc_busy = false;
	fr->f_cache = NULL;
	fr->f_cached = 0;
	fr->f_left = 0;
}

int
tp_frame_cache_init(struct tp_frame_cache *c, uint32_t cap)
{
	c->fc_busy = false;
	c->fc_cap = 0;
	if ((c->fc_envs = calloc(cap, sizeof(*c->fc_envs))) == NULL)
		return TP_ENOMEM;
	c->fc_cap = cap;
	return 0;
}

void
tp_frame_cache_free(struct tp_frame_cache *c)
{
	free(c->fc_envs);
	c->fc_envs = NULL;
	c->fc_cap = 0;
}

int
tp_frame_next(struct tp_frame *fr, struct tp_env *env, struct tp_err *err)
{
	struct tp_mrd r = { fr->f_buf, fr->f_len, fr->f_off };
	int rv;

	if (fr->f_left == 0)
		return 0;
	if (fr->f_next < fr->f_cached) {
		*env = fr->f_cache->fc_envs[fr->f_next++];
		if (fr->f_next == fr->f_cached)	/* the rest: decoded again */
			fr->f_off = fr->f_resume;
		fr->f_left--;
		return 1;
	}
	/* checked whole by frame_open: the bodies need no second walk */
	if ((rv = decode_one(&r, fr->f_lim, false, env, err)) != 0) {
		fr->f_left = 0;
		return rv;
	}
	if (!fr->f_skim)
		env->e_raw = false;
	fr->f_off = r.r_off;
	fr->f_left--;
	return 1;
}

/* No body and a body that is the nil value both travel as nil. */
static bool
body_nil(const struct tp_env *env)
{
	return env->e_body_len == 0 ||
	    (env->e_body_len == 1 && env->e_body[0] == 0xc0);
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
	if (body_nil(env))
		rv |= msgpack_pack_nil(pk);
	else	/* already msgpack: carried as is in a bin */
		rv |= msgpack_pack_bin_with_body(pk, env->e_body,
		    env->e_body_len);
	return rv ? TP_ENOMEM : 0;
}

size_t
tp_env_size(const struct tp_env *env)
{
	return 1 + tp_mpck_uint_size(TP_WIRE_VERSION) +
	    tp_mpck_uint_size(env->e_kind) + tp_mpck_uint_size(env->e_id) +
	    tp_mpck_head_size(env->e_from.s_len, false) + env->e_from.s_len +
	    tp_mpck_head_size(env->e_to.s_len, false) + env->e_to.s_len +
	    tp_mpck_uint_size(env->e_corr) + tp_mpck_uint_size(env->e_flags) +
	    (body_nil(env) ? 1 :
	    tp_mpck_head_size(env->e_body_len, true) + env->e_body_len);
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

static uint8_t *
put_bytes(uint8_t *p, const void *src, size_t n, bool bin)
{
	p = tp_mpck_put_head(p, n, bin);
	if (n > 0)
		memcpy(p, src, n);
	return p + n;
}

/* The same bytes as tp_env_pack, written straight: this runs once per
 * routed message, and msgpack-c's packer calls back once per field. */
int
tp_env_pack_buf(const struct tp_env *env, void *buf, size_t len)
{
	uint8_t *p = buf;

	if (len != tp_env_size(env) || env->e_body_len > UINT32_MAX ||
	    env->e_from.s_len > UINT32_MAX || env->e_to.s_len > UINT32_MAX)
		return TP_ETOOBIG;
	*p++ = 0x90 | ENV_FIELDS;
	p = tp_mpck_put_uint(p, TP_WIRE_VERSION);
	p = tp_mpck_put_uint(p, env->e_kind);
	p = tp_mpck_put_uint(p, env->e_id);
	p = put_bytes(p, env->e_from.s_ptr, env->e_from.s_len, false);
	p = put_bytes(p, env->e_to.s_ptr, env->e_to.s_len, false);
	p = tp_mpck_put_uint(p, env->e_corr);
	p = tp_mpck_put_uint(p, env->e_flags);
	if (body_nil(env))
		*p++ = 0xc0;
	else
		p = put_bytes(p, env->e_body, env->e_body_len, true);
	return p == (uint8_t *)buf + len ? 0 : TP_ETOOBIG;
}

size_t
tp_batch_head_put(uint8_t *buf, uint32_t count)
{
	uint8_t *p = buf;

	*p++ = 0x90 | BATCH_FIELDS;
	p = tp_mpck_put_uint(p, TP_WIRE_VERSION);
	p = tp_mpck_put_uint(p, TP_K_BATCH);
	p = tp_mpck_put_array(p, count);
	return (size_t)(p - buf);
}

int
tp_batch_pack_head(msgpack_packer *pk, uint32_t count)
{
	uint8_t hb[TP_BATCH_HEAD_MAX];

	return pk->callback(pk->data, (const char *)hb,
	    tp_batch_head_put(hb, count)) == 0 ? 0 : TP_ENOMEM;
}

int
tp_env_body_uint(const struct tp_env *env, uint64_t *v)
{
	struct tp_mrd r = { env->e_body, env->e_body_len, 0 };

	if (env->e_body_len == 0 || tp_mrd_uint(&r, v) != 0 ||
	    r.r_off != r.r_end)
		return TP_ETYPE;
	return 0;
}

int
tp_env_body_check(const struct tp_env *env, struct tp_err *err)
{
	if (!env->e_raw)
		return 0;
	return walk_body(env->e_body, env->e_body_len, env->e_depth, err);
}

int
tp_env_body(const struct tp_env *env, msgpack_zone *zone,
    msgpack_object *obj, struct tp_err *err)
{
	const uint8_t *ptr;
	size_t off = 0, n;
	bool bin;
	int rv;

	if (env->e_body_len == 0) {
		memset(obj, 0, sizeof(*obj));
		obj->type = MSGPACK_OBJECT_NIL;
		return 0;
	}
	/* what msgpack_unpack makes of one str or bin, without a context;
	 * its head bounds it, so a skimmed one needs no walk either */
	if (body_is_bytes(env->e_body, env->e_body_len, &bin, &ptr, &n) &&
	    n <= UINT32_MAX) {
		memset(obj, 0, sizeof(*obj));
		obj->type = bin ? MSGPACK_OBJECT_BIN : MSGPACK_OBJECT_STR;
		obj->via.bin.ptr = (const char *)ptr;
		obj->via.bin.size = (uint32_t)n;
		return 0;
	}
	if ((rv = tp_env_body_check(env, err)) != 0)
		return rv;
	if (msgpack_unpack((const char *)env->e_body, env->e_body_len, &off,
	    zone, obj) != MSGPACK_UNPACK_SUCCESS || off != env->e_body_len)
		return tp_err_set(err, TP_ETYPE, "body does not unpack");
	return 0;
}

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tp_body.h"
#include "tp_mpck.h"

/* How much of a hostile key a message quotes. */
#define KEY_SHOWN 48

int
tp_body_unpack(const void *buf, size_t len, unsigned max_depth,
    msgpack_zone *zone, msgpack_object *obj, struct tp_err *err)
{
	size_t off = 0;
	int rv;

	if (len == 0) {
		memset(obj, 0, sizeof(*obj));
		obj->type = MSGPACK_OBJECT_NIL;
		return 0;
	}
	if ((rv = tp_mpck_walk_one(buf, len, max_depth, err)) != 0)
		return rv;
	switch (msgpack_unpack(buf, len, &off, zone, obj)) {
	case MSGPACK_UNPACK_SUCCESS:
		return 0;
	case MSGPACK_UNPACK_NOMEM_ERROR:
		return tp_err_set(err, TP_ENOMEM, "out of memory");
	default:
		return tp_err_set(err, TP_ETYPE, "msgpack does not unpack");
	}
}

/* The first error of b, as "what: message"; it sticks. */
static int __attribute__((format(printf, 3, 4)))
fail(struct tp_body *b, int code, const char *fmt, ...)
{
	char line[TP_ERR_MSGLEN];
	va_list ap;

	if (b->bd_rv != 0)
		return b->bd_rv;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	b->bd_rv = code;
	if (b->bd_what != NULL)
		return tp_err_set(b->bd_err, code, "%s: %s", b->bd_what, line);
	return tp_err_set(b->bd_err, code, "%s", line);
}

/* What a message calls the field just taken: "name" or element 3. */
static void
label(const struct tp_body *b, const char *key, char *buf, size_t len)
{
	if (key != NULL)
		snprintf(buf, len, "\"%.*s\"", KEY_SHOWN, key);
	else
		snprintf(buf, len, "element %u", b->bd_next - 1);
}

static int __attribute__((format(printf, 4, 5)))
fail_field(struct tp_body *b, const char *key, int code, const char *fmt,
    ...)
{
	char lab[KEY_SHOWN + 16], line[TP_ERR_MSGLEN];
	va_list ap;

	label(b, key, lab, sizeof(lab));
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return fail(b, code, "%s %s", lab, line);
}

bool
tp_body_streq(const char *p, size_t len, const char *s)
{
	return len == strlen(s) && (len == 0 || memcmp(p, s, len) == 0);
}

static bool
key_eq(const msgpack_object *k, const char *key, size_t len)
{
	return k->type == MSGPACK_OBJECT_STR && k->via.str.size == len &&
	    (len == 0 || memcmp(k->via.str.ptr, key, len) == 0);
}

bool
tp_body_is_str(const msgpack_object *o, const char *s)
{
	return o != NULL && key_eq(o, s, strlen(s));
}

/* Index of key in map m, or -1. */
static int64_t
find_index(const msgpack_object *m, const char *key, size_t len)
{
	for (uint32_t i = 0; i < m->via.map.size; i++)
		if (key_eq(&m->via.map.ptr[i].key, key, len))
			return i;
	return -1;
}

const msgpack_object *
tp_body_find(const msgpack_object *m, const char *key, size_t len)
{
	int64_t i;

	if (m == NULL || m->type != MSGPACK_OBJECT_MAP ||
	    (i = find_index(m, key, len)) < 0)
		return NULL;
	return &m->via.map.ptr[i].val;
}

static void
cursor_init(struct tp_body *b, const msgpack_object *o, unsigned flags,
    const char *what, struct tp_err *err)
{
	memset(b, 0, sizeof(*b));
	b->bd_obj = o;
	b->bd_flags = flags;
	b->bd_what = what;
	b->bd_err = err;
}

/* Strict maps: string keys, each once (n <= TP_BODY_KEYS_MAX, so the
 * quadratic check costs at most ~2000 compares). */
static int
check_keys(struct tp_body *b)
{
	const msgpack_object_kv *kv = b->bd_obj->via.map.ptr;
	uint32_t n = b->bd_obj->via.map.size;

	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object *k = &kv[i].key;

		if (k->type != MSGPACK_OBJECT_STR)
			return fail(b, TP_ETYPE, "key %u is not a string", i);
		for (uint32_t j = 0; j < i; j++)
			if (key_eq(&kv[j].key, k->via.str.ptr,
			    k->via.str.size))
				return fail(b, TP_EINVAL, "duplicate key "
				    "\"%.*s\"", (int)(k->via.str.size >
				    KEY_SHOWN ? KEY_SHOWN : k->via.str.size),
				    k->via.str.ptr);
	}
	return 0;
}

/* lab names the map in messages: "body" or the field it came from. */
static int
open_map(struct tp_body *b, uint32_t max_keys, const char *lab)
{
	uint32_t n;

	if (b->bd_obj == NULL || b->bd_obj->type != MSGPACK_OBJECT_MAP)
		return fail(b, TP_ETYPE, "%s is not a map", lab);
	n = b->bd_obj->via.map.size;
	if (!(b->bd_flags & TP_BODY_LAX) && max_keys > TP_BODY_KEYS_MAX)
		max_keys = TP_BODY_KEYS_MAX;
	if (n > max_keys)
		return fail(b, TP_ETOOBIG, "%s has %u pairs, over %u", lab, n,
		    max_keys);
	return (b->bd_flags & TP_BODY_LAX) ? 0 : check_keys(b);
}

int
tp_body_open(struct tp_body *b, const msgpack_object *o, unsigned flags,
    const char *what, struct tp_err *err)
{
	cursor_init(b, o, flags & TP_BODY_LAX, what, err);
	return open_map(b, UINT32_MAX, "body");
}

static int
open_array(struct tp_body *b, uint32_t min, uint32_t max, const char *lab)
{
	uint32_t n;

	if (b->bd_obj == NULL || b->bd_obj->type != MSGPACK_OBJECT_ARRAY)
		return fail(b, TP_ETYPE, "%s is not an array", lab);
	n = b->bd_obj->via.array.size;
	if (n < min || n > max)
		return fail(b, n > max ? TP_ETOOBIG : TP_EINVAL, "%s has %u "
		    "elements, not %u..%u", lab, n, min, max);
	return 0;
}

int
tp_body_open_array(struct tp_body *b, const msgpack_object *o, uint32_t min,
    uint32_t max, const char *what, struct tp_err *err)
{
	cursor_init(b, o, 0, what, err);
	return open_array(b, min, max, "body");
}

static int
take_key(struct tp_body *b, const char *key, unsigned flags,
    const msgpack_object **v)
{
	int64_t i;

	if (b->bd_obj->type != MSGPACK_OBJECT_MAP)
		return fail(b, TP_EINVAL, "\"%.*s\" asked of an array",
		    KEY_SHOWN, key);
	if ((i = find_index(b->bd_obj, key, strlen(key))) < 0) {
		if (flags & TP_BODY_OPT)
			return TP_BODY_ABSENT;
		return fail(b, TP_EINVAL, "missing \"%.*s\"", KEY_SHOWN, key);
	}
	if (i < TP_BODY_KEYS_MAX)
		b->bd_seen |= UINT64_C(1) << i;
	*v = &b->bd_obj->via.map.ptr[i].val;
	return 0;
}

static int
take_next(struct tp_body *b, unsigned flags, const msgpack_object **v)
{
	if (b->bd_obj->type != MSGPACK_OBJECT_ARRAY)
		return fail(b, TP_EINVAL, "element asked of a map");
	if (b->bd_next >= b->bd_obj->via.array.size) {
		if (flags & TP_BODY_OPT)
			return TP_BODY_ABSENT;
		return fail(b, TP_EINVAL, "missing element %u", b->bd_next);
	}
	*v = &b->bd_obj->via.array.ptr[b->bd_next++];
	return 0;
}

/* The value of key (or the next element): 0, TP_BODY_ABSENT or the
 * sticky error. */
static int
take(struct tp_body *b, const char *key, unsigned flags,
    const msgpack_object **v)
{
	if (b->bd_rv != 0)
		return b->bd_rv;
	return key != NULL ? take_key(b, key, flags, v) :
	    take_next(b, flags, v);
}

int
tp_body_str(struct tp_body *b, const char *key, unsigned flags, size_t max,
    const char **p, size_t *len)
{
	const msgpack_object *v;
	int rv;

	if ((rv = take(b, key, flags, &v)) != 0)
		return rv;
	if (v->type != MSGPACK_OBJECT_STR)
		return fail_field(b, key, TP_ETYPE, "is not a string");
	if (v->via.str.size > max)
		return fail_field(b, key, TP_ETOOBIG, "has %u bytes, over %zu",
		    v->via.str.size, max);
	if ((flags & TP_BODY_NONEMPTY) && v->via.str.size == 0)
		return fail_field(b, key, TP_EINVAL, "is empty");
	if ((flags & TP_BODY_NONUL) && v->via.str.size > 0 &&
	    memchr(v->via.str.ptr, '\0', v->via.str.size) != NULL)
		return fail_field(b, key, TP_EINVAL, "has a NUL byte");
	*p = v->via.str.ptr;
	*len = v->via.str.size;
	return 0;
}

int
tp_body_strz(struct tp_body *b, const char *key, unsigned flags, char *buf,
    size_t size)
{
	const char *p;
	size_t len;
	int rv;

	if (size == 0)
		return fail(b, TP_EINVAL, "no room for a string");
	buf[0] = '\0';
	if ((rv = tp_body_str(b, key, flags | TP_BODY_NONUL, size - 1, &p,
	    &len)) != 0)
		return rv;
	if (len > 0)
		memcpy(buf, p, len);
	buf[len] = '\0';
	return 0;
}

int
tp_body_text(struct tp_body *b, const char *key, unsigned flags, char *buf,
    size_t size)
{
	const msgpack_object *v;
	int rv, n;

	if (size == 0)
		return fail(b, TP_EINVAL, "no room for a string");
	buf[0] = '\0';
	if ((rv = take(b, key, flags, &v)) != 0)
		return rv;
	if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		/* taken again by strz: the same field, the same checks */
		if (key == NULL)
			b->bd_next--;
		return tp_body_strz(b, key, flags, buf, size);
	}
	n = snprintf(buf, size, "%llu", (unsigned long long)v->via.u64);
	if (n < 0 || (size_t)n >= size) {
		buf[0] = '\0';
		return fail_field(b, key, TP_ETOOBIG, "is %llu, too long",
		    (unsigned long long)v->via.u64);
	}
	return 0;
}

int
tp_body_uint(struct tp_body *b, const char *key, unsigned flags,
    uint64_t min, uint64_t max, uint64_t *v)
{
	const msgpack_object *o;
	int rv;

	if ((rv = take(b, key, flags, &o)) != 0)
		return rv;
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return fail_field(b, key, TP_ETYPE, "is not an unsigned "
		    "integer");
	if (o->via.u64 < min || o->via.u64 > max)
		return fail_field(b, key, TP_ETOOBIG, "is %llu, not in "
		    "%llu..%llu", (unsigned long long)o->via.u64,
		    (unsigned long long)min, (unsigned long long)max);
	*v = o->via.u64;
	return 0;
}

int
tp_body_int(struct tp_body *b, const char *key, unsigned flags, int64_t min,
    int64_t max, int64_t *v)
{
	const msgpack_object *o;
	int64_t n;
	int rv;

	if ((rv = take(b, key, flags, &o)) != 0)
		return rv;
	if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		n = o->via.i64;
	else if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return fail_field(b, key, TP_ETYPE, "is not an integer");
	else if (o->via.u64 > (uint64_t)INT64_MAX)
		return fail_field(b, key, TP_ETOOBIG, "is %llu, over %lld",
		    (unsigned long long)o->via.u64, (long long)max);
	else
		n = (int64_t)o->via.u64;
	if (n < min || n > max)
		return fail_field(b, key, TP_ETOOBIG, "is %lld, not in "
		    "%lld..%lld", (long long)n, (long long)min,
		    (long long)max);
	*v = n;
	return 0;
}

int
tp_body_bool(struct tp_body *b, const char *key, unsigned flags, bool *v)
{
	const msgpack_object *o;
	int rv;

	if ((rv = take(b, key, flags, &o)) != 0)
		return rv;
	if (o->type != MSGPACK_OBJECT_BOOLEAN)
		return fail_field(b, key, TP_ETYPE, "is not a boolean");
	*v = o->via.boolean;
	return 0;
}

int
tp_body_bin(struct tp_body *b, const char *key, unsigned flags, size_t max,
    const uint8_t **p, size_t *len)
{
	const msgpack_object *o;
	int rv;

	if ((rv = take(b, key, flags, &o)) != 0)
		return rv;
	if (o->type != MSGPACK_OBJECT_BIN)
		return fail_field(b, key, TP_ETYPE, "is not bin");
	if (o->via.bin.size > max)
		return fail_field(b, key, TP_ETOOBIG, "has %u bytes, over %zu",
		    o->via.bin.size, max);
	if ((flags & TP_BODY_NONEMPTY) && o->via.bin.size == 0)
		return fail_field(b, key, TP_EINVAL, "is empty");
	*p = (const uint8_t *)o->via.bin.ptr;
	*len = o->via.bin.size;
	return 0;
}

/* What an absent optional container reads as: empty, so its getters
 * find nothing and its end check passes. */
static const msgpack_object empty_map = { .type = MSGPACK_OBJECT_MAP };
static const msgpack_object empty_array = { .type = MSGPACK_OBJECT_ARRAY };

/* The nested cursor keeps its parent's prefix and error line; its errors
 * are its own (b records only a missing required field). */
static int
take_sub(struct tp_body *b, const char *key, unsigned flags,
    struct tp_body *sub, const msgpack_object *empty)
{
	const msgpack_object *v = empty;
	int rv;

	cursor_init(sub, empty, flags & TP_BODY_LAX, b->bd_what, b->bd_err);
	if ((rv = take(b, key, flags, &v)) < 0)
		sub->bd_rv = rv;
	sub->bd_obj = v;
	return rv;
}

int
tp_body_map(struct tp_body *b, const char *key, unsigned flags,
    uint32_t max_keys, struct tp_body *sub)
{
	char lab[KEY_SHOWN + 16];
	int rv;

	if ((rv = take_sub(b, key, flags, sub, &empty_map)) != 0)
		return rv;
	label(b, key, lab, sizeof(lab));
	(void)open_map(sub, max_keys, lab);
	return 0;
}

int
tp_body_array(struct tp_body *b, const char *key, unsigned flags,
    uint32_t max, struct tp_body *sub)
{
	char lab[KEY_SHOWN + 16];
	int rv;

	if ((rv = take_sub(b, key, flags, sub, &empty_array)) != 0)
		return rv;
	label(b, key, lab, sizeof(lab));
	(void)open_array(sub, 0, max, lab);
	return 0;
}

int
tp_body_value(struct tp_body *b, const char *key, unsigned flags,
    const msgpack_object **v)
{
	return take(b, key, flags, v);
}

void
tp_body_skip(struct tp_body *b, const char *key)
{
	const msgpack_object *v;

	(void)take(b, key, TP_BODY_OPT, &v);
}

int
tp_body_end(struct tp_body *b)
{
	const msgpack_object_kv *kv;
	uint32_t n;

	if (b->bd_rv != 0)
		return b->bd_rv;
	if (b->bd_obj->type == MSGPACK_OBJECT_ARRAY) {
		n = b->bd_obj->via.array.size;
		if (b->bd_next < n)
			return fail(b, TP_ETRAILING, "%u elements after the "
			    "last one read", n - b->bd_next);
		return 0;
	}
	if (b->bd_flags & TP_BODY_LAX)
		return 0;
	kv = b->bd_obj->via.map.ptr;
	for (uint32_t i = 0; i < b->bd_obj->via.map.size; i++)
		if (!(b->bd_seen & (UINT64_C(1) << i)))
			return fail(b, TP_EINVAL, "unknown field \"%.*s\"",
			    (int)(kv[i].key.via.str.size > KEY_SHOWN ?
			    KEY_SHOWN : kv[i].key.via.str.size),
			    kv[i].key.via.str.ptr);
	return 0;
}

int
tp_body_error(const struct tp_body *b)
{
	return b->bd_rv;
}

/*
 * troupe_body — build and read message bodies (msgpack) for actors, and
 * turn them into JSON for the ones that log or print.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "troupe.h"

#define JSON_DEPTH_MAX 16

void
troupe_body_init(struct troupe_body *b)
{
	msgpack_sbuffer_init(&b->b_buf);
	msgpack_packer_init(&b->b_pk, &b->b_buf, msgpack_sbuffer_write);
	b->b_err = 0;
}

/* msgpack-c packers return -1 on allocation failure; keep it sticky so a
 * builder can append a whole map and check once. */
static int
body_rv(struct troupe_body *b, int rv)
{
	if (rv != 0)
		b->b_err = TP_ENOMEM;
	return b->b_err;
}

int
troupe_body_map(struct troupe_body *b, uint32_t npairs)
{
	return body_rv(b, msgpack_pack_map(&b->b_pk, npairs));
}

int
troupe_body_array(struct troupe_body *b, uint32_t n)
{
	return body_rv(b, msgpack_pack_array(&b->b_pk, n));
}

int
troupe_body_strn(struct troupe_body *b, const char *s, size_t len)
{
	if (len > UINT32_MAX)
		return b->b_err = TP_ETOOBIG;
	return body_rv(b, msgpack_pack_str_with_body(&b->b_pk, s, len));
}

int
troupe_body_str(struct troupe_body *b, const char *s)
{
	return troupe_body_strn(b, s, strlen(s));
}

int
troupe_body_int(struct troupe_body *b, int64_t v)
{
	return body_rv(b, msgpack_pack_int64(&b->b_pk, v));
}

int
troupe_body_uint(struct troupe_body *b, uint64_t v)
{
	return body_rv(b, msgpack_pack_uint64(&b->b_pk, v));
}

int
troupe_body_double(struct troupe_body *b, double v)
{
	return body_rv(b, msgpack_pack_double(&b->b_pk, v));
}

int
troupe_body_bool(struct troupe_body *b, bool v)
{
	return body_rv(b, v ? msgpack_pack_true(&b->b_pk) :
	    msgpack_pack_false(&b->b_pk));
}

int
troupe_body_nil(struct troupe_body *b)
{
	return body_rv(b, msgpack_pack_nil(&b->b_pk));
}

int
troupe_body_bin(struct troupe_body *b, const void *p, size_t len)
{
	if (len > UINT32_MAX)
		return b->b_err = TP_ETOOBIG;
	return body_rv(b, msgpack_pack_bin_with_body(&b->b_pk, p, len));
}

int
troupe_body_object(struct troupe_body *b, const msgpack_object *o)
{
	return body_rv(b, msgpack_pack_object(&b->b_pk, *o));
}

int
troupe_body_error(const struct troupe_body *b)
{
	return b->b_err;
}

const void *
troupe_body_data(const struct troupe_body *b)
{
	return b->b_buf.data;
}

size_t
troupe_body_len(const struct troupe_body *b)
{
	return b->b_buf.size;
}

void
troupe_body_free(struct troupe_body *b)
{
	msgpack_sbuffer_destroy(&b->b_buf);
	b->b_buf.data = NULL;
	b->b_buf.size = 0;
}

static bool
str_eqn(const msgpack_object *o, const char *s, size_t len)
{
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == len &&
	    (len == 0 || memcmp(o->via.str.ptr, s, len) == 0);
}

bool
troupe_obj_str_eq(const msgpack_object *obj, const char *s)
{
	return obj != NULL && str_eqn(obj, s, strlen(s));
}

const msgpack_object *
troupe_obj_map_get(const msgpack_object *obj, const char *key)
{
	size_t len = strlen(key);
	uint32_t i;

	if (obj == NULL || obj->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (i = 0; i < obj->via.map.size; i++)
		if (str_eqn(&obj->via.map.ptr[i].key, key, len))
			return &obj->via.map.ptr[i].val;
	return NULL;
}

int
troupe_obj_as_int64(const msgpack_object *obj, int64_t *v)
{
	if (obj == NULL)
		return TP_ETYPE;
	if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
		*v = obj->via.i64;
		return 0;
	}
	if (obj->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return TP_ETYPE;
	if (obj->via.u64 > INT64_MAX)
		return TP_ETOOBIG;
	*v = (int64_t)obj->via.u64;
	return 0;
}

/* JSON has no bytes: binary, ext and strings that are not UTF-8 become
 * base64 text so a log line never fails on odd input. */
static json_t *
json_base64(const char *p, size_t len)
{
	size_t n = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);
	json_t *j;
	char *s;

	if ((s = malloc(n)) == NULL)
		return NULL;
	sodium_bin2base64(s, n, (const unsigned char *)p, len,
	    sodium_base64_VARIANT_ORIGINAL);
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
json_str(const char *p, size_t len)
{
	json_t *j;

	if ((j = json_stringn(p, len)) != NULL)
		return j;
	return json_base64(p, len);
}

static json_t *
json_real_or_null(double d)
{
	return isfinite(d) ? json_real(d) : json_null();
}

static json_t *
json_uint(uint64_t u)
{
	if (u > INT64_MAX)
		return json_real((double)u);
	return json_integer((json_int_t)u);
}

static int obj_json(const msgpack_object *o, unsigned depth, json_t **out);

static int
json_array_of(const msgpack_object *o, unsigned depth, json_t **out)
{
	json_t *a, *v;
	uint32_t i;
	int rv;

	if ((a = json_array()) == NULL)
		return TP_ENOMEM;
	for (i = 0; i < o->via.array.size; i++) {
		if ((rv = obj_json(&o->via.array.ptr[i], depth, &v)) != 0)
			goto out_free;
		if (json_array_append_new(a, v) != 0) {
			rv = TP_ENOMEM;
			goto out_free;
		}
	}
	*out = a;
	return 0;
out_free:
	json_decref(a);
	return rv;
}

/* A key that is not a string is written as its own compact JSON text. */
static int
json_set_key(json_t *m, const msgpack_object *k, json_t *v, unsigned depth)
{
	json_t *kj;
	char *ks;
	int rv;

	if (k->type == MSGPACK_OBJECT_STR &&
	    json_object_setn(m, k->via.str.ptr, k->via.str.size, v) == 0)
		return 0;
	if ((rv = obj_json(k, depth, &kj)) != 0)
		return rv;
	ks = json_dumps(kj, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(kj);
	if (ks == NULL)
		return TP_ENOMEM;
	rv = json_object_set(m, ks, v) == 0 ? 0 : TP_ENOMEM;
	free(ks);
	return rv;
}

static int
json_map_of(const msgpack_object *o, unsigned depth, json_t **out)
{
	const msgpack_object_kv *kv;
	json_t *m, *v;
	uint32_t i;
	int rv;

	if ((m = json_object()) == NULL)
		return TP_ENOMEM;
	for (i = 0; i < o->via.map.size; i++) {
		kv = &o->via.map.ptr[i];
		if ((rv = obj_json(&kv->val, depth, &v)) != 0)
			goto out_free;
		rv = json_set_key(m, &kv->key, v, depth);
		json_decref(v);
		if (rv != 0)
			goto out_free;
	}
	*out = m;
	return 0;
out_free:
	json_decref(m);
	return rv;
}

static json_t *
json_scalar(const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return json_null();
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return json_uint(o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer(o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return json_real_or_null(o->via.f64);
	case MSGPACK_OBJECT_STR:
		return json_str(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_BIN:
		return json_base64(o->via.bin.ptr, o->via.bin.size);
	case MSGPACK_OBJECT_EXT:
		return json_base64(o->via.ext.ptr, o->via.ext.size);
	default:
		return NULL;
	}
}

static int
obj_json(const msgpack_object *o, unsigned depth, json_t **out)
{
	if (o->type == MSGPACK_OBJECT_ARRAY || o->type == MSGPACK_OBJECT_MAP) {
		if (depth >= JSON_DEPTH_MAX)
			return TP_EDEPTH;
		if (o->type == MSGPACK_OBJECT_ARRAY)
			return json_array_of(o, depth + 1, out);
		return json_map_of(o, depth + 1, out);
	}
	if ((*out = json_scalar(o)) == NULL)
		return TP_ENOMEM;
	return 0;
}

int
troupe_obj_json(const msgpack_object *obj, struct json_t **out)
{
	return obj_json(obj, 0, out);
}

int
troupe_obj_to_json(const msgpack_object *obj, char **out)
{
	json_t *j;
	int rv;

	if ((rv = obj_json(obj, 0, &j)) != 0)
		return rv;
	*out = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	return *out != NULL ? 0 : TP_ENOMEM;
}

/* --- JSON -> msgpack ----------------------------------------------------- */

static int json_pack_value(msgpack_packer *pk, const json_t *j,
    unsigned depth);

static int
json_pack_object(msgpack_packer *pk, const json_t *j, unsigned depth)
{
	const char *key;
	size_t klen;
	json_t *v;
	int rv;

	if (msgpack_pack_map(pk, json_object_size(j)) != 0)
		return TP_ENOMEM;
	/* The macro wants a non-const object; it only reads it. */
	json_object_keylen_foreach((json_t *)(uintptr_t)j, key, klen, v) {
		if (msgpack_pack_str_with_body(pk, key, klen) != 0)
			return TP_ENOMEM;
		if ((rv = json_pack_value(pk, v, depth)) != 0)
			return rv;
	}
	return 0;
}

static int
json_pack_array(msgpack_packer *pk, const json_t *j, unsigned depth)
{
	size_t i;
	int rv;

	if (msgpack_pack_array(pk, json_array_size(j)) != 0)
		return TP_ENOMEM;
	for (i = 0; i < json_array_size(j); i++)
		if ((rv = json_pack_value(pk, json_array_get(j, i),
		    depth)) != 0)
			return rv;
	return 0;
}

static int
json_pack_scalar(msgpack_packer *pk, const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_STRING:
		return msgpack_pack_str_with_body(pk, json_string_value(j),
		    json_string_length(j));
	case JSON_INTEGER:
		return msgpack_pack_int64(pk, json_integer_value(j));
	case JSON_REAL:
		return msgpack_pack_double(pk, json_real_value(j));
	case JSON_TRUE:
		return msgpack_pack_true(pk);
	case JSON_FALSE:
		return msgpack_pack_false(pk);
	default:
		return msgpack_pack_nil(pk);
	}
}

/* depth = containers already entered above j. */
static int
json_pack_value(msgpack_packer *pk, const json_t *j, unsigned depth)
{
	if (json_is_object(j) || json_is_array(j)) {
		if (depth >= JSON_DEPTH_MAX)
			return TP_EDEPTH;
		return json_is_object(j) ? json_pack_object(pk, j, depth + 1) :
		    json_pack_array(pk, j, depth + 1);
	}
	return json_pack_scalar(pk, j) != 0 ? TP_ENOMEM : 0;
}

int
troupe_json_pack(msgpack_packer *pk, const struct json_t *j)
{
	if (j == NULL)
		return TP_EINVAL;
	return json_pack_value(pk, j, 0);
}

int
troupe_body_json(struct troupe_body *b, const struct json_t *j)
{
	int rv;

	if (b->b_err != 0)
		return b->b_err;
	/* a failure leaves half a value in the buffer: it sticks */
	if ((rv = troupe_json_pack(&b->b_pk, j)) != 0)
		b->b_err = rv;
	return rv;
}

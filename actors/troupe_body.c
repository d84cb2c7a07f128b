/*
 * troupe_body — build and read message bodies (msgpack) for actors, and
 * turn them into JSON for the ones that log or print.
 */
#include <string.h>

#include <jansson.h>

#include "tp_body.h"
#include "tp_json.h"
#include "troupe.h"

#define JSON_DEPTH_MAX TP_JSON_DEPTH_MAX

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

bool
troupe_obj_str_eq(const msgpack_object *obj, const char *s)
{
	return tp_body_is_str(obj, s);
}

const msgpack_object *
troupe_obj_map_get(const msgpack_object *obj, const char *key)
{
	return tp_body_find(obj, key, strlen(key));
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

/* The one converter (transport/tp_json), lenient: an actor's log line
 * never fails on odd input. */
int
troupe_obj_json(const msgpack_object *obj, struct json_t **out)
{
	return tp_json_from_object(obj, TP_JSON_LENIENT, out, NULL);
}

int
troupe_obj_to_json(const msgpack_object *obj, char **out)
{
	json_t *j;
	int rv;

	if ((rv = tp_json_from_object(obj, TP_JSON_LENIENT, &j, NULL)) != 0)
		return rv;
	*out = tp_json_dump(j);
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

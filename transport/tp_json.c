#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tp_body.h"
#include "tp_json.h"

/* Digits of a double that always read back exactly. */
#define REAL_DIGITS_MAX 17

struct conv {
	unsigned	 c_flags;
	struct tp_err	*c_err;
};

static int from_object(struct conv *, const msgpack_object *, unsigned,
    json_t **);

static int
nomem(struct conv *c)
{
	return tp_err_set(c->c_err, TP_ENOMEM, "out of memory");
}

static json_t *
base64_string(const char *ptr, size_t len)
{
	size_t blen = sodium_base64_ENCODED_LEN(len,
	    sodium_base64_VARIANT_ORIGINAL);
	json_t *s;
	char *b;

	if ((b = malloc(blen)) == NULL)
		return NULL;
	sodium_bin2base64(b, blen, (const unsigned char *)ptr, len,
	    sodium_base64_VARIANT_ORIGINAL);
	s = json_string_nocheck(b);	/* base64 is ASCII */
	free(b);
	return s;
}

static int
real_value(struct conv *c, double d, json_t **out)
{
	if (!isfinite(d)) {
		if (!(c->c_flags & TP_JSON_LENIENT))
			return tp_err_set(c->c_err, TP_ETYPE, "%s has no JSON "
			    "form", isnan(d) ? "NaN" : "infinity");
		*out = json_null();
	} else
		*out = json_real(d);
	return *out != NULL ? 0 : nomem(c);
}

static int
string_value(struct conv *c, const char *ptr, size_t len, json_t **out)
{
	if ((*out = json_stringn(len ? ptr : "", len)) != NULL)
		return 0;
	if (!(c->c_flags & TP_JSON_LENIENT))
		return tp_err_set(c->c_err, TP_ETYPE, "a string of %zu bytes "
		    "is not valid UTF-8", len);
	return (*out = base64_string(ptr, len)) != NULL ? 0 : nomem(c);
}

static int
scalar_value(struct conv *c, const msgpack_object *o, json_t **out)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		*out = json_null();
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		*out = json_boolean(o->via.boolean);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX)
			return real_value(c, (double)o->via.u64, out);
		*out = json_integer((json_int_t)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*out = json_integer(o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return real_value(c, o->via.f64, out);
	case MSGPACK_OBJECT_STR:
		return string_value(c, o->via.str.ptr, o->via.str.size, out);
	case MSGPACK_OBJECT_BIN:
		*out = base64_string(o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_EXT:
		*out = base64_string(o->via.ext.ptr, o->via.ext.size);
		break;
	default:
		return tp_err_set(c->c_err, TP_ETYPE, "unknown msgpack type "
		    "%d", (int)o->type);
	}
	return *out != NULL ? 0 : nomem(c);
}

static int
array_value(struct conv *c, const msgpack_object *o, unsigned depth,
    json_t **out)
{
	json_t *a, *v;
	int rv;

	if ((a = json_array()) == NULL)
		return nomem(c);
	for (uint32_t i = 0; i < o->via.array.size; i++) {
		if ((rv = from_object(c, &o->via.array.ptr[i], depth,
		    &v)) != 0)
			goto out_free_array;
		if (json_array_append_new(a, v) != 0) {
			rv = nomem(c);
			goto out_free_array;
		}
	}
	*out = a;
	return 0;
out_free_array:
	json_decref(a);
	return rv;
}

/* A key that is not a UTF-8 string becomes the text of its conversion:
 * a JSON string's own text, anything else its compact JSON. */
static int
key_text(struct conv *c, const msgpack_object *k, unsigned depth,
    char **text)
{
	json_t *j;
	int rv;

	if ((rv = from_object(c, k, depth, &j)) != 0)
		return rv;
	*text = json_is_string(j) ? strdup(json_string_value(j)) :
	    tp_json_dump(j);
	json_decref(j);
	return *text != NULL ? 0 : nomem(c);
}

static int
map_set(struct conv *c, json_t *m, const msgpack_object_kv *kv,
    unsigned depth)
{
	const msgpack_object *k = &kv->key;
	char *text = NULL;
	const char *key;
	size_t klen;
	json_t *v;
	int rv;

	if (k->type == MSGPACK_OBJECT_STR) {
		key = k->via.str.size ? k->via.str.ptr : "";
		klen = k->via.str.size;
	} else {
		if ((rv = key_text(c, k, depth, &text)) != 0)
			return rv;
		key = text;
		klen = strlen(text);
	}
	if ((rv = from_object(c, &kv->val, depth, &v)) != 0)
		goto out_free_text;
	/* Takes v even when it fails (a key that is not UTF-8). */
	if (json_object_setn_new(m, key, klen, v) == 0)
		goto out_free_text;
	if (!(c->c_flags & TP_JSON_LENIENT) || text != NULL) {
		rv = tp_err_set(c->c_err, TP_ETYPE, "a map key of %zu bytes "
		    "is not valid UTF-8", klen);
		goto out_free_text;
	}
	/* lenient: the key's base64 text, and the value once more */
	if ((rv = key_text(c, k, depth, &text)) == 0 &&
	    (rv = from_object(c, &kv->val, depth, &v)) == 0 &&
	    json_object_set_new(m, text, v) != 0)
		rv = nomem(c);
out_free_text:
	free(text);
	return rv;
}

static int
map_value(struct conv *c, const msgpack_object *o, unsigned depth,
    json_t **out)
{
	json_t *m;
	int rv;

	if ((m = json_object()) == NULL)
		return nomem(c);
	for (uint32_t i = 0; i < o->via.map.size; i++)
		if ((rv = map_set(c, m, &o->via.map.ptr[i], depth)) != 0) {
			json_decref(m);
			return rv;
		}
	*out = m;
	return 0;
}

/* depth = containers already entered above o. */
static int
from_object(struct conv *c, const msgpack_object *o, unsigned depth,
    json_t **out)
{
	if (o->type != MSGPACK_OBJECT_ARRAY && o->type != MSGPACK_OBJECT_MAP)
		return scalar_value(c, o, out);
	if (depth >= TP_JSON_DEPTH_MAX)
		return tp_err_set(c->c_err, TP_EDEPTH, "msgpack nests deeper "
		    "than %d levels", TP_JSON_DEPTH_MAX);
	if (o->type == MSGPACK_OBJECT_ARRAY)
		return array_value(c, o, depth + 1, out);
	return map_value(c, o, depth + 1, out);
}

int
tp_json_from_object(const msgpack_object *o, unsigned flags, json_t **out,
    struct tp_err *err)
{
	struct conv c = { flags, err };

	return from_object(&c, o, 0, out);
}

int
tp_json_from_msgpack(const void *buf, size_t len, unsigned flags,
    json_t **out, struct tp_err *err)
{
	msgpack_object obj;
	msgpack_zone zone;
	int rv;

	if (!msgpack_zone_init(&zone, 2048))
		return tp_err_set(err, TP_ENOMEM, "out of memory");
	if ((rv = tp_body_unpack(buf, len, TP_JSON_DEPTH_MAX, &zone, &obj,
	    err)) == 0)
		rv = tp_json_from_object(&obj, flags, out, err);
	msgpack_zone_destroy(&zone);
	return rv;
}

/* ---- dump ---- */

static int
real_digits(double d)
{
	char buf[40];
	int p;

	for (p = 1; p < REAL_DIGITS_MAX; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			return p;
	}
	return REAL_DIGITS_MAX;
}

/* The most digits any real in j needs; past a depth no converter gives
 * (parsed JSON may nest deeper), all 17. */
static int
max_digits(const json_t *j, unsigned depth)
{
	const char *key;
	json_t *v;
	size_t i;
	int p = 1, q;

	if (json_is_real(j))
		return real_digits(json_real_value(j));
	if (!json_is_object(j) && !json_is_array(j))
		return 1;
	if (depth > 4 * TP_JSON_DEPTH_MAX)
		return REAL_DIGITS_MAX;
	if (json_is_array(j))
		json_array_foreach(j, i, v)
			if ((q = max_digits(v, depth + 1)) > p)
				p = q;
	if (json_is_object(j))
		json_object_foreach((json_t *)(uintptr_t)j, key, v)
			if ((q = max_digits(v, depth + 1)) > p)
				p = q;
	return p;
}

char *
tp_json_dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(max_digits(j, 0)));
}

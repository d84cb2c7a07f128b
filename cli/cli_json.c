#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli_json.h"
#include "tp_mpck.h"
#include "troupe.h"

/* Digits of a double that always read back exactly. */
#define REAL_DIGITS_MAX 17

int
cli_json_parse(const char *text, size_t lineno, json_t **out,
    struct tp_err *err)
{
	json_error_t jerr;
	json_t *j;

	j = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES |
	    JSON_ALLOW_NUL, &jerr);
	if (j == NULL)
		return tp_err_set(err, TP_EINVAL, "invalid JSON at line %zu "
		    "column %d: %s", lineno ? lineno : (size_t)jerr.line,
		    jerr.column, jerr.text);
	*out = j;
	return 0;
}

/* ---- JSON -> msgpack ---- */

/* The conversion lives in libtroupe (troupe_json_pack), shared with the
 * stdio actor shim; the CLI only words its errors. */
int
cli_json_pack(msgpack_packer *pk, const json_t *j, struct tp_err *err)
{
	int rv = troupe_json_pack(pk, j);

	if (rv == TP_EDEPTH)
		return tp_err_set(err, rv, "JSON nests deeper than %d levels",
		    CLI_JSON_MAX_DEPTH);
	if (rv == TP_EINVAL)
		return tp_err_set(err, rv, "no JSON value");
	if (rv != 0)
		return tp_err_set(err, rv, "cannot pack a value");
	return 0;
}

int
cli_json_to_msgpack(const json_t *j, msgpack_sbuffer *sb,
    struct tp_err *err)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	return cli_json_pack(&pk, j, err);
}

/* ---- msgpack -> JSON ---- */

static int from_object(const msgpack_object *, unsigned, json_t **,
    struct tp_err *);

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
real_value(double d, json_t **out, struct tp_err *err)
{
	if (!isfinite(d))
		return tp_err_set(err, TP_ETYPE, "%s has no JSON form",
		    isnan(d) ? "NaN" : "infinity");
	if ((*out = json_real(d)) == NULL)
		return tp_err_set(err, TP_ENOMEM, "out of memory");
	return 0;
}

static int
string_value(const char *ptr, size_t len, json_t **out, struct tp_err *err)
{
	if ((*out = json_stringn(len ? ptr : "", len)) == NULL)
		return tp_err_set(err, TP_ETYPE, "a string of %zu bytes is "
		    "not valid UTF-8", len);
	return 0;
}

static int
scalar_value(const msgpack_object *o, json_t **out, struct tp_err *err)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		*out = json_null();
		return 0;
	case MSGPACK_OBJECT_BOOLEAN:
		*out = json_boolean(o->via.boolean);
		return 0;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > INT64_MAX)
			return real_value((double)o->via.u64, out, err);
		*out = json_integer((json_int_t)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		*out = json_integer(o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return real_value(o->via.f64, out, err);
	case MSGPACK_OBJECT_STR:
		return string_value(o->via.str.ptr, o->via.str.size, out, err);
	case MSGPACK_OBJECT_BIN:
		*out = base64_string(o->via.bin.ptr, o->via.bin.size);
		break;
	case MSGPACK_OBJECT_EXT:
		*out = base64_string(o->via.ext.ptr, o->via.ext.size);
		break;
	default:
		return tp_err_set(err, TP_ETYPE, "unknown msgpack type %d",
		    (int)o->type);
	}
	return *out ? 0 : tp_err_set(err, TP_ENOMEM, "out of memory");
}

static int
array_value(const msgpack_object *o, unsigned depth, json_t **out,
    struct tp_err *err)
{
	json_t *a, *v;
	uint32_t i;
	int rv;

	if ((a = json_array()) == NULL)
		return tp_err_set(err, TP_ENOMEM, "out of memory");
	for (i = 0; i < o->via.array.size; i++) {
		if ((rv = from_object(&o->via.array.ptr[i], depth, &v,
		    err)) != 0)
			goto out_free_array;
		if (json_array_append_new(a, v) != 0) {
			rv = tp_err_set(err, TP_ENOMEM, "out of memory");
			goto out_free_array;
		}
	}
	*out = a;
	return 0;
out_free_array:
	json_decref(a);
	return rv;
}

/* A key that is not a string becomes its compact JSON text (or base64). */
static int
key_text(const msgpack_object *k, unsigned depth, char **text,
    struct tp_err *err)
{
	json_t *j;
	int rv;

	if ((rv = from_object(k, depth, &j, err)) != 0)
		return rv;
	*text = json_is_string(j) ? strdup(json_string_value(j)) :
	    cli_json_dump(j);
	json_decref(j);
	if (*text == NULL)
		return tp_err_set(err, TP_ENOMEM, "out of memory");
	return 0;
}

static int
map_set(json_t *m, const msgpack_object_kv *kv, unsigned depth,
    struct tp_err *err)
{
	char *text = NULL;
	const char *key;
	size_t klen;
	json_t *v;
	int rv;

	if (kv->key.type == MSGPACK_OBJECT_STR) {
		key = kv->key.via.str.size ? kv->key.via.str.ptr : "";
		klen = kv->key.via.str.size;
	} else {
		if ((rv = key_text(&kv->key, depth, &text, err)) != 0)
			return rv;
		key = text;
		klen = strlen(text);
	}
	if ((rv = from_object(&kv->val, depth, &v, err)) != 0)
		goto out_free_text;
	/* Takes v even when it fails (a key that is not UTF-8). */
	if (json_object_setn_new(m, key, klen, v) != 0)
		rv = tp_err_set(err, TP_ETYPE, "a map key of %zu bytes is not "
		    "valid UTF-8", klen);
out_free_text:
	free(text);
	return rv;
}

static int
map_value(const msgpack_object *o, unsigned depth, json_t **out,
    struct tp_err *err)
{
	json_t *m;
	uint32_t i;
	int rv;

	if ((m = json_object()) == NULL)
		return tp_err_set(err, TP_ENOMEM, "out of memory");
	for (i = 0; i < o->via.map.size; i++)
		if ((rv = map_set(m, &o->via.map.ptr[i], depth, err)) != 0) {
			json_decref(m);
			return rv;
		}
	*out = m;
	return 0;
}

/* depth = containers already entered above o. */
static int
from_object(const msgpack_object *o, unsigned depth, json_t **out,
    struct tp_err *err)
{
	if (o->type != MSGPACK_OBJECT_ARRAY && o->type != MSGPACK_OBJECT_MAP)
		return scalar_value(o, out, err);
	if (depth >= CLI_JSON_MAX_DEPTH)
		return tp_err_set(err, TP_EDEPTH, "msgpack nests deeper than "
		    "%d levels", CLI_JSON_MAX_DEPTH);
	if (o->type == MSGPACK_OBJECT_ARRAY)
		return array_value(o, depth + 1, out, err);
	return map_value(o, depth + 1, out, err);
}

int
cli_json_from_object(const msgpack_object *o, json_t **out,
    struct tp_err *err)
{
	return from_object(o, 0, out, err);
}

int
cli_json_from_msgpack(const void *buf, size_t len, json_t **out,
    struct tp_err *err)
{
	msgpack_object obj;
	msgpack_zone zone;
	size_t off = 0;
	int rv;

	if (len == 0) {
		*out = json_null();
		return 0;
	}
	if ((rv = tp_mpck_walk(buf, len, &off, CLI_JSON_MAX_DEPTH, err)) != 0)
		return rv;
	if (off != len)
		return tp_err_set(err, TP_ETRAILING, "%zu bytes after the "
		    "msgpack value", len - off);
	if (!msgpack_zone_init(&zone, 2048))
		return tp_err_set(err, TP_ENOMEM, "out of memory");
	off = 0;
	if (msgpack_unpack(buf, len, &off, &zone, &obj) !=
	    MSGPACK_UNPACK_SUCCESS)
		rv = tp_err_set(err, TP_ETYPE, "msgpack does not unpack");
	else
		rv = from_object(&obj, 0, out, err);
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

/* The most digits any real in j needs; past the depth limit, all 17. */
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
	if (depth > 4 * CLI_JSON_MAX_DEPTH)
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
cli_json_dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(max_digits(j, 0)));
}

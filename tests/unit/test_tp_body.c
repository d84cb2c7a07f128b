/*
 * tp_body: every getter's type and size checks, missing, unknown and
 * trailing fields, sticky errors, count and depth bounds, and hostile
 * bytes through tp_body_unpack (refused before msgpack-c allocates).
 */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tp_body.h"

static msgpack_sbuffer sb;
static msgpack_packer pk;
static msgpack_zone zone;
static msgpack_object obj;
static struct tp_err err;

static void
setup(void)
{
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	cr_assert(msgpack_zone_init(&zone, 1024));
	memset(&err, 0, sizeof(err));
}

static void
teardown(void)
{
	msgpack_sbuffer_destroy(&sb);
	msgpack_zone_destroy(&zone);
}

TestSuite(tp_body, .init = setup, .fini = teardown);

static void
kstr(const char *k, const char *v)
{
	msgpack_pack_str_with_body(&pk, k, strlen(k));
	msgpack_pack_str_with_body(&pk, v, strlen(v));
}

static void
kuint(const char *k, uint64_t v)
{
	msgpack_pack_str_with_body(&pk, k, strlen(k));
	msgpack_pack_uint64(&pk, v);
}

static void
key(const char *k)
{
	msgpack_pack_str_with_body(&pk, k, strlen(k));
}

/* Unpacks what pk wrote into obj. */
static const msgpack_object *
done(void)
{
	cr_assert_eq(tp_body_unpack(sb.data, sb.size, 8, &zone, &obj, &err),
	    0, "%s", err.e_msg);
	return &obj;
}

static int
unpack_bytes(const void *p, size_t n)
{
	return tp_body_unpack(p, n, 8, &zone, &obj, &err);
}

/* --- tp_body_unpack ---------------------------------------------------- */

Test(tp_body, unpack_bounds)
{
	static const uint8_t huge_map[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t huge_arr[] = { 0xdd, 0x00, 0x40, 0x00, 0x00 };
	static const uint8_t huge_str[] = { 0xdb, 0x7f, 0xff, 0xff, 0xff };
	static const uint8_t trailing[] = { 0x01, 0x02 };
	static const uint8_t reserved[] = { 0x91, 0xc1 };
	static const uint8_t trunc[] = { 0x81, 0xa1, 'a' };
	uint8_t deep[40];

	cr_expect_eq(unpack_bytes(huge_map, sizeof(huge_map)), TP_ETOOBIG);
	cr_expect_eq(unpack_bytes(huge_arr, sizeof(huge_arr)), TP_ETOOBIG);
	cr_expect_eq(unpack_bytes(huge_str, sizeof(huge_str)), TP_ETRUNC);
	cr_expect_eq(unpack_bytes(trailing, sizeof(trailing)), TP_ETRAILING);
	cr_expect_eq(unpack_bytes(reserved, sizeof(reserved)), TP_ETYPE);
	cr_expect_eq(unpack_bytes(trunc, sizeof(trunc)), TP_ETRUNC);
	cr_expect_eq(unpack_bytes("", 0), 0);
	cr_expect_eq(obj.type, MSGPACK_OBJECT_NIL);
	memset(deep, 0x91, sizeof(deep));	/* [[[[...]]]] */
	deep[8] = 0xc0;
	cr_expect_eq(unpack_bytes(deep, 9), 0, "8 levels: %s", err.e_msg);
	deep[8] = 0x91;
	deep[9] = 0xc0;
	cr_expect_eq(unpack_bytes(deep, 10), TP_EDEPTH);
	deep[9] = 0x91;
	deep[39] = 0xc0;			/* past TP_MPCK_DEPTH_MAX */
	cr_expect_eq(tp_body_unpack(deep, 40, 100, &zone, &obj, &err),
	    TP_EDEPTH);
}

/* --- open ---------------------------------------------------------------- */

Test(tp_body, open_refuses_non_maps_and_bad_keys)
{
	struct tp_body b;

	msgpack_pack_array(&pk, 1);
	msgpack_pack_nil(&pk);
	cr_expect_eq(tp_body_open(&b, done(), 0, "ctl", &err), TP_ETYPE);
	cr_expect_str_eq(err.e_msg, "ctl: body is not a map");
	cr_expect_eq(tp_body_end(&b), TP_ETYPE, "the open error sticks");

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 2);
	kuint("a", 1);
	msgpack_pack_int(&pk, 7);
	msgpack_pack_nil(&pk);
	cr_expect_eq(tp_body_open(&b, done(), 0, NULL, &err), TP_ETYPE);
	cr_expect_str_eq(err.e_msg, "key 1 is not a string");
	cr_expect_eq(tp_body_open(&b, &obj, TP_BODY_LAX, NULL, &err), 0,
	    "lax maps ignore keys that are not strings");

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 2);
	kuint("a", 1);
	kuint("a", 2);
	cr_expect_eq(tp_body_open(&b, done(), 0, NULL, &err), TP_EINVAL);
	cr_expect_str_eq(err.e_msg, "duplicate key \"a\"");
	cr_expect_eq(tp_body_open(&b, &obj, TP_BODY_LAX, NULL, &err), 0);
	cr_expect_eq(tp_body_open(&b, NULL, 0, NULL, &err),
	    TP_ETYPE);
}

Test(tp_body, strict_key_count_bound)
{
	struct tp_body b;
	char k[16];	/* "k" and any int: -O1 cannot bound i */
	uint64_t v;

	msgpack_pack_map(&pk, TP_BODY_KEYS_MAX);
	for (int i = 0; i < TP_BODY_KEYS_MAX; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		kuint(k, (uint64_t)i);
	}
	cr_assert_eq(tp_body_open(&b, done(), 0, NULL, &err), 0);
	for (int i = 0; i < TP_BODY_KEYS_MAX; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		cr_expect_eq(tp_body_uint(&b, k, 0, 0, 100, &v), 0);
		cr_expect_eq(v, (uint64_t)i);
	}
	cr_expect_eq(tp_body_end(&b), 0, "all 64 taken: %s", err.e_msg);

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, TP_BODY_KEYS_MAX + 1);
	for (int i = 0; i <= TP_BODY_KEYS_MAX; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		kuint(k, (uint64_t)i);
	}
	cr_expect_eq(tp_body_open(&b, done(), 0, NULL, &err), TP_ETOOBIG);
	cr_expect_str_eq(err.e_msg, "body has 65 pairs, over 64");
	cr_expect_eq(tp_body_open(&b, &obj, TP_BODY_LAX, NULL, &err), 0);
	cr_expect_eq(tp_body_uint(&b, "k64", 0, 0, 100, &v), 0);
	cr_expect_eq(v, 64);
	cr_expect_eq(tp_body_end(&b), 0);
}

/* --- getters ------------------------------------------------------------- */

Test(tp_body, str_checks)
{
	struct tp_body b;
	const char *p = NULL;
	size_t n = 0;
	char buf[4];

	msgpack_pack_map(&pk, 6);
	kstr("s", "abc");
	kstr("e", "");
	kuint("u", 3);
	key("z");
	msgpack_pack_str_with_body(&pk, "a\0b", 3);
	kstr("long", "abcd");
	kstr("ok", "xyz");
	cr_assert_eq(tp_body_open(&b, done(), 0, "t", &err), 0);
	cr_expect_eq(tp_body_str(&b, "s", 0, 3, &p, &n), 0);
	cr_expect(n == 3 && memcmp(p, "abc", 3) == 0);
	cr_expect_eq(tp_body_str(&b, "e", 0, 3, &p, &n), 0);
	cr_expect_eq(n, 0);
	cr_expect_eq(tp_body_str(&b, "z", 0, 3, &p, &n), 0, "NUL allowed "
	    "unless NONUL");
	cr_expect_eq(tp_body_strz(&b, "ok", 0, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "xyz");
	cr_expect_eq(tp_body_str(&b, "missing", TP_BODY_OPT, 3, &p, &n),
	    TP_BODY_ABSENT);
	cr_expect_eq(tp_body_strz(&b, "long", 0, buf, sizeof(buf)),
	    TP_ETOOBIG);
	cr_expect_str_eq(err.e_msg, "t: \"long\" has 4 bytes, over 3");
	cr_expect_str_eq(buf, "");
	cr_expect_eq(tp_body_end(&b), TP_ETOOBIG, "sticks to the end");

	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_str(&b, "u", 0, 9, &p, &n), TP_ETYPE);
	cr_expect_str_eq(err.e_msg, "\"u\" is not a string");
	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_str(&b, "e", TP_BODY_NONEMPTY, 9, &p, &n),
	    TP_EINVAL);
	cr_expect_str_eq(err.e_msg, "\"e\" is empty");
	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_str(&b, "z", TP_BODY_NONUL, 9, &p, &n),
	    TP_EINVAL);
	cr_expect_str_eq(err.e_msg, "\"z\" has a NUL byte");
	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_strz(&b, "z", 0, buf, sizeof(buf)), TP_EINVAL,
	    "strz never gives a truncated C string");
	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_str(&b, "nope", 0, 9, &p, &n), TP_EINVAL);
	cr_expect_str_eq(err.e_msg, "missing \"nope\"");
}

Test(tp_body, uint_and_int_ranges)
{
	struct tp_body b;
	uint64_t u = 99;
	int64_t i = 99;

	msgpack_pack_map(&pk, 5);
	kuint("zero", 0);
	kuint("max", UINT64_MAX);
	key("neg");
	msgpack_pack_int64(&pk, -5);
	kstr("s", "1");
	key("f");
	msgpack_pack_double(&pk, 1.0);
	cr_assert_eq(tp_body_open(&b, done(), 0, NULL, &err), 0);
	cr_expect_eq(tp_body_uint(&b, "zero", 0, 0, 0, &u), 0);
	cr_expect_eq(u, 0);
	cr_expect_eq(tp_body_uint(&b, "max", 0, 0, UINT64_MAX, &u), 0);
	cr_expect_eq(u, UINT64_MAX);
	cr_expect_eq(tp_body_int(&b, "neg", 0, -5, 5, &i), 0);
	cr_expect_eq(i, -5);
	cr_expect_eq(tp_body_int(&b, "zero", 0, 0, 0, &i), 0);
	tp_body_skip(&b, "s");
	tp_body_skip(&b, "f");
	cr_expect_eq(tp_body_end(&b), 0, "%s", err.e_msg);

	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_uint(&b, "zero", 0, 1, 10, &u), TP_ETOOBIG);
	cr_expect_str_eq(err.e_msg, "\"zero\" is 0, not in 1..10");
	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_uint(&b, "neg", 0, 0, 10, &u), TP_ETYPE);
	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_uint(&b, "s", 0, 0, 10, &u), TP_ETYPE);
	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_uint(&b, "f", 0, 0, 10, &u), TP_ETYPE);
	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_int(&b, "max", 0, INT64_MIN, INT64_MAX, &i),
	    TP_ETOOBIG, "over INT64_MAX");
	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_int(&b, "neg", 0, -4, 4, &i), TP_ETOOBIG);
	cr_expect_str_eq(err.e_msg, "\"neg\" is -5, not in -4..4");
	tp_body_open(&b, &obj, 0, NULL, &err);
	i = 42;
	cr_expect_eq(tp_body_int(&b, "s", 0, -4, 4, &i), TP_ETYPE);
	cr_expect_eq(i, 42, "untouched on error");
}

Test(tp_body, bool_and_bin)
{
	struct tp_body b;
	const uint8_t *p;
	size_t n;
	bool v = false;

	msgpack_pack_map(&pk, 4);
	key("t");
	msgpack_pack_true(&pk);
	key("bin");
	msgpack_pack_bin_with_body(&pk, "\x00\x01\x02", 3);
	key("empty");
	msgpack_pack_bin(&pk, 0);
	kstr("s", "abc");
	cr_assert_eq(tp_body_open(&b, done(), 0, NULL, &err), 0);
	cr_expect_eq(tp_body_bool(&b, "t", 0, &v), 0);
	cr_expect(v);
	cr_expect_eq(tp_body_bin(&b, "bin", 0, 3, &p, &n), 0);
	cr_expect(n == 3 && p[2] == 2);
	cr_expect_eq(tp_body_bin(&b, "empty", 0, 3, &p, &n), 0);
	cr_expect_eq(n, 0);
	cr_expect_eq(tp_body_bool(&b, "nob", TP_BODY_OPT, &v), TP_BODY_ABSENT);
	cr_expect_eq(tp_body_bin(&b, "s", 0, 9, &p, &n), TP_ETYPE,
	    "a str is not bin");
	cr_expect_str_eq(err.e_msg, "\"s\" is not bin");

	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_bin(&b, "bin", 0, 2, &p, &n), TP_ETOOBIG);
	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_bin(&b, "empty", TP_BODY_NONEMPTY, 2, &p, &n),
	    TP_EINVAL);
	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_bool(&b, "s", 0, &v), TP_ETYPE);
	cr_expect_str_eq(err.e_msg, "\"s\" is not a boolean");
}

/* --- end check, stickiness ----------------------------------------------- */

Test(tp_body, end_rejects_unknown_and_keeps_first_error)
{
	struct tp_body b;
	const char *p;
	size_t n;
	uint64_t u = 7;

	msgpack_pack_map(&pk, 3);
	kstr("op", "spawn");
	kstr("name", "x");
	kuint("stray", 1);
	cr_assert_eq(tp_body_open(&b, done(), 0, "spawn", &err), 0);
	tp_body_skip(&b, "op");
	cr_expect_eq(tp_body_str(&b, "name", 0, 9, &p, &n), 0);
	cr_expect_eq(tp_body_end(&b), TP_EINVAL);
	cr_expect_str_eq(err.e_msg, "spawn: unknown field \"stray\"");

	tp_body_open(&b, &obj, TP_BODY_LAX, "spawn", &err);
	cr_expect_eq(tp_body_str(&b, "name", 0, 9, &p, &n), 0);
	cr_expect_eq(tp_body_end(&b), 0, "lax ignores the rest");

	/* the first error wins; later getters do not touch their outputs */
	tp_body_open(&b, &obj, 0, "spawn", &err);
	cr_expect_eq(tp_body_uint(&b, "name", 0, 0, 9, &u), TP_ETYPE);
	cr_expect_eq(tp_body_uint(&b, "stray", 0, 0, 9, &u), TP_ETYPE);
	cr_expect_eq(u, 7);
	cr_expect_eq(tp_body_str(&b, "absent", 0, 9, &p, &n), TP_ETYPE);
	cr_expect_eq(tp_body_end(&b), TP_ETYPE);
	cr_expect_eq(tp_body_error(&b), TP_ETYPE);
	cr_expect_str_eq(err.e_msg, "spawn: \"name\" is not an unsigned "
	    "integer");

	/* a NULL err is fine */
	tp_body_open(&b, &obj, 0, NULL, NULL);
	cr_expect_eq(tp_body_end(&b), TP_EINVAL);
}

Test(tp_body, array_cursor_in_order_and_trailing)
{
	struct tp_body b;
	const char *p;
	size_t n;
	uint64_t u;

	msgpack_pack_array(&pk, 3);
	msgpack_pack_str_with_body(&pk, "a", 1);
	msgpack_pack_uint8(&pk, 5);
	msgpack_pack_str_with_body(&pk, "b", 1);
	cr_assert_eq(tp_body_open_array(&b, done(), 3, 3, "beacon", &err), 0);
	cr_expect_eq(tp_body_str(&b, NULL, 0, 1, &p, &n), 0);
	cr_expect_eq(tp_body_uint(&b, NULL, 0, 0, 9, &u), 0);
	cr_expect_eq(u, 5);
	cr_expect_eq(tp_body_end(&b), TP_ETRAILING);
	cr_expect_str_eq(err.e_msg, "beacon: 1 elements after the last one "
	    "read");

	tp_body_open_array(&b, &obj, 0, 9, "beacon", &err);
	cr_expect_eq(tp_body_str(&b, NULL, 0, 1, &p, &n), 0);
	cr_expect_eq(tp_body_str(&b, NULL, 0, 1, &p, &n), TP_ETYPE);
	cr_expect_str_eq(err.e_msg, "beacon: element 1 is not a string");

	tp_body_open_array(&b, &obj, 0, 9, NULL, &err);
	tp_body_skip(&b, NULL);
	tp_body_skip(&b, NULL);
	tp_body_skip(&b, NULL);
	cr_expect_eq(tp_body_uint(&b, NULL, TP_BODY_OPT, 0, 9, &u),
	    TP_BODY_ABSENT);
	cr_expect_eq(tp_body_end(&b), 0);
	cr_expect_eq(tp_body_uint(&b, NULL, 0, 0, 9, &u), TP_EINVAL);
	cr_expect_str_eq(err.e_msg, "missing element 3");

	cr_expect_eq(tp_body_open_array(&b, &obj, 4, 9, NULL, &err),
	    TP_EINVAL);
	cr_expect_str_eq(err.e_msg, "body has 3 elements, not 4..9");
	cr_expect_eq(tp_body_open_array(&b, &obj, 0, 2, NULL, &err),
	    TP_ETOOBIG);
	cr_expect_eq(tp_body_open(&b, &obj, 0, NULL, &err), TP_ETYPE);
	tp_body_open_array(&b, &obj, 0, 9, NULL, &err);
	cr_expect_eq(tp_body_uint(&b, "k", 0, 0, 9, &u), TP_EINVAL,
	    "a key asked of an array");
}

/* --- nested -------------------------------------------------------------- */

/* {"op":"names","names":[["a","up",1],["b",2,3],["c","up",3,4]],
 *  "opt":{"x":1}} */
static void
pack_names(void)
{
	msgpack_pack_map(&pk, 3);
	kstr("op", "names");
	key("names");
	msgpack_pack_array(&pk, 3);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_str_with_body(&pk, "a", 1);
	msgpack_pack_str_with_body(&pk, "up", 2);
	msgpack_pack_uint8(&pk, 1);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_str_with_body(&pk, "b", 1);
	msgpack_pack_uint8(&pk, 2);
	msgpack_pack_uint8(&pk, 3);
	msgpack_pack_array(&pk, 4);
	msgpack_pack_str_with_body(&pk, "c", 1);
	msgpack_pack_str_with_body(&pk, "up", 2);
	msgpack_pack_uint8(&pk, 3);
	msgpack_pack_uint8(&pk, 4);
	key("opt");
	msgpack_pack_map(&pk, 1);
	kuint("x", 1);
}

/* One [name, state, pid] entry; 0 or its error. */
static int
read_entry(struct tp_body *list)
{
	struct tp_body e;
	char name[8], state[8];
	uint64_t pid;

	tp_body_array(list, NULL, 0, 3, &e);
	tp_body_strz(&e, NULL, TP_BODY_NONEMPTY, name, sizeof(name));
	tp_body_strz(&e, NULL, 0, state, sizeof(state));
	tp_body_uint(&e, NULL, 0, 0, UINT32_MAX, &pid);
	return tp_body_end(&e);
}

Test(tp_body, nested_errors_stay_in_the_sub_cursor)
{
	struct tp_body b, list, m, none;
	uint64_t x;
	int good = 0;

	pack_names();
	cr_assert_eq(tp_body_open(&b, done(), 0, "names", &err), 0);
	tp_body_skip(&b, "op");
	cr_assert_eq(tp_body_array(&b, "names", 0, 16, &list), 0);
	for (int i = 0; i < 3; i++)
		good += read_entry(&list) == 0;
	cr_expect_eq(good, 1, "only the first entry is well formed");
	cr_expect_eq(tp_body_end(&list), 0, "bad entries do not fail the "
	    "list");
	cr_expect_eq(read_entry(&list), TP_EINVAL, "past the end: missing");
	cr_expect_eq(tp_body_end(&list), TP_EINVAL);
	cr_expect_eq(tp_body_map(&b, "opt", 0, 4, &m), 0);
	cr_expect_eq(tp_body_uint(&m, "x", 0, 0, 1, &x), 0);
	cr_expect_eq(tp_body_end(&m), 0);
	cr_expect_eq(tp_body_map(&b, "absent", TP_BODY_OPT, 4, &none),
	    TP_BODY_ABSENT);
	cr_expect_eq(tp_body_uint(&none, "x", TP_BODY_OPT, 0, 1, &x),
	    TP_BODY_ABSENT);
	cr_expect_eq(tp_body_end(&none), 0, "an absent sub is empty");
	cr_expect_eq(tp_body_end(&b), 0, "%s", err.e_msg);

	tp_body_open(&b, &obj, 0, "names", &err);
	cr_expect_eq(tp_body_array(&b, "names", 0, 2, &list), 0);
	cr_expect_str_eq(err.e_msg, "names: \"names\" has 3 elements, not "
	    "0..2");
	cr_expect_eq(tp_body_end(&list), TP_ETOOBIG);
	cr_expect_eq(tp_body_error(&b), 0, "the parent is not failed");
	cr_expect_eq(tp_body_map(&b, "names", 0, 4, &m), 0);
	cr_expect_eq(tp_body_end(&m), TP_ETYPE);
	cr_expect_str_eq(err.e_msg, "names: \"names\" is not a map");
	tp_body_array(&b, "op", 0, 4, &m);
	cr_expect_eq(tp_body_error(&m), TP_ETYPE);
	tp_body_map(&b, "opt", 0, 0, &m);
	cr_expect_eq(tp_body_end(&m), TP_ETOOBIG);
	cr_expect_eq(tp_body_map(&b, "nope", 0, 4, &m), TP_EINVAL);
	cr_expect_eq(tp_body_end(&m), TP_EINVAL, "a missing sub is failed");
	cr_expect_eq(tp_body_end(&b), TP_EINVAL);
	cr_expect_str_eq(err.e_msg, "names: missing \"nope\"");
}

Test(tp_body, value_find_and_compare)
{
	struct tp_body b;
	const msgpack_object *v;

	pack_names();
	done();
	cr_expect(tp_body_is_str(tp_body_find(&obj, "op", 2), "names"));
	cr_expect_null(tp_body_find(&obj, "o", 1));
	cr_expect_null(tp_body_find(NULL, "op", 2));
	cr_expect_null(tp_body_find(&obj.via.map.ptr[1].val, "op", 2));
	cr_expect(!tp_body_is_str(NULL, "x"));
	cr_expect(tp_body_streq("ab", 2, "ab"));
	cr_expect(!tp_body_streq("ab", 2, "abc"));
	cr_expect(tp_body_streq(NULL, 0, ""));
	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_value(&b, "names", 0, &v), 0);
	cr_expect_eq(v->type, MSGPACK_OBJECT_ARRAY);
	cr_expect_eq(tp_body_value(&b, "x", TP_BODY_OPT, &v), TP_BODY_ABSENT);
	cr_expect_eq(tp_body_end(&b), TP_EINVAL, "op and opt untaken");
}

/* Every prefix of a valid body is refused cleanly, and so is every
 * single-byte change that still unpacks (no crash, no stray success that
 * gives garbage). */
Test(tp_body, hostile_prefixes_and_flips)
{
	msgpack_sbuffer copy;
	struct tp_body b, list;

	pack_names();
	msgpack_sbuffer_init(&copy);
	msgpack_sbuffer_write(&copy, sb.data, sb.size);
	for (size_t cut = 1; cut < copy.size; cut++)
		cr_expect_neq(unpack_bytes(copy.data, cut), 0, "cut %zu", cut);
	for (size_t at = 0; at < copy.size; at++)
		for (int bit = 0; bit < 8; bit++) {
			copy.data[at] ^= (char)(1 << bit);
			msgpack_zone_clear(&zone);
			if (unpack_bytes(copy.data, copy.size) == 0 &&
			    tp_body_open(&b, &obj, 0, NULL, &err) == 0) {
				tp_body_skip(&b, "op");
				if (tp_body_array(&b, "names", 0, 16,
				    &list) == 0)
					while (read_entry(&list) !=
					    TP_BODY_ABSENT &&
					    list.bd_next < 16 &&
					    tp_body_error(&list) == 0)
						;
				(void)tp_body_end(&b);
			}
			copy.data[at] ^= (char)(1 << bit);
		}
	msgpack_sbuffer_destroy(&copy);
}

Test(tp_body, text_takes_strings_and_unsigned_numbers)
{
	struct tp_body b;
	char buf[8];

	msgpack_pack_map(&pk, 4);
	kstr("s", "64");
	kuint("u", 64);
	kuint("big", UINT64_MAX);
	key("t");
	msgpack_pack_true(&pk);
	cr_assert_eq(tp_body_open(&b, done(), 0, NULL, &err), 0);
	cr_expect_eq(tp_body_text(&b, "s", 0, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "64");
	cr_expect_eq(tp_body_text(&b, "u", 0, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "64");
	cr_expect_eq(tp_body_text(&b, "none", TP_BODY_OPT, buf, sizeof(buf)),
	    TP_BODY_ABSENT);
	cr_expect_eq(tp_body_text(&b, "big", 0, buf, sizeof(buf)),
	    TP_ETOOBIG, "20 digits do not fit 8 bytes");
	cr_expect_str_eq(buf, "");
	tp_body_open(&b, &obj, 0, NULL, &err);
	cr_expect_eq(tp_body_text(&b, "t", 0, buf, sizeof(buf)), TP_ETYPE);

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_uint8(&pk, 7);
	msgpack_pack_str_with_body(&pk, "x", 1);
	tp_body_open_array(&b, done(), 2, 2, NULL, &err);
	cr_expect_eq(tp_body_text(&b, NULL, 0, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "7");
	cr_expect_eq(tp_body_text(&b, NULL, 0, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "x");
	cr_expect_eq(tp_body_end(&b), 0, "%s", err.e_msg);
}

/* The loop the header shows: every element visited, bad ones skipped. */
Test(tp_body, list_loop_visits_every_element)
{
	struct tp_body b, list, e;
	uint64_t pid;
	char name[8], state[8];
	int seen = 0, good = 0;

	pack_names();
	cr_assert_eq(tp_body_open(&b, done(), TP_BODY_LAX, "names", &err), 0);
	tp_body_array(&b, "names", 0, 16, &list);
	while (tp_body_array(&list, NULL, TP_BODY_OPT, 3, &e) == 0) {
		seen++;
		tp_body_strz(&e, NULL, TP_BODY_NONEMPTY, name, sizeof(name));
		tp_body_strz(&e, NULL, 0, state, sizeof(state));
		tp_body_uint(&e, NULL, 0, 0, UINT32_MAX, &pid);
		good += tp_body_end(&e) == 0;
	}
	cr_expect_eq(seen, 3);
	cr_expect_eq(good, 1);
	cr_expect_eq(tp_body_end(&list), 0);

	/* a failed list stops the loop at once */
	tp_body_open(&b, &obj, TP_BODY_LAX, "names", &err);
	tp_body_array(&b, "op", 0, 16, &list);
	seen = 0;
	while (tp_body_array(&list, NULL, TP_BODY_OPT, 3, &e) == 0)
		seen++;
	cr_expect_eq(seen, 0);
	cr_expect_eq(tp_body_end(&list), TP_ETYPE);
}

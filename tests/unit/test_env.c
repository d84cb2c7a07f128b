/*
 * test_env — envelope and batch frames (tp_env): round trips of every
 * kind, and every malformed input rejected with its code and a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "tp_env.h"
#include "tp_err.h"

static msgpack_sbuffer sb;
static msgpack_packer pk;

static void
sb_setup(void)
{
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
}

static void
sb_teardown(void)
{
	msgpack_sbuffer_destroy(&sb);
}

TestSuite(env, .init = sb_setup, .fini = sb_teardown);

static const uint8_t body_map[] = {	/* {"code": 1, "message": "bad"} */
	0x82, 0xa4, 'c', 'o', 'd', 'e', 0x01,
	0xa7, 'm', 'e', 's', 's', 'a', 'g', 'e', 0xa3, 'b', 'a', 'd',
};

static struct tp_env
sample(uint32_t kind, const uint8_t *body, size_t blen)
{
	struct tp_env e;

	memset(&e, 0, sizeof(e));
	e.e_version = TP_WIRE_VERSION;
	e.e_kind = kind;
	e.e_id = 0x0123456789abcdefULL + kind;
	e.e_from = tp_slice_str("client.7");
	e.e_to = tp_slice_str("echo@n1");
	e.e_corr = UINT64_MAX - kind;
	e.e_flags = TP_F_REDELIVERED | TP_F_CONFIRM;
	e.e_body = body;
	e.e_body_len = blen;
	return e;
}

static void
assert_slice(struct tp_slice got, struct tp_slice want)
{
	cr_assert_eq(got.s_len, want.s_len);
	cr_assert(memcmp(got.s_ptr, want.s_ptr, want.s_len) == 0);
}

static void
assert_env_eq(const struct tp_env *got, const struct tp_env *want)
{
	cr_assert_eq(got->e_version, TP_WIRE_VERSION);
	cr_assert_eq(got->e_kind, want->e_kind);
	cr_assert_eq(got->e_id, want->e_id);
	assert_slice(got->e_from, want->e_from);
	assert_slice(got->e_to, want->e_to);
	cr_assert_eq(got->e_corr, want->e_corr);
	cr_assert_eq(got->e_flags, want->e_flags);
	if (want->e_body_len == 0) {
		cr_assert_eq(got->e_body_len, 1, "empty body must be nil");
		cr_assert_eq(got->e_body[0], 0xc0);
		return;
	}
	cr_assert_eq(got->e_body_len, want->e_body_len);
	cr_assert(memcmp(got->e_body, want->e_body, want->e_body_len) == 0,
	    "body bytes differ");
}

static void
expect_err(int rv, const struct tp_err *err, int code, const char *needle)
{
	cr_assert_eq(rv, code, "got %d (%s), want %d (%s): \"%s\"", rv,
	    tp_strerror(rv), code, tp_strerror(code), err->e_msg);
	cr_assert_eq(err->e_code, code);
	cr_assert(strstr(err->e_msg, needle) != NULL,
	    "message \"%s\" does not mention \"%s\"", err->e_msg, needle);
}

static int
decode_buf(const void *buf, size_t len, const struct tp_limits *lim,
    struct tp_env *env, struct tp_err *err)
{
	memset(err, 0, sizeof(*err));
	return tp_env_decode(buf, len, lim, env, err);
}

Test(env, round_trip_every_kind)
{
	for (uint32_t k = TP_K_SEND; k <= TP_K_CONTROL; k++) {
		struct tp_env e = sample(k, body_map, sizeof(body_map)), d;
		struct tp_err err = { 0 };

		msgpack_sbuffer_clear(&sb);
		cr_assert_eq(tp_env_pack(&pk, &e), 0);
		cr_assert_eq(decode_buf(sb.data, sb.size, &tp_limits_default,
		    &d, &err), 0, "kind %u: %s", k, err.e_msg);
		assert_env_eq(&d, &e);
		/* zero copy: names and body point into the buffer */
		cr_assert(d.e_body >= (const uint8_t *)sb.data &&
		    d.e_body + d.e_body_len == (const uint8_t *)sb.data +
		    sb.size);
	}
}

Test(env, empty_body_is_nil)
{
	struct tp_env e = sample(TP_K_SEND, NULL, 0), d;
	struct tp_err err = { 0 };
	msgpack_zone zone;
	msgpack_object obj;

	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	cr_assert_eq((uint8_t)sb.data[sb.size - 1], 0xc0);
	cr_assert_eq(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), 0, "%s", err.e_msg);
	assert_env_eq(&d, &e);
	msgpack_zone_init(&zone, 256);
	cr_assert_eq(tp_env_body(&d, &zone, &obj, &err), 0);
	cr_assert_eq(obj.type, MSGPACK_OBJECT_NIL);
	msgpack_zone_destroy(&zone);
}

Test(env, empty_names_and_zero_numbers)
{
	struct tp_env e = sample(TP_K_ACK, (const uint8_t *)"\x00", 1), d;
	struct tp_err err = { 0 };

	e.e_from = tp_slice_str(NULL);
	e.e_to = tp_slice_str("");
	e.e_id = e.e_corr = 0;
	e.e_flags = 0;
	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	cr_assert_eq(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), 0, "%s", err.e_msg);
	assert_env_eq(&d, &e);
	cr_assert_not_null(d.e_from.s_ptr);
}

Test(env, body_unpacks)
{
	struct tp_env e = sample(TP_K_ERROR, body_map, sizeof(body_map)), d;
	struct tp_err err = { 0 };
	msgpack_zone zone;
	msgpack_object obj;

	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	cr_assert_eq(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), 0);
	msgpack_zone_init(&zone, 256);
	cr_assert_eq(tp_env_body(&d, &zone, &obj, &err), 0, "%s", err.e_msg);
	cr_assert_eq(obj.type, MSGPACK_OBJECT_MAP);
	cr_assert_eq(obj.via.map.size, 2);
	cr_assert_eq(obj.via.map.ptr[0].val.via.u64, 1);
	msgpack_zone_destroy(&zone);
}

Test(env, batch_round_trip)
{
	struct tp_env want[TP_K_CONTROL], got;
	struct tp_frame fr;
	struct tp_err err = { 0 };
	uint32_t n = TP_K_CONTROL;

	cr_assert_eq(tp_batch_pack_head(&pk, n), 0);
	for (uint32_t i = 0; i < n; i++) {
		want[i] = sample(i + 1, i % 2 ? NULL : body_map,
		    i % 2 ? 0 : sizeof(body_map));
		cr_assert_eq(tp_env_pack(&pk, &want[i]), 0);
	}
	cr_assert_eq(tp_frame_open(&fr, sb.data, sb.size,
	    &tp_limits_default, &err), 0, "%s", err.e_msg);
	cr_assert_eq(fr.f_left, n);
	for (uint32_t i = 0; i < n; i++) {
		cr_assert_eq(tp_frame_next(&fr, &got, &err), 1, "%u: %s", i,
		    err.e_msg);
		assert_env_eq(&got, &want[i]);
	}
	cr_assert_eq(tp_frame_next(&fr, &got, &err), 0);
	cr_assert_eq(tp_frame_next(&fr, &got, &err), 0);
}

Test(env, single_envelope_frame)
{
	struct tp_env e = sample(TP_K_ASK, body_map, sizeof(body_map)), got;
	struct tp_frame fr;
	struct tp_err err = { 0 };

	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	cr_assert_eq(tp_frame_open(&fr, sb.data, sb.size,
	    &tp_limits_default, &err), 0);
	cr_assert_eq(tp_frame_next(&fr, &got, &err), 1);
	assert_env_eq(&got, &e);
	cr_assert_eq(tp_frame_next(&fr, &got, &err), 0);
}

Test(env, empty_batch)
{
	struct tp_env got;
	struct tp_frame fr;
	struct tp_err err = { 0 };

	cr_assert_eq(tp_batch_pack_head(&pk, 0), 0);
	cr_assert_eq(tp_frame_open(&fr, sb.data, sb.size,
	    &tp_limits_default, &err), 0);
	cr_assert_eq(tp_frame_next(&fr, &got, &err), 0);
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &got,
	    &err), &err, TP_ETYPE, "batch");
}

Test(env, decode_refuses_batch)
{
	struct tp_env e = sample(TP_K_SEND, NULL, 0), got;
	struct tp_err err;

	cr_assert_eq(tp_batch_pack_head(&pk, 1), 0);
	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &got,
	    &err), &err, TP_ETYPE, "batch");
}

/* Wrong msgpack types, one per field, for each header field. */
enum bad { B_STR, B_NEG, B_NIL, B_BIN, B_ARR, B_MAP, B_FLOAT, B_BOOL,
	B_INT, B_MAX };

static void
pack_bad(enum bad how)
{
	switch (how) {
	case B_STR:	msgpack_pack_str_with_body(&pk, "x", 1); break;
	case B_NEG:	msgpack_pack_int64(&pk, -1); break;
	case B_NIL:	msgpack_pack_nil(&pk); break;
	case B_BIN:	msgpack_pack_bin_with_body(&pk, "x", 1); break;
	case B_ARR:	msgpack_pack_array(&pk, 1);
			msgpack_pack_uint8(&pk, 1); break;
	case B_MAP:	msgpack_pack_map(&pk, 1);
			msgpack_pack_uint8(&pk, 1);
			msgpack_pack_uint8(&pk, 1); break;
	case B_FLOAT:	msgpack_pack_double(&pk, 1.5); break;
	case B_BOOL:	msgpack_pack_true(&pk); break;
	case B_INT:	msgpack_pack_uint8(&pk, 1); break;
	case B_MAX:	break;
	}
}

static void
pack_field(unsigned i)
{
	switch (i) {
	case 0: msgpack_pack_uint8(&pk, TP_WIRE_VERSION); break;
	case 1: msgpack_pack_uint8(&pk, TP_K_SEND); break;
	case 2: msgpack_pack_uint64(&pk, 42); break;
	case 3: msgpack_pack_str_with_body(&pk, "a", 1); break;
	case 4: msgpack_pack_str_with_body(&pk, "b", 1); break;
	case 5: msgpack_pack_uint8(&pk, 0); break;
	case 6: msgpack_pack_uint8(&pk, 0); break;
	default: msgpack_pack_nil(&pk); break;
	}
}

/* Packs an envelope of nfields with field `bad` (-1: none) mistyped. */
static void
pack_custom(unsigned nfields, int bad, enum bad how)
{
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_array(&pk, nfields);
	for (unsigned i = 0; i < nfields; i++)
		if ((int)i == bad)
			pack_bad(how);
		else
			pack_field(i);
}

Test(env, custom_packer_is_valid)
{
	struct tp_env d;
	struct tp_err err;

	pack_custom(8, -1, B_MAX);
	cr_assert_eq(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), 0, "%s", err.e_msg);
	cr_assert_eq(d.e_id, 42);
}

Test(env, wrong_type_in_each_field)
{
	static const char *names[] = { "version", "kind", "id", "from", "to",
	    "corr", "flags" };
	struct tp_env d;
	struct tp_err err;

	for (int f = 0; f < 7; f++) {
		for (enum bad how = B_STR; how < B_MAX; how++) {
			int strfield = f == 3 || f == 4;

			if ((strfield && how == B_STR) ||
			    (!strfield && how == B_INT))
				continue;
			pack_custom(8, f, how);
			expect_err(decode_buf(sb.data, sb.size,
			    &tp_limits_default, &d, &err), &err, TP_ETYPE,
			    names[f]);
		}
	}
}

Test(env, flags_out_of_range)
{
	struct tp_env d;
	struct tp_err err;

	msgpack_pack_array(&pk, 8);
	for (unsigned i = 0; i < 6; i++)
		pack_field(i);
	msgpack_pack_uint64(&pk, (uint64_t)UINT32_MAX + 1);
	msgpack_pack_nil(&pk);
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), &err, TP_ETOOBIG, "flags");
}

Test(env, reserved_byte_in_body)
{
	struct tp_env d;
	struct tp_err err;

	pack_custom(7, -1, B_MAX);
	msgpack_sbuffer_write(&sb, "\xc1", 1);
	sb.data[0] = (char)0x98;
	/* as a version 2 body it is no bin */
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), &err, TP_ETYPE, "bin or nil");
	/* as a version 1 body it is walked and refused */
	sb.data[1] = TP_WIRE_V1;
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), &err, TP_ETYPE, "reserved");
	/* inside a version 2 bin: walked by tp_frame_open */
	pack_custom(7, -1, B_MAX);
	msgpack_pack_bin_with_body(&pk, "\xc1", 1);
	sb.data[0] = (char)0x98;
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), &err, TP_ETYPE, "reserved");
}

static void
pack_version(uint64_t v)
{
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_array(&pk, 8);
	msgpack_pack_uint64(&pk, v);
	for (unsigned i = 1; i < 8; i++)
		pack_field(i);
}

Test(env, unknown_version)
{
	static const uint64_t bad[] = { 3, 0, 255, UINT64_MAX };
	struct tp_env d;
	struct tp_err err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pack_version(bad[i]);
		cr_assert_eq(decode_buf(sb.data, sb.size, &tp_limits_default,
		    &d, &err), bad[i] > UINT32_MAX ? TP_ETOOBIG :
		    TP_EVERSION, "%s", err.e_msg);
		cr_assert(strstr(err.e_msg, "version") != NULL, "%s",
		    err.e_msg);
	}
}

Test(env, unknown_version_in_batch)
{
	struct tp_env d;
	struct tp_frame fr;
	struct tp_err err;

	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint8(&pk, 3);
	msgpack_pack_uint8(&pk, TP_K_BATCH);
	msgpack_pack_array(&pk, 0);
	expect_err(tp_frame_open(&fr, sb.data, sb.size, &tp_limits_default,
	    &err), &err, TP_EVERSION, "version 3");
	/* and inside a batch, on an envelope: the frame is refused whole */
	msgpack_sbuffer_clear(&sb);
	tp_batch_pack_head(&pk, 1);
	msgpack_pack_array(&pk, 8);
	msgpack_pack_uint8(&pk, 0);
	for (unsigned i = 1; i < 8; i++)
		pack_field(i);
	expect_err(tp_frame_open(&fr, sb.data, sb.size, &tp_limits_default,
	    &err), &err, TP_EVERSION, "version 0");
	cr_assert_eq(tp_frame_next(&fr, &d, &err), 0);
}

Test(env, unknown_kind)
{
	static const uint64_t bad[] = { 0, TP_K_BATCH, TP_K_MAX + 1, 1000 };
	struct tp_env d;
	struct tp_err err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msgpack_sbuffer_clear(&sb);
		msgpack_pack_array(&pk, 8);
		pack_field(0);
		msgpack_pack_uint64(&pk, bad[i]);
		for (unsigned f = 2; f < 8; f++)
			pack_field(f);
		expect_err(decode_buf(sb.data, sb.size, &tp_limits_default,
		    &d, &err), &err, TP_EKIND, "kind");
	}
}

Test(env, three_fields_not_batch)
{
	struct tp_env d;
	struct tp_err err;

	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint8(&pk, 1);
	msgpack_pack_uint8(&pk, TP_K_SEND);
	msgpack_pack_array(&pk, 0);
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), &err, TP_ETYPE, "not a batch");
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint8(&pk, 1);
	msgpack_pack_uint8(&pk, TP_K_BATCH);
	msgpack_pack_nil(&pk);
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), &err, TP_ETYPE, "no array");
}

Test(env, wrong_field_counts)
{
	static const unsigned counts[] = { 0, 1, 7, 9, 15 };
	struct tp_env d;
	struct tp_err err;

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		pack_custom(counts[i], -1, B_MAX);
		expect_err(decode_buf(sb.data, sb.size, &tp_limits_default,
		    &d, &err), &err, TP_ETYPE, "fields");
	}
}

Test(env, wrong_field_count_in_batch)
{
	struct tp_env d;
	struct tp_frame fr;
	struct tp_err err;

	for (unsigned n = 7; n <= 9; n += 2) {
		msgpack_sbuffer_clear(&sb);
		tp_batch_pack_head(&pk, 1);
		msgpack_pack_array(&pk, n);
		for (unsigned i = 0; i < n; i++)
			pack_field(i);
		expect_err(tp_frame_open(&fr, sb.data, sb.size,
		    &tp_limits_default, &err), &err, TP_ETYPE, "fields");
		cr_assert_eq(tp_frame_next(&fr, &d, &err), 0);
	}
}

Test(env, not_an_array)
{
	struct tp_env d;
	struct tp_err err;

	msgpack_pack_map(&pk, 0);
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), &err, TP_ETYPE, "not an array");
}

Test(env, empty_input)
{
	struct tp_env d;
	struct tp_frame fr;
	struct tp_err err;

	expect_err(decode_buf("", 0, &tp_limits_default, &d, &err), &err,
	    TP_ETRUNC, "empty");
	expect_err(tp_frame_open(&fr, "", 0, &tp_limits_default, &err),
	    &err, TP_ETRUNC, "empty");
}

/* A prefix either ends inside a value or holds a count larger than what
 * is left: both are refused, never read past len. */
static void
check_prefixes(const char *buf, size_t len, int batch)
{
	for (size_t n = 0; n < len; n++) {
		struct tp_env d;
		struct tp_frame fr;
		struct tp_err err = { 0 };
		const char *want;
		char *copy = malloc(n ? n : 1);	/* overreads show */
		int rv;

		memcpy(copy, buf, n);
		rv = batch ? tp_frame_open(&fr, copy, n, &tp_limits_default,
		    &err) : decode_buf(copy, n, &tp_limits_default, &d, &err);
		cr_assert(rv == TP_ETRUNC || rv == TP_ETOOBIG,
		    "prefix %zu/%zu: %d (%s)", n, len, rv, err.e_msg);
		want = rv == TP_ETOOBIG ? "exceeds" : n ? "truncated" :
		    "empty";
		cr_assert(strstr(err.e_msg, want) != NULL, "prefix %zu: %s",
		    n, err.e_msg);
		free(copy);
	}
}

Test(env, truncated_at_every_prefix)
{
	struct tp_env e = sample(TP_K_REPLY, body_map, sizeof(body_map));

	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	check_prefixes(sb.data, sb.size, 0);
	msgpack_sbuffer_clear(&sb);
	tp_batch_pack_head(&pk, 2);
	tp_env_pack(&pk, &e);
	tp_env_pack(&pk, &e);
	check_prefixes(sb.data, sb.size, 1);
}

Test(env, trailing_bytes)
{
	struct tp_env e = sample(TP_K_SEND, NULL, 0), d;
	struct tp_err err;

	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	msgpack_pack_nil(&pk);
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), &err, TP_ETRAILING, "trailing");
	/* a second whole envelope is trailing too */
	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), &err, TP_ETRAILING, "trailing");
}

static void
check_name_limit(int which)
{
	char name[257];
	struct tp_env e = sample(TP_K_SEND, NULL, 0), d;
	struct tp_err err;

	memset(name, 'n', sizeof(name) - 1);
	name[256] = '\0';
	if (which == 0)
		e.e_from = tp_slice_str(name);
	else
		e.e_to = tp_slice_str(name);
	msgpack_sbuffer_clear(&sb);
	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), &err, TP_ETOOBIG, which == 0 ? "from" : "to");
	/* exactly at the limit (255) passes */
	name[255] = '\0';
	if (which == 0)
		e.e_from = tp_slice_str(name);
	else
		e.e_to = tp_slice_str(name);
	msgpack_sbuffer_clear(&sb);
	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	cr_assert_eq(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), 0, "%s", err.e_msg);
	assert_env_eq(&d, &e);
}

Test(env, oversized_names)
{
	check_name_limit(0);
	check_name_limit(1);
}

Test(env, oversized_body)
{
	struct tp_limits lim = tp_limits_default;
	uint8_t body[18];
	struct tp_env e, d;
	struct tp_err err;

	lim.l_max_body = 17;
	body[0] = 0xd9;			/* str8 of 16: 18 bytes */
	body[1] = 16;
	memset(body + 2, 'b', 16);
	e = sample(TP_K_SEND, body, sizeof(body));
	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	expect_err(decode_buf(sb.data, sb.size, &lim, &d, &err), &err,
	    TP_ETOOBIG, "body");
	lim.l_max_body = 18;
	cr_assert_eq(decode_buf(sb.data, sb.size, &lim, &d, &err), 0);
	assert_env_eq(&d, &e);
}

/* A body of depth d: d nested one-element arrays around a fixint. */
static size_t
nested_body(uint8_t *buf, unsigned d)
{
	memset(buf, 0x91, d);
	buf[d] = 0x01;
	return d + 1;
}

static int
decode_depth(unsigned depth, unsigned limit, int batch, struct tp_err *err)
{
	struct tp_limits lim = tp_limits_default;
	uint8_t body[64];
	struct tp_env e = sample(TP_K_SEND, body, nested_body(body, depth));
	struct tp_env d;
	struct tp_frame fr;
	int rv;

	lim.l_max_depth = limit;
	msgpack_sbuffer_clear(&sb);
	if (batch)
		tp_batch_pack_head(&pk, 1);
	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	memset(err, 0, sizeof(*err));
	if (!batch)
		return tp_env_decode(sb.data, sb.size, &lim, &d, err);
	if ((rv = tp_frame_open(&fr, sb.data, sb.size, &lim, err)) != 0)
		return rv;
	rv = tp_frame_next(&fr, &d, err);
	return rv == 1 ? 0 : rv;
}

Test(env, nesting_limit)
{
	static const unsigned limits[] = { 1, 4, 16 };
	struct tp_err err;

	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		unsigned l = limits[i];

		for (int batch = 0; batch <= 1; batch++) {
			cr_assert_eq(decode_depth(l, l, batch, &err), 0,
			    "depth %u limit %u batch %d: %s", l, l, batch,
			    err.e_msg);
			expect_err(decode_depth(l + 1, l, batch, &err), &err,
			    TP_EDEPTH, "nesting");
		}
	}
}

static void
pack_batch(uint32_t n)
{
	struct tp_env e = sample(TP_K_CREDIT, (const uint8_t *)"\x05", 1);

	msgpack_sbuffer_clear(&sb);
	tp_batch_pack_head(&pk, n);
	for (uint32_t i = 0; i < n; i++)
		tp_env_pack(&pk, &e);
}

Test(env, batch_over_limit)
{
	struct tp_limits lim = tp_limits_default;
	struct tp_env d;
	struct tp_frame fr;
	struct tp_err err;
	uint32_t n = 0;

	lim.l_max_batch = 3;
	pack_batch(4);
	expect_err(tp_frame_open(&fr, sb.data, sb.size, &lim, &err), &err,
	    TP_ETOOBIG, "batch of 4");
	pack_batch(3);
	cr_assert_eq(tp_frame_open(&fr, sb.data, sb.size, &lim, &err), 0);
	while (tp_frame_next(&fr, &d, &err) == 1)
		n++;
	cr_assert_eq(n, 3);
	/* the default limit, 4096 */
	pack_batch(tp_limits_default.l_max_batch + 1);
	expect_err(tp_frame_open(&fr, sb.data, sb.size, &tp_limits_default,
	    &err), &err, TP_ETOOBIG, "limit 4096");
}

Test(env, batch_inside_batch)
{
	struct tp_env e = sample(TP_K_SEND, NULL, 0), d;
	struct tp_frame fr;
	struct tp_err err;

	tp_batch_pack_head(&pk, 2);
	tp_env_pack(&pk, &e);
	tp_batch_pack_head(&pk, 1);
	tp_env_pack(&pk, &e);
	/* refused whole: not even the first envelope comes out */
	expect_err(tp_frame_open(&fr, sb.data, sb.size, &tp_limits_default,
	    &err), &err, TP_ETYPE, "batch inside a batch");
	cr_assert_eq(tp_frame_next(&fr, &d, &err), 0, "frame must stop");
}

Test(env, frame_over_limit)
{
	struct tp_limits lim = tp_limits_default;
	struct tp_env e = sample(TP_K_SEND, body_map, sizeof(body_map)), d;
	struct tp_err err;

	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	lim.l_max_frame = sb.size - 1;
	expect_err(decode_buf(sb.data, sb.size, &lim, &d, &err), &err,
	    TP_ETOOBIG, "frame");
	lim.l_max_frame = sb.size;
	cr_assert_eq(decode_buf(sb.data, sb.size, &lim, &d, &err), 0);
}

/*
 * The known traps: msgpack-c would allocate for the declared count (or
 * fail deep nesting as NOMEM).  With the address space capped a few MB
 * above what the process uses, any such allocation would fail.  ASan and
 * valgrind reserve huge shadow ranges, so the cap is left off under them.
 */
static int
cap_address_space(struct rlimit *saved)
{
	struct rlimit rl;
	unsigned long pages = 0;
	const char *pre = getenv("LD_PRELOAD");
	FILE *f;

#ifdef __SANITIZE_ADDRESS__
	return 0;
#endif
	if (pre != NULL && strstr(pre, "vgpreload") != NULL)
		return 0;
	if ((f = fopen("/proc/self/statm", "r")) == NULL)
		return 0;
	if (fscanf(f, "%lu", &pages) != 1)
		pages = 0;
	fclose(f);
	if (pages == 0 || getrlimit(RLIMIT_AS, saved) != 0)
		return 0;
	rl = *saved;
	rl.rlim_cur = pages * (unsigned long)sysconf(_SC_PAGESIZE) +
	    (16u << 20);
	return setrlimit(RLIMIT_AS, &rl) == 0;
}

/*
 * The decode runs under an address-space cap of current use + 16 MiB (a
 * 100 MB or 96 GiB allocation would fail there), and the cap is lifted
 * before any assertion so Criterion's reporting never runs under it.
 */
/* An envelope of version v around body (v1: the bytes as the body
 * value; v2: the bytes in a bin). */
static void
pack_around(unsigned v, const uint8_t *body, size_t len)
{
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_array(&pk, 8);
	msgpack_pack_uint8(&pk, v);
	for (unsigned i = 1; i < 7; i++)
		pack_field(i);
	if (v == TP_WIRE_V1)
		msgpack_sbuffer_write(&sb, (const char *)body, len);
	else
		msgpack_pack_bin_with_body(&pk, body, len);
}

/*
 * The trap bytes as a frame (refused by its shape), as a version 1 body
 * and as a version 2 body (refused by the walk: code); skimmed, the v2
 * frame opens and the body is refused by tp_env_body before msgpack-c
 * sees it.
 */
static void
check_trap(const uint8_t *buf, size_t len, int code, const char *needle)
{
	struct tp_err err[5] = { 0 };
	struct tp_frame fr;
	struct rlimit saved;
	msgpack_object o;
	msgpack_zone zone;
	struct tp_env d;
	int capped, rv[5];

	msgpack_zone_init(&zone, 256);
	capped = cap_address_space(&saved);
	rv[0] = decode_buf(buf, len, &tp_limits_default, &d, &err[0]);
	pack_around(TP_WIRE_V1, buf, len);
	rv[1] = tp_frame_open(&fr, sb.data, sb.size, &tp_limits_default,
	    &err[1]);
	pack_around(TP_WIRE_VERSION, buf, len);
	rv[2] = tp_frame_open(&fr, sb.data, sb.size, &tp_limits_default,
	    &err[2]);
	rv[3] = tp_frame_open_skim(&fr, sb.data, sb.size, &tp_limits_default,
	    &err[3]);
	if (rv[3] == 0 && tp_frame_next(&fr, &d, &err[3]) == 1) {
		cr_assert(d.e_raw);
		rv[4] = tp_env_body(&d, &zone, &o, &err[4]);
	} else
		rv[4] = 1;
	if (capped)
		setrlimit(RLIMIT_AS, &saved);
	msgpack_zone_destroy(&zone);
	cr_assert(rv[0] == TP_ETYPE || rv[0] == TP_ETRUNC, "%d %s", rv[0],
	    err[0].e_msg);
	expect_err(rv[1], &err[1], code, needle);
	expect_err(rv[2], &err[2], code, needle);
	cr_assert_eq(rv[3], 0, "%s", err[3].e_msg);
	expect_err(rv[4], &err[4], code, needle);
}

Test(env, trap_dd_00400000)
{
	static const uint8_t b[] = { 0xdd, 0x00, 0x40, 0x00, 0x00 };

	check_trap(b, sizeof(b), TP_ETOOBIG, "count 4194304");
}

Test(env, trap_dd_ffffffff)
{
	static const uint8_t b[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };

	check_trap(b, sizeof(b), TP_ETOOBIG, "count 4294967295");
}

Test(env, trap_13_x_df)
{
	uint8_t b[13];

	memset(b, 0xdf, sizeof(b));
	check_trap(b, sizeof(b), TP_ETOOBIG, "exceeds");
}

Test(env, trap_df_ffffffff)
{
	static const uint8_t b[] = { 0xdf, 0xff, 0xff, 0xff, 0xff };

	check_trap(b, sizeof(b), TP_ETOOBIG, "exceeds");
}

Test(env, trap_40_nested_arrays)
{
	uint8_t b[41];

	memset(b, 0x91, 40);
	b[40] = 0xc0;
	check_trap(b, sizeof(b), TP_EDEPTH, "nesting");
}

Test(env, kind_names)
{
	cr_assert_str_eq(tp_kind_name(TP_K_SEND), "send");
	cr_assert_str_eq(tp_kind_name(TP_K_CONTROL), "control");
	cr_assert_str_eq(tp_kind_name(TP_K_BATCH), "batch");
	cr_assert_str_eq(tp_kind_name(0), "?");
	cr_assert_str_eq(tp_kind_name(99), "?");
	cr_assert_str_eq(tp_strerror(TP_EVERSION), "unsupported version");
}

/* ---- version 2 (issue 16): bin bodies, skimming, the frame cache ---- */

/* A version 1 envelope (the body is the value itself) still decodes, to
 * the same fields; packed again it is version 2 with the same body. */
Test(env, v1_still_decodes)
{
	struct tp_env e = sample(TP_K_ASK, body_map, sizeof(body_map)), d, d2;
	struct tp_err err;

	msgpack_pack_array(&pk, 8);
	msgpack_pack_uint8(&pk, TP_WIRE_V1);
	msgpack_pack_uint32(&pk, e.e_kind);
	msgpack_pack_uint64(&pk, e.e_id);
	msgpack_pack_str_with_body(&pk, e.e_from.s_ptr, e.e_from.s_len);
	msgpack_pack_str_with_body(&pk, e.e_to.s_ptr, e.e_to.s_len);
	msgpack_pack_uint64(&pk, e.e_corr);
	msgpack_pack_uint32(&pk, e.e_flags);
	msgpack_sbuffer_write(&sb, (const char *)body_map, sizeof(body_map));
	cr_assert_eq(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), 0, "%s", err.e_msg);
	cr_assert_eq(d.e_version, TP_WIRE_V1);
	cr_assert_eq(d.e_body_len, sizeof(body_map));
	cr_assert(memcmp(d.e_body, body_map, sizeof(body_map)) == 0);
	{
		size_t len = tp_env_size(&d);
		uint8_t *buf = malloc(len);

		cr_assert_eq(tp_env_pack_buf(&d, buf, len), 0);
		cr_assert_eq(decode_buf(buf, len, &tp_limits_default, &d2,
		    &err), 0, "%s", err.e_msg);
		assert_env_eq(&d2, &e);
		free(buf);
	}
}

/* What a router reads: a bin body that is no msgpack value opens when
 * skimmed (marked raw), is refused by the full open, and by tp_env_body
 * and tp_env_body_check before anything unpacks it. */
Test(env, skim_leaves_body_to_the_reader)
{
	static const uint8_t junk[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	struct tp_env e = sample(TP_K_SEND, junk, sizeof(junk)), d;
	struct tp_frame fr;
	struct tp_err err = { 0 };
	msgpack_object o;
	msgpack_zone zone;

	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	cr_assert_neq(tp_frame_open(&fr, sb.data, sb.size, &tp_limits_default,
	    &err), 0);
	cr_assert_eq(tp_frame_open_skim(&fr, sb.data, sb.size,
	    &tp_limits_default, &err), 0, "%s", err.e_msg);
	cr_assert_eq(tp_frame_next(&fr, &d, &err), 1);
	cr_assert(d.e_raw);
	cr_assert_eq(d.e_body_len, sizeof(junk));
	cr_assert_neq(tp_env_body_check(&d, &err), 0);
	msgpack_zone_init(&zone, 256);
	cr_assert_neq(tp_env_body(&d, &zone, &o, &err), 0);
	msgpack_zone_destroy(&zone);
	/* a good body skimmed: checked and unpacked on demand */
	msgpack_sbuffer_clear(&sb);
	e = sample(TP_K_SEND, body_map, sizeof(body_map));
	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	cr_assert_eq(tp_frame_open_skim(&fr, sb.data, sb.size,
	    &tp_limits_default, &err), 0);
	cr_assert_eq(tp_frame_next(&fr, &d, &err), 1);
	cr_assert_eq(tp_env_body_check(&d, &err), 0, "%s", err.e_msg);
	msgpack_zone_init(&zone, 256);
	cr_assert_eq(tp_env_body(&d, &zone, &o, &err), 0, "%s", err.e_msg);
	cr_assert_eq(o.type, MSGPACK_OBJECT_MAP);
	msgpack_zone_destroy(&zone);
}

/* Only bin or nil carries a version 2 body; an empty bin is no value. */
Test(env, v2_body_is_bin_or_nil)
{
	struct tp_env d;
	struct tp_err err;

	pack_custom(7, -1, B_MAX);
	sb.data[0] = (char)0x98;
	msgpack_pack_uint8(&pk, 1);
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), &err, TP_ETYPE, "bin or nil");
	pack_custom(7, -1, B_MAX);
	sb.data[0] = (char)0x98;
	msgpack_pack_bin(&pk, 0);
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), &err, TP_ETYPE, "empty bin");
	/* a truncated bin */
	pack_custom(7, -1, B_MAX);
	sb.data[0] = (char)0x98;
	msgpack_sbuffer_write(&sb, "\xc4\x05\x01", 3);
	expect_err(decode_buf(sb.data, sb.size, &tp_limits_default, &d,
	    &err), &err, TP_ETRUNC, "truncated");
}

/* The nil value as a body travels as nil, exactly like no body. */
Test(env, nil_body_travels_as_nil)
{
	static const uint8_t nil = 0xc0;
	struct tp_env e = sample(TP_K_SEND, &nil, 1), f = sample(TP_K_SEND,
	    NULL, 0);

	cr_assert_eq(tp_env_size(&e), tp_env_size(&f));
	cr_assert_eq(tp_env_pack(&pk, &e), 0);
	cr_assert_eq(sb.data[sb.size - 1], (char)0xc0);
}

/* ACK and CREDIT counts: exactly one unsigned integer. */
Test(env, body_uint)
{
	static const uint8_t ok[] = { 0xcd, 0x01, 0x00 }, neg[] = { 0xff },
	    trail[] = { 0x05, 0x05 }, i8[] = { 0xd0, 0x07 };
	struct tp_env e = sample(TP_K_ACK, ok, sizeof(ok));
	uint64_t v = 0;

	cr_assert_eq(tp_env_body_uint(&e, &v), 0);
	cr_assert_eq(v, 256);
	e = sample(TP_K_ACK, i8, sizeof(i8));
	cr_assert_eq(tp_env_body_uint(&e, &v), 0);
	cr_assert_eq(v, 7);
	e = sample(TP_K_ACK, neg, sizeof(neg));
	cr_assert_eq(tp_env_body_uint(&e, &v), TP_ETYPE);
	e = sample(TP_K_ACK, trail, sizeof(trail));
	cr_assert_eq(tp_env_body_uint(&e, &v), TP_ETYPE);
	e = sample(TP_K_ACK, ok, 2);	/* cut */
	cr_assert_eq(tp_env_body_uint(&e, &v), TP_ETYPE);
}

/* A frame longer than the cache: the first come from it, the rest are
 * decoded again from where it ended, all equal to an uncached read; the
 * cache is busy while the frame is open, free after tp_frame_close. */
Test(env, frame_cache_longer_than_cache)
{
	enum { N = 37 };
	struct tp_env e[N], a, b;
	struct tp_frame fa, fb, fc;
	struct tp_frame_cache c;
	struct tp_err err;
	uint32_t i;

	tp_batch_pack_head(&pk, N);
	for (i = 0; i < N; i++) {
		e[i] = sample(TP_K_SEND, body_map, sizeof(body_map));
		e[i].e_id = i;
		cr_assert_eq(tp_env_pack(&pk, &e[i]), 0);
	}
	cr_assert_eq(tp_frame_cache_init(&c, 8), 0);
	cr_assert_eq(tp_frame_open_cached(&fa, sb.data, sb.size,
	    &tp_limits_default, true, &c, &err), 0, "%s", err.e_msg);
	cr_assert(c.fc_busy);
	/* a second frame while the first holds the cache: decodes twice */
	cr_assert_eq(tp_frame_open_cached(&fc, sb.data, sb.size,
	    &tp_limits_default, true, &c, &err), 0);
	cr_assert_null(fc.f_cache);
	cr_assert_eq(tp_frame_open(&fb, sb.data, sb.size, &tp_limits_default,
	    &err), 0);
	for (i = 0; i < N; i++) {
		cr_assert_eq(tp_frame_next(&fa, &a, &err), 1, "%u", i);
		cr_assert_eq(tp_frame_next(&fb, &b, &err), 1);
		cr_assert_eq(a.e_id, i);
		assert_env_eq(&a, &b);
		cr_assert(a.e_raw);
	}
	cr_assert_eq(tp_frame_next(&fa, &a, &err), 0);
	tp_frame_close(&fa);
	tp_frame_close(&fc);
	cr_assert(!c.fc_busy);
	tp_frame_cache_free(&c);
}

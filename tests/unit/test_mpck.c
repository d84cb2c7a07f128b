/*
 * test_mpck — the bounds walk over every msgpack type, truncation at every
 * byte, counts larger than the input, depth limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tp_mpck.h"

struct sample {
	const char	*s_name;
	const uint8_t	*s_buf;
	size_t		 s_len;
};

#define S(name, ...) { name, (const uint8_t[]){ __VA_ARGS__ }, \
	sizeof((const uint8_t[]){ __VA_ARGS__ }) }

/* One valid encoding of each msgpack format, non-minimal ones included. */
static const struct sample samples[] = {
	S("positive fixint", 0x05),
	S("positive fixint max", 0x7f),
	S("negative fixint", 0xe0),
	S("nil", 0xc0),
	S("false", 0xc2),
	S("true", 0xc3),
	S("uint8", 0xcc, 0xff),
	S("uint16", 0xcd, 0x01, 0x02),
	S("uint32", 0xce, 0x01, 0x02, 0x03, 0x04),
	S("uint64", 0xcf, 1, 2, 3, 4, 5, 6, 7, 8),
	S("int8", 0xd0, 0x80),
	S("int16", 0xd1, 0x80, 0x00),
	S("int32", 0xd2, 0x80, 0, 0, 0),
	S("int64", 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0),
	S("float32", 0xca, 0x3f, 0x80, 0, 0),
	S("float64", 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0),
	S("fixstr", 0xa3, 'a', 'b', 'c'),
	S("fixstr empty", 0xa0),
	S("str8", 0xd9, 0x03, 'a', 'b', 'c'),
	S("str16", 0xda, 0x00, 0x03, 'a', 'b', 'c'),
	S("str32", 0xdb, 0, 0, 0, 0x03, 'a', 'b', 'c'),
	S("bin8", 0xc4, 0x02, 0xde, 0xad),
	S("bin16", 0xc5, 0x00, 0x02, 0xde, 0xad),
	S("bin32", 0xc6, 0, 0, 0, 0x02, 0xde, 0xad),
	S("ext8", 0xc7, 0x02, 0x05, 0xaa, 0xbb),
	S("ext16", 0xc8, 0x00, 0x02, 0x05, 0xaa, 0xbb),
	S("ext32", 0xc9, 0, 0, 0, 0x02, 0x05, 0xaa, 0xbb),
	S("fixext1", 0xd4, 0x01, 0xaa),
	S("fixext2", 0xd5, 0x01, 0xaa, 0xbb),
	S("fixext4", 0xd6, 0x01, 1, 2, 3, 4),
	S("fixext8", 0xd7, 0x01, 1, 2, 3, 4, 5, 6, 7, 8),
	S("fixext16", 0xd8, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
	    14, 15, 16),
	S("fixarray", 0x93, 0x01, 0xa1, 'x', 0xc0),
	S("fixarray empty", 0x90),
	S("array16", 0xdc, 0x00, 0x02, 0x01, 0xcc, 0xff),
	S("array32", 0xdd, 0, 0, 0, 0x02, 0x01, 0xc3),
	S("fixmap", 0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0x92, 0x01, 0x02),
	S("fixmap empty", 0x80),
	S("map16", 0xde, 0x00, 0x01, 0xa1, 'k', 0xc0),
	S("map32", 0xdf, 0, 0, 0, 0x01, 0x01, 0x81, 0x02, 0x03),
};

#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

static int
walk(const uint8_t *b, size_t len, size_t *off, unsigned depth,
    struct tp_err *err)
{
	memset(err, 0, sizeof(*err));
	return tp_mpck_walk(b, len, off, depth, err);
}

Test(mpck, every_type_walks)
{
	for (size_t i = 0; i < NSAMPLES; i++) {
		struct tp_err err;
		size_t off = 0;

		cr_assert_eq(walk(samples[i].s_buf, samples[i].s_len, &off, 4,
		    &err), 0, "%s: %s", samples[i].s_name, err.e_msg);
		cr_assert_eq(off, samples[i].s_len, "%s: stopped at %zu",
		    samples[i].s_name, off);
	}
}

/* Each value is walked from a heap copy of exactly n bytes, so ASan or
 * valgrind catch any read past the end. */
Test(mpck, truncated_at_every_byte)
{
	for (size_t i = 0; i < NSAMPLES; i++) {
		for (size_t n = 0; n < samples[i].s_len; n++) {
			uint8_t *copy = malloc(n ? n : 1);
			struct tp_err err;
			size_t off = 0;
			int rv;

			memcpy(copy, samples[i].s_buf, n);
			rv = walk(copy, n, &off, 4, &err);
			cr_assert(rv == TP_ETRUNC || rv == TP_ETOOBIG,
			    "%s cut at %zu: %d %s", samples[i].s_name, n, rv,
			    err.e_msg);
			cr_assert_eq(err.e_code, rv);
			cr_assert(strstr(err.e_msg, "offset") != NULL, "%s",
			    err.e_msg);
			cr_assert_eq(off, 0, "offset moved on failure");
			free(copy);
		}
	}
}

Test(mpck, truncated_scalar_message)
{
	static const uint8_t b[] = { 0xcf, 1, 2, 3 };
	struct tp_err err;
	size_t off = 0;

	cr_assert_eq(walk(b, sizeof(b), &off, 4, &err), TP_ETRUNC);
	cr_assert_str_eq(err.e_msg, "truncated at offset 1 (need 8 bytes, "
	    "3 left)");
}

Test(mpck, walks_from_an_offset)
{
	/* three values back to back: walk each in turn */
	static const uint8_t b[] = { 0x01, 0xa2, 'h', 'i', 0x91, 0xc0 };
	struct tp_err err;
	size_t off = 0;

	cr_assert_eq(walk(b, sizeof(b), &off, 4, &err), 0);
	cr_assert_eq(off, 1);
	cr_assert_eq(walk(b, sizeof(b), &off, 4, &err), 0);
	cr_assert_eq(off, 4);
	cr_assert_eq(walk(b, sizeof(b), &off, 4, &err), 0);
	cr_assert_eq(off, 6);
	cr_assert_eq(walk(b, sizeof(b), &off, 4, &err), TP_ETRUNC);
	off = 7;
	cr_assert_eq(walk(b, sizeof(b), &off, 4, &err), TP_EINVAL);
	cr_assert_eq(off, 7);
}

Test(mpck, reserved_byte)
{
	static const uint8_t b[] = { 0x92, 0x01, 0xc1 };
	struct tp_err err;
	size_t off = 0;

	cr_assert_eq(walk(b, sizeof(b), &off, 4, &err), TP_ETYPE);
	cr_assert(strstr(err.e_msg, "0xc1 at offset 2") != NULL, "%s",
	    err.e_msg);
}

static const struct sample toobig[] = {
	S("array32 huge", 0xdd, 0x00, 0x40, 0x00, 0x00),
	S("array32 max", 0xdd, 0xff, 0xff, 0xff, 0xff),
	S("map32 max", 0xdf, 0xff, 0xff, 0xff, 0xff),
	S("map32 of df", 0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf,
	    0xdf, 0xdf, 0xdf, 0xdf, 0xdf, 0xdf),
	S("array16", 0xdc, 0x00, 0x03, 0x01, 0x02),
	S("map16 needs 2 per entry", 0xde, 0x00, 0x02, 1, 2, 3),
	S("fixmap needs 2 per entry", 0x82, 0x01, 0x02, 0x03),
	S("fixarray", 0x9f, 0x01),
};

Test(mpck, counts_larger_than_input)
{

	for (size_t i = 0; i < sizeof(toobig) / sizeof(toobig[0]); i++) {
		struct tp_err err;
		size_t off = 0;

		cr_assert_eq(walk(toobig[i].s_buf, toobig[i].s_len, &off, 16,
		    &err),
		    TP_ETOOBIG, "%s: %s", toobig[i].s_name, err.e_msg);
		cr_assert(strstr(err.e_msg, "exceeds") != NULL, "%s",
		    err.e_msg);
	}
}

/* Sizes of str/bin/ext up to 4 GiB must not wrap or read ahead. */
static const struct sample hugelen[] = {
	S("str32", 0xdb, 0xff, 0xff, 0xff, 0xff, 'a'),
	S("bin32", 0xc6, 0xff, 0xff, 0xff, 0xff),
	S("ext32", 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01),
	S("ext8 type byte", 0xc7, 0x00),
};

Test(mpck, huge_declared_lengths)
{

	for (size_t i = 0; i < sizeof(hugelen) / sizeof(hugelen[0]); i++) {
		struct tp_err err;
		size_t off = 0;

		cr_assert_eq(walk(hugelen[i].s_buf, hugelen[i].s_len, &off,
		    16, &err),
		    TP_ETRUNC, "%s: %s", hugelen[i].s_name, err.e_msg);
	}
}

static size_t
nest(uint8_t *b, unsigned depth, uint8_t hdr)
{
	size_t n = 0;

	for (unsigned i = 0; i < depth; i++) {
		b[n++] = hdr;
		if (hdr == 0x81)	/* map: key, then the nested value */
			b[n++] = 0x00;
	}
	b[n++] = 0xc0;
	return n;
}

Test(mpck, depth_limit_exact)
{
	static const uint8_t hdrs[] = { 0x91, 0x81 };
	uint8_t b[128];
	struct tp_err err;

	for (size_t h = 0; h < sizeof(hdrs); h++) {
		for (unsigned lim = 0; lim <= 8; lim++) {
			size_t len = nest(b, lim, hdrs[h]), off = 0;

			cr_assert_eq(walk(b, len, &off, lim, &err), 0,
			    "depth %u: %s", lim, err.e_msg);
			cr_assert_eq(off, len);
			len = nest(b, lim + 1, hdrs[h]);
			off = 0;
			cr_assert_eq(walk(b, len, &off, lim, &err), TP_EDEPTH,
			    "depth %u", lim + 1);
			cr_assert(strstr(err.e_msg, "nesting") != NULL);
		}
	}
}

Test(mpck, depth_clamped_to_32)
{
	uint8_t b[64];
	struct tp_err err;
	size_t len, off = 0;

	len = nest(b, TP_MPCK_DEPTH_MAX, 0x91);
	cr_assert_eq(walk(b, len, &off, 1000, &err), 0, "%s", err.e_msg);
	len = nest(b, TP_MPCK_DEPTH_MAX + 1, 0x91);
	off = 0;
	cr_assert_eq(walk(b, len, &off, 1000, &err), TP_EDEPTH);
}

Test(mpck, forty_nested_arrays)
{
	uint8_t b[41];
	struct tp_err err;
	size_t off = 0;

	memset(b, 0x91, 40);
	b[40] = 0xc0;
	cr_assert_eq(walk(b, sizeof(b), &off, 16, &err), TP_EDEPTH);
	cr_assert_str_eq(err.e_msg, "nesting deeper than 16 at offset 17");
}

/* A wide but honest array of 100k elements walks in linear time. */
Test(mpck, wide_array, .timeout = 5)
{
	size_t n = 100000, len = 5 + n, off = 0;
	uint8_t *b = malloc(len);
	struct tp_err err;

	b[0] = 0xdd;
	b[1] = 0;
	b[2] = (uint8_t)(n >> 16);
	b[3] = (uint8_t)(n >> 8);
	b[4] = (uint8_t)n;
	memset(b + 5, 0x01, n);
	cr_assert_eq(walk(b, len, &off, 1, &err), 0, "%s", err.e_msg);
	cr_assert_eq(off, len);
	free(b);
}

Test(mpck, null_err_is_allowed)
{
	static const uint8_t b[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	size_t off = 0;

	cr_assert_eq(tp_mpck_walk(b, sizeof(b), &off, 4, NULL), TP_ETOOBIG);
}

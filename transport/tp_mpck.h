/*
 * tp_mpck — a bounds walk and typed getters over untrusted msgpack bytes,
 * and the typed putters that mirror them.
 *
 * msgpack-c 4.0 allocates for an array's or map's declared count before it
 * reads one element (5 bytes `dd 00 40 00 00` ask for ~100 MB) and reports
 * nesting deeper than 32 as NOMEM.  So every received buffer is walked here
 * first: each length and count must fit in the bytes that remain (an element
 * takes at least one byte), and nesting may not exceed a limit.  After a
 * successful walk msgpack_unpack allocates at most a small multiple of the
 * input size.  No allocation, no recursion deeper than max_depth.
 */
#ifndef TP_MPCK_H
#define TP_MPCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tp_err.h"

/* Hard ceiling for any depth limit: msgpack-c fails past 32. */
#define TP_MPCK_DEPTH_MAX 32

/*
 * Walks one msgpack value that starts at buf[*off], at most len bytes in
 * all.  A scalar is depth 0, an array of scalars depth 1.  On success
 * returns 0 and advances *off past the value; else returns TP_ETRUNC,
 * TP_ETOOBIG (a count larger than the bytes left), TP_EDEPTH or TP_ETYPE
 * (the reserved byte 0xc1), with the offset in err.
 */
int tp_mpck_walk(const uint8_t *buf, size_t len, size_t *off,
    unsigned max_depth, struct tp_err *err);

/* tp_mpck_walk of exactly one value filling all len bytes: TP_ETRAILING
 * (with the count in err) when bytes follow it. */
int tp_mpck_walk_one(const uint8_t *buf, size_t len, unsigned max_depth,
    struct tp_err *err);

/*
 * Typed getters over untrusted bytes (OpenSMTPD's m_get_* style): each
 * reads one value of the one type it names at r->r_off, checks that it
 * lies within r_end, and advances past it.  They return 0, TP_ETRUNC (the
 * value runs past the end) or TP_ETYPE (another type is there), and move
 * nothing on failure.  Strings and bins point into the buffer (zero-copy).
 * The envelope header is read with these in the same pass that bounds it,
 * so a routed message's header costs tens of instructions; bodies are
 * still walked with tp_mpck_walk and unpacked with msgpack-c.
 */
struct tp_mrd {
	const uint8_t	*r_buf;
	size_t		 r_end;
	size_t		 r_off;
};

/* Big-endian unsigned of n bytes at p (msgpack's widths: 1, 2, 4, 8 in
 * one load each). */
static inline uint64_t
tp_mpck_be(const uint8_t *p, unsigned n)
{
	uint32_t v32;
	uint64_t v = 0;

	switch (n) {
	case 1:
		return p[0];
	case 2:
		return (uint64_t)p[0] << 8 | p[1];
	case 4:
		memcpy(&v32, p, 4);
		return __builtin_bswap32(v32);
	case 8:
		memcpy(&v, p, 8);
		return __builtin_bswap64(v);
	}
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* The head of a value whose payload is counted: the tag's class decides
 * how many length bytes follow (0 = the count is in the tag, fix). */
static inline int
tp_mrd_head(struct tp_mrd *r, unsigned lenbytes, uint64_t fix, uint64_t *n)
{
	size_t left = r->r_end - r->r_off;

	if (left < 1 + (size_t)lenbytes)
		return TP_ETRUNC;
	*n = lenbytes == 0 ? fix :
	    tp_mpck_be(r->r_buf + r->r_off + 1, lenbytes);
	return 0;
}

/* An array head: *n elements follow (not checked against what is left:
 * the caller reads them one by one, each bounded). */
static inline int
tp_mrd_array(struct tp_mrd *r, uint32_t *n)
{
	uint8_t b;
	uint64_t v;
	unsigned lb;
	int rv;

	if (r->r_off >= r->r_end)
		return TP_ETRUNC;
	b = r->r_buf[r->r_off];
	if ((b & 0xf0) == 0x90)
		lb = 0;
	else if (b == 0xdc || b == 0xdd)
		lb = b == 0xdc ? 2 : 4;
	else
		return TP_ETYPE;
	if ((rv = tp_mrd_head(r, lb, b & 0x0f, &v)) != 0)
		return rv;
	r->r_off += 1 + lb;
	*n = (uint32_t)v;
	return 0;
}

/* A non-negative integer in any encoding (positive fixint, uint 8-64,
 * and the int types holding a value >= 0, as msgpack-c reads them). */
static inline int
tp_mrd_uint(struct tp_mrd *r, uint64_t *v)
{
	static const uint8_t width[8] = { 1, 2, 4, 8, 1, 2, 4, 8 };
	const uint8_t *p;
	unsigned w;
	uint8_t b;

	if (r->r_off >= r->r_end)
		return TP_ETRUNC;
	p = r->r_buf + r->r_off;
	if ((b = p[0]) <= 0x7f) {
		*v = b;
		r->r_off++;
		return 0;
	}
	if (b < 0xcc || b > 0xd3)
		return TP_ETYPE;
	w = width[b - 0xcc];
	if (r->r_end - r->r_off < 1 + (size_t)w)
		return TP_ETRUNC;
	*v = tp_mpck_be(p + 1, w);
	if (b >= 0xd0 && (p[1] & 0x80))
		return TP_ETYPE;	/* a negative int */
	r->r_off += 1 + w;
	return 0;
}

/* A payload of *len bytes after a head of 1 + lb bytes. */
static inline int
tp_mrd_payload(struct tp_mrd *r, unsigned lb, uint64_t n,
    const uint8_t **p, size_t *len)
{
	if (n > r->r_end - r->r_off - 1 - lb)
		return TP_ETRUNC;
	*p = r->r_buf + r->r_off + 1 + lb;
	*len = (size_t)n;
	r->r_off += 1 + lb + (size_t)n;
	return 0;
}

/* A str (fixstr, str 8/16/32) or, with bin, a bin (bin 8/16/32). */
static inline int
tp_mrd_bytes(struct tp_mrd *r, bool bin, const uint8_t **p, size_t *len)
{
	uint8_t b, tag0 = bin ? 0xc4 : 0xd9;
	uint64_t n;
	unsigned lb;
	int rv;

	if (r->r_off >= r->r_end)
		return TP_ETRUNC;
	b = r->r_buf[r->r_off];
	if (!bin && (b & 0xe0) == 0xa0)
		lb = 0;
	else if (b >= tag0 && b <= tag0 + 2)
		lb = 1u << (b - tag0);
	else
		return TP_ETYPE;
	if ((rv = tp_mrd_head(r, lb, b & 0x1f, &n)) != 0)
		return rv;
	return tp_mrd_payload(r, lb, n, p, len);
}

static inline int
tp_mrd_str(struct tp_mrd *r, const uint8_t **p, size_t *len)
{
	return tp_mrd_bytes(r, false, p, len);
}

static inline int
tp_mrd_bin(struct tp_mrd *r, const uint8_t **p, size_t *len)
{
	return tp_mrd_bytes(r, true, p, len);
}

/* True (and advanced past it) when a nil is next. */
static inline bool
tp_mrd_nil(struct tp_mrd *r)
{
	if (r->r_off >= r->r_end || r->r_buf[r->r_off] != 0xc0)
		return false;
	r->r_off++;
	return true;
}

/*
 * Typed putters, the mirror: each writes the shortest encoding (as
 * msgpack-c does) at p, which must have room (tp_mpck_*_size says how
 * much), and returns the byte after it.
 */
static inline size_t
tp_mpck_uint_size(uint64_t v)
{
	return v < 0x80 ? 1 : v <= UINT8_MAX ? 2 : v <= UINT16_MAX ? 3 :
	    v <= UINT32_MAX ? 5 : 9;
}

/* Bytes of the head of a str (bin = false) or bin of n bytes. */
static inline size_t
tp_mpck_head_size(size_t n, bool bin)
{
	if (!bin && n < 32)
		return 1;
	return n <= UINT8_MAX ? 2 : n <= UINT16_MAX ? 3 : 5;
}

static inline uint8_t *
tp_mpck_put_be(uint8_t *p, uint64_t v, unsigned n)
{
	uint32_t v32;

	switch (n) {
	case 4:
		v32 = __builtin_bswap32((uint32_t)v);
		memcpy(p, &v32, 4);
		return p + 4;
	case 8:
		v = __builtin_bswap64(v);
		memcpy(p, &v, 8);
		return p + 8;
	}
	for (unsigned i = n; i > 0; i--) {
		p[i - 1] = (uint8_t)v;
		v >>= 8;
	}
	return p + n;
}

/* tag0 + k with v in the k-th of the widths 1, 2, 4, 8 bytes: the
 * shortest that holds it (uint 8..64, str 8..32, bin 8..32 are so laid
 * out). */
static inline uint8_t *
tp_mpck_put_wide(uint8_t *p, uint8_t tag0, uint64_t v)
{
	unsigned k = v <= UINT8_MAX ? 0 : v <= UINT16_MAX ? 1 :
	    v <= UINT32_MAX ? 2 : 3;

	*p = (uint8_t)(tag0 + k);
	return tp_mpck_put_be(p + 1, v, 1u << k);
}

static inline uint8_t *
tp_mpck_put_uint(uint8_t *p, uint64_t v)
{
	if (v < 0x80) {
		*p = (uint8_t)v;
		return p + 1;
	}
	return tp_mpck_put_wide(p, 0xcc, v);
}

/* The head of a str or bin of n bytes (n < 2^32). */
static inline uint8_t *
tp_mpck_put_head(uint8_t *p, size_t n, bool bin)
{
	if (!bin && n < 32) {
		*p = (uint8_t)(0xa0 | n);
		return p + 1;
	}
	return tp_mpck_put_wide(p, bin ? 0xc4 : 0xd9, n);
}

/* An array head of n elements (array 16 and 32 only). */
static inline uint8_t *
tp_mpck_put_array(uint8_t *p, uint32_t n)
{
	if (n < 16) {
		*p = (uint8_t)(0x90 | n);
		return p + 1;
	}
	if (n <= UINT16_MAX) {
		*p = 0xdc;
		return tp_mpck_put_be(p + 1, n, 2);
	}
	*p = 0xdd;
	return tp_mpck_put_be(p + 1, n, 4);
}

#endif

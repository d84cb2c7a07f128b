#include "tp_mpck.h"

struct walk {
	const uint8_t	*w_buf;
	size_t		 w_len;
	size_t		 w_off;
	unsigned	 w_max_depth;
	struct tp_err	*w_err;
};

static int
need(struct walk *w, size_t n)
{
	if (w->w_len - w->w_off < n)
		return tp_err_set(w->w_err, TP_ETRUNC,
		    "truncated at offset %zu (need %zu bytes, %zu left)",
		    w->w_off, n, w->w_len - w->w_off);
	return 0;
}

/* Reads a big-endian unsigned of n (1, 2, 4) bytes after checking it fits. */
static int
read_be(struct walk *w, unsigned n, uint32_t *v)
{
	int rv;

	if ((rv = need(w, n)) != 0)
		return rv;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v = (*v << 8) | w->w_buf[w->w_off + i];
	w->w_off += n;
	return 0;
}

static int
skip(struct walk *w, size_t n)
{
	int rv;

	if ((rv = need(w, n)) != 0)
		return rv;
	w->w_off += n;
	return 0;
}

static int walk_value(struct walk *, unsigned);

/* Each of count*per elements takes at least one byte: a count larger than
 * what is left cannot be honest and is refused before anyone allocates. */
static int
walk_container(struct walk *w, uint32_t count, unsigned per, unsigned depth)
{
	uint64_t n = (uint64_t)count * per;
	int rv;

	if (depth + 1 > w->w_max_depth)
		return tp_err_set(w->w_err, TP_EDEPTH,
		    "nesting deeper than %u at offset %zu", w->w_max_depth,
		    w->w_off);
	if (n > w->w_len - w->w_off)
		return tp_err_set(w->w_err, TP_ETOOBIG,
		    "count %u at offset %zu exceeds the %zu bytes left",
		    count, w->w_off, w->w_len - w->w_off);
	for (uint64_t i = 0; i < n; i++)
		if ((rv = walk_value(w, depth + 1)) != 0)
			return rv;
	return 0;
}

/* Length-prefixed payloads: str, bin, ext (ext has one more type byte). */
static int
walk_sized(struct walk *w, unsigned lenbytes, unsigned extra)
{
	uint32_t n;
	int rv;

	if ((rv = read_be(w, lenbytes, &n)) != 0)
		return rv;
	return skip(w, (size_t)n + extra);
}

static int
walk_counted(struct walk *w, unsigned lenbytes, unsigned per, unsigned depth)
{
	uint32_t n;
	int rv;

	if ((rv = read_be(w, lenbytes, &n)) != 0)
		return rv;
	return walk_container(w, n, per, depth);
}

static int
walk_value(struct walk *w, unsigned depth)
{
	uint8_t b;
	int rv;

	if ((rv = need(w, 1)) != 0)
		return rv;
	b = w->w_buf[w->w_off++];
	if (b <= 0x7f || b >= 0xe0)
		return 0;			/* fixint */
	if ((b & 0xf0) == 0x80)
		return walk_container(w, b & 0x0f, 2, depth);
	if ((b & 0xf0) == 0x90)
		return walk_container(w, b & 0x0f, 1, depth);
	if ((b & 0xe0) == 0xa0)
		return skip(w, b & 0x1f);	/* fixstr */
	switch (b) {
	case 0xc0: case 0xc2: case 0xc3:
		return 0;
	case 0xc4: case 0xd9: return walk_sized(w, 1, 0);
	case 0xc5: case 0xda: return walk_sized(w, 2, 0);
	case 0xc6: case 0xdb: return walk_sized(w, 4, 0);
	case 0xc7: return walk_sized(w, 1, 1);
	case 0xc8: return walk_sized(w, 2, 1);
	case 0xc9: return walk_sized(w, 4, 1);
	case 0xca: return skip(w, 4);
	case 0xcb: return skip(w, 8);
	case 0xcc: case 0xd0: return skip(w, 1);
	case 0xcd: case 0xd1: return skip(w, 2);
	case 0xce: case 0xd2: return skip(w, 4);
	case 0xcf: case 0xd3: return skip(w, 8);
	case 0xd4: return skip(w, 2);
	case 0xd5: return skip(w, 3);
	case 0xd6: return skip(w, 5);
	case 0xd7: return skip(w, 9);
	case 0xd8: return skip(w, 17);
	case 0xdc: return walk_counted(w, 2, 1, depth);
	case 0xdd: return walk_counted(w, 4, 1, depth);
	case 0xde: return walk_counted(w, 2, 2, depth);
	case 0xdf: return walk_counted(w, 4, 2, depth);
	default:
		return tp_err_set(w->w_err, TP_ETYPE,
		    "reserved byte 0x%02x at offset %zu", b, w->w_off - 1);
	}
}

int
tp_mpck_walk_one(const uint8_t *buf, size_t len, unsigned max_depth,
    struct tp_err *err)
{
	size_t off = 0;
	int rv;

	if ((rv = tp_mpck_walk(buf, len, &off, max_depth, err)) != 0)
		return rv;
	if (off != len)
		return tp_err_set(err, TP_ETRAILING, "%zu bytes after the "
		    "msgpack value", len - off);
	return 0;
}

int
tp_mpck_walk(const uint8_t *buf, size_t len, size_t *off, unsigned max_depth,
    struct tp_err *err)
{
	struct walk w = { buf, len, *off, max_depth, err };
	int rv;

	if (*off > len)
		return tp_err_set(err, TP_EINVAL, "offset past the end");
	if (w.w_max_depth > TP_MPCK_DEPTH_MAX)
		w.w_max_depth = TP_MPCK_DEPTH_MAX;
	if ((rv = walk_value(&w, 0)) != 0)
		return rv;
	*off = w.w_off;
	return 0;
}

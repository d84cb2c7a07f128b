/*
 * br_beacon — the beacon codec of br_disc (declared in br_disc.h):
 * encode, seal with the cluster key, and a bounds-walked decoder of
 * untrusted datagrams that never allocates beyond a small zone.
 */
#include <stdbool.h>
#include <string.h>

#include <msgpack.h>

#include "br_disc.h"
#include "tp_mpck.h"
#include "tp_sec.h"

#define BEACON_VERSION 1

/* A msgpack-c writer into a fixed buffer: overflow is remembered, not
 * written, so the encoder needs no allocation. */
struct fixbuf {
	uint8_t	*fb_buf;
	size_t	 fb_cap;
	size_t	 fb_len;
	bool	 fb_over;
};

static int
fixbuf_write(void *data, const char *p, size_t n)
{
	struct fixbuf *fb = data;

	if (fb->fb_over || n > fb->fb_cap - fb->fb_len) {
		fb->fb_over = true;
		return -1;
	}
	memcpy(fb->fb_buf + fb->fb_len, p, n);
	fb->fb_len += n;
	return 0;
}

/* The payload array of bc into pf. */
static void
encode_payload(const struct br_beacon *bc, struct fixbuf *pf)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, pf, fixbuf_write);
	msgpack_pack_array(&pk, 6);
	msgpack_pack_str_with_body(&pk, bc->bc_cluster, bc->bc_cluster_len);
	msgpack_pack_str_with_body(&pk, bc->bc_node, bc->bc_node_len);
	msgpack_pack_uint64(&pk, bc->bc_inc);
	msgpack_pack_str_with_body(&pk, bc->bc_endpoint,
	    bc->bc_endpoint_len);
	msgpack_pack_uint64(&pk, bc->bc_ts_ms);
	msgpack_pack_uint64(&pk, bc->bc_seq);
}

int
br_beacon_encode(const struct br_beacon *bc, uint8_t *out, size_t cap,
    size_t *len)
{
	uint8_t payload[BR_BEACON_MAX];
	struct fixbuf pf = { payload, sizeof(payload), 0, false };
	struct fixbuf of = { out, cap, 0, false };
	msgpack_packer pk;

	encode_payload(bc, &pf);
	msgpack_packer_init(&pk, &of, fixbuf_write);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint32(&pk, BEACON_VERSION);
	msgpack_pack_bin_with_body(&pk, payload, pf.fb_len);
	msgpack_pack_bin_with_body(&pk, bc->bc_mac, bc->bc_mac_len);
	if (pf.fb_over || of.fb_over)
		return TP_ETOOBIG;
	*len = of.fb_len;
	return 0;
}

int
br_beacon_seal(const struct br_beacon *bc, const uint8_t *key,
    uint8_t *out, size_t cap, size_t *len)
{
	uint8_t payload[BR_BEACON_MAX];
	struct fixbuf pf = { payload, sizeof(payload), 0, false };

	encode_payload(bc, &pf);
	if (pf.fb_over)
		return TP_ETOOBIG;
	return tp_sec_beacon_wrap(key, payload, pf.fb_len, out, cap, len);
}

/* Walks then unpacks one whole value: the walk bounds every count by the
 * bytes left, so the zone stays a small multiple of len. */
static int
unpack_one(const uint8_t *buf, size_t len, msgpack_zone *z,
    msgpack_object *obj, struct tp_err *err)
{
	size_t off = 0;
	int rv;

	if ((rv = tp_mpck_walk(buf, len, &off, 2, err)) != 0)
		return rv;
	if (off != len)
		return tp_err_set(err, TP_ETRAILING, "beacon: %zu bytes after "
		    "the value", len - off);
	off = 0;
	if (msgpack_unpack((const char *)buf, len, &off, z, obj) !=
	    MSGPACK_UNPACK_SUCCESS)
		return tp_err_set(err, TP_ETYPE, "beacon: not msgpack");
	return 0;
}

static bool
is_array(const msgpack_object *o, uint32_t n)
{
	return o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == n;
}

static int
get_str(const msgpack_object *o, size_t max, const char **p, size_t *len,
    struct tp_err *err, const char *what)
{
	if (o->type != MSGPACK_OBJECT_STR)
		return tp_err_set(err, TP_ETYPE, "beacon: %s is not a string",
		    what);
	if (o->via.str.size == 0 || o->via.str.size >= max ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL)
		return tp_err_set(err, TP_ETOOBIG, "beacon: bad %s length %u",
		    what, o->via.str.size);
	*p = o->via.str.ptr;
	*len = o->via.str.size;
	return 0;
}

static int
get_u64(const msgpack_object *o, uint64_t *v, struct tp_err *err,
    const char *what)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return tp_err_set(err, TP_ETYPE, "beacon: %s is not an "
		    "unsigned integer", what);
	*v = o->via.u64;
	return 0;
}

static int
decode_payload(const msgpack_object *a, struct br_beacon *bc,
    struct tp_err *err)
{
	const msgpack_object *f = a->via.array.ptr;
	int rv;

	if (!is_array(a, 6))
		return tp_err_set(err, TP_ETYPE, "beacon: payload is not a "
		    "6-array");
	if ((rv = get_str(&f[0], BR_NAME_MAX, &bc->bc_cluster,
	    &bc->bc_cluster_len, err, "cluster")) != 0 ||
	    (rv = get_str(&f[1], BR_NAME_MAX, &bc->bc_node, &bc->bc_node_len,
	    err, "node")) != 0 ||
	    (rv = get_u64(&f[2], &bc->bc_inc, err, "incarnation")) != 0 ||
	    (rv = get_str(&f[3], BR_ENDPOINT_MAX, &bc->bc_endpoint,
	    &bc->bc_endpoint_len, err, "endpoint")) != 0 ||
	    (rv = get_u64(&f[4], &bc->bc_ts_ms, err, "timestamp")) != 0 ||
	    (rv = get_u64(&f[5], &bc->bc_seq, err, "seq")) != 0)
		return rv;
	return 0;
}

static int
decode_outer(const msgpack_object *o, struct br_beacon *bc,
    struct tp_err *err)
{
	const msgpack_object *f = o->via.array.ptr;

	if (!is_array(o, 3))
		return tp_err_set(err, TP_ETYPE, "beacon: not a 3-array");
	if (f[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return tp_err_set(err, TP_ETYPE, "beacon: no version");
	if (f[0].via.u64 != BEACON_VERSION)
		return tp_err_set(err, TP_EVERSION, "beacon: unknown version "
		    "%llu", (unsigned long long)f[0].via.u64);
	if (f[1].type != MSGPACK_OBJECT_BIN || f[2].type != MSGPACK_OBJECT_BIN)
		return tp_err_set(err, TP_ETYPE, "beacon: payload or mac is "
		    "not bin");
	bc->bc_payload = (const uint8_t *)f[1].via.bin.ptr;
	bc->bc_payload_len = f[1].via.bin.size;
	bc->bc_mac = (const uint8_t *)f[2].via.bin.ptr;
	bc->bc_mac_len = f[2].via.bin.size;
	return 0;
}

int
br_beacon_decode(const uint8_t *buf, size_t len, struct br_beacon *bc,
    struct tp_err *err)
{
	msgpack_zone z;
	msgpack_object o;
	int rv;

	if (len > BR_BEACON_MAX)
		return tp_err_set(err, TP_ETOOBIG, "beacon: %zu bytes", len);
	memset(bc, 0, sizeof(*bc));
	if (!msgpack_zone_init(&z, 512))
		return tp_err_set(err, TP_ENOMEM, "beacon: out of memory");
	if ((rv = unpack_one(buf, len, &z, &o, err)) == 0 &&
	    (rv = decode_outer(&o, bc, err)) == 0) {
		msgpack_zone_clear(&z);
		if ((rv = unpack_one(bc->bc_payload, bc->bc_payload_len, &z,
		    &o, err)) == 0)
			rv = decode_payload(&o, bc, err);
	}
	msgpack_zone_destroy(&z);
	return rv;
}


/*
 * br_beacon — the beacon codec of br_disc (declared in br_disc.h):
 * encode, seal with the cluster key, and a bounds-walked decoder of
 * untrusted datagrams that never allocates beyond a small zone.
 */
#include <stdbool.h>
#include <string.h>

#include <msgpack.h>

#include "br_beacon.h"
#include "tp_body.h"
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

/* [cluster, node, inc, endpoint, ts_ms, seq]: names are C-safe text
 * (no NUL, not empty) shorter than their buffers on the other side. */
static int
decode_payload(const msgpack_object *a, struct br_beacon *bc,
    struct tp_err *err)
{
	const unsigned text = TP_BODY_NONEMPTY | TP_BODY_NONUL;
	struct tp_body b;

	tp_body_open_array(&b, a, 6, 6, "beacon payload", err);
	tp_body_str(&b, NULL, text, BR_NAME_MAX - 1, &bc->bc_cluster,
	    &bc->bc_cluster_len);
	tp_body_str(&b, NULL, text, BR_NAME_MAX - 1, &bc->bc_node,
	    &bc->bc_node_len);
	tp_body_uint(&b, NULL, 0, 0, UINT64_MAX, &bc->bc_inc);
	tp_body_str(&b, NULL, text, BR_ENDPOINT_MAX - 1, &bc->bc_endpoint,
	    &bc->bc_endpoint_len);
	tp_body_uint(&b, NULL, 0, 0, UINT64_MAX, &bc->bc_ts_ms);
	tp_body_uint(&b, NULL, 0, 0, UINT64_MAX, &bc->bc_seq);
	return tp_body_end(&b);
}

/* [version, payload bin, mac bin]: the version first, so that a newer
 * beacon says so rather than "bad payload". */
static int
decode_outer(const msgpack_object *o, struct br_beacon *bc,
    struct tp_err *err)
{
	struct tp_body b;
	uint64_t v;
	int rv;

	tp_body_open_array(&b, o, 3, 3, "beacon", err);
	if ((rv = tp_body_uint(&b, NULL, 0, 0, UINT64_MAX, &v)) != 0)
		return rv;
	if (v != BEACON_VERSION)
		return tp_err_set(err, TP_EVERSION, "beacon: unknown version "
		    "%llu", (unsigned long long)v);
	tp_body_bin(&b, NULL, 0, BR_BEACON_MAX, &bc->bc_payload,
	    &bc->bc_payload_len);
	tp_body_bin(&b, NULL, 0, BR_BEACON_MAX, &bc->bc_mac, &bc->bc_mac_len);
	return tp_body_end(&b);
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
	/* depth 2 at most: the payload is a flat array inside a bin */
	if ((rv = tp_body_unpack(buf, len, 2, &z, &o, err)) == 0 &&
	    (rv = decode_outer(&o, bc, err)) == 0) {
		msgpack_zone_clear(&z);
		if ((rv = tp_body_unpack(bc->bc_payload, bc->bc_payload_len, 2,
		    &z, &o, err)) == 0)
			rv = decode_payload(&o, bc, err);
	}
	msgpack_zone_destroy(&z);
	return rv;
}


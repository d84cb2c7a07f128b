/*
 * br_beacon — the beacon codec.  A beacon datagram is [version=1, payload
 * (bin), mac (bin)] (msgpack); payload is [cluster, node, incarnation,
 * endpoint, ts_ms, seq]; mac is tp_sec's HMAC of payload under the
 * cluster key.  A leaf: no broker state, no allocation.
 */
#ifndef BR_BEACON_H
#define BR_BEACON_H

#include <stddef.h>
#include <stdint.h>

#include "br_conf.h"
#include "tp_err.h"

#define BR_BEACON_MAX 1400	/* bytes of one beacon datagram */
#define BR_ENDPOINT_MAX 128

/* One decoded beacon; strings point into the datagram (borrowed). */
struct br_beacon {
	const char	*bc_cluster;
	size_t		 bc_cluster_len;
	const char	*bc_node;
	size_t		 bc_node_len;
	uint64_t	 bc_inc;
	const char	*bc_endpoint;
	size_t		 bc_endpoint_len;
	uint64_t	 bc_ts_ms;
	uint64_t	 bc_seq;
	const uint8_t	*bc_mac;
	size_t		 bc_mac_len;
	const uint8_t	*bc_payload;	/* what the mac covers */
	size_t		 bc_payload_len;
};

/*
 * Encodes a beacon (bc_mac may be empty) into out (cap bytes).  Returns 0
 * with *len set, or TP_ETOOBIG.
 */
int br_beacon_encode(const struct br_beacon *bc, uint8_t *out, size_t cap,
    size_t *len);

/* Encodes bc with the MAC of its payload under key (32 bytes), as
 * beacons are sent.  Returns 0 with *len set, or TP_ETOOBIG. */
int br_beacon_seal(const struct br_beacon *bc, const uint8_t *key,
    uint8_t *out, size_t cap, size_t *len);

/*
 * Decodes len bytes of an untrusted datagram: bounds-walked before
 * anything is unpacked, strict types, names within BR_NAME_MAX, the
 * endpoint within BR_ENDPOINT_MAX, nothing trailing.  Never allocates.
 * Returns 0 (bc points into buf) or a TP_E* code with err filled.
 */
int br_beacon_decode(const uint8_t *buf, size_t len, struct br_beacon *bc,
    struct tp_err *err);

#endif

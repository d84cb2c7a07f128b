/*
 * fuzz_disc — libFuzzer harness for br_disc's beacon decoder
 * (br_beacon_decode), the first code a datagram from the network meets:
 * it runs before the MAC is checked.
 *
 * Properties besides "no crash": every field of a decoded beacon points
 * into the input (the decoder borrows, its zone is gone on return) and
 * is within its bound; encoding the beacon again and decoding that gives
 * the same fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "br_disc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_disc: %s\n", what);
	abort();
}

static void
check_in(const void *p, size_t len, const uint8_t *buf, size_t size,
    const char *what)
{
	const uint8_t *b = p;

	if (len > size || b < buf || b > buf + size - len)
		fuzz_fail(what);
}

static void
check_fields(const struct br_beacon *bc, const uint8_t *buf, size_t size)
{
	check_in(bc->bc_payload, bc->bc_payload_len, buf, size, "payload");
	check_in(bc->bc_mac, bc->bc_mac_len, buf, size, "mac");
	check_in(bc->bc_cluster, bc->bc_cluster_len, bc->bc_payload,
	    bc->bc_payload_len, "cluster");
	check_in(bc->bc_node, bc->bc_node_len, bc->bc_payload,
	    bc->bc_payload_len, "node");
	check_in(bc->bc_endpoint, bc->bc_endpoint_len, bc->bc_payload,
	    bc->bc_payload_len, "endpoint");
	if (bc->bc_cluster_len == 0 || bc->bc_cluster_len >= BR_NAME_MAX ||
	    bc->bc_node_len == 0 || bc->bc_node_len >= BR_NAME_MAX ||
	    bc->bc_endpoint_len == 0 ||
	    bc->bc_endpoint_len >= BR_ENDPOINT_MAX)
		fuzz_fail("field length out of bounds");
}

static int
same_str(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static void
check_again(const struct br_beacon *bc)
{
	uint8_t out[BR_BEACON_MAX];
	struct br_beacon b2;
	size_t len;

	/* msgpack-c packs minimally: never longer than what decoded */
	if (br_beacon_encode(bc, out, sizeof(out), &len) != 0)
		fuzz_fail("re-encode failed");
	if (br_beacon_decode(out, len, &b2, NULL) != 0)
		fuzz_fail("re-encoded beacon does not decode");
	if (!same_str(bc->bc_cluster, bc->bc_cluster_len, b2.bc_cluster,
	    b2.bc_cluster_len) || !same_str(bc->bc_node, bc->bc_node_len,
	    b2.bc_node, b2.bc_node_len) || !same_str(bc->bc_endpoint,
	    bc->bc_endpoint_len, b2.bc_endpoint, b2.bc_endpoint_len) ||
	    bc->bc_inc != b2.bc_inc || bc->bc_ts_ms != b2.bc_ts_ms ||
	    bc->bc_seq != b2.bc_seq || bc->bc_mac_len != b2.bc_mac_len ||
	    memcmp(bc->bc_mac, b2.bc_mac, bc->bc_mac_len) != 0)
		fuzz_fail("round trip changed a field");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct br_beacon bc;
	struct tp_err err;

	if (br_beacon_decode(data, size, &bc, &err) != 0) {
		if (memchr(err.e_msg, '\0', sizeof(err.e_msg)) == NULL)
			fuzz_fail("error message not terminated");
		return 0;
	}
	check_fields(&bc, data, size);
	check_again(&bc);
	return 0;
}

/*
 * test_disc — the beacon codec (br_disc): round trip, and garbage,
 * truncation, hostile counts, wrong types, unknown versions and trailing
 * bytes all rejected with a code, without a crash or a large allocation;
 * a sealed beacon decodes and passes tp_sec's check under its key only,
 * once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "br_disc.h"
#include "tp_err.h"
#include "tp_sec.h"

static const struct br_beacon sample = {
	.bc_cluster = "troupe", .bc_cluster_len = 6,
	.bc_node = "n1", .bc_node_len = 2,
	.bc_inc = 0x1234567890abcdefull,
	.bc_endpoint = "tcp://127.0.0.1:17451", .bc_endpoint_len = 21,
	.bc_ts_ms = 1700000000000ull, .bc_seq = 42,
	.bc_mac = (const uint8_t *)"", .bc_mac_len = 0,
};

static size_t
encode(uint8_t *buf, size_t cap)
{
	size_t len = 0;

	cr_assert_eq(br_beacon_encode(&sample, buf, cap, &len), 0);
	return len;
}

Test(beacon, round_trip)
{
	uint8_t buf[BR_BEACON_MAX];
	size_t len = encode(buf, sizeof(buf));
	struct br_beacon bc;
	struct tp_err err;

	cr_assert_eq(br_beacon_decode(buf, len, &bc, &err), 0, "%s",
	    err.e_msg);
	cr_assert_eq(bc.bc_node_len, 2);
	cr_assert_eq(memcmp(bc.bc_node, "n1", 2), 0);
	cr_assert_eq(bc.bc_inc, sample.bc_inc);
	cr_assert_eq(bc.bc_seq, 42);
	cr_assert_eq(bc.bc_ts_ms, sample.bc_ts_ms);
	cr_assert_eq(bc.bc_endpoint_len, 21);
	cr_assert_eq(bc.bc_mac_len, 0);
	cr_assert_gt(bc.bc_payload_len, 0);
}

Test(beacon, encode_refuses_small_buffer)
{
	uint8_t buf[16];
	size_t len;

	cr_assert_eq(br_beacon_encode(&sample, buf, sizeof(buf), &len),
	    TP_ETOOBIG);
}

Test(beacon, every_truncation_rejected)
{
	uint8_t buf[BR_BEACON_MAX];
	size_t len = encode(buf, sizeof(buf));
	struct br_beacon bc;

	for (size_t n = 0; n < len; n++)
		cr_assert_neq(br_beacon_decode(buf, n, &bc, NULL), 0,
		    "accepted %zu of %zu bytes", n, len);
}

Test(beacon, trailing_bytes_rejected)
{
	uint8_t buf[BR_BEACON_MAX];
	size_t len = encode(buf, sizeof(buf));
	struct br_beacon bc;

	buf[len] = 0xc0;
	cr_assert_eq(br_beacon_decode(buf, len + 1, &bc, NULL),
	    TP_ETRAILING);
}

Test(beacon, unknown_version_rejected)
{
	uint8_t buf[BR_BEACON_MAX];
	size_t len = encode(buf, sizeof(buf));
	struct br_beacon bc;
	struct tp_err err;

	cr_assert_eq(buf[1], 1);	/* [ fixarray(3), version 1, ... */
	buf[1] = 2;
	cr_assert_eq(br_beacon_decode(buf, len, &bc, &err), TP_EVERSION);
	cr_assert(strstr(err.e_msg, "version") != NULL);
}

Test(beacon, hostile_counts_rejected_without_allocating)
{
	/* a map of 2^32-1 entries, an array of 2^32-1, a bin of 4 GiB */
	static const uint8_t bad[][6] = {
		{ 0xdf, 0xff, 0xff, 0xff, 0xff, 0x00 },
		{ 0xdd, 0xff, 0xff, 0xff, 0xff, 0x00 },
		{ 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00 },
	};
	struct rlimit saved, rl;
	struct br_beacon bc;
	int rv[3];

	/* Only the soft limit is lowered, and raised again before any
	 * assertion: Criterion's own reporting must not run under it. */
	cr_assert_eq(getrlimit(RLIMIT_AS, &saved), 0);
	rl = saved;
	rl.rlim_cur = 64u << 20;
	if (saved.rlim_cur != RLIM_INFINITY && saved.rlim_cur < rl.rlim_cur)
		rl.rlim_cur = saved.rlim_cur;
	setrlimit(RLIMIT_AS, &rl);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		rv[i] = br_beacon_decode(bad[i], sizeof(bad[i]), &bc, NULL);
	setrlimit(RLIMIT_AS, &saved);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_neq(rv[i], 0);
}

Test(beacon, oversized_datagram_rejected)
{
	static uint8_t big[BR_BEACON_MAX + 1];
	struct br_beacon bc;

	cr_assert_eq(br_beacon_decode(big, sizeof(big), &bc, NULL),
	    TP_ETOOBIG);
}

static size_t
pack_with_payload(uint8_t *out, size_t cap, void (*fill)(msgpack_packer *))
{
	msgpack_sbuffer p, o;
	msgpack_packer pk;
	size_t len;

	msgpack_sbuffer_init(&p);
	msgpack_packer_init(&pk, &p, msgpack_sbuffer_write);
	fill(&pk);
	msgpack_sbuffer_init(&o);
	msgpack_packer_init(&pk, &o, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 3);
	msgpack_pack_uint32(&pk, 1);
	msgpack_pack_bin_with_body(&pk, p.data, p.size);
	msgpack_pack_bin_with_body(&pk, "", 0);
	len = o.size < cap ? o.size : cap;
	memcpy(out, o.data, len);
	msgpack_sbuffer_destroy(&p);
	msgpack_sbuffer_destroy(&o);
	return len;
}

static void
fill_wrong_type(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 6);
	msgpack_pack_str_with_body(pk, "troupe", 6);
	msgpack_pack_int(pk, -1);		/* node must be a string */
	msgpack_pack_uint64(pk, 1);
	msgpack_pack_str_with_body(pk, "tcp://a:1", 9);
	msgpack_pack_uint64(pk, 1);
	msgpack_pack_uint64(pk, 1);
}

static void
fill_long_name(msgpack_packer *pk)
{
	char name[BR_NAME_MAX + 10];

	memset(name, 'x', sizeof(name));
	msgpack_pack_array(pk, 6);
	msgpack_pack_str_with_body(pk, "troupe", 6);
	msgpack_pack_str_with_body(pk, name, sizeof(name));
	msgpack_pack_uint64(pk, 1);
	msgpack_pack_str_with_body(pk, "tcp://a:1", 9);
	msgpack_pack_uint64(pk, 1);
	msgpack_pack_uint64(pk, 1);
}

static void
fill_deep(msgpack_packer *pk)
{
	for (int i = 0; i < 40; i++)
		msgpack_pack_array(pk, 1);
	msgpack_pack_nil(pk);
}

Test(beacon, bad_payloads_rejected)
{
	void (*fills[])(msgpack_packer *) = { fill_wrong_type,
	    fill_long_name, fill_deep };
	uint8_t buf[BR_BEACON_MAX];
	struct br_beacon bc;
	struct tp_err err;

	for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++) {
		size_t len = pack_with_payload(buf, sizeof(buf), fills[i]);

		cr_assert_neq(br_beacon_decode(buf, len, &bc, &err), 0,
		    "payload %zu accepted", i);
	}
}

Test(beacon, random_garbage_never_crashes)
{
	uint8_t buf[256];
	struct br_beacon bc;

	srand(7);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand() % (int)sizeof(buf));

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		(void)br_beacon_decode(buf, len, &bc, NULL);
	}
}

Test(beacon, sealed_checks_under_its_key_once)
{
	uint8_t key[TP_SEC_KEYBYTES], other[TP_SEC_KEYBYTES];
	uint8_t buf[BR_BEACON_MAX];
	struct tp_sec_replay rp;
	struct br_beacon bc;
	struct tp_err err;
	size_t len;

	memset(key, 7, sizeof(key));
	memset(other, 8, sizeof(other));
	cr_assert_eq(br_beacon_seal(&sample, key, buf, sizeof(buf), &len), 0);
	cr_assert_eq(br_beacon_decode(buf, len, &bc, &err), 0, "%s",
	    err.e_msg);
	cr_assert_eq(bc.bc_mac_len, TP_SEC_MACBYTES);
	tp_sec_replay_init(&rp, 0);
	cr_expect_eq(tp_sec_beacon_check(&rp, other, bc.bc_payload,
	    bc.bc_payload_len, bc.bc_mac, bc.bc_mac_len, bc.bc_node,
	    bc.bc_node_len, bc.bc_inc, bc.bc_seq, bc.bc_ts_ms, bc.bc_ts_ms,
	    &err), TP_SEC_EBADMAC);
	cr_expect_eq(tp_sec_beacon_check(&rp, key, bc.bc_payload,
	    bc.bc_payload_len, bc.bc_mac, bc.bc_mac_len, bc.bc_node,
	    bc.bc_node_len, bc.bc_inc, bc.bc_seq, bc.bc_ts_ms, bc.bc_ts_ms,
	    &err), 0, "%s", err.e_msg);
	cr_expect_eq(tp_sec_beacon_check(&rp, key, bc.bc_payload,
	    bc.bc_payload_len, bc.bc_mac, bc.bc_mac_len, bc.bc_node,
	    bc.bc_node_len, bc.bc_inc, bc.bc_seq, bc.bc_ts_ms, bc.bc_ts_ms,
	    &err), TP_SEC_EREPLAY);
}

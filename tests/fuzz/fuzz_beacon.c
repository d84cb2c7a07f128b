/*
 * fuzz_beacon — libFuzzer harness for the beacon datagram decoder
 * (tp_sec_beacon_unwrap) and the MAC, timestamp and replay checks.
 *
 * Properties besides "no crash": an unwrapped payload and MAC lie inside
 * the input; wrapping the payload again and unwrapping gives the same
 * payload; tp_sec_beacon_check says "bad MAC" exactly when the MAC is not
 * the one tp_sec_beacon_mac computes; a beacon accepted once is refused
 * as a replay the second time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_sec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seed corpus was made with the all-zero key. */
static const uint8_t fuzz_key[TP_SEC_KEYBYTES];
static struct tp_sec_replay fuzz_rp;

#define NOW_MS 1700000000000ull

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_beacon: %s\n", what);
	abort();
}

static void
check_rewrap(const uint8_t *p, size_t plen)
{
	uint8_t dg[TP_SEC_BEACON_MAX + 64];
	const uint8_t *p2, *m2;
	size_t len, plen2, mlen2;

	if (tp_sec_beacon_wrap(fuzz_key, p, plen, dg, sizeof(dg), &len) != 0)
		fuzz_fail("cannot wrap an unwrapped payload");
	if (tp_sec_beacon_unwrap(dg, len, &p2, &plen2, &m2, &mlen2,
	    NULL) != 0 || plen2 != plen || memcmp(p, p2, plen) != 0)
		fuzz_fail("rewrap differs");
}

static void
check_mac(const uint8_t *p, size_t plen, const uint8_t *m, size_t mlen)
{
	uint8_t want[TP_SEC_MACBYTES];
	uint64_t seq = 0;
	int rv, good;

	/* The first payload bytes stand in for the fields br_disc decodes. */
	memcpy(&seq, p, plen < 8 ? plen : 8);
	tp_sec_beacon_mac(fuzz_key, p, plen, want);
	good = mlen == sizeof(want) && memcmp(want, m, mlen) == 0;
	rv = tp_sec_beacon_check(&fuzz_rp, fuzz_key, p, plen, m, mlen, "n",
	    1, 1, seq, NOW_MS, NOW_MS, NULL);
	if ((rv == TP_SEC_EBADMAC) == good)
		fuzz_fail("MAC verdict disagrees with the MAC");
	if (rv == 0 && tp_sec_beacon_check(&fuzz_rp, fuzz_key, p, plen, m,
	    mlen, "n", 1, 1, seq, NOW_MS, NOW_MS, NULL) != TP_SEC_EREPLAY)
		fuzz_fail("replay accepted");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p, *m;
	size_t plen, mlen;

	if (fuzz_rp.rp_window_ms == 0)
		tp_sec_replay_init(&fuzz_rp, 0);
	if (tp_sec_beacon_unwrap(data, size, &p, &plen, &m, &mlen, NULL) != 0)
		return 0;
	if (p < data || p + plen > data + size || m < data ||
	    m + mlen > data + size)
		fuzz_fail("slice outside the input");
	check_rewrap(p, plen);
	check_mac(p, plen, m, mlen);
	return 0;
}

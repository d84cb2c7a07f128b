/*
 * fuzz_env — libFuzzer harness for the frame and envelope decoder.
 *
 * Feeds untrusted bytes to tp_frame_open and tp_frame_next, unpacks every
 * body with msgpack-c, then checks the round-trip property: the decoded
 * frame, packed again with tp_env_pack (and tp_batch_pack_head), must open
 * and decode to the same envelopes.  The same bytes are read as a router
 * reads them too (skimmed, through a frame cache: check_skim).  Any
 * mismatch aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "tp_env.h"
#include "tp_err.h"

#define FUZZ_MAX_ENV 64		/* envelopes compared per frame */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tp_limits fuzz_lim;

static void
fuzz_fail(const char *what, const struct tp_err *err)
{
	fprintf(stderr, "round trip: %s: %s\n", what, err ? err->e_msg : "");
	abort();
}

static int
slice_eq(const struct tp_slice *a, const struct tp_slice *b)
{
	return a->s_len == b->s_len &&
	    (a->s_len == 0 || memcmp(a->s_ptr, b->s_ptr, a->s_len) == 0);
}

static int
env_eq(const struct tp_env *a, const struct tp_env *b)
{
	/* the version is not compared: a version 1 frame packs again as 2 */
	return a->e_kind == b->e_kind &&
	    a->e_id == b->e_id && slice_eq(&a->e_from, &b->e_from) &&
	    slice_eq(&a->e_to, &b->e_to) && a->e_corr == b->e_corr &&
	    a->e_flags == b->e_flags && a->e_body_len == b->e_body_len &&
	    memcmp(a->e_body, b->e_body, a->e_body_len) == 0;
}

/* Packs envs in the shape they came in: one envelope or a batch. */
static void
repack(msgpack_sbuffer *sb, const struct tp_env *envs, uint32_t n,
    int batch)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	if (batch && tp_batch_pack_head(&pk, n) != 0)
		fuzz_fail("pack batch head", NULL);
	for (uint32_t i = 0; i < n; i++)
		if (tp_env_pack(&pk, &envs[i]) != 0)
			fuzz_fail("pack envelope", NULL);
}

/* The direct packer (typed putters) writes exactly msgpack-c's bytes. */
static void
check_pack_buf(const struct tp_env *env)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t len = tp_env_size(env);
	uint8_t *buf = malloc(len ? len : 1);

	if (buf == NULL)
		return;
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (tp_env_pack(&pk, env) != 0 || tp_env_pack_buf(env, buf, len) != 0)
		fuzz_fail("pack", NULL);
	if (sb.size != len || memcmp(sb.data, buf, len) != 0)
		fuzz_fail("tp_env_pack_buf differs from tp_env_pack", NULL);
	if (len > 1 && tp_env_pack_buf(env, buf, len - 1) == 0)
		fuzz_fail("tp_env_pack_buf took a short buffer", NULL);
	msgpack_sbuffer_destroy(&sb);
	free(buf);
}

static void
check_round_trip(const struct tp_env *envs, uint32_t n, int batch)
{
	msgpack_sbuffer sb;
	struct tp_frame fr;
	struct tp_env again;
	struct tp_err err = { 0 };
	uint32_t i = 0;
	int rv;

	for (i = 0; i < n; i++)
		check_pack_buf(&envs[i]);
	i = 0;
	msgpack_sbuffer_init(&sb);
	repack(&sb, envs, n, batch);
	if (tp_frame_open(&fr, sb.data, sb.size, &fuzz_lim, &err) != 0)
		fuzz_fail("reopen", &err);
	while ((rv = tp_frame_next(&fr, &again, &err)) == 1) {
		if (i >= n || !env_eq(&envs[i], &again))
			fuzz_fail("envelope differs", NULL);
		i++;
	}
	if (rv != 0 || i != n)
		fuzz_fail("decode again", &err);
	if (!batch && tp_env_decode(sb.data, sb.size, &fuzz_lim, &again,
	    &err) != 0)
		fuzz_fail("tp_env_decode", &err);
	msgpack_sbuffer_destroy(&sb);
}

/*
 * The router's read of the same bytes: skimmed through a small cache (so
 * the cached and the decoded-again paths both run).  Whatever the full
 * open takes, the skim takes too, envelope for envelope; a skimmed body
 * passes tp_env_body_check exactly when it is a value that unpacks; and
 * when every body checks, the full open takes the frame.
 */
static void
check_skim(const uint8_t *data, size_t size, int full_ok,
    const struct tp_env *envs, uint32_t n, msgpack_zone *zone)
{
	struct tp_frame_cache cache;
	struct tp_frame fr;
	struct tp_env e;
	struct tp_err err = { 0 };
	msgpack_object obj;
	uint32_t i = 0;
	int rv, all_ok = 1;

	if (tp_frame_cache_init(&cache, 4) != 0)
		return;
	rv = tp_frame_open_cached(&fr, data, size, &fuzz_lim, 1, &cache,
	    &err);
	if (rv != 0 && full_ok)
		fuzz_fail("skim refuses what the full open takes", &err);
	while (rv == 0 && (rv = tp_frame_next(&fr, &e, &err)) == 1) {
		if (i < n && full_ok && !env_eq(&envs[i], &e))
			fuzz_fail("skimmed envelope differs", NULL);
		if (tp_env_body_check(&e, &err) != 0)
			all_ok = 0;
		else if (tp_env_body(&e, zone, &obj, &err) != 0)
			fuzz_fail("checked body does not unpack", &err);
		msgpack_zone_clear(zone);
		i++;
		rv = 0;
	}
	if (rv == 0 && all_ok && !full_ok)
		fuzz_fail("every body checks, yet the full open refused", NULL);
	tp_frame_close(&fr);
	if (cache.fc_busy)
		fuzz_fail("cache still busy after close", NULL);
	tp_frame_cache_free(&cache);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_env envs[FUZZ_MAX_ENV];
	struct tp_frame fr;
	struct tp_err err = { 0 };
	msgpack_zone zone;
	msgpack_object obj;
	uint32_t n = 0;
	int batch, full_ok, rv = 0;

	fuzz_lim = tp_limits_default;
	fuzz_lim.l_max_depth = 16;
	msgpack_zone_init(&zone, 1024);
	full_ok = tp_frame_open(&fr, data, size, &fuzz_lim, &err) == 0;
	batch = fr.f_off != 0;
	while (full_ok && n < FUZZ_MAX_ENV &&
	    (rv = tp_frame_next(&fr, &envs[n], &err)) == 1) {
		if (tp_env_body(&envs[n], &zone, &obj, &err) != 0)
			fuzz_fail("walked body does not unpack", &err);
		msgpack_zone_clear(&zone);
		n++;
	}
	check_skim(data, size, full_ok, envs, n, &zone);
	msgpack_zone_destroy(&zone);
	/* Only a frame decoded in full has a defined round trip. */
	if (full_ok && fr.f_left == 0 && rv == 0 && n < FUZZ_MAX_ENV)
		check_round_trip(envs, n, batch);
	return 0;
}

/*
 * Unit tests for the peer-link bodies read with tp_body: the hello
 * (br_hello_parse: exactly the keys br_hello_pack writes, a handshake
 * message only with its number) and the names table (br_names_on: bad
 * entries skipped, a body that is not a table refused).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <msgpack.h>

#include "br_hello.h"
#include "br_names.h"
#include "tp_env.h"

static msgpack_sbuffer sb;
static msgpack_packer pk;
static msgpack_zone zone;

static void
setup(void)
{
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_zone_init(&zone, 1024);
}

static void
teardown(void)
{
	msgpack_sbuffer_destroy(&sb);
	msgpack_zone_destroy(&zone);
}

TestSuite(peer_bodies, .init = setup, .fini = teardown);

static void
kstr(const char *k, const char *v)
{
	msgpack_pack_str_with_body(&pk, k, strlen(k));
	msgpack_pack_str_with_body(&pk, v, strlen(v));
}

static void
kuint(const char *k, uint64_t v)
{
	msgpack_pack_str_with_body(&pk, k, strlen(k));
	msgpack_pack_uint64(&pk, v);
}

/* What sb holds, parsed as the body of a CONTROL envelope. */
static int
parse(struct br_hello_msg *m)
{
	struct tp_env env = { .e_kind = TP_K_CONTROL,
	    .e_body = (uint8_t *)sb.data, .e_body_len = sb.size };

	msgpack_zone_clear(&zone);
	return br_hello_parse(&env, &zone, m);
}

static const uint8_t key[TP_SEC_KEYBYTES];

static struct br_hello_self
self(void)
{
	return (struct br_hello_self){ .sf_node = "n1", .sf_peer = "n2",
	    .sf_inc = 7, .sf_endpoint = "tcp://127.0.0.1:1", .sf_key = key,
	    .sf_window = 1024 };
}

Test(peer_bodies, hello_as_packed_reads_back)
{
	struct br_hello h = { .he_sess = 11, .he_peer_sess = 22 };
	struct br_hello_self me = self();
	const uint8_t hs[3] = { 1, 2, 3 };
	struct br_hello_msg m;

	br_hello_pack(&h, &me, &sb, NULL, 0, 0);
	cr_assert_eq(parse(&m), 0);
	cr_expect_eq(m.hm_node_len, 2);
	cr_expect_eq(memcmp(m.hm_node, "n1", 2), 0);
	cr_expect_eq(m.hm_inc, 7);
	cr_expect_eq(m.hm_sess, 11);
	cr_expect_eq(m.hm_seen, 22);
	cr_expect_null(m.hm_hs);

	msgpack_sbuffer_clear(&sb);
	br_hello_pack(&h, &me, &sb, hs, sizeof(hs), 2);
	cr_assert_eq(parse(&m), 0);
	cr_expect_eq(m.hm_hsi, 2);
	cr_expect_eq(m.hm_hs_len, 3);
	cr_expect_eq(memcmp(m.hm_hs, hs, 3), 0);
}

/* A minimal hello with one more pair (k, v) or, for k NULL, none. */
static void
hello_with(const char *k, uint64_t v, uint64_t sess)
{
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, k != NULL ? 6 : 5);
	kstr("op", "hello");
	kstr("node", "n2");
	kuint("inc", 1);
	kuint("sess", sess);
	kuint("seen", 0);
	if (k != NULL)
		kuint(k, v);
}

Test(peer_bodies, hello_strict)
{
	struct br_hello_msg m;

	hello_with(NULL, 0, 5);
	cr_expect_eq(parse(&m), 0, "endpoint and window may be absent");
	hello_with("extra", 1, 5);
	cr_expect_eq(parse(&m), -1, "a key br_hello_pack never writes");
	hello_with(NULL, 0, 0);
	cr_expect_eq(parse(&m), -1, "session 0");
	hello_with("hsi", 9, 5);
	cr_expect_eq(parse(&m), -1, "hsi out of 1..3");
	hello_with("hsi", 1, 5);
	cr_expect_eq(parse(&m), 0);
	cr_expect_null(m.hm_hs, "a number without its message");
	cr_expect_eq(m.hm_hsi, 0);

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 1);
	kstr("op", "hb");
	cr_expect_eq(parse(&m), -1, "not a hello");
	msgpack_sbuffer_clear(&sb);
	msgpack_pack_array(&pk, 0);
	cr_expect_eq(parse(&m), -1, "not a map");
}

static int
names_on(struct br_rtable *t)
{
	msgpack_object obj;

	msgpack_zone_clear(&zone);
	cr_assert_eq(msgpack_unpack(sb.data, sb.size, NULL, &zone, &obj),
	    MSGPACK_UNPACK_SUCCESS);
	return br_names_on(t, &obj);
}

static void
entry(const char *name, const char *state, uint64_t pid)
{
	msgpack_pack_array(&pk, 3);
	msgpack_pack_str_with_body(&pk, name, strlen(name));
	msgpack_pack_str_with_body(&pk, state, strlen(state));
	msgpack_pack_uint64(&pk, pid);
}

Test(peer_bodies, names_skip_bad_entries)
{
	struct br_rtable t = { 0 };

	msgpack_pack_map(&pk, 2);
	kstr("op", "names");
	msgpack_pack_str_with_body(&pk, "names", 5);
	msgpack_pack_array(&pk, 6);
	entry("echo", "running", 10);
	entry("", "running", 11);		/* empty name */
	entry("sink", "running", 1ull << 40);	/* pid over 32 bits */
	msgpack_pack_array(&pk, 2);		/* two elements */
	msgpack_pack_str_with_body(&pk, "x", 1);
	msgpack_pack_str_with_body(&pk, "y", 1);
	msgpack_pack_uint8(&pk, 7);		/* not an array */
	entry("alpha", "stopped", 0);
	cr_assert_eq(names_on(&t), 2);
	cr_expect(br_names_has(&t, "echo", 4));
	cr_expect(br_names_has(&t, "alpha", 5));
	cr_expect_not(br_names_has(&t, "sink", 4));
	cr_expect(t.rt_rx);

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 3);
	kstr("op", "names");
	msgpack_pack_str_with_body(&pk, "names", 5);
	msgpack_pack_array(&pk, 0);
	kuint("more", 1);
	cr_expect_eq(names_on(&t), -1, "an unknown key: not a table");
	cr_expect_eq(t.rt_n, 2, "t unchanged");

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 2);
	kstr("op", "names");
	kstr("names", "echo");
	cr_expect_eq(names_on(&t), -1, "names not a list");
	br_names_clear(&t);
}

/* A peer's subscriptions: patterns kept, anything else skipped, a list
 * over BR_NAMES_SUBS_MAX ignored whole (the old one stays). */
Test(peer_bodies, names_carry_subscriptions)
{
	static const char *pats[] = { "orders.*", "a..b", "audit.>", "x.>.y",
	    "" };
	struct br_rtable t = { 0 };

	msgpack_pack_map(&pk, 3);
	kstr("op", "names");
	msgpack_pack_str_with_body(&pk, "names", 5);
	msgpack_pack_array(&pk, 0);
	msgpack_pack_str_with_body(&pk, "subs", 4);
	msgpack_pack_array(&pk, 5);
	for (size_t i = 0; i < 5; i++)
		msgpack_pack_str_with_body(&pk, pats[i], strlen(pats[i]));
	cr_assert_eq(names_on(&t), 0);
	cr_expect_eq(t.rt_nsubs, 2);
	cr_expect(br_names_wants(&t, "orders.new", 10));
	cr_expect(br_names_wants(&t, "audit.a.b", 9));
	cr_expect_not(br_names_wants(&t, "orders.new.x", 12));
	cr_expect_not(br_names_wants(&t, "a.c", 3));

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 3);
	kstr("op", "names");
	msgpack_pack_str_with_body(&pk, "names", 5);
	msgpack_pack_array(&pk, 0);
	msgpack_pack_str_with_body(&pk, "subs", 4);
	msgpack_pack_array(&pk, BR_NAMES_SUBS_MAX + 1);
	for (size_t i = 0; i <= BR_NAMES_SUBS_MAX; i++)
		msgpack_pack_str_with_body(&pk, "z", 1);
	cr_assert_eq(names_on(&t), 0);
	cr_expect_eq(t.rt_nsubs, 2, "a list too long is ignored whole");
	cr_expect_not(br_names_wants(&t, "z", 1));

	msgpack_sbuffer_clear(&sb);
	msgpack_pack_map(&pk, 2);
	kstr("op", "names");
	msgpack_pack_str_with_body(&pk, "names", 5);
	msgpack_pack_array(&pk, 0);
	cr_assert_eq(names_on(&t), 0, "an older peer sends no subs");
	cr_expect_eq(t.rt_nsubs, 0, "none means none");
	br_names_clear(&t);
}

/*
 * fuzz_body — libFuzzer harness for tp_body (the typed body reader) and
 * tp_json (msgpack -> JSON) over untrusted bytes.
 *
 * The input is unpacked with tp_body_unpack and read the way the real
 * readers do: a control op (strict map, str/uint/bool/bin getters), a peer
 * hello, the names gossip (a list of [name, state, pid] entries read with
 * sub-cursors, bad entries skipped), a beacon (positional array), and a
 * lax answer.  Properties besides "no crash, no leak": every string and bin
 * a getter gives lies inside the input; strz copies are NUL-terminated
 * with no NUL inside; values respect the ranges asked; an error, once set,
 * sticks; a strict map that ends clean had every key taken.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_body.h"
#include "tp_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *in_lo, *in_hi;

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_body: %s\n", what);
	abort();
}

static void
inside(const void *p, size_t len)
{
	const uint8_t *q = p;

	if (len == 0)
		return;
	if (q < in_lo || q + len > in_hi || q + len < q)
		fuzz_fail("a getter's bytes lie outside the input");
}

static void
check_sticky(const struct tp_body *b, int rv)
{
	if (rv < 0 && tp_body_error(b) != rv)
		fuzz_fail("an error did not stick");
}

static void
read_ctl(const msgpack_object *o)
{
	struct tp_err err;
	struct tp_body b;
	char name[32];
	const char *op;
	const uint8_t *bin;
	size_t oplen, blen;
	uint64_t u = 0;
	int64_t i = 0;
	bool flag;
	int rv;

	tp_body_open(&b, o, 0, "ctl", &err);
	if ((rv = tp_body_str(&b, "op", 0, 64, &op, &oplen)) == 0)
		inside(op, oplen);
	check_sticky(&b, rv);
	rv = tp_body_strz(&b, "name", TP_BODY_OPT, name, sizeof(name));
	if (strlen(name) >= sizeof(name))
		fuzz_fail("strz overflowed");
	check_sticky(&b, rv);
	rv = tp_body_text(&b, "exec", TP_BODY_OPT, name, sizeof(name));
	if (strlen(name) >= sizeof(name))
		fuzz_fail("text overflowed");
	check_sticky(&b, rv);
	if ((rv = tp_body_uint(&b, "mailbox", TP_BODY_OPT, 1, 1000, &u)) == 0 &&
	    (u < 1 || u > 1000))
		fuzz_fail("uint out of its range");
	check_sticky(&b, rv);
	if ((rv = tp_body_int(&b, "code", TP_BODY_OPT, -10, 10, &i)) == 0 &&
	    (i < -10 || i > 10))
		fuzz_fail("int out of its range");
	check_sticky(&b, rv);
	check_sticky(&b, tp_body_bool(&b, "durable", TP_BODY_OPT, &flag));
	if ((rv = tp_body_bin(&b, "hs", TP_BODY_OPT, 128, &bin, &blen)) == 0) {
		inside(bin, blen);
		if (blen > 128)
			fuzz_fail("bin over its limit");
	}
	check_sticky(&b, rv);
	rv = tp_body_end(&b);
	if (rv == 0 && o->via.map.size > 0 &&
	    b.bd_seen != (o->via.map.size == 64 ? UINT64_MAX :
	    (UINT64_C(1) << o->via.map.size) - 1))
		fuzz_fail("a clean end with a key untaken");
}

static void
read_names(const msgpack_object *o)
{
	struct tp_body b, list, e;
	char name[16], state[8];
	uint64_t pid;
	int was;

	tp_body_open(&b, o, TP_BODY_LAX, "names", NULL);
	if (tp_body_array(&b, "names", 0, 4096, &list) != 0)
		return;
	was = tp_body_error(&list);
	while (tp_body_array(&list, NULL, TP_BODY_OPT, 3, &e) == 0) {
		if (was != 0)
			fuzz_fail("a failed list gave an element");
		tp_body_strz(&e, NULL, TP_BODY_NONEMPTY, name, sizeof(name));
		tp_body_strz(&e, NULL, 0, state, sizeof(state));
		tp_body_uint(&e, NULL, 0, 0, UINT32_MAX, &pid);
		if (tp_body_end(&e) == 0 && name[0] == '\0')
			fuzz_fail("NONEMPTY let an empty name through");
	}
	if ((tp_body_end(&list) != 0) != (was != 0))
		fuzz_fail("a list read to its end failed");
}

static void
read_beacon(const msgpack_object *o)
{
	struct tp_body b;
	const char *s;
	size_t len;
	uint64_t v;

	tp_body_open_array(&b, o, 6, 6, "beacon", NULL);
	if (tp_body_str(&b, NULL, TP_BODY_NONEMPTY | TP_BODY_NONUL, 63, &s,
	    &len) == 0) {
		inside(s, len);
		if (len == 0 || memchr(s, '\0', len) != NULL)
			fuzz_fail("NONEMPTY/NONUL not applied");
	}
	tp_body_skip(&b, NULL);
	tp_body_uint(&b, NULL, 0, 0, UINT64_MAX, &v);
	tp_body_skip(&b, NULL);
	tp_body_skip(&b, NULL);
	tp_body_uint(&b, NULL, TP_BODY_OPT, 0, UINT64_MAX, &v);
	(void)tp_body_end(&b);
}

static void
to_json(const msgpack_object *o)
{
	json_t *j;

	if (tp_json_from_object(o, 0, &j, NULL) == 0)
		json_decref(j);
	if (tp_json_from_object(o, TP_JSON_LENIENT, &j, NULL) != 0)
		return;
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static msgpack_zone zone;
	static int ready;
	msgpack_object o;

	if (!ready && !(ready = msgpack_zone_init(&zone, 4096)))
		return 0;
	msgpack_zone_clear(&zone);
	in_lo = data;
	in_hi = data + size;
	if (tp_body_unpack(data, size, 8, &zone, &o, NULL) != 0)
		return 0;
	read_ctl(&o);
	read_names(&o);
	read_beacon(&o);
	to_json(&o);
	return 0;
}

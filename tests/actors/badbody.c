/*
 * badbody — an actor that sends bodies that are no msgpack (issue 16:
 * the broker routes a version 2 body without walking it, so the one who
 * reads it must refuse it alone).  Built into BUILD/tests/bin/ for
 * tests/proc/test_hostile.py, never installed.
 *
 *   badbody -t TARGET -o FILE
 *
 * Speaks the actor link by hand on TROUPE_MAILBOX: hello, then, once
 * credited, one SEND and one ASK to TARGET whose bin bodies hold the
 * bytes 0xc1 (reserved) and dd ff ff ff ff (an array claiming 2^32
 * elements), then one good ASK.  Writes "ask1 KIND CODE" and "ask2 KIND"
 * lines to FILE (KIND: reply or error), then waits to be stopped.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>
#include <nng/nng.h>

#include "tp_env.h"
#include "tp_nng.h"

static const uint8_t reserved[] = { 0xc1 };
static const uint8_t huge[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
static const uint8_t good[] = { 0xa2, 'o', 'k' };

static int
send_one(nng_socket s, uint32_t kind, uint64_t id, const char *to,
    const uint8_t *body, size_t len)
{
	struct tp_env e = { .e_kind = kind, .e_id = id, .e_body = body,
	    .e_body_len = len };
	struct tp_err err = { 0 };

	e.e_from = tp_slice_str("badbody");
	e.e_to = tp_slice_str(to);
	if (tp_send_env(s, &e, 0, &err) != 0) {
		fprintf(stderr, "badbody: send: %s\n", err.e_msg);
		return -1;
	}
	return 0;
}

static int
hello(nng_socket s)
{
	uint8_t b[64];
	struct tp_fixbuf fb = { b, sizeof(b), 0 };
	msgpack_packer pk;

	msgpack_packer_init(&pk, &fb, tp_fixbuf_write);
	msgpack_pack_map(&pk, 2);
	msgpack_pack_str_with_body(&pk, "op", 2);
	msgpack_pack_str_with_body(&pk, "hello", 5);
	msgpack_pack_str_with_body(&pk, "pid", 3);
	msgpack_pack_int64(&pk, getpid());
	return send_one(s, TP_K_CONTROL, 0, "", b, fb.fb_len);
}

/* The ERROR code in an ERROR body, or -1. */
static int64_t
error_code(const struct tp_env *env)
{
	msgpack_zone z;
	msgpack_object o;
	int64_t code = -1;

	msgpack_zone_init(&z, 256);
	if (tp_env_body(env, &z, &o, NULL) == 0 &&
	    o.type == MSGPACK_OBJECT_MAP)
		for (uint32_t i = 0; i < o.via.map.size; i++) {
			msgpack_object_kv *kv = &o.via.map.ptr[i];

			if (kv->key.type == MSGPACK_OBJECT_STR &&
			    kv->key.via.str.size == 4 &&
			    memcmp(kv->key.via.str.ptr, "code", 4) == 0 &&
			    kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
				code = (int64_t)kv->val.via.u64;
		}
	msgpack_zone_destroy(&z);
	return code;
}

/* Reads frames until the answers to ids 2 and 3 came (or 10 s). */
static void
answers(nng_socket s, FILE *out)
{
	struct tp_err err = { 0 };
	struct tp_frame fr;
	struct tp_env env;
	int got = 0;
	nng_msg *m;

	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, 10000);
	while (got < 2 && tp_recv_msg(s, &m, 0, &err) == 0) {
		if (tp_frame_open(&fr, nng_msg_body(m), nng_msg_len(m),
		    &tp_limits_default, &err) == 0)
			while (tp_frame_next(&fr, &env, &err) == 1) {
				if (env.e_corr == 2 && (env.e_kind ==
				    TP_K_ERROR || env.e_kind == TP_K_REPLY)) {
					fprintf(out, "ask1 %s %lld\n",
					    tp_kind_name(env.e_kind),
					    (long long)error_code(&env));
					got++;
				} else if (env.e_corr == 3 && (env.e_kind ==
				    TP_K_ERROR || env.e_kind == TP_K_REPLY)) {
					fprintf(out, "ask2 %s\n",
					    tp_kind_name(env.e_kind));
					got++;
				}
			}
		nng_msg_free(m);
	}
	fflush(out);
}

int
main(int argc, char **argv)
{
	const char *url = getenv("TROUPE_MAILBOX"), *to = NULL, *path = NULL;
	struct tp_err err = { 0 };
	nng_socket s;
	FILE *out;
	int c;

	while ((c = getopt(argc, argv, "t:o:")) != -1)
		if (c == 't')
			to = optarg;
		else if (c == 'o')
			path = optarg;
	if (url == NULL || to == NULL || path == NULL) {
		fprintf(stderr, "usage: badbody -t TARGET -o FILE (as an "
		    "actor)\n");
		return 64;
	}
	if ((out = fopen(path, "w")) == NULL ||
	    tp_sock_open(&s, TP_PAIR, NULL, &err) != 0 ||
	    tp_dial(s, url, true, &err) != 0 || hello(s) != 0) {
		fprintf(stderr, "badbody: %s\n", err.e_msg);
		return 69;
	}
	sleep(1);	/* credited by then: the broker answers a hello at once */
	if (send_one(s, TP_K_SEND, 1, to, reserved, sizeof(reserved)) != 0 ||
	    send_one(s, TP_K_ASK, 2, to, huge, sizeof(huge)) != 0 ||
	    send_one(s, TP_K_ASK, 3, to, good, sizeof(good)) != 0)
		return 1;
	answers(s, out);
	fclose(out);
	for (;;)
		pause();	/* until the broker stops us */
}

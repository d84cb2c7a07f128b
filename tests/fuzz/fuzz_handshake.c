/*
 * fuzz_handshake — libFuzzer harness for the peer-link handshake decoder
 * and the session frame opener (tp_sec).
 *
 * The input goes to a responder waiting for hs1, an initiator waiting for
 * hs2 and a responder waiting for hs3, and to tp_sec_open of a live
 * session, in both modes.  Properties checked besides "no crash": a side
 * that refused a message never reports done nor derives a session; a
 * message accepted as hs1 names a peer of 1..255 printable bytes; an
 * opened frame is exactly the input minus the overhead.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tp_sec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seed corpus was made with the all-zero key, so hs1 seeds verify. */
static const uint8_t fuzz_key[TP_SEC_KEYBYTES];
static struct tp_sec_sess sess_enc, sess_plain;
static int ready;

static void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_handshake: %s\n", what);
	abort();
}

/* Runs one honest handshake so that frames can be fed to a session. */
static void
make_session(struct tp_sec_sess *ss, bool enc)
{
	static struct tp_sec_hs a, b;
	uint8_t m1[TP_SEC_HS_MAX], m2[TP_SEC_HS_MAX], m3[TP_SEC_HS_MAX];
	size_t l1, l2, l3, l;
	bool da, db;

	if (tp_sec_hs_start(&a, fuzz_key, "a", true, enc, m1, sizeof(m1),
	    &l1, NULL) || tp_sec_hs_start(&b, fuzz_key, "b", false, enc, m2,
	    sizeof(m2), &l, NULL) || tp_sec_hs_step(&b, m1, l1, m2,
	    sizeof(m2), &l2, &db, NULL) || tp_sec_hs_step(&a, m2, l2, m3,
	    sizeof(m3), &l3, &da, NULL) || tp_sec_hs_step(&b, m3, l3, m1,
	    sizeof(m1), &l, &db, NULL) || !da || !db ||
	    tp_sec_sess_from_hs(ss, &b, NULL))
		fuzz_fail("honest handshake failed");
}

static void
feed(struct tp_sec_hs *hs, const uint8_t *data, size_t size)
{
	struct tp_sec_sess ss;
	uint8_t out[TP_SEC_HS_MAX];
	size_t len;
	bool done = false;
	int rv;

	rv = tp_sec_hs_step(hs, data, size, out, sizeof(out), &len, &done,
	    NULL);
	if (rv != 0 && (done || tp_sec_sess_from_hs(&ss, hs, NULL) == 0))
		fuzz_fail("refused message left a usable handshake");
	if (rv == 0 && len > TP_SEC_HS_MAX)
		fuzz_fail("answer over the limit");
	if (rv == 0 && hs->hs_state == TP_SEC_HS_SENT2) {
		size_t n = strlen(tp_sec_hs_peer(hs));

		if (n == 0 || n > TP_SEC_NAME_MAX)
			fuzz_fail("accepted a bad peer name");
	}
}

static void
feed_frame(struct tp_sec_sess *live, const uint8_t *data, size_t size)
{
	struct tp_sec_sess ss = *live;	/* every input sees counter 0 */
	static uint8_t out[1 << 16];
	size_t len = 0;

	if (tp_sec_open(&ss, data, size, out, sizeof(out), &len, NULL) != 0)
		return;
	if (len + (ss.ss_encrypt ? tp_sec_overhead() : 9) != size)
		fuzz_fail("opened length mismatch");
	if (ss.ss_rx_ctr != 1)
		fuzz_fail("accepted a counter other than 1");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tp_sec_hs r, i;
	uint8_t out[TP_SEC_HS_MAX];
	size_t len;

	if (!ready) {
		make_session(&sess_enc, true);
		make_session(&sess_plain, false);
		ready = 1;
	}
	tp_sec_hs_start(&r, fuzz_key, "resp", false, true, out, sizeof(out),
	    &len, NULL);
	feed(&r, data, size);
	tp_sec_hs_start(&i, fuzz_key, "init", true, true, out, sizeof(out),
	    &len, NULL);
	feed(&i, data, size);
	/* A responder in SENT2: hs1 from the initiator above first. */
	tp_sec_hs_start(&r, fuzz_key, "resp", false, true, out, sizeof(out),
	    &len, NULL);
	if (tp_sec_hs_step(&r, i.hs_msg[0], i.hs_msglen[0], out, sizeof(out),
	    &len, &(bool){ false }, NULL) == 0)
		feed(&r, data, size);
	feed_frame(&sess_enc, data, size);
	feed_frame(&sess_plain, data, size);
	return 0;
}

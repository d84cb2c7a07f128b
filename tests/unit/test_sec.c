/*
 * test_sec — the security building blocks: key files on a real temp dir,
 * beacon MAC and replay/timestamp checks, the three-message handshake
 * between two in-process sides (same key, other key, every byte of every
 * message flipped), and the AEAD session (tamper, replay, reorder, sizes).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tp_key.h"
#include "tp_sec.h"

static char tmpdir[64];

static void
mk_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_sec.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void
rm_tmp(void)
{
	char cmd[128];

	/* Only files this suite made, two levels at most. */
	snprintf(cmd, sizeof(cmd), "%s/a/b/k", tmpdir);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/a/b", tmpdir);
	rmdir(cmd);
	snprintf(cmd, sizeof(cmd), "%s/a", tmpdir);
	rmdir(cmd);
	snprintf(cmd, sizeof(cmd), "%s/k", tmpdir);
	unlink(cmd);
	rmdir(tmpdir);
}

TestSuite(key, .init = mk_tmp, .fini = rm_tmp);

static void
path_in(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

Test(key, create_load_roundtrip)
{
	uint8_t k1[TP_SEC_KEYBYTES], k2[TP_SEC_KEYBYTES];
	struct tp_err err = { 0 };
	struct stat st;
	char p[128];

	path_in(p, sizeof(p), "a/b/k");
	cr_assert_eq(tp_sec_key_create(p, false, k1, &err), 0, "%s",
	    err.e_msg);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(st.st_size, 32);
	cr_assert_eq(tp_sec_key_load(p, k2, &err), 0, "%s", err.e_msg);
	cr_assert_arr_eq(k1, k2, sizeof(k1));
}

Test(key, no_overwrite_without_force)
{
	uint8_t k1[TP_SEC_KEYBYTES], k2[TP_SEC_KEYBYTES];
	struct tp_err err = { 0 };
	char p[128];

	path_in(p, sizeof(p), "k");
	cr_assert_eq(tp_sec_key_create(p, false, k1, &err), 0);
	cr_assert_eq(tp_sec_key_create(p, false, NULL, &err), TP_EINVAL);
	cr_assert_not_null(strstr(err.e_msg, "--force"), "%s", err.e_msg);
	cr_assert_eq(tp_sec_key_load(p, k2, &err), 0);
	cr_assert_arr_eq(k1, k2, sizeof(k1));
	cr_assert_eq(tp_sec_key_create(p, true, k2, &err), 0, "%s",
	    err.e_msg);
	cr_assert(memcmp(k1, k2, sizeof(k1)) != 0);
	cr_assert_eq(tp_sec_key_load(p, k1, &err), 0);
	cr_assert_arr_eq(k1, k2, sizeof(k1));
}

Test(key, loose_permissions_refused)
{
	uint8_t k[TP_SEC_KEYBYTES];
	struct tp_err err = { 0 };
	char p[128];

	path_in(p, sizeof(p), "k");
	cr_assert_eq(tp_sec_key_create(p, false, k, &err), 0);
	cr_assert_eq(chmod(p, 0640), 0);
	cr_assert_eq(tp_sec_key_load(p, k, &err), TP_SEC_EPERM);
	cr_assert_not_null(strstr(err.e_msg, "0640"), "%s", err.e_msg);
	cr_assert_null(strchr(err.e_msg, '\n'));
	cr_assert_eq(chmod(p, 0604), 0);
	cr_assert_eq(tp_sec_key_load(p, k, &err), TP_SEC_EPERM);
}

static void
write_file(const char *p, size_t n)
{
	uint8_t buf[64] = { 0 };
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, buf, n), (ssize_t)n);
	close(fd);
}

Test(key, wrong_size_refused)
{
	uint8_t k[TP_SEC_KEYBYTES];
	struct tp_err err = { 0 };
	char p[128];

	path_in(p, sizeof(p), "k");
	write_file(p, 31);
	cr_assert_eq(tp_sec_key_load(p, k, &err), TP_ETRUNC);
	cr_assert_not_null(strstr(err.e_msg, "31 bytes"), "%s", err.e_msg);
	write_file(p, 33);
	cr_assert_eq(tp_sec_key_load(p, k, &err), TP_ETOOBIG);
	path_in(p, sizeof(p), "missing");
	cr_assert_eq(tp_sec_key_load(p, k, &err), TP_ESYS);
}

Test(key, default_path)
{
	char buf[256];

	cr_assert_eq(tp_sec_key_default_path(buf, 4), TP_ETOOBIG);
	if (geteuid() == 0) {
		cr_assert_eq(tp_sec_key_default_path(buf, sizeof(buf)), 0);
		cr_assert_str_eq(buf, "/etc/troupe/cluster.key");
		return;
	}
	setenv("XDG_CONFIG_HOME", "/x", 1);
	cr_assert_eq(tp_sec_key_default_path(buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "/x/troupe/cluster.key");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/h", 1);
	cr_assert_eq(tp_sec_key_default_path(buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "/h/.config/troupe/cluster.key");
}

Test(key, setup_creates_default_once)
{
	uint8_t k1[TP_SEC_KEYBYTES], k2[TP_SEC_KEYBYTES];
	struct tp_err err = { 0 };
	char used[256], p[128];
	bool created;

	if (geteuid() == 0)
		cr_skip_test("root's default is /etc/troupe/cluster.key");
	setenv("XDG_CONFIG_HOME", tmpdir, 1);
	cr_assert_eq(tp_sec_key_setup(NULL, k1, used, sizeof(used), &created,
	    &err), 0, "%s", err.e_msg);
	cr_assert(created);
	cr_assert_eq(tp_sec_key_setup("", k2, used, sizeof(used), &created,
	    &err), 0);
	cr_assert_not(created);
	cr_assert_arr_eq(k1, k2, sizeof(k1));
	snprintf(p, sizeof(p), "%s/troupe/cluster.key", tmpdir);
	cr_assert_str_eq(used, p);
	unlink(p);
	snprintf(p, sizeof(p), "%s/troupe", tmpdir);
	rmdir(p);
}

Test(key, setup_never_creates_configured_path)
{
	uint8_t k[TP_SEC_KEYBYTES];
	struct tp_err err = { 0 };
	char used[256], p[128];
	bool created;

	path_in(p, sizeof(p), "k");
	cr_assert_eq(tp_sec_key_setup(p, k, used, sizeof(used), &created,
	    &err), TP_ESYS);
	cr_assert_not(created);
	cr_assert_not_null(strstr(err.e_msg, "cannot open key file"));
	cr_assert_eq(access(p, F_OK), -1);
}

/* ---- beacons ---- */

static uint8_t key_a[TP_SEC_KEYBYTES], key_b[TP_SEC_KEYBYTES];

static void
mk_keys(void)
{
	cr_assert_eq(tp_sec_init(NULL), 0);
	randombytes_buf(key_a, sizeof(key_a));
	randombytes_buf(key_b, sizeof(key_b));
}

TestSuite(beacon, .init = mk_keys);

static const uint8_t payload[] = "node n1 inc 7 seq 1";
#define NOW 1700000000000ull

static int
check(struct tp_sec_replay *rp, const uint8_t *key, const uint8_t *mac,
    uint64_t inc, uint64_t seq, uint64_t ts)
{
	return tp_sec_beacon_check(rp, key, payload, sizeof(payload), mac,
	    TP_SEC_MACBYTES, "n1", 2, inc, seq, ts, NOW, NULL);
}

Test(beacon, mac_good_bad_other_key)
{
	static struct tp_sec_replay rp;
	uint8_t mac[TP_SEC_MACBYTES];

	tp_sec_replay_init(&rp, 0);
	tp_sec_beacon_mac(key_a, payload, sizeof(payload), mac);
	cr_assert_eq(check(&rp, key_b, mac, 7, 1, NOW), TP_SEC_EBADMAC);
	mac[5] ^= 1;
	cr_assert_eq(check(&rp, key_a, mac, 7, 1, NOW), TP_SEC_EBADMAC);
	mac[5] ^= 1;
	cr_assert_eq(tp_sec_beacon_check(&rp, key_a, payload,
	    sizeof(payload), mac, 31, "n1", 2, 7, 1, NOW, NOW, NULL),
	    TP_SEC_EBADMAC);
	cr_assert_eq(check(&rp, key_a, mac, 7, 1, NOW), 0);
}

Test(beacon, replay_rejected)
{
	static struct tp_sec_replay rp;
	uint8_t mac[TP_SEC_MACBYTES];

	tp_sec_replay_init(&rp, 0);
	tp_sec_beacon_mac(key_a, payload, sizeof(payload), mac);
	cr_assert_eq(check(&rp, key_a, mac, 7, 5, NOW), 0);
	cr_assert_eq(check(&rp, key_a, mac, 7, 5, NOW), TP_SEC_EREPLAY);
	cr_assert_eq(check(&rp, key_a, mac, 7, 4, NOW), TP_SEC_EREPLAY);
	cr_assert_eq(check(&rp, key_a, mac, 7, 6, NOW), 0);
	/* A new incarnation starts its sequence again. */
	cr_assert_eq(check(&rp, key_a, mac, 8, 1, NOW), 0);
	cr_assert_eq(check(&rp, key_a, mac, 7, 6, NOW), TP_SEC_EREPLAY);
}

Test(beacon, stale_timestamp_rejected)
{
	static struct tp_sec_replay rp;
	uint8_t mac[TP_SEC_MACBYTES];
	struct tp_err err = { 0 };

	tp_sec_replay_init(&rp, 10000);
	tp_sec_beacon_mac(key_a, payload, sizeof(payload), mac);
	cr_assert_eq(check(&rp, key_a, mac, 7, 1, NOW - 10001),
	    TP_SEC_ESTALE);
	cr_assert_eq(tp_sec_beacon_check(&rp, key_a, payload,
	    sizeof(payload), mac, TP_SEC_MACBYTES, "n1", 2, 7, 1, NOW + 10001,
	    NOW, &err), TP_SEC_ESTALE);
	cr_assert_not_null(strstr(err.e_msg, "ahead"), "%s", err.e_msg);
	/* A stale beacon did not take the sequence number. */
	cr_assert_eq(check(&rp, key_a, mac, 7, 1, NOW - 9999), 0);
}

Test(beacon, table_bounded_oldest_evicted)
{
	static struct tp_sec_replay rp;
	uint8_t mac[TP_SEC_MACBYTES];

	tp_sec_replay_init(&rp, 0);
	tp_sec_beacon_mac(key_a, payload, sizeof(payload), mac);
	for (uint64_t i = 0; i <= TP_SEC_REPLAY_SLOTS; i++)
		cr_assert_eq(check(&rp, key_a, mac, 1000 + i, 9, NOW), 0);
	/* Incarnation 1000 was the oldest: forgotten (the timestamp window
	 * still bounds how late such a replay can come). */
	cr_assert_eq(check(&rp, key_a, mac, 1000, 9, NOW), 0);
	cr_assert_eq(check(&rp, key_a, mac, 1000 + TP_SEC_REPLAY_SLOTS, 9,
	    NOW), TP_SEC_EREPLAY);
}

Test(beacon, wrap_unwrap)
{
	uint8_t dg[TP_SEC_BEACON_MAX + 64];
	const uint8_t *p, *m;
	size_t len, plen, mlen;
	struct tp_err err = { 0 };

	cr_assert_eq(tp_sec_beacon_wrap(key_a, payload, sizeof(payload), dg,
	    sizeof(dg), &len), 0);
	cr_assert_eq(tp_sec_beacon_unwrap(dg, len, &p, &plen, &m, &mlen,
	    &err), 0, "%s", err.e_msg);
	cr_assert_eq(plen, sizeof(payload));
	cr_assert_arr_eq(p, payload, plen);
	cr_assert_eq(mlen, TP_SEC_MACBYTES);
	cr_assert_eq(tp_sec_beacon_unwrap(dg, len - 1, &p, &plen, &m, &mlen,
	    &err), TP_ETRUNC);
	dg[len] = 0;
	cr_assert_eq(tp_sec_beacon_unwrap(dg, len + 1, &p, &plen, &m, &mlen,
	    &err), TP_ETRAILING);
	dg[1] = 2;	/* version */
	cr_assert_eq(tp_sec_beacon_unwrap(dg, len, &p, &plen, &m, &mlen,
	    &err), TP_EVERSION);
	cr_assert_eq(tp_sec_beacon_wrap(key_a, payload, TP_SEC_BEACON_MAX + 1,
	    dg, sizeof(dg), &len), TP_ETOOBIG);
}

/* ---- handshake ---- */

TestSuite(hs, .init = mk_keys);

struct side {
	struct tp_sec_hs	 hs;
	struct tp_sec_sess	 ss;
	uint8_t			 out[TP_SEC_HS_MAX];
	size_t			 len;
	bool			 done;
	int			 rv;
};

/* Flips bit 0 of byte flip_at in message flip_msg (1..3, 0 = none) on
 * its way.  Returns the first error of either side, 0 if both finish. */
static int
run_hs(struct side *i, struct side *r, const uint8_t *ki,
    const uint8_t *kr, bool enc_i, bool enc_r, int flip_msg,
    size_t flip_at, struct tp_err *err)
{
	struct side *to[3] = { r, i, r }, *from[3] = { i, r, i };

	memset(i, 0, sizeof(*i));
	memset(r, 0, sizeof(*r));
	cr_assert_eq(tp_sec_hs_start(&i->hs, ki, "alpha", true, enc_i,
	    i->out, sizeof(i->out), &i->len, err), 0);
	cr_assert_gt(i->len, 0);
	cr_assert_eq(tp_sec_hs_start(&r->hs, kr, "beta", false, enc_r,
	    r->out, sizeof(r->out), &r->len, err), 0);
	cr_assert_eq(r->len, 0);
	for (int m = 0; m < 3; m++) {
		uint8_t msg[TP_SEC_HS_MAX];
		size_t len = from[m]->len;

		cr_assert_gt(len, 0, "message %d missing", m + 1);
		memcpy(msg, from[m]->out, len);
		if (flip_msg == m + 1) {
			if (flip_at >= len)
				return 1;	/* past the end: no test */
			msg[flip_at] ^= 1;
		}
		to[m]->rv = tp_sec_hs_step(&to[m]->hs, msg, len, to[m]->out,
		    sizeof(to[m]->out), &to[m]->len, &to[m]->done, err);
		if (to[m]->rv != 0)
			return to[m]->rv;
	}
	cr_assert(i->done && r->done);
	return 0;
}

static void
sessions(struct side *i, struct side *r)
{
	cr_assert_eq(tp_sec_sess_from_hs(&i->ss, &i->hs, NULL), 0);
	cr_assert_eq(tp_sec_sess_from_hs(&r->ss, &r->hs, NULL), 0);
}

Test(hs, success_and_names)
{
	static struct side i, r;
	struct tp_err err = { 0 };

	cr_assert_eq(run_hs(&i, &r, key_a, key_a, true, true, 0, 0, &err), 0,
	    "%s", err.e_msg);
	cr_assert_str_eq(tp_sec_hs_peer(&i.hs), "beta");
	cr_assert_str_eq(tp_sec_hs_peer(&r.hs), "alpha");
	cr_assert_eq(r.len, 0);
	sessions(&i, &r);
	cr_assert_arr_eq(i.ss.ss_tx, r.ss.ss_rx, sizeof(i.ss.ss_tx));
	cr_assert_arr_eq(i.ss.ss_rx, r.ss.ss_tx, sizeof(i.ss.ss_rx));
	cr_assert(memcmp(i.ss.ss_tx, i.ss.ss_rx, sizeof(i.ss.ss_tx)) != 0);
}

Test(hs, other_key_fails_both_directions)
{
	static struct side i, r;
	struct tp_err err = { 0 };

	/* The responder has the other key: it refuses hs1. */
	cr_assert_eq(run_hs(&i, &r, key_a, key_b, true, true, 0, 0, &err),
	    TP_SEC_EBADMAC);
	cr_assert_eq(r.len, 0, "nothing answered to a stranger");
	cr_assert_not(r.done);
	cr_assert_eq(tp_sec_sess_from_hs(&r.ss, &r.hs, NULL), TP_SEC_ESTATE);
	/* The initiator has the other key. */
	cr_assert_eq(run_hs(&i, &r, key_b, key_a, true, true, 0, 0, &err),
	    TP_SEC_EBADMAC);
	cr_assert_not(i.done);
	cr_assert_eq(tp_sec_sess_from_hs(&i.ss, &i.hs, NULL), TP_SEC_ESTATE);
}

/* Every byte of every message flipped in turn: never a finished pair. */
Test(hs, tampered_byte_in_each_message_fails)
{
	static struct side i, r;
	struct tp_err err = { 0 };
	int fails[4] = { 0 };

	for (int m = 1; m <= 3; m++)
		for (size_t at = 0;; at++) {
			int rv = run_hs(&i, &r, key_a, key_a, true, true, m,
			    at, &err);

			if (rv == 1)
				break;
			cr_assert_neq(rv, 0, "msg %d byte %zu accepted", m,
			    at);
			fails[m]++;
		}
	cr_assert_gt(fails[1], 100);
	cr_assert_gt(fails[2], 100);
	cr_assert_gt(fails[3], 30);
}

Test(hs, replayed_hs1_cannot_finish)
{
	static struct side i, r, r2;
	struct tp_err err = { 0 };
	uint8_t hs1[TP_SEC_HS_MAX], hs3[TP_SEC_HS_MAX];
	size_t len1, len3;

	cr_assert_eq(run_hs(&i, &r, key_a, key_a, true, true, 0, 0, &err), 0);
	/* Capture a whole good run, then replay hs1 and hs3 to a fresh
	 * responder: its hs2 has a fresh nonce, the old hs3 cannot match. */
	memcpy(hs1, i.hs.hs_msg[0], i.hs.hs_msglen[0]);
	len1 = i.hs.hs_msglen[0];
	memcpy(hs3, i.out, i.len);
	len3 = i.len;
	memset(&r2, 0, sizeof(r2));
	cr_assert_eq(tp_sec_hs_start(&r2.hs, key_a, "beta", false, true,
	    r2.out, sizeof(r2.out), &r2.len, &err), 0);
	cr_assert_eq(tp_sec_hs_step(&r2.hs, hs1, len1, r2.out,
	    sizeof(r2.out), &r2.len, &r2.done, &err), 0);
	cr_assert_eq(tp_sec_hs_step(&r2.hs, hs3, len3, r2.out,
	    sizeof(r2.out), &r2.len, &r2.done, &err), TP_SEC_EBADMAC);
	cr_assert_not(r2.done);
}

Test(hs, out_of_turn_and_garbage)
{
	static struct side i, r;
	struct tp_err err = { 0 };
	uint8_t junk[600] = { 0x97 };

	cr_assert_eq(run_hs(&i, &r, key_a, key_a, true, true, 0, 0, &err), 0);
	/* Done: anything more is out of turn. */
	cr_assert_eq(tp_sec_hs_step(&r.hs, i.out, i.len, r.out, sizeof(r.out),
	    &r.len, &r.done, &err), TP_SEC_ESTATE);
	memset(&r, 0, sizeof(r));
	tp_sec_hs_start(&r.hs, key_a, "beta", false, true, r.out,
	    sizeof(r.out), &r.len, &err);
	cr_assert_eq(tp_sec_hs_step(&r.hs, junk, sizeof(junk), r.out,
	    sizeof(r.out), &r.len, &r.done, &err), TP_ETOOBIG);
	tp_sec_hs_start(&r.hs, key_a, "beta", false, true, r.out,
	    sizeof(r.out), &r.len, &err);
	cr_assert_eq(tp_sec_hs_step(&r.hs, junk, 5, r.out, sizeof(r.out),
	    &r.len, &r.done, &err), TP_ETOOBIG);
	tp_sec_hs_start(&r.hs, key_a, "beta", false, true, r.out,
	    sizeof(r.out), &r.len, &err);
	junk[0] = 0x91;
	junk[1] = 0xc4;		/* bin 8 without its length */
	cr_assert_eq(tp_sec_hs_step(&r.hs, junk, 2, r.out, sizeof(r.out),
	    &r.len, &r.done, &err), TP_ETRUNC);
	cr_assert_eq(tp_sec_hs_start(&r.hs, key_a, "", false, true, r.out,
	    sizeof(r.out), &r.len, &err), TP_EINVAL);
}

Test(hs, encrypt_mode_mismatch_refused_on_both_sides)
{
	static struct side i, r;
	struct tp_err err = { 0 };
	bool done;

	cr_assert_eq(run_hs(&i, &r, key_a, key_a, true, false, 0, 0, &err),
	    TP_SEC_EMODE);
	cr_assert_not_null(strstr(err.e_msg, "cluster.encrypt"), "%s",
	    err.e_msg);
	/* The responder still answered, so the initiator says why too. */
	cr_assert_gt(r.len, 0);
	cr_assert_eq(tp_sec_hs_step(&i.hs, r.out, r.len, i.out, sizeof(i.out),
	    &i.len, &done, &err), TP_SEC_EMODE);
	cr_assert_not(done);
	cr_assert_not_null(strstr(err.e_msg, "alike"), "%s", err.e_msg);
}

/* ---- session ---- */

TestSuite(sess, .init = mk_keys);

static void
pair(struct side *i, struct side *r, bool enc)
{
	struct tp_err err = { 0 };

	cr_assert_eq(run_hs(i, r, key_a, key_a, enc, enc, 0, 0, &err), 0,
	    "%s", err.e_msg);
	sessions(i, r);
}

static size_t
seal(struct tp_sec_sess *ss, const char *s, uint8_t *out, size_t cap)
{
	size_t len = 0;

	cr_assert_eq(tp_sec_seal(ss, (const uint8_t *)s, strlen(s), out, cap,
	    &len), 0);
	return len;
}

Test(sess, round_trip_both_ways)
{
	static struct side i, r;
	uint8_t f[128], p[128];
	size_t len, plen;

	pair(&i, &r, true);
	len = seal(&i.ss, "hello beta", f, sizeof(f));
	cr_assert_eq(len, 10 + tp_sec_overhead());
	cr_assert_null(memmem(f, len, "hello", 5), "plaintext visible");
	cr_assert_eq(tp_sec_open(&r.ss, f, len, p, sizeof(p), &plen, NULL), 0);
	cr_assert_eq(plen, 10);
	cr_assert_arr_eq(p, "hello beta", 10);
	len = seal(&r.ss, "hi alpha", f, sizeof(f));
	cr_assert_eq(tp_sec_open(&i.ss, f, len, p, sizeof(p), &plen, NULL), 0);
	cr_assert_arr_eq(p, "hi alpha", 8);
	/* Own frames do not open with one's own receive key. */
	len = seal(&i.ss, "x", f, sizeof(f));
	cr_assert_eq(tp_sec_open(&i.ss, f, len, p, sizeof(p), &plen, NULL),
	    TP_SEC_ETAMPER);
}

Test(sess, flipped_byte_is_tampered)
{
	static struct side i, r;
	uint8_t f[128], g[128], p[128];
	size_t len, plen;

	pair(&i, &r, true);
	len = seal(&i.ss, "payload bytes", f, sizeof(f));
	for (size_t at = 0; at < len; at++) {
		int rv;

		memcpy(g, f, len);
		g[at] ^= 0x40;
		rv = tp_sec_open(&r.ss, g, len, p, sizeof(p), &plen, NULL);
		cr_assert_neq(rv, 0, "byte %zu", at);
		if (at >= 9)
			cr_assert_eq(rv, TP_SEC_ETAMPER, "byte %zu", at);
	}
	/* The untouched frame still opens: failures did not advance. */
	cr_assert_eq(tp_sec_open(&r.ss, f, len, p, sizeof(p), &plen, NULL), 0);
	cr_assert_eq(tp_sec_open(&r.ss, f, 8, p, sizeof(p), &plen, NULL),
	    TP_ETRUNC);
	cr_assert_eq(tp_sec_open(&r.ss, f, 20, p, sizeof(p), &plen, NULL),
	    TP_ETRUNC);
}

Test(sess, replay_and_reorder_rejected)
{
	static struct side i, r;
	uint8_t f1[64], f2[64], f3[64], p[64];
	size_t l1, l2, l3, plen;

	pair(&i, &r, true);
	l1 = seal(&i.ss, "one", f1, sizeof(f1));
	l2 = seal(&i.ss, "two", f2, sizeof(f2));
	l3 = seal(&i.ss, "three", f3, sizeof(f3));
	cr_assert_eq(tp_sec_open(&r.ss, f2, l2, p, sizeof(p), &plen, NULL),
	    TP_SEC_EORDER);
	cr_assert_eq(tp_sec_open(&r.ss, f1, l1, p, sizeof(p), &plen, NULL), 0);
	cr_assert_eq(tp_sec_open(&r.ss, f1, l1, p, sizeof(p), &plen, NULL),
	    TP_SEC_EREPLAY);
	cr_assert_eq(tp_sec_open(&r.ss, f3, l3, p, sizeof(p), &plen, NULL),
	    TP_SEC_EORDER);
	cr_assert_eq(tp_sec_open(&r.ss, f2, l2, p, sizeof(p), &plen, NULL), 0);
	cr_assert_eq(tp_sec_open(&r.ss, f3, l3, p, sizeof(p), &plen, NULL), 0);
	cr_assert_arr_eq(p, "three", 5);
}

Test(sess, empty_and_huge_frames)
{
	static struct side i, r;
	size_t big = 1u << 20, len, plen;
	uint8_t *plain = malloc(big), *f = malloc(big + 64), *p = malloc(big);

	cr_assert(plain && f && p);
	randombytes_buf(plain, big);
	pair(&i, &r, true);
	cr_assert_eq(tp_sec_seal(&i.ss, plain, 0, f, 64, &len), 0);
	cr_assert_eq(len, tp_sec_overhead());
	cr_assert_eq(tp_sec_open(&r.ss, f, len, p, 0, &plen, NULL), 0);
	cr_assert_eq(plen, 0);
	cr_assert_eq(tp_sec_seal(&i.ss, plain, big, f, big + 10, &len),
	    TP_ETOOBIG);
	cr_assert_eq(tp_sec_seal(&i.ss, plain, big, f, big + 64, &len), 0);
	cr_assert_eq(tp_sec_open(&r.ss, f, len, p, big - 1, &plen, NULL),
	    TP_ETOOBIG);
	cr_assert_eq(tp_sec_open(&r.ss, f, len, p, big, &plen, NULL), 0);
	cr_assert_eq(plen, big);
	cr_assert_arr_eq(p, plain, big);
	free(plain);
	free(f);
	free(p);
}

Test(sess, plaintext_mode_and_mismatch)
{
	static struct side i, r, e, e2;
	uint8_t f[64], p[64];
	size_t len, plen;
	struct tp_err err = { 0 };

	pair(&i, &r, false);
	len = seal(&i.ss, "clear", f, sizeof(f));
	cr_assert_eq(len, 5 + 9);
	cr_assert_not_null(memmem(f, len, "clear", 5));
	cr_assert_eq(tp_sec_open(&r.ss, f, len, p, sizeof(p), &plen, NULL), 0);
	cr_assert_eq(tp_sec_open(&r.ss, f, len, p, sizeof(p), &plen, NULL),
	    TP_SEC_EREPLAY);
	/* A plaintext frame sent to an encrypting session is refused. */
	pair(&e, &e2, true);
	cr_assert_eq(tp_sec_open(&e2.ss, f, len, p, sizeof(p), &plen, &err),
	    TP_SEC_EMODE);
	cr_assert_not_null(strstr(err.e_msg, "plaintext"), "%s", err.e_msg);
	f[0] = 'X';
	cr_assert_eq(tp_sec_open(&e2.ss, f, len, p, sizeof(p), &plen, &err),
	    TP_ETYPE);
}

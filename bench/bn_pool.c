/*
 * bn_pool — issue 17's rows, each on a trouped of its own: B10 (one
 * actor against worker pools of 2 and 4, and of 2 with a wider window,
 * a CPU-bound handler) and B11
 * (a topic published to 1, 4 and 16 subscribers).  Each case feeds
 * 128 B bins bounded by a count and a time, and waits until every
 * message was handled.  B10 feeds through a client link (B9's way: the
 * window kept full).  B11 publishes from a bench actor (troupe_publish,
 * B1's sender): the broker credits a client link's publish but never
 * ACKs it, so troupe_client_publish's results never come and its ring
 * fills (docs/PERFORMANCE.md "Issue 17").  Ratios are to the first case
 * of the row and to B1, both of the same run.  The nodes listen on port
 * 0 (the kernel picks; discovery is off): no port of their own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bn_cases.h"
#include "troupe.h"

#define ROW "%-4s %-44s %-34s %s\n"
#define SPIN_US 50		/* B10's handler: CPU per message */
#define FEED_MS 1500		/* each case's feed; --quick: a tenth */
#define FEED_MAX 400000		/* and at most this many messages */
#define PUB_MAX 4000000		/* B11's: ~1M/s to one subscriber */
#define DRAIN_MS 8000		/* then at most this long to handle all */
#define POLL_US 2000		/* B10's look at the acknowledged count */
#define SUBS 16
#define BODY 128

/* The plain actor (size 0), pools of 2 and 4 as configured by default
 * (a window of 64 each), and the pool of 2 again with a window of 128:
 * what a wider window still gives (16 ran dry before the broker was
 * scheduled again: docs/PERFORMANCE.md, issue 17). */
static const uint32_t pool_sizes[] = { 0, 2, 4, 2 };
static const uint32_t pool_windows[] = { 0, 0, 0, 128 };  /* 0: default */
static const char *const pool_names[] = { "one", "pool2", "pool4",
    "pool2w" };
#define POOLS (sizeof(pool_sizes) / sizeof(pool_sizes[0]))

static const uint32_t fan[] = { 1, 4, 16 };
static const char *const fan_topics[] = { "b11.one", "b11.four",
    "b11.all" };
#define FANS (sizeof(fan) / sizeof(fan[0]))

/* One case's feed: what went out and when it started. */
struct feed {
	const char	*f_to;
	uint64_t	 f_max;
	uint64_t	 f_ms;
	uint64_t	 f_t0;
	uint64_t	 f_sent;
};

static void
start_node(struct bn_run *r, struct bn_broker *b, FILE *f, char **buf,
    uint32_t running)
{
	char *conf = bn_conf_close(f, buf);
	uint64_t t0 = bn_now_ns();

	bn_broker_start(b, r->r_bin, conf, NULL);
	free(conf);
	bn_broker_wait_ready(b, running, t0, 30000);
}

/*
 * Sends 128 B bins to f->f_to until f_max went out or f_ms passed, then
 * flushes: every one must be confirmed placed.  The mailbox blocks, so
 * the feed runs at the rate the receivers take it.
 */
static void
feed(const char *id, struct troupe_client *c, struct feed *f)
{
	struct bn_tally t = { 0, 0, 0 };
	uint64_t end;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	int rv = 0;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	bn_pack_bin_exact(&pk, BODY);
	troupe_client_set_cb(c, bn_tally_cb, &t);
	f->f_t0 = bn_now_ns();
	end = f->f_t0 + f->f_ms * 1000000;
	for (f->f_sent = 0; f->f_sent < f->f_max && rv == 0; f->f_sent++) {
		if (f->f_sent % 256 == 0 && bn_now_ns() > end)
			break;
		rv = troupe_client_send(c, f->f_to, sb.data, sb.size, NULL,
		    NULL);
	}
	if (rv != 0)
		bn_die("%s: send to %s: %s", id, f->f_to, bn_code_text(rv));
	if ((rv = troupe_client_flush(c, 60000)) != 0)
		bn_die("%s: flush: %s", id, bn_code_text(rv));
	if (t.t_ok != f->f_sent)
		bn_die("%s: %llu of %llu placed, %llu refused (%s)", id,
		    (unsigned long long)t.t_ok, (unsigned long long)f->f_sent,
		    (unsigned long long)t.t_failed, bn_code_text(t.t_first));
	troupe_client_set_cb(c, NULL, NULL);
	msgpack_sbuffer_destroy(&sb);
}

static uint64_t
feed_ms(const struct bn_run *r)
{
	return r->r_quick ? FEED_MS / 10 : FEED_MS;
}

/* "x.xx x B1 128 B" or why there is none. */
static void
vs_b1(const struct bn_run *r, double rate, char *buf, size_t len)
{
	if (r->r_b1_128_msgs_s > 0)
		snprintf(buf, len, "%.2f x B1 128 B", rate /
		    r->r_b1_128_msgs_s);
	else
		snprintf(buf, len, "no B1 in this run");
}

/* ---- B10: worker pools, CPU-bound ------------------------------------ */

/* "acknowledged" of `inspect name`: a pool's is its instances' sum. */
static uint64_t
acked(struct bn_broker *b, const char *name)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_zone zone;
	msgpack_object o;
	uint64_t n;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	bn_pack_op(&pk, "inspect", 1);
	bn_pack_key(&pk, "name");
	bn_pack_key(&pk, name);
	msgpack_zone_init(&zone, 4096);
	if (bn_control(b, sb.data, sb.size, &zone, &o) != 0)
		bn_die("B10: inspect %s: no answer (see %s/trouped.log)",
		    name, b->br_dir);
	n = bn_get_u64(&o, "acknowledged");
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&sb);
	return n;
}

/* Polls until name acknowledged `want`; returns when it saw it (ns). */
static uint64_t
wait_acked(struct bn_broker *b, const char *name, uint64_t want)
{
	uint64_t dl = bn_now_ns() + (uint64_t)DRAIN_MS * 1000000, got;

	while ((got = acked(b, name)) < want) {
		if (bn_now_ns() > dl)
			bn_die("B10: %s handled %llu of %llu in %d ms after "
			    "the feed (see %s/trouped.log)", name,
			    (unsigned long long)got, (unsigned long long)want,
			    DRAIN_MS, b->br_dir);
		usleep(POLL_US);
	}
	return bn_now_ns();
}

/* One case: a warm-up, then the timed feed; msgs/s from the first send
 * until the poll that saw the last one acknowledged. */
static double
pool_case(struct bn_run *r, struct bn_broker *b, struct troupe_client *c,
    const char *name, uint64_t *sent)
{
	struct feed f = { name, bn_scale(r, 2000), FEED_MS, 0, 0 };
	uint64_t base = acked(b, name), done;

	feed("B10", c, &f);
	wait_acked(b, name, base + f.f_sent);
	base = acked(b, name);
	f.f_max = bn_scale(r, FEED_MAX);
	f.f_ms = feed_ms(r);
	feed("B10", c, &f);
	done = wait_acked(b, name, base + f.f_sent);
	*sent = f.f_sent;
	return done > f.f_t0 ? (double)f.f_sent * 1e9 /
	    (double)(done - f.f_t0) : 0;
}

static void
b10_row(struct bn_run *r, size_t i, double rate, uint64_t sent,
    double unit)
{
	char what[64], m[64], q[96];

	if (pool_sizes[i] == 0)
		snprintf(what, sizeof(what), "1 actor, handler %d us CPU, "
		    "%d B", SPIN_US, BODY);
	else if (pool_windows[i] == 0)
		snprintf(what, sizeof(what), "pool of %u, handler %d us CPU, "
		    "%d B", pool_sizes[i], SPIN_US, BODY);
	else
		snprintf(what, sizeof(what), "pool of %u, inflight = %u, same",
		    pool_sizes[i], pool_windows[i]);
	snprintf(m, sizeof(m), "%.0f msg/s (%llu msgs)", rate,
	    (unsigned long long)sent);
	if (pool_sizes[i] == 0)
		snprintf(q, sizeof(q), "(the unit; at most %.0f on one core)",
		    1e6 / SPIN_US);
	else
		snprintf(q, sizeof(q), "%.2f x 1 actor (%ld cores)", unit > 0 ?
		    rate / unit : 0, sysconf(_SC_NPROCESSORS_ONLN));
	bn_out(r, ROW, "B10", what, m, q);
}

void
bn_case_b10(struct bn_run *r)
{
	struct troupe_client *c;
	struct bn_broker b;
	char *buf, exec[PATH_MAX + 32];
	uint32_t running = 0;
	double rate, unit = 0;
	uint64_t sent;
	size_t len;
	FILE *f;

	if (!bn_wanted(r, "B10"))
		return;
	f = bn_conf_open(&buf, &len, 0);
	snprintf(exec, sizeof(exec), "%s BN_SPIN_US=%d", r->r_actor, SPIN_US);
	for (size_t i = 0; i < POOLS; i++) {
		bn_conf_actor(f, pool_names[i], exec);
		if (pool_sizes[i] > 0)
			fprintf(f, "instances = %u\n\n", pool_sizes[i]);
		if (pool_windows[i] > 0)
			fprintf(f, "inflight = %u\n\n", pool_windows[i]);
		running += 1 + pool_sizes[i];	/* a pool's row is running */
	}
	start_node(r, &b, f, &buf, running);
	c = bn_client_open("B10", &b);
	for (size_t i = 0; i < POOLS; i++) {
		rate = pool_case(r, &b, c, pool_names[i], &sent);
		unit = i == 0 ? rate : unit;
		b10_row(r, i, rate, sent, unit);
	}
	troupe_client_close(c, 5000);
	bn_broker_stop(&b, 60000);
}

/* ---- B11: a topic to 1, 4, 16 subscribers ---------------------------- */

static const char *names_sub[SUBS] = { "sub0", "sub1", "sub2", "sub3",
    "sub4", "sub5", "sub6", "sub7", "sub8", "sub9", "sub10", "sub11",
    "sub12", "sub13", "sub14", "sub15" };

/* sub0 takes all three topics, sub1..3 "four" and "all", the rest
 * "all": topic i reaches exactly fan[i] subscribers.  "pub" publishes. */
static void
conf_subs(struct bn_run *r, FILE *f)
{
	bn_conf_actor(f, "pub", r->r_actor);
	for (uint32_t s = 0; s < SUBS; s++) {
		bn_conf_actor(f, names_sub[s], r->r_actor);
		fprintf(f, "subscribe = ");
		for (size_t i = 0; i < FANS; i++)
			if (s < fan[i])
				fprintf(f, "%s%s", fan_topics[i],
				    i + 1 < FANS ? ", " : "");
		fprintf(f, "\n\n");
	}
}

/* Waits until each of the first n subscribers got want (a copy may
 * still wait for room when the publisher answered); returns the latest
 * arrival, stamped by the subscribers themselves. */
static uint64_t
subs_last(struct bn_broker *b, uint32_t n, uint64_t want)
{
	uint64_t dl = bn_now_ns() + (uint64_t)DRAIN_MS * 1000000;
	uint64_t last = 0, got, t;

	for (uint32_t s = 0; s < n; s++) {
		while ((got = bn_op(b, names_sub[s], "stats", "count")) <
		    want && bn_now_ns() < dl)
			usleep(POLL_US);
		if (got != want)
			bn_die("B11: %s got %llu of %llu (see %s/trouped.log)",
			    names_sub[s], (unsigned long long)got,
			    (unsigned long long)want, b->br_dir);
		t = bn_op(b, names_sub[s], "stats", "last_ns");
		last = t > last ? t : last;
	}
	return last;
}

static void
subs_reset(struct bn_broker *b, uint32_t n)
{
	for (uint32_t s = 0; s < n; s++)
		bn_op(b, names_sub[s], "reset", "count");
}

/* Has "pub" publish up to max 128 B bins to topic for at most ms;
 * returns how many, its first publish's time in *t0. */
static uint64_t
publish(struct bn_broker *b, const char *topic, uint64_t max, uint64_t ms,
    uint64_t *t0)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	msgpack_zone zone;
	msgpack_object o;
	uint64_t sent;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	bn_pack_op(&pk, "publish", 4);
	bn_pack_key(&pk, "to");
	bn_pack_key(&pk, topic);
	bn_pack_key(&pk, "count");
	msgpack_pack_uint64(&pk, max);
	bn_pack_key(&pk, "size");
	msgpack_pack_uint64(&pk, BODY);
	bn_pack_key(&pk, "ms");
	msgpack_pack_uint64(&pk, ms);
	msgpack_zone_init(&zone, 1024);
	bn_ask(b, "pub", sb.data, sb.size, &zone, &o);
	*t0 = bn_get_u64(&o, "t0_ns");
	sent = bn_get_u64(&o, "sent");
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&sb);
	return sent;
}

/* One fan-out: deliveries/s (published x subscribers) and published/s,
 * from the first publish to the last subscriber's last arrival. */
static void
fan_case(struct bn_run *r, struct bn_broker *b, size_t i, double *deliv,
    double *pub)
{
	uint64_t t0, last, sent;
	double secs;

	subs_reset(b, fan[i]);
	sent = publish(b, fan_topics[i], bn_scale(r, PUB_MAX), feed_ms(r),
	    &t0);
	last = subs_last(b, fan[i], sent);
	secs = last > t0 ? (double)(last - t0) / 1e9 : 0;
	*pub = secs > 0 ? (double)sent / secs : 0;
	*deliv = *pub * fan[i];
}

static void
b11_row(struct bn_run *r, size_t i, double deliv, double pub,
    double unit)
{
	char what[64], m[64], q[96], b1[48];

	snprintf(what, sizeof(what), "publish -> %u subscriber%s, %d B",
	    fan[i], fan[i] > 1 ? "s" : "", BODY);
	snprintf(m, sizeof(m), "%.0f deliv/s, %.0f pub/s", deliv, pub);
	vs_b1(r, deliv, b1, sizeof(b1));
	if (i == 0)
		snprintf(q, sizeof(q), "(the unit) %s", b1);
	else
		snprintf(q, sizeof(q), "%.2f x 1 subscriber, %s", unit > 0 ?
		    deliv / unit : 0, b1);
	bn_out(r, ROW, "B11", what, m, q);
}

void
bn_case_b11(struct bn_run *r)
{
	struct bn_broker b;
	double deliv, pub, unit = 0;
	uint64_t t0, sent;
	char *buf;
	size_t len;
	FILE *f;

	if (!bn_wanted(r, "B11"))
		return;
	f = bn_conf_open(&buf, &len, 0);
	conf_subs(r, f);
	start_node(r, &b, f, &buf, 1 + SUBS);
	subs_reset(&b, SUBS);
	sent = publish(&b, fan_topics[FANS - 1], bn_scale(r, 2000), 0, &t0);
	subs_last(&b, SUBS, sent);			/* warm up */
	for (size_t i = 0; i < FANS; i++) {
		fan_case(r, &b, i, &deliv, &pub);
		unit = i == 0 ? deliv : unit;
		b11_row(r, i, deliv, pub, unit);
	}
	bn_broker_stop(&b, 60000);
}

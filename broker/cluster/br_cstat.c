/*
 * br_cstat — cluster counters for `troupe stats` and the metrics page.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "br.h"
#include "br_await.h"
#include "br_cstat.h"
#include "br_disc.h"
#include "br_kv.h"
#include "br_peer.h"
#include "br_seeds.h"

struct counters {
	struct br_disc_stats	 c_d;
	struct br_peer_stats	 c_p;
	struct br_await_stats	 c_a;
};

/* One table drives both outputs, so the two never disagree. */
static const struct cstat_key {
	const char	*k_stat;	/* troupe stats key */
	const char	*k_family;	/* metric family */
	const char	*k_label;	/* reason/result label value */
	size_t		 k_off;
} keys[] = {
#define D(f) offsetof(struct counters, c_d.f)
#define P(f) offsetof(struct counters, c_p.f)
#define A(f) offsetof(struct counters, c_a.f)
	{ "beacons_sent", "troupe_beacons_sent_total", NULL, D(ds_sent) },
	{ "beacons_received", "troupe_beacons_received_total", NULL,
	    D(ds_received) },
	{ "beacons_rejected_mac", "troupe_beacons_rejected_total", "mac",
	    D(ds_rej_mac) },
	{ "beacons_rejected_stale", "troupe_beacons_rejected_total", "stale",
	    D(ds_rej_stale) },
	{ "beacons_rejected_replay", "troupe_beacons_rejected_total",
	    "replay", D(ds_rej_replay) },
	{ "beacons_other_cluster", "troupe_beacons_rejected_total",
	    "other_cluster", D(ds_other_cluster) },
	{ "beacons_malformed", "troupe_beacons_rejected_total", "malformed",
	    D(ds_bad) },
	{ "link_handshakes_ok", "troupe_link_handshakes_total", "ok",
	    P(ps_hs_ok) },
	{ "link_handshakes_failed", "troupe_link_handshakes_total", "failed",
	    P(ps_hs_failed) },
	{ "link_frames_tampered", "troupe_link_frames_rejected_total", NULL,
	    P(ps_tampered) },
	{ "link_frames_stray", "troupe_link_frames_stray_total", NULL,
	    P(ps_stray) },
	{ "link_waits", "troupe_link_waits_total", NULL, A(as_held) },
	{ "link_wait_full", "troupe_link_wait_refused_total", NULL,
	    A(as_full) },
	{ "link_wait_timeouts", "troupe_link_wait_timeouts_total", NULL,
	    A(as_timeouts) },
#undef D
#undef P
#undef A
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static void
collect(const struct br *br, struct counters *c)
{
	br_disc_stats(br, &c->c_d);
	br_peers_stats(br, &c->c_p);
	br_await_stats(br, &c->c_a);
}

static uint64_t
value(const struct counters *c, const struct cstat_key *k)
{
	return *(const uint64_t *)(const void *)((const char *)c + k->k_off);
}

static const char *
help_of(const char *family)
{
	static const struct { const char *f, *h; } helps[] = {
		{ "troupe_beacons_sent_total", "Beacons sent (multicast and "
		    "seeds)." },
		{ "troupe_beacons_received_total", "Beacons of other nodes "
		    "accepted." },
		{ "troupe_beacons_rejected_total", "Beacons dropped, by "
		    "reason." },
		{ "troupe_link_handshakes_total", "Peer-link handshakes, by "
		    "result." },
		{ "troupe_link_frames_rejected_total", "Peer-link frames "
		    "that did not open (tampered, replayed, reordered)." },
		{ "troupe_link_frames_stray_total", "Frames on peer streams "
		    "no hello bound." },
		{ "troupe_link_waits_total", "Requests that waited for a "
		    "peer link or names table coming up." },
		{ "troupe_link_wait_refused_total", "Requests refused "
		    "because the wait list for links was full." },
		{ "troupe_link_wait_timeouts_total", "Requests whose link "
		    "did not come up within the ask ttl." },
	};

	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (helps[i].f == family)
			return helps[i].h;
	return "";
}

/* The label name of a family's rows: handshakes count by result, the
 * rest by reason. */
static const char *
label_of(const struct cstat_key *k)
{
	if (k->k_label == NULL)
		return NULL;
	return strstr(k->k_family, "handshakes") != NULL ? "result" :
	    "reason";
}

static void
counter_rows(const struct br *br, br_cstat_fn *fn, void *arg)
{
	struct counters c;

	collect(br, &c);
	for (size_t i = 0; i < NKEYS; i++) {
		const struct cstat_key *k = &keys[i];
		struct br_cstat_row r = { k->k_stat, k->k_family, "counter",
		    help_of(k->k_family), label_of(k), k->k_label,
		    value(&c, k) };

		fn(arg, &r);
	}
}

/* Per-peer gauges (metrics only): one family at a time over every
 * link. */
static void
peer_rows(const struct br *br, br_cstat_fn *fn, void *arg)
{
	static const char *const fam[][2] = {
		{ "troupe_peer_alive", "1 when the member is alive." },
		{ "troupe_peer_link_up", "1 when the peer link is up." },
		{ "troupe_peer_rtt_microseconds", "Last heartbeat round trip "
		    "on the link." },
		{ "troupe_peer_link_resets_total", "Times the link was "
		    "reset." },
	};
	uint32_t n = br_peers_count(br);

	for (size_t f = 0; f < 4; f++) {
		/* no peer: the family is announced all the same */
		struct br_cstat_row none = { NULL, fam[f][0], f == 3 ?
		    "counter" : "gauge", fam[f][1], "peer", NULL, 0 };

		if (n == 0)
			fn(arg, &none);
		for (uint32_t i = 0; i < n; i++) {
			const struct br_link *l = br_peers_at(br, i);
			uint64_t v[4] = {
			    br_plink_node(l)->n_state == BR_M_ALIVE,
			    br_plink_is_up(l), br_plink_rtt(l),
			    br_plink_resets(l) };
			struct br_cstat_row r = { NULL, fam[f][0],
			    f == 3 ? "counter" : "gauge", fam[f][1], "peer",
			    br_plink_node_name(l), v[f] };

			fn(arg, &r);
		}
	}
}

void
br_cstat_rows(const struct br *br, br_cstat_fn *fn, void *arg)
{
	counter_rows(br, fn, arg);
	peer_rows(br, fn, arg);
}

/* "routable": a request to the node goes out now, by name@node and by
 * bare name: the member is alive, its link up and its names table in. */
static bool
routable(const struct br_node *n)
{
	return n->n_state == BR_M_ALIVE && br_plink_is_up(n->n_link) &&
	    br_plink_names_in(n->n_link);
}

static void
pack_node(msgpack_packer *pk, const char *name, const char *state,
    const char *ep, uint64_t inc, uint64_t age, const char *link,
    uint64_t rtt, bool can_route)
{
	char incs[24];

	snprintf(incs, sizeof(incs), "%016llx", (unsigned long long)inc);
	msgpack_pack_map(pk, 8);
	br_kv_str(pk, "name", name);
	br_kv_str(pk, "state", state);
	br_kv_str(pk, "endpoint", ep);
	br_kv_str(pk, "incarnation", incs);
	br_kv_uint(pk, "last_seen_ms", age);
	br_kv_str(pk, "link", link);
	br_kv_uint(pk, "rtt_us", rtt);
	msgpack_pack_str_with_body(pk, "routable", 8);
	if (can_route)
		msgpack_pack_true(pk);
	else
		msgpack_pack_false(pk);
}

/* Seeds still being tried follow the members: state "trying", link
 * "seed", the seed as configured for a name; last_seen_ms only when it
 * ever answered. */
static void
pack_seed(msgpack_packer *pk, const struct br_seed_row *r)
{
	msgpack_pack_map(pk, r->sr_heard ? 8 : 7);
	br_kv_str(pk, "name", r->sr_name);
	br_kv_str(pk, "state", "trying");
	br_kv_str(pk, "endpoint", r->sr_endpoint);
	br_kv_str(pk, "incarnation", "");
	br_kv_str(pk, "link", "seed");
	br_kv_uint(pk, "rtt_us", 0);
	msgpack_pack_str_with_body(pk, "seed", 4);
	msgpack_pack_true(pk);
	if (r->sr_heard)
		br_kv_uint(pk, "last_seen_ms", r->sr_age_ms);
}

void
br_cstat_pack_nodes(struct br *br, msgpack_packer *pk)
{
	struct br_seed_row rows[BR_SEEDS_MAX_ADDRS];
	uint64_t now = br_now_ms();
	uint32_t nrows, nn = br_disc_count(br);

	if (br->b_disc == NULL) {
		msgpack_pack_array(pk, 1);
		pack_node(pk, br->b_node, "alive", "", 0, 0, "self", 0,
		    true);
		return;
	}
	nrows = br_disc_seed_rows(br, rows, BR_SEEDS_MAX_ADDRS);
	msgpack_pack_array(pk, nn + 1 + nrows);
	pack_node(pk, br->b_node, "alive", br_disc_endpoint(br),
	    br_disc_incarnation(br), 0, "self", 0, true);
	for (uint32_t i = 0; i < nn; i++) {
		const struct br_node *n = br_disc_node(br, i);

		pack_node(pk, n->n_name, br_mstate_name(n->n_state),
		    n->n_endpoint, n->n_inc, now - n->n_last_seen_ms,
		    br_plink_state_name(n->n_link), br_plink_rtt(n->n_link),
		    routable(n));
	}
	for (uint32_t i = 0; i < nrows; i++)
		pack_seed(pk, &rows[i]);
}

/*
 * br_cstat — the cluster's counters as `troupe stats` keys and as
 * Prometheus families: beacons (sent, received, rejected by reason),
 * link handshakes, tampered frames, requests that waited for a link
 * (br_await), and per peer its member state, link state, round-trip time
 * and resets.  Loop thread only; reads br_disc, br_peer and br_await
 * through their const accessors.  The rows go into the broker's one
 * counters table (br_stat.h), which feeds both outputs; br_cstat itself
 * calls neither br_stat nor br_metrics.
 */
#ifndef BR_CSTAT_H
#define BR_CSTAT_H

#include <stdint.h>

struct br;

/* One counter as br_stat's table takes it (br_stat.h): the `troupe
 * stats` key (NULL: metrics only, like the per-peer gauges), the metric
 * family with its type and help, the label (name NULL when none) and the
 * value now.  A label name with a NULL value is a family without series
 * (the per-peer gauges of a node without peers): announced, no sample.  The strings are static or live until the callback
 * returns. */
struct br_cstat_row {
	const char	*cr_key;
	const char	*cr_family;
	const char	*cr_type;
	const char	*cr_help;
	const char	*cr_lkey;
	const char	*cr_lval;
	uint64_t	 cr_value;
};

typedef void br_cstat_fn(void *arg, const struct br_cstat_row *r);

/* Calls fn(arg, row) for every cluster counter (zeros when the cluster
 * is off), then for every per-peer gauge; rows of one family are
 * consecutive (see docs/ARCHITECTURE.md "Metrics"). */
void br_cstat_rows(const struct br *br, br_cstat_fn *fn, void *arg);

/* Packs the member table (the CONTROL "nodes" answer): an array of maps
 * name, state (the member's), endpoint, incarnation, last_seen_ms (age),
 * link (the link's state), rtt_us, routable (alive, link up, names table
 * in), with this node first, then a row per seed still being tried
 * (state "trying", link "seed", "seed": true; br_seeds.h). */
void br_cstat_pack_nodes(struct br *br, msgpack_packer *pk);

#endif

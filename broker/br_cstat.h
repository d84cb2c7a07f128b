/*
 * br_cstat — the cluster's counters as `troupe stats` keys and as
 * Prometheus families: beacons (sent, received, rejected by reason),
 * link handshakes, tampered frames, requests that waited for a link
 * (br_await), and per peer its member state, link state, round-trip time
 * and resets.  Loop thread only; reads br_disc, br_peer and br_await
 * through their const accessors.
 */
#ifndef BR_CSTAT_H
#define BR_CSTAT_H

#include <stdint.h>

#include <msgpack.h>

struct br;

/* Where br_cstat_render writes: the metrics page's family and sample
 * writers (br_metrics), called back so that br_cstat never calls the
 * module that calls it. */
struct br_cstat_sink {
	void	(*cs_family)(void *arg, const char *name, const char *type,
		    const char *help);
	void	(*cs_sample)(void *arg, const char *name, const char *lkey,
		    const char *lval, uint64_t v);
	void	*cs_arg;
};

/* Number of key/value pairs br_cstat_pack writes. */
uint32_t br_cstat_count(void);

/* Packs br_cstat_count() flat key/value pairs into the map being packed
 * (zeros when the cluster is off). */
void br_cstat_pack(const struct br *br, msgpack_packer *pk);

/* Packs the member table (the CONTROL "nodes" answer): an array of maps
 * name, state (the member's), endpoint, incarnation, last_seen_ms (age),
 * link (the link's state), rtt_us, routable (alive, link up, names table
 * in), with this node first, then a row per seed still being tried
 * (state "trying", link "seed", "seed": true; br_seeds.h). */
void br_cstat_pack_nodes(struct br *br, msgpack_packer *pk);

/* Writes the cluster families (see docs/ARCHITECTURE.md "Metrics"). */
void br_cstat_render(const struct br_cstat_sink *mx, const struct br *br);

#endif

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
struct br_mx;

/* Number of key/value pairs br_cstat_pack writes. */
uint32_t br_cstat_count(void);

/* Packs br_cstat_count() flat key/value pairs into the map being packed
 * (zeros when the cluster is off). */
void br_cstat_pack(const struct br *br, msgpack_packer *pk);

/* Writes the cluster families (see docs/ARCHITECTURE.md "Metrics"). */
void br_cstat_render(struct br_mx *mx, const struct br *br);

#endif

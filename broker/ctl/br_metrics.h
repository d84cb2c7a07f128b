/*
 * br_metrics — Prometheus text exposition (format 0.0.4) of the broker's
 * counters, served by nng's HTTP server on node.metrics
 * (e.g. http://127.0.0.1:9464/metrics).  Off when node.metrics is empty.
 *
 * Invariant (docs/ARCHITECTURE.md): nng's HTTP handler runs on nng's
 * threads and never reads broker state.  The loop thread renders the whole
 * exposition into a new buffer every BR_METRICS_REFRESH_MS (br_metrics_tick)
 * and swaps it in under a mutex; the handler only copies the current
 * snapshot under that mutex.  The snapshot is the one thing shared.
 *
 * Adding metrics: a broker or cluster counter is a row of the counters
 * table (br_stat.h), which `troupe stats` reads too; only per-actor
 * families are written here (render_sections() in br_metrics.c).
 * br_metrics is the top: it reads the table and the actors, and nobody
 * calls it back.
 */
#ifndef BR_METRICS_H
#define BR_METRICS_H

#include <stdint.h>

#define BR_METRICS_REFRESH_MS 500

struct br;
struct br_metrics;

/* Starts the HTTP server when br->b_conf->c_metrics is set (br->b_metrics
 * stays NULL otherwise) with a first snapshot.  Returns 0 or -1 (logged:
 * bad URL, address in use). */
int br_metrics_open(struct br *br);

/* Renders a new snapshot when the last is BR_METRICS_REFRESH_MS old.
 * Loop thread; no-op when metrics are off. */
void br_metrics_tick(struct br *br, uint64_t now_ms);

/* Stops the server (no handler runs afterwards) and frees everything. */
void br_metrics_close(struct br *br);

#endif

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
 * Adding metrics: write a section renderer with the br_mx_* helpers (one
 * br_mx_family, then its samples, per family) and call it from
 * render_sections() in br_metrics.c (peers and beacons go there).
 */
#ifndef BR_METRICS_H
#define BR_METRICS_H

#include <stdint.h>
#include <stdio.h>

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

/* A writer for one rendering: samples get node="..." first. */
struct br_mx {
	FILE		*mx_fp;
	const char	*mx_node;
};

/* "# HELP" and "# TYPE" of one family (type "counter" or "gauge"). */
void br_mx_family(struct br_mx *mx, const char *name, const char *type,
    const char *help);

/* name{node="N"[,lkey="lval"]} v, label values escaped; lkey may be
 * NULL. */
void br_mx_sample(struct br_mx *mx, const char *name, const char *lkey,
    const char *lval, uint64_t v);

#endif

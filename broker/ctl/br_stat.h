/*
 * br_stat — the one table of the broker's counters.  Every counter that
 * `troupe stats` shows or /metrics exports is a row here: its stats key,
 * its Prometheus family, type and help, its label, and how its value is
 * read.  br_ctl's stats op and br_metrics both walk the rows, so the two
 * outputs cannot disagree or drift apart.
 *
 * The rows are the broker's own (struct br_stats, pending, actors,
 * uptime, tap), then br_cstat's cluster rows, then br_guard's refusals.
 * Rows of one family are consecutive.  Per-actor families are not here:
 * `troupe stats` has no per-actor keys (br_metrics renders those).
 *
 * br_stat reads its sources; it calls neither of its two users, and its
 * sources call nobody above them (the call graph stays one-way:
 * br_ctl, br_metrics -> br_stat -> br_cstat, br_guard).  Loop thread.
 */
#ifndef BR_STAT_H
#define BR_STAT_H

#include <stdint.h>

struct br;

/* One row as the walk hands it over; the strings live until the callback
 * returns. */
struct br_stat_row {
	const char	*sr_key;	/* `troupe stats` key; NULL: metrics only */
	const char	*sr_family;	/* Prometheus family; NULL: stats only */
	const char	*sr_type;	/* "counter" or "gauge" */
	const char	*sr_help;	/* the family's HELP text */
	const char	*sr_lkey;	/* label name; NULL: no label */
	const char	*sr_lval;	/* label value; NULL with sr_lkey set:
					 * a family without series yet, its
					 * HELP and TYPE but no sample */
	uint64_t	 sr_value;
};

typedef void br_stat_fn(void *arg, const struct br_stat_row *r);

/* Calls fn(arg, row) for every row in table order, values read now
 * (now_ms: the loop's clock, for the uptime rows). */
void br_stat_each(const struct br *br, uint64_t now_ms, br_stat_fn *fn,
    void *arg);

/* Number of rows with a stats key (the size of the stats map's counter
 * part). */
uint32_t br_stat_nkeys(const struct br *br);

#endif

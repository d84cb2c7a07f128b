/*
 * br_stat — the broker's counters as one table (see br_stat.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>

#include "br.h"
#include "br_client.h"
#include "br_route.h"
#include "br_cstat.h"
#include "br_guard.h"
#include "br_stat.h"

/* How a broker row reads its value. */
enum src { S_FIELD, S_PID, S_UPTIME_MS, S_UPTIME_S, S_ACTORS, S_PENDING,
    S_TAP, S_CLIENTS };

struct row {
	const char	*r_key;
	const char	*r_family;
	const char	*r_type;
	const char	*r_help;
	enum src	 r_src;
	size_t		 r_off;		/* in struct br_stats, for S_FIELD */
};

#define C "counter"
#define G "gauge"
#define F(f) S_FIELD, offsetof(struct br_stats, f)

/* In `troupe stats` order; a metrics-only row sits next to its stats
 * twin (uptime in ms for stats, in seconds for Prometheus). */
static const struct row rows[] = {
	{ "pid", NULL, G, NULL, S_PID, 0 },
	{ "uptime_ms", NULL, G, NULL, S_UPTIME_MS, 0 },
	{ NULL, "troupe_uptime_seconds", G, "Seconds since trouped started.",
	  S_UPTIME_S, 0 },
	{ "actors", "troupe_actors", G, "Actors configured.", S_ACTORS, 0 },
	{ "routed", "troupe_routed_total", C, "SEND and ASK messages routed.",
	  F(st_routed) },
	{ "ctl_requests", "troupe_ctl_requests_total", C,
	  "Requests on the control socket.", F(st_ctl_requests) },
	{ "bad_frames", "troupe_bad_frames_total", C,
	  "Frames refused by the decoder.", F(st_bad_frames) },
	{ "unknown_actor", "troupe_unknown_actor_total", C,
	  "Messages to actors that do not exist.", F(st_unknown_actor) },
	{ "asks", "troupe_asks_total", C, "ASKs routed.", F(st_asks) },
	{ "replies", "troupe_replies_total", C, "Replies routed back.",
	  F(st_replies) },
	{ "ask_timeouts", "troupe_ask_timeouts_total", C,
	  "ASKs that expired unanswered.", F(st_ask_timeouts) },
	{ "busy", "troupe_busy_total", C,
	  "Requests refused because too many were pending.", F(st_busy) },
	{ "pending", "troupe_pending", G, "Requests waiting for an answer.",
	  S_PENDING, 0 },
	{ "spawns", "troupe_spawns_total", C, "Actor processes started.",
	  F(st_spawns) },
	{ "exits", "troupe_exits_total", C, "Actor processes that exited.",
	  F(st_exits) },
	{ "clients", "troupe_clients", G, "Client links open.", S_CLIENTS, 0 },
	{ "clients_opened", "troupe_clients_opened_total", C,
	  "Client links opened.", F(st_clients) },
	{ "published", "troupe_published_total", C,
	  "Messages published to a topic.", F(st_published) },
	{ "topic_copies", "troupe_topic_copies_total", C,
	  "Copies of published messages placed in local mailboxes.",
	  F(st_topic_copies) },
	{ "topic_forwarded", "troupe_topic_forwarded_total", C,
	  "Published messages sent to peer nodes (one per link).",
	  F(st_topic_forwarded) },
	{ NULL, "troupe_tap_records_total", C,
	  "Records published to `troupe watch`.", S_TAP, 0 },
};

#undef C
#undef G
#undef F

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static uint64_t
read_row(const struct br *br, const struct row *r, uint64_t now)
{
	const char *st = (const char *)&br->b_stats;

	switch (r->r_src) {
	case S_FIELD:
		return *(const uint64_t *)(const void *)(st + r->r_off);
	case S_PID:		return (uint64_t)getpid();
	case S_UPTIME_MS:	return now - br->b_start_ms;
	case S_UPTIME_S:	return (now - br->b_start_ms) / 1000;
	case S_ACTORS:		return br->b_nactors;
	case S_PENDING:		return br_route_pending(br);
	case S_TAP:		return br->b_tap.t_published;
	case S_CLIENTS:		return br_clients_count(br);
	}
	return 0;
}

static void
each_broker(const struct br *br, uint64_t now, br_stat_fn *fn, void *arg)
{
	for (const struct row *r = rows; r < rows + NROWS; r++) {
		struct br_stat_row o = { r->r_key, r->r_family, r->r_type,
		    r->r_help, NULL, NULL, read_row(br, r, now) };

		fn(arg, &o);
	}
}

/* The cluster's rows come as br_cstat's own struct (br_cstat must not
 * depend on us); they are passed on field for field. */
struct relay {
	br_stat_fn	*rl_fn;
	void		*rl_arg;
};

static void
relay_cstat(void *arg, const struct br_cstat_row *c)
{
	const struct relay *rl = arg;
	struct br_stat_row o = { c->cr_key, c->cr_family, c->cr_type,
	    c->cr_help, c->cr_lkey, c->cr_lval, c->cr_value };

	rl->rl_fn(rl->rl_arg, &o);
}

/* refused_<socket> in stats, troupe_refused_total{socket} in metrics. */
static void
each_refused(br_stat_fn *fn, void *arg)
{
	for (int s = 0; s < BR_GS_COUNT; s++) {
		const char *name = br_guard_name((enum br_gsock)s);
		char key[48];
		struct br_stat_row o = { key, "troupe_refused_total",
		    "counter", "Connections and frames refused, by listening "
		    "socket.", "socket", name,
		    br_guard_refused((enum br_gsock)s) };

		snprintf(key, sizeof(key), "refused_%s", name);
		fn(arg, &o);
	}
}

void
br_stat_each(const struct br *br, uint64_t now_ms, br_stat_fn *fn,
    void *arg)
{
	struct relay rl = { fn, arg };

	each_broker(br, now_ms, fn, arg);
	br_cstat_rows(br, relay_cstat, &rl);
	each_refused(fn, arg);
}

static void
count_key(void *arg, const struct br_stat_row *r)
{
	*(uint32_t *)arg += r->sr_key != NULL;
}

uint32_t
br_stat_nkeys(const struct br *br)
{
	uint32_t n = 0;

	br_stat_each(br, br->b_start_ms, count_key, &n);
	return n;
}

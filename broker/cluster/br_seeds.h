/*
 * br_seeds — what a node knows of its cluster.seeds: the resolved
 * addresses and when each last answered, the warning when none answers
 * (once, then with a doubling backoff, not once per beacon), and the rows
 * `troupe nodes` shows for seeds still being tried.  Loop thread only;
 * br_disc owns the one instance and feeds it.
 *
 * A seed address "answers" when a beacon that passed the MAC check came
 * from it (seeds send their beacons from their seeds socket, bound to the
 * port the seed spec names).  An address that brings back our own beacon
 * is ourselves (a StatefulSet lists every pod, this one too): it is
 * neither tried nor missed.
 */
#ifndef BR_SEEDS_H
#define BR_SEEDS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "br_beacon.h"

#define BR_SEEDS_MAX_SPECS 16		/* as many as br_resolv resolves */
#define BR_SEEDS_MAX_ADDRS 64
#define BR_SEEDS_BACKOFF_MS 10000	/* first repeat of the warning */
#define BR_SEEDS_BACKOFF_MAX_MS 600000

struct br_seed_addr {
	struct sockaddr_in sa_addr;
	uint32_t	 sa_spec;	/* index into ss_spec */
	uint64_t	 sa_heard_ms;	/* monotonic, 0 = never */
	bool		 sa_self;
};

struct br_seeds {
	char		 ss_spec[BR_SEEDS_MAX_SPECS][BR_ENDPOINT_MAX];
	uint32_t	 ss_nspec;
	struct br_seed_addr ss_addr[BR_SEEDS_MAX_ADDRS];
	uint32_t	 ss_naddr;
	uint64_t	 ss_start_ms;
	uint64_t	 ss_next_warn_ms;
	uint64_t	 ss_backoff_ms;
	bool		 ss_warned;	/* "cannot reach" said, not yet undone */
};

/* One seed still being tried, for `troupe nodes`; strings are the
 * row's own. */
struct br_seed_row {
	char		 sr_name[BR_ENDPOINT_MAX];	/* as configured */
	char		 sr_endpoint[BR_ENDPOINT_MAX];	/* udp://A:P, "" */
	uint64_t	 sr_age_ms;	/* since it last answered */
	bool		 sr_heard;	/* it ever answered */
};

/* Splits seeds ("a:7447, b:7447") into specs, at most
 * BR_SEEDS_MAX_SPECS; now starts the grace before the first warning. */
void br_seeds_init(struct br_seeds *ss, const char *seeds, uint64_t now);

/* A new resolution: addrs[i] came from spec src[i].  What was known of
 * an address that stays (when it answered, whether it is us) is kept. */
void br_seeds_replace(struct br_seeds *ss, const struct sockaddr_in *addrs,
    const uint32_t *src, uint32_t n);

/* A beacon came from from: another node's (self false) or our own. */
void br_seeds_heard(struct br_seeds *ss, const struct sockaddr_in *from,
    bool self, uint64_t now);

/* Logs "cannot reach any seed" when no seed answered for silent_ms (once,
 * then after 10 s, 20 s, ... up to 10 min) and "seed answered" when one
 * does again.  Every tick. */
void br_seeds_tick(struct br_seeds *ss, uint64_t now, uint64_t silent_ms);

/* Fills up to max rows with the seeds not heard for silent_ms (an
 * unresolved spec is one row without endpoint); returns the count. */
uint32_t br_seeds_rows(const struct br_seeds *ss, uint64_t now,
    uint64_t silent_ms, struct br_seed_row *rows, uint32_t max);

#endif

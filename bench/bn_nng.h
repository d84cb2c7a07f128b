/*
 * bn_nng — B0: the bare nng pair1 link over ipc that every troupe hop
 * rides on, measured in two processes of its own.
 */
#ifndef BN_NNG_H
#define BN_NNG_H

#include "bn.h"

struct bn_nng_args {
	uint32_t	 a_count;	/* one-way messages */
	uint32_t	 a_rtt_count;	/* round trips */
	size_t		 a_size;	/* bytes a message, <= 64 KiB */
};

struct bn_nng_result {
	double		 r_msgs_s;	/* one-way throughput */
	struct bn_pct	 r_rtt;		/* ns */
};

/* The peer process: listens at url, counts, echoes pings; returns the
 * exit status when told to quit. */
int bn_nng_peer(const char *url);

/* Starts `self --nng-peer URL` with its socket in dir, measures, stops
 * it.  Exits on failure. */
void bn_nng_run(const char *self, const char *dir,
    const struct bn_nng_args *a, struct bn_nng_result *r);

#endif

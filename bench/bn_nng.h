/*
 * bn_nng — B0 and B0z: the bare transports every comparison starts
 * from, each measured in two processes of its own: the nng pair1 link
 * over ipc that every troupe hop rides on, and ZeroMQ over ipc (the
 * peer a user would pick instead).
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

/* B0z's peer process: binds PULL and REP sockets in dir, pulls the
 * counted messages a start announces, echoes every request; returns
 * the exit status when told to quit.  Exits 1 without libzmq. */
int bn_zmq_peer(const char *dir);

/* Starts `self --zmq-peer DIR`, measures one-way PUSH/PULL (the median
 * of 3 runs) and REQ/REP round trips, stops it: 0.  Built without
 * libzmq (no BN_HAVE_ZMQ): -1 with the reason in why.  Exits on other
 * failures. */
int bn_zmq_run(const char *self, const char *dir,
    const struct bn_nng_args *a, struct bn_nng_result *r, char *why,
    size_t len);

#endif

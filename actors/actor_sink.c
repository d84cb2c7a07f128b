/*
 * troupe-sink — discards every message (the library acknowledges it); an
 * ask therefore gets the library's ERROR "no reply".
 *
 *   troupe-sink [--sleep-us N]
 *
 * --sleep-us makes it a deliberately slow consumer, for backpressure tests
 * and benchmarks of full mailboxes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "troupe.h"

static void
sink_receive(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	const long *us = troupe_arg(ctx);
	struct timespec ts;

	if (*us <= 0)
		return;
	ts.tv_sec = *us / 1000000;
	ts.tv_nsec = (*us % 1000000) * 1000;
	nanosleep(&ts, NULL);
}

int
main(int argc, char **argv)
{
	static const struct troupe_actor_ops ops = {
		.receive = sink_receive,
	};
	static long sleep_us;
	char *end;

	if (argc == 3 && strcmp(argv[1], "--sleep-us") == 0) {
		sleep_us = strtol(argv[2], &end, 10);
		if (*end != '\0' || sleep_us < 0) {
			fprintf(stderr, "troupe-sink: bad --sleep-us '%s'\n",
			    argv[2]);
			return 64;
		}
	} else if (argc != 1) {
		fprintf(stderr, "usage: troupe-sink [--sleep-us N]\n");
		return 64;
	}
	return troupe_actor_main(&ops, &sleep_us);
}

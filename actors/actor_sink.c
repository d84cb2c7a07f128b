/*
 * troupe-sink — discards every message (the library acknowledges it); an
 * ask therefore gets the library's ERROR "no reply".
 */
#include "troupe.h"

static void
sink_receive(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
}

int
main(void)
{
	static const struct troupe_actor_ops ops = {
		.receive = sink_receive,
	};

	return troupe_actor_main(&ops, NULL);
}

/*
 * troupe-echo — answers every ask with the exact body bytes it got; a plain
 * send is acknowledged and otherwise ignored.
 */
#include "troupe.h"

static void
echo_receive(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	if (msg->m_kind == TROUPE_ASK)
		troupe_reply(ctx, msg, msg->m_body, msg->m_body_len);
}

int
main(void)
{
	static const struct troupe_actor_ops ops = {
		.receive = echo_receive,
	};

	return troupe_actor_main(&ops, NULL);
}

/*
 * troupe-counter — counts the messages it receives.  Two control ops are
 * not counted: {"op":"get"} (an ask is answered {"count":N}) and
 * {"op":"reset"} (sets the count to 0; an ask is answered {"count":0}).
 */
#include <stdint.h>

#include "troupe.h"

static void
counter_answer(struct troupe_ctx *ctx, const struct troupe_msg *msg,
    uint64_t count)
{
	struct troupe_body b;

	troupe_body_init(&b);
	troupe_body_map(&b, 1);
	troupe_body_str(&b, "count");
	if (troupe_body_uint(&b, count) == 0)
		troupe_reply(ctx, msg, troupe_body_data(&b),
		    troupe_body_len(&b));
	else
		troupe_reply_error(ctx, msg, TROUPE_ERR_BUSY, "out of memory");
	troupe_body_free(&b);
}

static void
counter_receive(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	uint64_t *count = troupe_state(ctx);
	const msgpack_object *op = troupe_obj_map_get(&msg->m_obj, "op");

	if (troupe_obj_str_eq(op, "reset"))
		*count = 0;
	else if (!troupe_obj_str_eq(op, "get")) {
		(*count)++;
		return;
	}
	if (msg->m_kind == TROUPE_ASK)
		counter_answer(ctx, msg, *count);
}

static int
counter_init(struct troupe_ctx *ctx)
{
	troupe_set_state(ctx, troupe_arg(ctx));
	return 0;
}

int
main(void)
{
	static const struct troupe_actor_ops ops = {
		.init = counter_init,
		.receive = counter_receive,
	};
	uint64_t count = 0;

	return troupe_actor_main(&ops, &count);
}

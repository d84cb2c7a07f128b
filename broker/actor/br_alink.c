/*
 * br_alink — the actor-link protocol, broker side.  Loop thread only.
 */
#include "br.h"
#include "br_actor.h"
#include "br_alink.h"
#include "br_answer.h"
#include "br_log.h"
#include "br_route.h"
#include "br_topic.h"
#include "tp_body.h"

/* troupe_subscribe/troupe_unsubscribe: no answer (the link is ordered,
 * so it holds for whatever the actor sends after); refusals are logged. */
static void
actor_sub(struct br *br, struct br_actor *a, const msgpack_object *body,
    bool on)
{
	const msgpack_object *t = tp_body_find(body, "topic", 5);
	int rc = TP_EINVAL;

	if (t != NULL && t->type == MSGPACK_OBJECT_STR)
		rc = on ? br_topic_subscribe(br, a, t->via.str.ptr,
		    t->via.str.size) : br_topic_unsubscribe(br, a,
		    t->via.str.ptr, t->via.str.size);
	if (rc < 0)
		log_warn(on ? "subscribe refused" : "unsubscribe refused",
		    "actor=%s reason=\"%s\"", br_actor_name(a), rc ==
		    TP_EINVAL ? "not a topic pattern" : "too many "
		    "subscriptions");
}

/* An actor's clean stop ends with a bye we answer: the link is ordered,
 * so it may close as soon as the answer arrives (ARCHITECTURE.md).  Any
 * other CONTROL is its hello, or a subscription. */
static void
actor_control(struct br *br, struct br_actor *a, const struct tp_env *env)
{
	struct tp_env ans = { .e_kind = TP_K_CONTROL, .e_body = env->e_body,
	    .e_body_len = env->e_body_len };
	const msgpack_object *op;
	msgpack_object body;

	msgpack_zone_clear(br->b_zone);
	op = tp_env_body(env, br->b_zone, &body, NULL) != 0 ? NULL :
	    tp_body_find(&body, "op", 2);
	if (tp_body_is_str(op, "subscribe") ||
	    tp_body_is_str(op, "unsubscribe")) {
		actor_sub(br, a, &body, tp_body_is_str(op, "subscribe"));
		return;
	}
	if (!tp_body_is_str(op, "bye")) {
		if (br_actor_ready(a) != 0)
			log_warn("unexpected hello", "actor=%s",
			    br_actor_name(a));
		return;
	}
	ans.e_to = tp_slice_str(br_actor_name(a));
	if (br_actor_answer_now(a, &ans) != 0)
		log_debug("bye not answered", "actor=%s", br_actor_name(a));
}

static void
actor_ack(struct br *br, struct br_actor *a, const struct tp_env *env)
{
	uint64_t n;

	if (tp_env_body_uint(env, &n) != 0)
		n = 0;
	/* a stopping process's last ACKs count (its mailbox is reopened
	 * when it exits, so no earlier instance's can come) */
	if (!br_actor_has_process(a))
		return;
	if (br_actor_acked(a, n > UINT32_MAX ? UINT32_MAX : (uint32_t)n) < n)
		log_warn("actor acked more than in flight", "actor=%s n=%llu",
		    br_actor_name(a), (unsigned long long)n);
	br_route_room(br_actor_home(a));	/* a pool's senders wait there */
}

void
br_alink_env(void *arg, struct br_actor *a, const struct tp_env *env)
{
	struct br *br = arg;
	struct br_origin o = { br_actor_index(a), NULL, 0 };

	switch (env->e_kind) {
	case TP_K_CONTROL:
		actor_control(br, a, env);
		break;
	case TP_K_ACK:
		actor_ack(br, a, env);
		break;
	case TP_K_SEND:
	case TP_K_ASK:
		br_actor_count_sent(a);
		br_route_env(br, &o, env);
		break;
	case TP_K_REPLY:
	case TP_K_ERROR:
		br_route_answer_back(br, env, BR_ORIGIN_CLI);
		break;
	default:
		log_warn("unexpected kind from actor", "actor=%s kind=%s",
		    br_actor_name(a), tp_kind_name(env->e_kind));
		br->b_stats.st_bad_frames++;
	}
}

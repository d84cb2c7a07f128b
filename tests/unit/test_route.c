/*
 * Unit tests for br_route: a broker of this test's own (no daemon, no
 * cluster) with real actor table entries and real mailbox sockets in a
 * temp run dir, their processes never spawned.  Requests go in through
 * br_route_env as the control socket's would; the CLI's answers are
 * caught through br_answer's ops (the seam ctl.sock uses), an actor
 * sender's credits read from its table entry.  Covers name, name@self,
 * name@other without a cluster, unknown names, every overflow policy,
 * asks with replies (and late ones), ask timeouts and shutdown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <criterion/criterion.h>

#include "br.h"
#include "br_actor.h"
#include "br_answer.h"
#include "br_conf.h"
#include "br_mbx.h"
#include "br_route.h"
#include "tp_env.h"
#include "tp_link.h"

#define NCAUGHT 64

struct caught {
	uint32_t	 c_kind;
	uint64_t	 c_corr;
	int64_t		 c_code;	/* ERROR's code, else -1 */
	char		 c_msg[256];
};

static struct caught caught[NCAUGHT];
static int ncaught;
static struct br br;
static char dir[64];

static int64_t
error_code(const struct tp_env *env, char *msg, size_t len)
{
	msgpack_unpacked u;
	int64_t code = -1;

	msgpack_unpacked_init(&u);
	if (msgpack_unpack_next(&u, (const char *)env->e_body,
	    env->e_body_len, NULL) == MSGPACK_UNPACK_SUCCESS &&
	    u.data.type == MSGPACK_OBJECT_MAP) {
		for (uint32_t i = 0; i < u.data.via.map.size; i++) {
			msgpack_object_kv *kv = &u.data.via.map.ptr[i];

			if (kv->key.via.str.size == 4)
				code = kv->val.via.i64;
			else
				snprintf(msg, len, "%.*s",
				    (int)kv->val.via.str.size,
				    kv->val.via.str.ptr);
		}
	}
	msgpack_unpacked_destroy(&u);
	return code;
}

static int
cli_send(void *arg, const struct br_origin *o, const struct tp_env *env)
{
	struct caught *c;

	cr_assert_lt(ncaught, NCAUGHT);
	c = &caught[ncaught++];
	*c = (struct caught){ env->e_kind, env->e_corr, -1, "" };
	if (env->e_kind == TP_K_ERROR)
		c->c_code = error_code(env, c->c_msg, sizeof(c->c_msg));
	return 0;
}

static const struct br_answer_ops cli_ops = { cli_send, NULL, NULL };

static const char conf_text[] =
    "[node]\nname = t1\n"
    "[actor sink]\nexec = troupe-sink\nmailbox = 100\n"
    "[actor rej]\nexec = troupe-sink\nmailbox = 2\noverflow = reject\n"
    "[actor dnew]\nexec = troupe-sink\nmailbox = 2\n"
    "overflow = drop-newest\n"
    "[actor dold]\nexec = troupe-sink\nmailbox = 2\n"
    "overflow = drop-oldest\n"
    "[actor blk]\nexec = troupe-sink\nmailbox = 2\noverflow = block\n"
    "inflight = 1\n";

static void
setup(void)
{
	char err[256], mbx[96];

	memset(&br, 0, sizeof(br));
	ncaught = 0;
	snprintf(dir, sizeof(dir), "/tmp/troupe-route-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(mbx, sizeof(mbx), "%s/mbx", dir);
	cr_assert_eq(mkdir(mbx, 0700), 0);
	cr_assert_eq(br_conf_load_string(conf_text, "test", NULL, 0,
	    &br.b_conf, err, sizeof(err)), 0, "%s", err);
	br.b_conf->c_ask_ttl_ms = 1000;
	snprintf(br.b_node, sizeof(br.b_node), "t1");
	snprintf(br.b_run_dir, sizeof(br.b_run_dir), "%s", dir);
	br.b_lim = tp_limits_default;
	cr_assert_not_null(br.b_zone = msgpack_zone_new(4096));
	cr_assert_eq(br_loop_init(&br.b_loop), 0);
	cr_assert_eq(br_route_init(&br), 0);
	cr_assert_eq(br_actors_init(&br), 0);
	for (size_t i = 0; i < br.b_conf->c_nactors; i++)
		cr_assert_eq(br_actor_add(&br, &br.b_conf->c_actors[i]), 0);
	br_answer_set_ops(BR_OC_CLI, &cli_ops, NULL);
}

static void
teardown(void)
{
	char cmd[128];

	br_actors_fini(&br);
	br_route_fini(&br);
	br_loop_fini(&br.b_loop);
	msgpack_zone_free(br.b_zone);
	br_conf_free(br.b_conf);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(route, .init = setup, .fini = teardown);

static const struct br_origin cli = { BR_ORIGIN_CLI,
    (const uint8_t *)"\x80\0\0\1", 4 };

/* Routes kind to `to` from o with id and a one-byte body (nil). */
static void
req(const struct br_origin *o, uint32_t kind, const char *to, uint64_t id)
{
	static const uint8_t nil = 0xc0;
	struct tp_env env = { .e_kind = kind, .e_id = id, .e_body = &nil,
	    .e_body_len = 1 };

	env.e_to = tp_slice_str(to);
	br_route_env(&br, o, &env);
}

static struct br_actor *
actor(const char *name)
{
	struct br_actor *a = br_actor_find(&br, name, strlen(name));

	cr_assert_not_null(a, "%s", name);
	return a;
}

static void
expect(int i, uint32_t kind, uint64_t corr, int64_t code)
{
	cr_assert_gt(ncaught, i, "answer %d missing", i);
	cr_assert_eq(caught[i].c_kind, kind, "answer %d: kind %u", i,
	    caught[i].c_kind);
	cr_assert_eq(caught[i].c_corr, corr, "answer %d: corr %llu", i,
	    (unsigned long long)caught[i].c_corr);
	cr_assert_eq(caught[i].c_code, code, "answer %d: code %lld (%s)", i,
	    (long long)caught[i].c_code, caught[i].c_msg);
}

Test(route, name_and_name_at_self_reach_the_mailbox)
{
	req(&cli, TP_K_SEND, "sink", 7);
	req(&cli, TP_K_SEND, "sink@t1", 8);
	cr_assert_eq(ncaught, 2);
	expect(0, TP_K_ACK, 7, -1);
	expect(1, TP_K_ACK, 8, -1);
	cr_assert_eq(mbx_depth(&actor("sink")->a_mbx), 2);
	cr_assert_eq(br.b_stats.st_routed, 2);
}

Test(route, unknown_name_and_other_node_are_errors)
{
	req(&cli, TP_K_SEND, "nobody", 1);
	req(&cli, TP_K_ASK, "nobody@t1", 2);
	req(&cli, TP_K_SEND, "sink@t9", 3);
	cr_assert_eq(ncaught, 3);
	expect(0, TP_K_ERROR, 1, BR_E_UNKNOWN_ACTOR);
	cr_assert(strstr(caught[0].c_msg, "'nobody'") != NULL, "%s",
	    caught[0].c_msg);
	expect(1, TP_K_ERROR, 2, BR_E_UNKNOWN_ACTOR);
	expect(2, TP_K_ERROR, 3, BR_E_UNREACHABLE);
	cr_assert(strstr(caught[2].c_msg, "'t9'") != NULL, "%s",
	    caught[2].c_msg);
	cr_assert_eq(br.b_stats.st_unknown_actor, 2);
	cr_assert_eq(br_route_pending(&br), 0, "nothing left waiting");
}

Test(route, reject_refuses_the_third)
{
	for (uint64_t id = 1; id <= 3; id++)
		req(&cli, TP_K_SEND, "rej", id);
	expect(0, TP_K_ACK, 1, -1);
	expect(1, TP_K_ACK, 2, -1);
	expect(2, TP_K_ERROR, 3, BR_E_REJECTED);
	cr_assert_eq(mbx_depth(&actor("rej")->a_mbx), 2);
	cr_assert_eq(mbx_stats(&actor("rej")->a_mbx)->mst_rejected, 1);
}

/* drop-newest is the sender's agreed fate: its SEND is confirmed and
 * counted as dropped; an ASK must hear, or it would wait. */
Test(route, drop_newest_confirms_a_send_and_answers_an_ask)
{
	for (uint64_t id = 1; id <= 3; id++)
		req(&cli, TP_K_SEND, "dnew", id);
	req(&cli, TP_K_ASK, "dnew", 4);
	cr_assert_eq(ncaught, 4);
	expect(2, TP_K_ACK, 3, -1);
	expect(3, TP_K_ERROR, 4, BR_E_DROPPED);
	cr_assert_eq(mbx_depth(&actor("dnew")->a_mbx), 2);
	cr_assert_eq(mbx_stats(&actor("dnew")->a_mbx)->mst_dropped, 2);
	cr_assert_eq(br_route_pending(&br), 0);
}

/* drop-oldest takes the newcomer and drops the head; an ASK dropped so
 * hears ERROR 10 through its pending slot. */
Test(route, drop_oldest_drops_the_head_and_answers_its_asker)
{
	req(&cli, TP_K_ASK, "dold", 1);
	req(&cli, TP_K_SEND, "dold", 2);
	cr_assert_eq(ncaught, 1, "the ask waits for its reply");
	cr_assert_eq(br_route_pending(&br), 1);
	req(&cli, TP_K_SEND, "dold", 3);
	cr_assert_eq(ncaught, 3);
	expect(0, TP_K_ACK, 2, -1);
	expect(1, TP_K_ERROR, 1, BR_E_DROPPED);
	expect(2, TP_K_ACK, 3, -1);
	cr_assert_eq(mbx_depth(&actor("dold")->a_mbx), 2);
	cr_assert_eq(br_route_pending(&br), 0);
}

/* block holds the sender: no ACK until room is made; order is kept. */
Test(route, block_holds_until_room)
{
	struct br_actor *b = actor("blk");

	for (uint64_t id = 1; id <= 4; id++)
		req(&cli, TP_K_SEND, "blk", id);
	cr_assert_eq(ncaught, 2, "the 3rd and 4th wait");
	cr_assert_eq(br_wait_count(&b->a_waitq), 2);
	/* the actor takes one and acknowledges it: one sender gets in */
	cr_assert_not_null(mbx_next_delivery(&b->a_mbx));
	b->a_state = BR_A_RUNNING;
	br_actor_acked(b, 1);
	br_route_room(b);
	cr_assert_eq(ncaught, 3);
	expect(2, TP_K_ACK, 3, -1);
	cr_assert_eq(br_wait_count(&b->a_waitq), 1);
	cr_assert_eq(mbx_depth(&b->a_mbx), 2);
}

/* An ASK waits in the ring; the reply (corr = broker id) goes back with
 * the asker's id; a second reply to the same id is dropped. */
Test(route, ask_reply_and_late_reply)
{
	struct br_actor *s = actor("sink");
	struct mbx_item *it;
	struct tp_env env, rep = { .e_kind = TP_K_REPLY };

	req(&cli, TP_K_ASK, "sink", 77);
	cr_assert_eq(ncaught, 0);
	cr_assert_eq(br_route_pending(&br), 1);
	cr_assert_not_null(it = mbx_next_delivery(&s->a_mbx));
	cr_assert_eq(tp_env_decode(it->mi_data, it->mi_len, &br.b_lim, &env,
	    NULL), 0);
	cr_assert_neq(env.e_id, 77, "the actor sees a broker id");
	cr_assert(env.e_from.s_len == 6 &&
	    memcmp(env.e_from.s_ptr, "cli@t1", 6) == 0, "from is stamped");
	rep.e_corr = env.e_id;
	br_route_answer_back(&br, &rep, BR_ORIGIN_CLI);
	br_route_answer_back(&br, &rep, BR_ORIGIN_CLI);
	cr_assert_eq(ncaught, 1, "the late reply went nowhere");
	expect(0, TP_K_REPLY, 77, -1);
	cr_assert_eq(br_route_pending(&br), 0);
	cr_assert_eq(br.b_stats.st_replies, 1);
}

Test(route, ask_times_out)
{
	req(&cli, TP_K_ASK, "sink", 5);
	br_route_tick(&br, br_now_ms() + 10);
	cr_assert_eq(ncaught, 0, "not yet");
	br_route_tick(&br, br_now_ms() + 5000);
	cr_assert_eq(ncaught, 1);
	expect(0, TP_K_ERROR, 5, BR_E_TIMEOUT);
	cr_assert_eq(br.b_stats.st_ask_timeouts, 1);
	cr_assert_eq(br_route_pending(&br), 0);
}

/* An actor sender gets its credit back once its message is placed,
 * whatever became of it. */
Test(route, actor_sender_gets_credit_back)
{
	struct br_actor *a = actor("sink");
	struct br_origin o = { a->a_idx, NULL, 0 };

	a->a_state = BR_A_RUNNING;
	req(&o, TP_K_SEND, "rej", 1);
	req(&o, TP_K_SEND, "nobody", 2);
	cr_assert_eq(tp_link_credit_due(a->a_link), 2);
	cr_assert_eq(ncaught, 0, "the CLI heard nothing of it");
}

Test(route, shutting_down_refuses)
{
	br.b_stopping = true;
	req(&cli, TP_K_SEND, "sink", 9);
	expect(0, TP_K_ERROR, 9, BR_E_SHUTDOWN);
	cr_assert_eq(mbx_depth(&actor("sink")->a_mbx), 0);
}

/*
 * br_ctl — the local control socket (raw rep0 at RUN/ctl.sock, 0600) and
 * the CONTROL operations: actors, inspect, stats.  Loop thread only.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "br.h"
#include "br_log.h"
#include "tp_nng.h"

static void
on_ctl(void *arg)
{
	struct br *br = arg;
	nng_msg *msg;

	for (int i = 0; i < 256; i++) {
		if (nng_recvmsg(br->b_ctl, &msg, NNG_FLAG_NONBLOCK) != 0)
			return;
		br_route_ctl_msg(br, msg);
	}
}

int
br_ctl_open(struct br *br)
{
	struct tp_sockopts o = tp_sockopts_default;
	char url[BR_PATH_MAX + 16];
	struct tp_err err;

	o.o_max_frame = br->b_lim.l_max_frame;
	snprintf(url, sizeof(url), "ipc://%s/ctl.sock", br->b_run_dir);
	unlink(url + 6);
	if (tp_sock_open(&br->b_ctl, TP_REP_RAW, &o, &err) != 0 ||
	    tp_listen(br->b_ctl, url, 0600, &err) != 0 ||
	    tp_recv_fd(br->b_ctl, &br->b_ctl_fd, &err) != 0) {
		log_error("cannot open control socket", "error=\"%s\"",
		    err.e_msg);
		return -1;
	}
	log_info("control socket ready", "url=%s", url);
	return br_loop_add(&br->b_loop, br->b_ctl_fd, on_ctl, br, NULL);
}

void
br_ctl_close(struct br *br)
{
	char path[BR_PATH_MAX + 16];

	nng_close(br->b_ctl);
	snprintf(path, sizeof(path), "%s/ctl.sock", br->b_run_dir);
	unlink(path);
}

/* A reply carries the request's backtrace header so that the raw rep
 * socket routes it to the right pipe; a client that has gone is simply
 * not answered. */
int
br_ctl_send(struct br *br, const uint8_t *hdr, size_t hdrlen,
    const struct tp_env *env)
{
	msgpack_packer pk;
	nng_msg *msg;

	if (nng_msg_alloc(&msg, 0) != 0)
		return -1;
	if (nng_msg_header_append(msg, hdr, hdrlen) != 0)
		goto out_free;
	tp_packer_init_msg(&pk, msg);
	if (tp_env_pack(&pk, env) != 0)
		goto out_free;
	if (nng_sendmsg(br->b_ctl, msg, NNG_FLAG_NONBLOCK) == 0)
		return 0;
out_free:
	nng_msg_free(msg);
	return -1;
}

static void
kv_str(msgpack_packer *pk, const char *k, const char *v)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
	msgpack_pack_str_with_body(pk, v, strlen(v));
}

static void
kv_uint(msgpack_packer *pk, const char *k, uint64_t v)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
	msgpack_pack_uint64(pk, v);
}

#define ACTOR_FIELDS 24

static void
pack_actor(struct br *br, msgpack_packer *pk, const struct br_actor *a)
{
	const struct mbx_stats *st = mbx_stats(&a->a_mbx);
	uint64_t now = br_now_ms();

	msgpack_pack_map(pk, ACTOR_FIELDS);
	kv_str(pk, "name", a->a_conf.ca_name);
	kv_str(pk, "node", br->b_node);
	kv_uint(pk, "pid", a->a_pid > 0 ? (uint64_t)a->a_pid : 0);
	kv_str(pk, "state", br_astate_name(a->a_state));
	kv_uint(pk, "restarts", a->a_restarts);
	kv_uint(pk, "mailbox", mbx_depth(&a->a_mbx));
	kv_uint(pk, "capacity", a->a_conf.ca_mailbox);
	kv_uint(pk, "bytes", mbx_bytes(&a->a_mbx));
	kv_uint(pk, "capacity_bytes", a->a_conf.ca_mailbox_bytes);
	kv_str(pk, "overflow", br_overflow_name(a->a_conf.ca_overflow));
	kv_uint(pk, "inflight", mbx_inflight(&a->a_mbx));
	kv_uint(pk, "window", a->a_conf.ca_inflight);
	kv_uint(pk, "waiting_senders", a->a_nwait);
	kv_uint(pk, "received", st->mst_received);
	kv_uint(pk, "delivered", st->mst_delivered);
	kv_uint(pk, "acknowledged", st->mst_acknowledged);
	kv_uint(pk, "dropped", st->mst_dropped);
	kv_uint(pk, "rejected", st->mst_rejected);
	kv_uint(pk, "redelivered", st->mst_redelivered);
	kv_uint(pk, "high_water", st->mst_high_water);
	kv_uint(pk, "sent", a->a_sent);
	kv_uint(pk, "uptime_ms", a->a_pid > 0 ? now - a->a_started_ms : 0);
	kv_str(pk, "last_exit", a->a_last_exit);
	kv_str(pk, "exec", a->a_conf.ca_exec);
}

static void
pack_stats(struct br *br, msgpack_packer *pk)
{
	const struct br_stats *s = &br->b_stats;

	msgpack_pack_map(pk, 15);
	kv_str(pk, "node", br->b_node);
	kv_uint(pk, "pid", (uint64_t)getpid());
	kv_uint(pk, "uptime_ms", br_now_ms() - br->b_start_ms);
	kv_uint(pk, "actors", br->b_nactors);
	kv_uint(pk, "routed", s->st_routed);
	kv_uint(pk, "ctl_requests", s->st_ctl_requests);
	kv_uint(pk, "bad_frames", s->st_bad_frames);
	kv_uint(pk, "unknown_actor", s->st_unknown_actor);
	kv_uint(pk, "asks", s->st_asks);
	kv_uint(pk, "replies", s->st_replies);
	kv_uint(pk, "ask_timeouts", s->st_ask_timeouts);
	kv_uint(pk, "busy", s->st_busy);
	kv_uint(pk, "pending", br->b_npend);
	kv_uint(pk, "spawns", s->st_spawns);
	kv_uint(pk, "exits", s->st_exits);
}

static bool
str_is(const msgpack_object *o, const char *s)
{
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size ==
	    strlen(s) && memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

static const msgpack_object *
map_get(const msgpack_object *m, const char *key)
{
	if (m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < m->via.map.size; i++)
		if (str_is(&m->via.map.ptr[i].key, key))
			return &m->via.map.ptr[i].val;
	return NULL;
}

/* Returns 0 with the answer packed, or an error code with msg set. */
static int
ctl_dispatch(struct br *br, const msgpack_object *body, msgpack_packer *pk,
    char *msg, size_t len)
{
	const msgpack_object *op = map_get(body, "op"), *name;
	struct br_actor *a;

	if (op == NULL)
		return snprintf(msg, len, "control request without \"op\""),
		    BR_E_BADREQ;
	if (str_is(op, "actors")) {
		msgpack_pack_array(pk, br->b_nactors);
		for (uint32_t i = 0; i < br->b_nactors; i++)
			pack_actor(br, pk, br->b_actors[i]);
	} else if (str_is(op, "stats")) {
		pack_stats(br, pk);
	} else if (str_is(op, "inspect")) {
		if ((name = map_get(body, "name")) == NULL ||
		    name->type != MSGPACK_OBJECT_STR)
			return snprintf(msg, len, "inspect needs \"name\""),
			    BR_E_BADREQ;
		if ((a = br_actor_find(br, name->via.str.ptr,
		    name->via.str.size)) == NULL)
			return snprintf(msg, len, "unknown actor '%.*s'",
			    (int)name->via.str.size, name->via.str.ptr),
			    BR_E_UNKNOWN_ACTOR;
		pack_actor(br, pk, a);
	} else
		return snprintf(msg, len, "unknown control op"), BR_E_BADREQ;
	return 0;
}

void
br_ctl_op(struct br *br, const struct br_origin *o, const struct tp_env *env)
{
	msgpack_object body;
	msgpack_sbuffer sb;
	msgpack_packer pk;
	char msg[160];
	int code;

	msgpack_zone_clear(br->b_zone);
	if (tp_env_body(env, br->b_zone, &body, NULL) != 0) {
		br_answer_error(br, o, env->e_id, BR_E_BADREQ, "bad control "
		    "body");
		return;
	}
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if ((code = ctl_dispatch(br, &body, &pk, msg, sizeof(msg))) != 0)
		br_answer_error(br, o, env->e_id, code, "%s", msg);
	else
		br_answer(br, o, TP_K_REPLY, env->e_id, (uint8_t *)sb.data,
		    sb.size);
	msgpack_sbuffer_destroy(&sb);
}

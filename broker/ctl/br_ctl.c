/*
 * br_ctl — the local control socket (raw rep0 at RUN/ctl.sock, 0600) and
 * the CONTROL operations: actors, inspect, stats.  Loop thread only.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "br.h"
#include "br_actor.h"
#include "br_acl.h"
#include "br_answer.h"
#include "br_client.h"
#include "br_ctl.h"
#include "br_route.h"
#include "br_disc.h"
#include "br_cstat.h"
#include "br_kv.h"
#include "br_durable.h"
#include "br_log.h"
#include "br_peer.h"
#include "br_stat.h"
#include "br_sup.h"
#include "br_topic.h"
#include "tp_body.h"
#include "tp_nng.h"

static void ctl_msg(struct br *br, nng_msg *msg);
static int ctl_send(void *arg, const struct br_origin *o,
    const struct tp_env *env);

static const struct br_answer_ops cli_ops = { ctl_send, NULL, NULL };

static void
on_ctl(void *arg)
{
	struct br *br = arg;
	nng_msg *msg;

	for (int i = 0; i < 256; i++) {
		if (nng_recvmsg(br->b_ctl, &msg, NNG_FLAG_NONBLOCK) != 0)
			return;
		ctl_msg(br, msg);
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
	    tp_listen(br->b_ctl, url, br_acl_sock_mode(&br->b_acl),
	    &err) != 0 ||
	    tp_recv_fd(br->b_ctl, &br->b_ctl_fd, &err) != 0) {
		log_error("cannot open control socket", "error=\"%s\"",
		    err.e_msg);
		return -1;
	}
	if (br_acl_sock_ready(&br->b_acl, url + 6) != 0)
		return -1;
	br_answer_set_ops(BR_OC_CLI, &cli_ops, br);
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
static int
ctl_send(void *arg, const struct br_origin *o, const struct tp_env *env)
{
	struct br *br = arg;
	msgpack_packer pk;
	nng_msg *msg;

	if (nng_msg_alloc(&msg, 0) != 0)
		return -1;
	if (nng_msg_header_append(msg, o->o_hdr, o->o_hdrlen) != 0)
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

#define ACTOR_FIELDS 31
#define CHAIN_MAX 16

/* "-", "45s", "3m12s", "2h5m", "1d3h": what the UPTIME column shows. */
static void
fmt_uptime(char *buf, size_t len, const struct br_actor *a, uint64_t now)
{
	uint64_t s = (now - a->a_started_ms) / 1000;

	if (a->a_pid <= 0 || a->a_state != BR_A_RUNNING)
		snprintf(buf, len, "-");
	else if (s < 60)
		snprintf(buf, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%llum%llus", (unsigned long long)s / 60,
		    (unsigned long long)s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lluh%llum", (unsigned long long)s / 3600,
		    (unsigned long long)s % 3600 / 60);
	else
		snprintf(buf, len, "%llud%lluh", (unsigned long long)s / 86400,
		    (unsigned long long)s % 86400 / 3600);
}

/* The supervisor chain, innermost group first: ["db", "root"]. */
static void
pack_chain(msgpack_packer *pk, const struct br_actor *a)
{
	const char *names[CHAIN_MAX];
	size_t n = sup_chain(a, names, CHAIN_MAX);

	msgpack_pack_str_with_body(pk, "supervisor", 10);
	msgpack_pack_array(pk, n);
	for (size_t i = 0; i < n; i++)
		msgpack_pack_str_with_body(pk, names[i], strlen(names[i]));
}

/* What the pool or actor was handed: a pool's are its instances'. */
static void
pack_flow(msgpack_packer *pk, const struct br_actor *a)
{
	const struct mbx_stats *st = mbx_stats(&a->a_mbx);
	struct br_pool_sums ps;

	br_actor_pool_sums(a, &ps);
	br_kv_uint(pk, "inflight", ps.ps_inflight);
	br_kv_uint(pk, "window", a->a_conf.ca_inflight);
	br_kv_uint(pk, "waiting_senders", br_wait_count(&a->a_waitq));
	br_kv_uint(pk, "received", st->mst_received);
	br_kv_uint(pk, "delivered", ps.ps_delivered);
	br_kv_uint(pk, "acknowledged", ps.ps_acknowledged);
	br_kv_uint(pk, "dropped", st->mst_dropped);
	br_kv_uint(pk, "rejected", st->mst_rejected);
	br_kv_uint(pk, "redelivered", ps.ps_redelivered);
	br_kv_uint(pk, "high_water", st->mst_high_water);
}

/* "pool": an instance's pool, "instances": a pool's size, "subscribe":
 * the topics it takes (a pool's instances take them as the pool). */
static void
pack_pool(struct br *br, msgpack_packer *pk, const struct br_actor *a)
{
	br_kv_str(pk, "pool", a->a_pool != NULL ?
	    a->a_pool->a_conf.ca_name : "");
	br_kv_uint(pk, "instances", br_actor_is_pool(a) ? a->a_ninst : 0);
	msgpack_pack_str_with_body(pk, "subscribe", 9);
	br_topic_pack_subs(br, pk, br_actor_index(a));
}

static void
pack_actor(struct br *br, msgpack_packer *pk, const struct br_actor *a)
{
	uint64_t now = br_now_ms();
	char up[32];

	msgpack_pack_map(pk, ACTOR_FIELDS + BR_DUR_FIELDS);
	br_kv_str(pk, "name", a->a_conf.ca_name);
	br_kv_str(pk, "node", br->b_node);
	br_kv_uint(pk, "pid", a->a_pid > 0 ? (uint64_t)a->a_pid : 0);
	br_kv_str(pk, "state", br_astate_name(a->a_state));
	br_kv_uint(pk, "restarts", sup_restarts(a));
	br_kv_uint(pk, "mailbox", mbx_depth(&a->a_mbx));
	br_kv_uint(pk, "capacity", a->a_conf.ca_mailbox);
	br_kv_uint(pk, "bytes", mbx_bytes(&a->a_mbx));
	br_kv_uint(pk, "capacity_bytes", a->a_conf.ca_mailbox_bytes);
	br_kv_str(pk, "overflow", br_overflow_name(a->a_conf.ca_overflow));
	pack_flow(pk, a);
	br_kv_uint(pk, "sent", a->a_sent);
	br_kv_uint(pk, "uptime_ms", a->a_pid > 0 ? now - a->a_started_ms : 0);
	br_kv_str(pk, "last_exit", a->a_last_exit);
	br_kv_str(pk, "exec", a->a_conf.ca_exec);
	fmt_uptime(up, sizeof(up), a, now);
	br_kv_str(pk, "uptime", up);
	br_kv_str(pk, "restart", br_restart_name(a->a_conf.ca_restart));
	pack_chain(pk, a);
	br_kv_str(pk, "supervisor_state", sup_group_state(a));
	pack_pool(br, pk, a);
	br_dur_pack(pk, a->a_dur);
}

/* A pool's row, then its instances' (those not scaled away). */
static void
pack_listed(struct br *br, msgpack_packer *pk, const struct br_actor *a)
{
	pack_actor(br, pk, a);
	for (uint32_t k = 0; br_actor_is_pool(a) && k < a->a_nslots; k++)
		if (!br_actor_pool_slot(a, k)->a_removed)
			pack_actor(br, pk, br_actor_pool_slot(a, k));
}

static void
pack_row(void *arg, const struct br_stat_row *r)
{
	if (r->sr_key != NULL)
		br_kv_uint(arg, r->sr_key, r->sr_value);
}

/* The node's name, then every counter of the table (br_stat.h) that has
 * a stats key, in table order. */
static void
pack_stats(struct br *br, msgpack_packer *pk)
{
	msgpack_pack_map(pk, 1 + br_stat_nkeys(br));
	br_kv_str(pk, "node", br->b_node);
	br_stat_each(br, br_now_ms(), pack_row, pk);
}

#define OP_MAX 32

/* The end check: a field no getter took refuses the request (a typo in
 * a hand-written body would otherwise be silently ignored). */
static int
ctl_end(struct tp_body *b, const char *op, size_t oplen, char *msg,
    size_t len, const struct tp_err *err)
{
	if (tp_body_end(b) == 0)
		return 0;
	return snprintf(msg, len, "%.*s: %.100s", (int)oplen, op,
	    err->e_msg), BR_E_BADREQ;
}

static const char *const spawn_keys[] = { "exec", "restart", "mailbox",
    "mailbox_bytes", "overflow", "inflight", "shutdown", "durable",
    "instances", "subscribe" };
#define SPAWN_KEYS (sizeof(spawn_keys) / sizeof(spawn_keys[0]))

/* spawn {name, exec, ...}: the fields (strings, or numbers as their text)
 * become config overrides, so the actor is checked exactly as one from
 * the file would be. */
static int
ctl_spawn(struct br *br, struct tp_body *b, const char *name,
    msgpack_packer *pk, char *msg, size_t len, const struct tp_err *err)
{
	char ovr[SPAWN_KEYS][BR_PATH_MAX + BR_NAME_MAX + 32];
	char val[BR_PATH_MAX], sup[BR_NAME_MAX];
	const char *ovp[SPAWN_KEYS];
	struct br_actor *a;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < SPAWN_KEYS; i++) {
		if ((rc = tp_body_text(b, spawn_keys[i], TP_BODY_OPT, val,
		    sizeof(val))) < 0)
			return snprintf(msg, len, "spawn: bad \"%s\"",
			    spawn_keys[i]), BR_E_BADREQ;
		if (rc > 0)
			continue;
		snprintf(ovr[n], sizeof(ovr[n]), "actor.%s.%s=%s", name,
		    spawn_keys[i], val);
		ovp[n] = ovr[n];
		n++;
	}
	if ((rc = tp_body_text(b, "supervisor", TP_BODY_OPT, sup,
	    sizeof(sup))) < 0)
		return snprintf(msg, len, "spawn: bad \"supervisor\""),
		    BR_E_BADREQ;
	if (ctl_end(b, "spawn", 5, msg, len, err) != 0)
		return BR_E_BADREQ;
	if ((rc = sup_spawn(br, name, rc == 0 ? sup : NULL, ovp, n, &a, msg,
	    len)) != 0)
		return rc;
	pack_actor(br, pk, a);
	return 0;
}

/* spawn, stop, restart, scale: answered with the actor's map. */
static int
ctl_life(struct br *br, struct tp_body *b, const char *op, size_t oplen,
    msgpack_packer *pk, char *msg, size_t len, const struct tp_err *err)
{
	char name[BR_NAME_MAX];
	struct br_actor *a;
	uint64_t n = 0;
	int rc;

	if (tp_body_text(b, "name", TP_BODY_NONEMPTY, name,
	    sizeof(name)) != 0)
		return snprintf(msg, len, "%.*s needs \"name\"", (int)oplen,
		    op), BR_E_BADREQ;
	if (tp_body_streq(op, oplen, "spawn"))
		return ctl_spawn(br, b, name, pk, msg, len, err);
	if (tp_body_streq(op, oplen, "scale") && tp_body_uint(b, "instances",
	    0, 1, BR_POOL_MAX, &n) != 0)
		return snprintf(msg, len, "scale needs \"instances\" in "
		    "1..%d", BR_POOL_MAX), BR_E_BADREQ;
	if (ctl_end(b, op, oplen, msg, len, err) != 0)
		return BR_E_BADREQ;
	if ((a = br_actor_find(br, name, strlen(name))) == NULL)
		return snprintf(msg, len, "unknown actor '%s'", name),
		    BR_E_UNKNOWN_ACTOR;
	rc = tp_body_streq(op, oplen, "stop") ? sup_stop(a, msg, len) :
	    tp_body_streq(op, oplen, "scale") ? sup_scale(a, (uint32_t)n,
	    msg, len) : sup_restart(a, msg, len);
	if (rc == 0)
		pack_actor(br, pk, a);
	return rc;
}

/* actors [node]: this node's actors and the peers' (only one node's with
 * "node"). */
static int
ctl_actors(struct br *br, struct tp_body *b, msgpack_packer *pk, char *msg,
    size_t len, const struct tp_err *err)
{
	const char *f = NULL;
	size_t flen = 0;
	uint32_t n = 0;

	if (tp_body_str(b, "node", TP_BODY_OPT, SIZE_MAX, &f, &flen) < 0)
		return snprintf(msg, len, "\"node\" must be a string"),
		    BR_E_BADREQ;
	if (ctl_end(b, "actors", 6, msg, len, err) != 0)
		return BR_E_BADREQ;
	for (uint32_t i = 0; i < br->b_nactors && (f == NULL ||
	    tp_body_streq(f, flen, br->b_node)); i++)
		n += !br->b_actors[i]->a_removed;
	msgpack_pack_array(pk, n + br_peer_actor_count(br, f, flen));
	for (uint32_t i = 0; i < br->b_nactors && n > 0; i++)
		if (!br->b_actors[i]->a_removed &&
		    br->b_actors[i]->a_pool == NULL)
			pack_listed(br, pk, br->b_actors[i]);
	br_peer_pack_actors(br, pk, f, flen);
	return 0;
}

/* "NAME#k": instance k of pool NAME, for inspect (no address). */
static struct br_actor *
find_instance(struct br *br, const char *name, size_t len)
{
	const char *hash = memchr(name, '#', len);
	struct br_actor *h, *a;
	uint32_t k = 0;

	if (hash == NULL || hash + 1 == name + len || hash + 4 < name + len ||
	    (h = br_actor_find(br, name, (size_t)(hash - name))) == NULL ||
	    !br_actor_is_pool(h))
		return NULL;
	for (const char *p = hash + 1; p < name + len; p++) {
		if (*p < '0' || *p > '9')
			return NULL;
		k = k * 10 + (uint32_t)(*p - '0');
	}
	a = br_actor_pool_slot(h, k);
	return a != NULL && !a->a_removed ? a : NULL;
}

static int
ctl_inspect(struct br *br, struct tp_body *b, msgpack_packer *pk, char *msg,
    size_t len, const struct tp_err *err)
{
	struct br_actor *a;
	const char *name;
	size_t nlen;

	if (tp_body_str(b, "name", 0, SIZE_MAX, &name, &nlen) != 0)
		return snprintf(msg, len, "inspect needs \"name\""),
		    BR_E_BADREQ;
	if (ctl_end(b, "inspect", 7, msg, len, err) != 0)
		return BR_E_BADREQ;
	if ((a = br_actor_find(br, name, nlen)) == NULL &&
	    (a = find_instance(br, name, nlen)) == NULL)
		return snprintf(msg, len, "unknown actor '%.*s'", (int)nlen,
		    name), BR_E_UNKNOWN_ACTOR;
	pack_actor(br, pk, a);
	return 0;
}

/* Returns 0 with the answer packed, or an error code with msg set. */
static int
ctl_dispatch(struct br *br, const msgpack_object *body, nng_pipe pipe,
    msgpack_packer *pk, char *msg, size_t len)
{
	struct tp_err err = { 0 };
	struct tp_body b;
	const char *op;
	size_t oplen;
	int rc;

	if ((rc = tp_body_open(&b, body, 0, NULL, &err)) != 0 &&
	    body->type != MSGPACK_OBJECT_MAP)
		rc = TP_EINVAL;		/* as before: no "op" in a non-map */
	else if (rc != 0)
		return snprintf(msg, len, "control: %.100s", err.e_msg),
		    BR_E_BADREQ;
	if (rc != 0 || (rc = tp_body_str(&b, "op", 0, OP_MAX, &op,
	    &oplen)) != 0)
		return snprintf(msg, len, "%s", rc == TP_EINVAL ? "control "
		    "request without \"op\"" : "unknown control op"),
		    BR_E_BADREQ;
	if (tp_body_streq(op, oplen, "actors"))
		return ctl_actors(br, &b, pk, msg, len, &err);
	if (tp_body_streq(op, oplen, "inspect"))
		return ctl_inspect(br, &b, pk, msg, len, &err);
	if (tp_body_streq(op, oplen, "spawn") || tp_body_streq(op, oplen,
	    "stop") || tp_body_streq(op, oplen, "restart") ||
	    tp_body_streq(op, oplen, "scale"))
		return ctl_life(br, &b, op, oplen, pk, msg, len, &err);
	if (!tp_body_streq(op, oplen, "nodes") && !tp_body_streq(op, oplen,
	    "stats") && !tp_body_streq(op, oplen, "watch") &&
	    !tp_body_streq(op, oplen, "client"))
		return snprintf(msg, len, "unknown control op"), BR_E_BADREQ;
	if (ctl_end(&b, op, oplen, msg, len, &err) != 0)
		return BR_E_BADREQ;
	if (tp_body_streq(op, oplen, "client"))
		return br_client_open(br, pipe, pk, msg, len);
	if (tp_body_streq(op, oplen, "nodes"))
		br_cstat_pack_nodes(br, pk);
	else if (tp_body_streq(op, oplen, "stats"))
		pack_stats(br, pk);
	else
		br_tap_lease(&br->b_tap, pk);
	return 0;
}

static void
ctl_op(struct br *br, const struct br_origin *o, const struct tp_env *env,
    nng_pipe pipe)
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
	if ((code = ctl_dispatch(br, &body, pipe, &pk, msg,
	    sizeof(msg))) != 0)
		br_answer_error(br, o, env->e_id, code, "%s", msg);
	else
		br_answer(br, o, TP_K_REPLY, env->e_id, (uint8_t *)sb.data,
		    sb.size);
	msgpack_sbuffer_destroy(&sb);
}

/* A request on ctl.sock (msg taken): checked, decoded, then routed or
 * answered here. */
static void
ctl_msg(struct br *br, nng_msg *msg)
{
	char why[96];
	struct br_origin o = { BR_ORIGIN_CLI, nng_msg_header(msg),
	    nng_msg_header_len(msg) };
	struct tp_env env;
	struct tp_err err;

	br->b_stats.st_ctl_requests++;
	if (br_acl_ctl_refuse(&br->b_acl, msg, why, sizeof(why))) {
		br_answer_error(br, &o, 0, BR_E_PERM, "%s", why);
		nng_msg_free(msg);
		return;
	}
	if (tp_env_decode(nng_msg_body(msg), nng_msg_len(msg), &br->b_lim,
	    &env, &err) != 0) {
		br->b_stats.st_bad_frames++;
		br_answer_error(br, &o, 0, BR_E_BADREQ, "bad request: %s",
		    err.e_msg);
	} else if (env.e_kind == TP_K_SEND || env.e_kind == TP_K_ASK)
		br_route_env(br, &o, &env);
	else if (env.e_kind == TP_K_CONTROL)
		ctl_op(br, &o, &env, nng_msg_get_pipe(msg));
	else
		br_answer_error(br, &o, env.e_id, BR_E_BADREQ, "bad request: "
		    "kind %s is not a request", tp_kind_name(env.e_kind));
	nng_msg_free(msg);
}

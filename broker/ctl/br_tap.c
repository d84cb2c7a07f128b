/*
 * br_tap — the watch tap (see br_tap.h).  Loop thread only.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "br_log.h"
#include "br_loop.h"
#include "br_tap.h"
#include "tp_nng.h"

int
br_tap_open(struct br_tap *t, const char *run_dir, const char *node,
    const struct tp_limits *lim)
{
	struct tp_sockopts o = tp_sockopts_default;
	struct tp_err err;

	memset(t, 0, sizeof(*t));
	t->t_node = node;
	t->t_lim = lim;
	snprintf(t->t_url, sizeof(t->t_url), "ipc://%s/tap.sock", run_dir);
	unlink(t->t_url + 6);
	o.o_max_frame = 1024;	/* nothing is received on a pub socket */
	if (tp_sock_open(&t->t_sock, TP_PUB, &o, &err) != 0)
		goto fail;
	if (tp_listen(t->t_sock, t->t_url, 0600, &err) != 0) {
		nng_close(t->t_sock);
		goto fail;
	}
	t->t_open = true;
	return 0;
fail:
	log_error("cannot open the watch tap", "error=\"%s\"", err.e_msg);
	return -1;
}

void
br_tap_close(struct br_tap *t)
{
	if (!t->t_open)
		return;
	nng_close(t->t_sock);
	unlink(t->t_url + 6);
	t->t_open = false;
	t->t_until_ms = 0;
}

static void
kv_str(msgpack_packer *pk, const char *k, const char *v, size_t len)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
	msgpack_pack_str_with_body(pk, v, len);
}

static void
kv_uint(msgpack_packer *pk, const char *k, uint64_t v)
{
	msgpack_pack_str_with_body(pk, k, strlen(k));
	msgpack_pack_uint64(pk, v);
}

void
br_tap_lease(struct br_tap *t, msgpack_packer *pk)
{
	if (t->t_open) {
		if (t->t_until_ms == 0)
			log_info("watcher attached", "tap=%s", t->t_url);
		t->t_until_ms = br_now_ms() + BR_TAP_LEASE_MS;
	}
	msgpack_pack_map(pk, 3);
	kv_str(pk, "node", t->t_node, strlen(t->t_node));
	kv_str(pk, "tap", t->t_url, strlen(t->t_url));
	kv_uint(pk, "lease_ms", BR_TAP_LEASE_MS);
}

static void
pack_record(msgpack_packer *pk, const struct br_tap *t,
    const struct tp_env *e, const struct br_tap_note *n)
{
	bool small = e->e_body_len <= BR_TAP_BODY_MAX;
	const char *kind = n != NULL ? n->tn_kind : tp_kind_name(e->e_kind);

	msgpack_pack_map(pk, n != NULL ? 12 : 10);
	if (n != NULL) {
		kv_str(pk, "via", n->tn_via, strlen(n->tn_via));
		kv_uint(pk, "fanout", n->tn_fanout);
	}
	kv_str(pk, "node", t->t_node, strlen(t->t_node));
	kv_str(pk, "kind", kind, strlen(kind));
	kv_str(pk, "from", e->e_from.s_ptr, e->e_from.s_len);
	kv_str(pk, "to", e->e_to.s_ptr, e->e_to.s_len);
	kv_uint(pk, "id", e->e_id);
	kv_uint(pk, "size", e->e_body_len);
	kv_uint(pk, "flags", e->e_flags);
	kv_uint(pk, "ts_ms", br_wall_ms());
	msgpack_pack_str_with_body(pk, "body", 4);
	if (small && e->e_body != NULL) {
		msgpack_pack_bin(pk, e->e_body_len);
		msgpack_pack_bin_body(pk, e->e_body, e->e_body_len);
	} else
		msgpack_pack_nil(pk);
	msgpack_pack_str_with_body(pk, "truncated", 9);
	if (small)
		msgpack_pack_false(pk);
	else
		msgpack_pack_true(pk);
}

void
br_tap_publish(struct br_tap *t, const uint8_t *buf, size_t len)
{
	br_tap_publish_note(t, buf, len, NULL);
}

void
br_tap_publish_note(struct br_tap *t, const uint8_t *buf, size_t len,
    const struct br_tap_note *note)
{
	msgpack_packer pk;
	struct tp_env env;
	nng_msg *msg;

	if (br_now_ms() >= t->t_until_ms) {
		log_info("watcher lease expired", "tap=%s", t->t_url);
		t->t_until_ms = 0;
		return;
	}
	if (tp_env_decode(buf, len, t->t_lim, &env, NULL) != 0 ||
	    nng_msg_alloc(&msg, 0) != 0)
		return;
	tp_packer_init_msg(&pk, msg);
	pack_record(&pk, t, &env, note);
	/* pub0 never blocks: a slow watcher loses records, not the loop */
	if (nng_sendmsg(t->t_sock, msg, NNG_FLAG_NONBLOCK) != 0)
		nng_msg_free(msg);
	else
		t->t_published++;
}

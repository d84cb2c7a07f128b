/*
 * troupe_client — the client API of libtroupe (troupe.h, troupe(3)): a
 * client link to a node (docs/ARCHITECTURE.md "Client link").
 *
 * Results owed are kept in a ring indexed by id: ids are consecutive per
 * client, and a new message waits while the slot its id maps to is still
 * taken, so the ring (twice the window, a power of two) bounds both the
 * memory and how far ahead of its oldest unanswered message a client
 * may run.  The broker lends a window of credits besides; a client runs
 * at most ring-size results ahead, whatever the broker lends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <sodium.h>

#include "tp_link.h"
#include "tp_mpck.h"
#include "tp_nng.h"
#include "tp_topic.h"
#include "troupe.h"
#include "troupe_cgrant.h"
#include "troupe_link.h"

#define OPEN_TIMEOUT_MS	5000
#define RING_MAX	(1u << 16)
#define SMALL_BODY	64
/* A client's frames leave at 64 KiB, as an actor's (troupe_link.c). */
#define CLIENT_FRAME_BYTES (64u << 10)
/* Envelopes of a received frame decoded once (a window's deliveries and
 * answers fit): 88 bytes each. */
#define CLIENT_FRAME_CACHE 512
/* Deadlines of asynchronous asks are looked at this often. */
#define SCAN_MS		50

struct slot {
	uint64_t	 s_id;		/* 0: free */
	int64_t		 s_deadline;	/* ms, monotonic; 0: none */
	void		*s_tag;
	uint8_t		 s_kind;
	bool		 s_sync;	/* a blocking call waits for it */
	bool		 s_done;
	int		 s_code;
	uint8_t		*s_body;	/* sync ask: the answer's body */
	size_t		 s_len;
};

struct troupe_client {
	nng_socket	 c_sock;
	int		 c_fd;
	struct tp_link	*c_link;
	struct tp_limits c_lim;
	struct slot	*c_ring;
	uint32_t	 c_mask;
	uint32_t	 c_window;
	uint32_t	 c_pending;
	uint64_t	 c_next_id;
	uint64_t	 c_failures;
	int64_t		 c_next_scan;
	troupe_client_cb *c_cb;
	void		*c_cb_arg;
	bool		 c_credited;
	bool		 c_fatal;
	msgpack_zone	 c_zone;
	struct tp_frame_cache c_fcache;	/* a frame's envelopes */
	char		 c_name[TROUPE_NAME_MAX + 1];
	char		 c_node[TROUPE_NAME_MAX + 1];
	char		 c_self[2 * TROUPE_NAME_MAX + 2];
};

/* ---- results ---- */

static struct slot *
slot_of(struct troupe_client *c, uint64_t id)
{
	struct slot *s = &c->c_ring[id & c->c_mask];

	return s->s_id == id && id != 0 ? s : NULL;
}

static void
slot_free(struct troupe_client *c, struct slot *s)
{
	free(s->s_body);
	memset(s, 0, sizeof(*s));
	c->c_pending--;
}

/* A result is in: a blocking call finds it in its slot, an asynchronous
 * one goes to the callback and frees the slot. */
static int
resolve(struct troupe_client *c, struct slot *s, int code, const char *msg,
    const uint8_t *body, size_t len)
{
	struct troupe_result r = { s->s_id, s->s_kind, code, msg, body, len,
	    s->s_tag };

	if (s->s_sync) {
		s->s_done = true;
		s->s_code = code;
		if (len > 0 && s->s_kind == TROUPE_ASK) {
			if ((s->s_body = malloc(len)) == NULL)
				return TP_ENOMEM;
			memcpy(s->s_body, body, len);
			s->s_len = len;
		}
		return 0;
	}
	slot_free(c, s);
	if (c->c_cb != NULL)
		c->c_cb(c->c_cb_arg, &r);
	else if (code != 0)
		c->c_failures++;
	return 1;
}

/* Every result not in yet: the link broke, so nobody will say. */
static int
fail_all(struct troupe_client *c, int code)
{
	int n = 0;

	for (uint32_t i = 0; i <= c->c_mask; i++)
		if (c->c_ring[i].s_id != 0 && !c->c_ring[i].s_done)
			n += resolve(c, &c->c_ring[i], code, "link to the "
			    "broker lost", NULL, 0) > 0;
	return n;
}

static int
fatal(struct troupe_client *c)
{
	if (!c->c_fatal) {
		c->c_fatal = true;
		fail_all(c, TP_ECLOSED);
	}
	return TP_ECLOSED;
}

/* ERROR {"code": int, "message": str}: the code, the text into msg. */
static int
error_of(struct troupe_client *c, const struct tp_env *env, char *msg,
    size_t len)
{
	msgpack_object o;

	msg[0] = '\0';
	msgpack_zone_clear(&c->c_zone);
	if (tp_env_body(env, &c->c_zone, &o, NULL) != 0)
		return TROUPE_ERR_BAD_REQUEST;
	return troupe_cgrant_error(&o, msg, len);
}

/* ACK corr 0, body [first, count]: a run of consecutive ids placed. */
static int
ack_run(struct troupe_client *c, const struct tp_env *env)
{
	const msgpack_object *a;
	msgpack_object o;
	uint64_t first, n;

	msgpack_zone_clear(&c->c_zone);
	if (tp_env_body(env, &c->c_zone, &o, NULL) != 0 ||
	    o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 2)
		return TP_ETYPE;
	a = o.via.array.ptr;
	if (a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return TP_ETYPE;
	first = a[0].via.u64;
	n = a[1].via.u64;
	if (n > c->c_mask + 1u)
		return TP_ETOOBIG;
	for (uint64_t id = first; id < first + n; id++) {
		struct slot *s = slot_of(c, id);

		if (s != NULL && s->s_kind == TROUPE_SEND && !s->s_done &&
		    resolve(c, s, 0, NULL, NULL, 0) < 0)
			return TP_ENOMEM;
	}
	return 0;
}

static int
on_answer(struct troupe_client *c, const struct tp_env *env)
{
	char msg[256];
	struct slot *s;
	int code = 0;

	if (env->e_kind == TP_K_ACK && env->e_corr == 0)
		return ack_run(c, env);
	if ((s = slot_of(c, env->e_corr)) == NULL || s->s_done)
		return 0;	/* late: it timed out here already */
	if (env->e_kind == TP_K_REPLY && s->s_kind != TROUPE_ASK)
		return 0;
	if (env->e_kind == TP_K_ACK && s->s_kind != TROUPE_SEND)
		return 0;
	if (env->e_kind == TP_K_ERROR)
		code = error_of(c, env, msg, sizeof(msg));
	else if (tp_env_body_check(env, NULL) != 0) {
		/* an actor replied with bytes that are no msgpack value: the
		 * link skims (a bad body is refused alone, not its frame) */
		snprintf(msg, sizeof(msg), "the reply's body does not decode");
		return resolve(c, s, TROUPE_ERR_BAD_REQUEST, msg, NULL, 0) <
		    0 ? TP_ENOMEM : 0;
	}
	return resolve(c, s, code, code != 0 ? msg : NULL, env->e_body,
	    env->e_body_len) < 0 ? TP_ENOMEM : 0;
}

static int
link_env(void *arg, const struct tp_env *env)
{
	switch (env->e_kind) {
	case TP_K_REPLY:
	case TP_K_ERROR:
	case TP_K_ACK:
		return on_answer(arg, env);
	default:		/* the answer to a bye, or nothing asked for */
		return 0;
	}
}

static void
link_credit(void *arg, uint64_t n)
{
	((struct troupe_client *)arg)->c_credited = true;
}

static void
link_bad(void *arg, nng_msg *msg, int code, const struct tp_err *err)
{
	fatal(arg);
}

static const struct tp_link_ops client_link_ops = {
	.lo_name = "client",
	.lo_env = link_env,
	.lo_credit = link_credit,
	.lo_bad = link_bad,
};

/* ---- waiting ---- */

/* Asynchronous asks past their own deadline are answered here. */
static int
expire(struct troupe_client *c, int64_t now)
{
	int n = 0;

	if (now < c->c_next_scan)
		return 0;
	c->c_next_scan = now + SCAN_MS;
	for (uint32_t i = 0; i <= c->c_mask; i++) {
		struct slot *s = &c->c_ring[i];

		if (s->s_id != 0 && !s->s_done && s->s_deadline != 0 &&
		    now >= s->s_deadline && !s->s_sync)
			n += resolve(c, s, TP_ETIMEDOUT, "no reply within the "
			    "timeout", NULL, 0) > 0;
	}
	return n;
}

/* Flushes, then takes the frames that are there, waiting up to
 * timeout_ms (< 0 forever) for the first in nng's blocking receive (one
 * wake-up: an ask's round trip pays no pollable fd).  Returns 0 or
 * TP_ECLOSED. */
static int
pump(struct troupe_client *c, int timeout_ms)
{
	if (c->c_fatal)
		return TP_ECLOSED;
	if (tp_link_flush(c->c_link) < 0)
		return fatal(c);
	if (tp_link_recv_wait(c->c_link, timeout_ms, 64) < 0)
		return fatal(c);
	return c->c_fatal ? TP_ECLOSED : 0;
}

static int
left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return SCAN_MS;
	left = deadline - troupe_link_now_ms();
	if (left <= 0)
		return 0;
	return left < SCAN_MS ? (int)left : SCAN_MS;
}

/* Pumps until done(c, arg) or the deadline (< 0: none) passed. */
static int
wait_for(struct troupe_client *c, bool (*done)(struct troupe_client *,
    const void *), const void *arg, int64_t deadline)
{
	int rv;

	while (!done(c, arg)) {
		if (deadline >= 0 && troupe_link_now_ms() >= deadline)
			return TP_ETIMEDOUT;
		if ((rv = pump(c, left_ms(deadline))) != 0)
			return rv;
		expire(c, troupe_link_now_ms());
	}
	return 0;
}

static int64_t
deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : troupe_link_now_ms() + timeout_ms;
}

static bool
can_send(struct troupe_client *c, const void *arg)
{
	return tp_link_credit(c->c_link) > 0 &&
	    c->c_ring[c->c_next_id & c->c_mask].s_id == 0;
}

static bool
slot_done(struct troupe_client *c, const void *arg)
{
	return ((const struct slot *)arg)->s_done;
}

static bool
all_done(struct troupe_client *c, const void *arg)
{
	return c->c_pending == 0;
}

static bool
credited(struct troupe_client *c, const void *arg)
{
	return c->c_credited;
}

/* ---- sending ---- */

static bool
name_ok(const char *to)
{
	size_t n;

	return to != NULL && (n = strlen(to)) > 0 &&
	    n <= 2 * TROUPE_NAME_MAX + 1;
}

/* What a send, publish or ask puts on the link. */
struct out {
	uint32_t	 o_kind;
	uint32_t	 o_flags;	/* TP_F_TOPIC for a publish */
	const char	*o_to;
	const void	*o_body;
	size_t		 o_len;
};

/* Takes a credit and a slot (waiting while the window is full), then
 * queues the envelope.  *sp: the slot, for a blocking call. */
static int
put(struct troupe_client *c, const struct out *m, void *tag,
    int timeout_ms, bool sync, int64_t deadline, struct slot **sp)
{
	static const uint8_t nil = 0xc0;
	struct tp_env env = { .e_kind = m->o_kind, .e_flags = m->o_flags,
	    .e_body = m->o_body, .e_body_len = m->o_len };
	struct slot *s;
	int rv;

	if (!name_ok(m->o_to) || (m->o_len > 0 && m->o_body == NULL))
		return TP_EINVAL;
	if (c->c_fatal)
		return TP_ECLOSED;
	if (m->o_len == 0) {
		env.e_body = &nil;
		env.e_body_len = 1;
	}
	if (env.e_body_len > c->c_lim.l_max_body)
		return TP_ETOOBIG;
	if (tp_mpck_walk_one(env.e_body, env.e_body_len, c->c_lim.l_max_depth,
	    NULL) != 0)
		return TP_EINVAL;
	if ((rv = wait_for(c, can_send, NULL, deadline)) != 0)
		return rv;
	env.e_id = c->c_next_id++;
	env.e_from = tp_slice_str(c->c_self);
	env.e_to = tp_slice_str(m->o_to);
	if ((rv = tp_link_put(c->c_link, &env, 0)) != 0)
		return rv == TP_ETOOBIG ? rv : fatal(c);
	tp_link_credit_take(c->c_link);
	s = &c->c_ring[env.e_id & c->c_mask];
	*s = (struct slot){ .s_id = env.e_id, .s_kind = m->o_kind,
	    .s_sync = sync, .s_tag = tag };
	if (timeout_ms >= 0)
		s->s_deadline = troupe_link_now_ms() + timeout_ms;
	c->c_pending++;
	*sp = s;
	return 0;
}

/* An asynchronous send, publish or ask: its result to the callback. */
static int
put_async(struct troupe_client *c, const struct out *m, int timeout_ms,
    void *tag, uint64_t *id)
{
	struct slot *s;
	int rv;

	if ((rv = put(c, m, tag, timeout_ms, false, -1, &s)) != 0)
		return rv;
	if (id != NULL)
		*id = s->s_id;
	return 0;
}

int
troupe_client_send(struct troupe_client *c, const char *to,
    const void *body, size_t len, void *tag, uint64_t *id)
{
	struct out m = { TP_K_SEND, 0, to, body, len };

	return put_async(c, &m, -1, tag, id);
}

/* A SEND to the topic, flagged: the broker copies it to the
 * subscribers and ACKs it like a send once every copy is placed. */
int
troupe_client_publish(struct troupe_client *c, const char *topic,
    const void *body, size_t len, void *tag, uint64_t *id)
{
	struct out m = { TP_K_SEND, TP_F_TOPIC, topic, body, len };

	if (topic == NULL || !tp_topic_name_ok(topic, strlen(topic)))
		return TP_EINVAL;
	return put_async(c, &m, -1, tag, id);
}

int
troupe_client_ask_async(struct troupe_client *c, const char *to,
    const void *body, size_t len, int timeout_ms, void *tag, uint64_t *id)
{
	struct out m = { TP_K_ASK, 0, to, body, len };

	return put_async(c, &m, timeout_ms, tag, id);
}

/* A blocking call: its slot is waited for, then freed here (a late
 * answer finds no slot and is dropped). */
static int
call(struct troupe_client *c, uint32_t kind, const char *to,
    const void *body, size_t len, int timeout_ms, struct troupe_reply *out)
{
	int64_t deadline = deadline_of(timeout_ms);
	struct out m = { kind, 0, to, body, len };
	struct slot *s;
	int rv;

	/* the timeout covers the wait for room in the window too */
	if ((rv = put(c, &m, NULL, -1, true, deadline, &s)) != 0)
		return rv;
	if ((rv = wait_for(c, slot_done, s, deadline)) == 0) {
		rv = s->s_code;
		if (out != NULL && s->s_body != NULL) {
			out->r_body = s->s_body;
			out->r_len = s->s_len;
			s->s_body = NULL;
		}
	}
	if (s->s_id != 0)
		slot_free(c, s);
	return rv;
}

int
troupe_client_send_confirmed(struct troupe_client *c, const char *to,
    const void *body, size_t len, int timeout_ms)
{
	return call(c, TP_K_SEND, to, body, len, timeout_ms, NULL);
}

int
troupe_client_ask(struct troupe_client *c, const char *to,
    const void *body, size_t len, int timeout_ms, struct troupe_reply *out)
{
	size_t off = 0;
	int rv;

	memset(out, 0, sizeof(*out));
	out->r_obj.type = MSGPACK_OBJECT_NIL;
	rv = call(c, TP_K_ASK, to, body, len, timeout_ms, out);
	out->r_code = rv > 0 ? rv : 0;
	if (out->r_len == 0)
		return rv;
	/* the frame's bounds walk checked these bytes already */
	if ((out->r_zone = msgpack_zone_new(256)) == NULL)
		return TP_ENOMEM;
	if (msgpack_unpack((const char *)out->r_body, out->r_len, &off,
	    out->r_zone, &out->r_obj) != MSGPACK_UNPACK_SUCCESS)
		return TP_ETYPE;
	return rv;
}

int
troupe_client_poll(struct troupe_client *c, int timeout_ms)
{
	uint64_t before = c->c_failures;
	uint32_t pending = c->c_pending;
	int rv;

	if ((rv = pump(c, timeout_ms < 0 ? SCAN_MS : timeout_ms)) != 0)
		return rv;
	while (timeout_ms < 0 && c->c_pending == pending && pending > 0 &&
	    (rv = pump(c, SCAN_MS)) == 0)
		expire(c, troupe_link_now_ms());
	if (rv != 0)
		return rv;
	expire(c, troupe_link_now_ms());
	(void)before;
	return (int)(pending - c->c_pending);
}

int
troupe_client_flush(struct troupe_client *c, int timeout_ms)
{
	return wait_for(c, all_done, NULL, deadline_of(timeout_ms));
}

/* ---- opening ---- */

/* The grant's names and window: the ring is twice the window. */
static void
granted(struct troupe_client *c, const struct troupe_grant *g)
{
	snprintf(c->c_name, sizeof(c->c_name), "%s", g->g_name);
	snprintf(c->c_node, sizeof(c->c_node), "%s", g->g_node);
	snprintf(c->c_self, sizeof(c->c_self), "%s@%s", g->g_name,
	    g->g_node);
	c->c_lim.l_max_body = g->g_max_body;
	c->c_window = g->g_window;
	c->c_mask = 1;
	while (c->c_mask + 1 < 2 * g->g_window && c->c_mask + 1 < RING_MAX)
		c->c_mask = c->c_mask << 1 | 1;
}

/* Dials the granted socket and says hello; the first CREDIT opens the
 * window. */
static int
dial_link(struct troupe_client *c, const char *link, int timeout_ms)
{
	static const uint8_t hello[] = { 0x81, 0xa2, 'o', 'p', 0xa5, 'h',
	    'e', 'l', 'l', 'o' };
	struct tp_link_conf lc = { .lc_block = true, .lc_lim = &c->c_lim,
	    .lc_max_bytes = CLIENT_FRAME_BYTES, .lc_cache = &c->c_fcache,
	    .lc_skim = true };
	struct tp_env env = { .e_kind = TP_K_CONTROL, .e_body = hello,
	    .e_body_len = sizeof(hello) };
	struct tp_sockopts o = tp_sockopts_default;
	struct tp_err err = { 0 };
	int rv;

	o.o_max_frame = c->c_lim.l_max_frame;
	if ((rv = tp_sock_open(&c->c_sock, TP_PAIR, &o, &err)) != 0)
		return troupe_cgrant_fail(rv, "%s", err.e_msg);
	if ((rv = tp_dial(c->c_sock, link, true, &err)) != 0) {
		nng_close(c->c_sock);
		return troupe_cgrant_fail(rv, "cannot dial the client link: %s",
		    err.e_msg);
	}
	if ((c->c_link = tp_link_new(c->c_sock, &client_link_ops, c,
	    &lc)) == NULL) {
		nng_close(c->c_sock);
		return troupe_cgrant_fail(TP_ENOMEM, "out of memory");
	}
	env.e_from = tp_slice_str(c->c_self);
	env.e_to = tp_slice_str("");
	if (tp_link_put(c->c_link, &env, 0) != 0 ||
	    (rv = wait_for(c, credited, NULL, deadline_of(timeout_ms))) != 0)
		return troupe_cgrant_fail(rv == 0 ? TP_ECLOSED : rv, "the broker did "
		    "not open the client link");
	return 0;
}

static void
client_free(struct troupe_client *c)
{
	if (c->c_link != NULL) {
		tp_link_free(c->c_link);
		nng_close(c->c_sock);
	}
	if (c->c_ring != NULL)
		for (uint32_t i = 0; i <= c->c_mask; i++)
			free(c->c_ring[i].s_body);
	free(c->c_ring);
	msgpack_zone_destroy(&c->c_zone);
	tp_frame_cache_free(&c->c_fcache);
	free(c);
}

int
troupe_client_open(const char *where, int timeout_ms,
    struct troupe_client **out)
{
	char url[TROUPE_CGRANT_URL_MAX];
	struct troupe_grant g;
	struct troupe_client *c;
	int rv;

	*out = NULL;
	troupe_cgrant_fail(0, "%s", "");
	if (timeout_ms < 0)
		timeout_ms = OPEN_TIMEOUT_MS;
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    !msgpack_zone_init(&c->c_zone, 1024)) {
		free(c);
		return troupe_cgrant_fail(TP_ENOMEM, "out of memory");
	}
	/* without it every envelope is decoded twice: slower, not wrong */
	(void)tp_frame_cache_init(&c->c_fcache, CLIENT_FRAME_CACHE);
	c->c_lim = tp_limits_default;
	c->c_fd = -1;
	/* ids are unique per sender: a random start keeps two runs' ids
	 * apart (2^48 leaves any run room before the 64-bit wrap) */
	randombytes_buf(&c->c_next_id, sizeof(c->c_next_id));
	c->c_next_id = (c->c_next_id >> 16) + 1;
	if ((rv = troupe_cgrant_url(where, url, sizeof(url))) != 0 ||
	    (rv = troupe_cgrant_ask(url, timeout_ms, &c->c_lim, &g)) != 0)
		goto out_free;
	granted(c, &g);
	if ((c->c_ring = calloc(c->c_mask + 1u, sizeof(*c->c_ring))) ==
	    NULL) {
		rv = troupe_cgrant_fail(TP_ENOMEM, "out of memory");
		goto out_free;
	}
	if ((rv = dial_link(c, g.g_link, timeout_ms)) != 0)
		goto out_free;
	*out = c;
	return 0;
out_free:
	client_free(c);
	return rv;
}

void
troupe_client_close(struct troupe_client *c, int timeout_ms)
{
	if (c == NULL)
		return;
	if (!c->c_fatal && troupe_client_flush(c, timeout_ms) != 0)
		fail_all(c, TP_ECLOSED);
	client_free(c);
}

void
troupe_client_set_cb(struct troupe_client *c, troupe_client_cb *cb,
    void *arg)
{
	c->c_cb = cb;
	c->c_cb_arg = arg;
}

/* Asked for only when wanted: once it exists nng signals it on every
 * frame, which a client that only blocks in the library never needs. */
int
troupe_client_fd(struct troupe_client *c)
{
	struct tp_err err;

	if (c->c_fd < 0 && tp_recv_fd(c->c_sock, &c->c_fd, &err) != 0)
		return -1;
	return c->c_fd;
}

uint32_t
troupe_client_window(const struct troupe_client *c)
{
	return c->c_window;
}

uint32_t
troupe_client_pending(const struct troupe_client *c)
{
	return c->c_pending;
}

uint64_t
troupe_client_failures(const struct troupe_client *c)
{
	return c->c_failures;
}

const char *
troupe_client_name(const struct troupe_client *c)
{
	return c->c_name;
}

const char *
troupe_client_node(const struct troupe_client *c)
{
	return c->c_node;
}

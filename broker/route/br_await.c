/*
 * br_await — requests held until the cluster can route them (see
 * br_await.h and docs/ARCHITECTURE.md "Routing").  Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "br.h"
#include "br_actor.h"
#include "br_answer.h"
#include "br_await.h"
#include "br_disc.h"
#include "br_log.h"
#include "br_peer.h"

#define NO_LINK UINT32_MAX

/* One held request: its envelope as it arrived, who sent it and, for a
 * CLI request, the nng backtrace its answer needs. */
struct held {
	struct held	*h_next;
	uint64_t	 h_deadline_ms;
	uint64_t	 h_id;		/* the sender's id, for its answer */
	uint32_t	 h_kind;	/* TP_K_SEND or TP_K_ASK */
	uint32_t	 h_origin;	/* actor index or BR_ORIGIN_CLI */
	uint32_t	 h_link;	/* name@node: the link's index */
	enum br_await_why h_why;
	uint8_t		 h_hdrlen;
	uint8_t		 h_hdr[64];
	size_t		 h_to_off, h_to_len;	/* `to` inside h_env */
	size_t		 h_len;
	uint8_t		 h_env[];
};

struct br_await {
	struct held	*a_head, *a_tail;
	uint32_t	 a_n;
	size_t		 a_bytes;
	uint32_t	 a_per_link[BR_MAX_NODES];
	uint64_t	 a_next_ms;	/* earliest deadline */
	bool		 a_busy, a_again;	/* in a sweep; kicked in one */
	bool		 a_expiring;	/* a publish past its deadline goes */
	struct br_await_stats a_st;
};

/* ---- when to wait ---- */

/* The member is alive (or suspect while its link is being re-opened)
 * and has an endpoint to dial: its link is on its way. */
static bool
link_coming(const struct br_link *l)
{
	const struct br_node *n = br_plink_node(l);

	if (n->n_endpoint[0] == '\0')
		return false;
	return n->n_state == BR_M_ALIVE || (n->n_state == BR_M_SUSPECT &&
	    br_plink_state(l) == BR_L_HELLO);
}

/* A link whose names table may still bring new names: coming up, or up
 * without the peer's first table yet. */
static bool
names_coming(const struct br_link *l)
{
	return br_plink_is_up(l) ? !br_plink_names_in(l) : link_coming(l);
}

static enum br_await_why
node_needs(struct br *br, const char *node, size_t nlen)
{
	struct br_link *l = br_peer_by_node(br, node, nlen);

	return l != NULL && !br_plink_is_up(l) && link_coming(l) ?
	    BR_AWAIT_LINK : BR_AWAIT_NO;
}

static enum br_await_why
name_needs(struct br *br, const char *name, size_t len)
{
	uint32_t n = br_peers_count(br);
	bool coming = false;

	if (len == 0 || len >= BR_NAME_MAX || br_actor_find(br, name, len))
		return BR_AWAIT_NO;
	for (uint32_t i = 0; i < n; i++) {
		const struct br_link *l = br_peers_at(br, i);

		if (br_plink_is_up(l) && br_plink_has_name(l, name, len))
			return BR_AWAIT_NO;
		coming = coming || names_coming(l);
	}
	return coming ? BR_AWAIT_NAMES : BR_AWAIT_NO;
}

enum br_await_why
br_await_topic_needed(struct br *br)
{
	uint32_t n = br_peers_count(br);

	if (br->b_peers == NULL || br->b_stopping ||
	    (br->b_await != NULL && br->b_await->a_expiring))
		return BR_AWAIT_NO;
	for (uint32_t i = 0; i < n; i++)
		if (names_coming(br_peers_at(br, i)))
			return BR_AWAIT_TOPIC;
	return BR_AWAIT_NO;
}

enum br_await_why
br_await_needed(struct br *br, const char *to, size_t len)
{
	const char *at;

	if (br->b_peers == NULL || br->b_stopping)
		return BR_AWAIT_NO;
	if ((at = memchr(to, '@', len)) == NULL)
		return name_needs(br, to, len);
	len -= (size_t)(at - to) + 1;
	return br_is_self(br, at + 1, len) ? BR_AWAIT_NO :
	    node_needs(br, at + 1, len);
}

/* ---- the list ---- */

static struct br_await *
await_of(struct br *br)
{
	if (br->b_await == NULL)
		br->b_await = calloc(1, sizeof(*br->b_await));
	return br->b_await;
}

static uint32_t
link_index(struct br *br, const struct tp_env *env)
{
	const char *to = env->e_to.s_ptr, *at;
	struct br_link *l;

	if ((at = memchr(to, '@', env->e_to.s_len)) == NULL)
		return NO_LINK;
	l = br_peer_by_node(br, at + 1, env->e_to.s_len -
	    (size_t)(at - to) - 1);
	return l != NULL ? br_plink_index(l) : NO_LINK;
}

/* Why a request cannot be held, or NULL when it can. */
static const char *
refusal(const struct br_await *a, const struct br_origin *o, uint32_t li,
    size_t len)
{
	if (a == NULL)
		return "out of memory";
	if (o->o_hdrlen > sizeof(((struct held *)NULL)->h_hdr))
		return "request header too long";
	if (li != NO_LINK && a->a_per_link[li] >= BR_AWAIT_PER_NODE)
		return "too many requests wait for this node's link";
	if (a->a_n >= BR_AWAIT_MAX || a->a_bytes + len > BR_AWAIT_BYTES)
		return "too many requests wait for the cluster";
	return NULL;
}

/* The envelope as it arrived, packed into a new held entry. */
static struct held *
held_new(struct br *br, const struct br_origin *o, const struct tp_env *env)
{
	size_t len = tp_env_size(env);
	struct held *h;
	struct tp_env e;

	if ((h = malloc(sizeof(*h) + len)) == NULL)
		return NULL;
	if (tp_env_pack_buf(env, h->h_env, len) != 0 ||
	    tp_env_decode(h->h_env, len, &br->b_lim, &e, NULL) != 0) {
		free(h);
		return NULL;
	}
	h->h_next = NULL;
	h->h_len = len;
	h->h_id = env->e_id;
	h->h_kind = env->e_kind;
	h->h_origin = o->o_actor;
	h->h_hdrlen = (uint8_t)o->o_hdrlen;
	if (o->o_hdrlen > 0)
		memcpy(h->h_hdr, o->o_hdr, o->o_hdrlen);
	h->h_to_off = (size_t)((const uint8_t *)e.e_to.s_ptr - h->h_env);
	h->h_to_len = e.e_to.s_len;
	return h;
}

static void
append(struct br_await *a, struct held *h)
{
	if (a->a_tail != NULL)
		a->a_tail->h_next = h;
	else
		a->a_head = h;
	a->a_tail = h;
	a->a_n++;
	a->a_bytes += h->h_len;
	if (h->h_link != NO_LINK)
		a->a_per_link[h->h_link]++;
	if (h->h_deadline_ms < a->a_next_ms || a->a_n == 1)
		a->a_next_ms = h->h_deadline_ms;
}

/* Unlinks h, which follows prev (NULL: h is the head). */
static void
unlink_held(struct br_await *a, struct held *prev, struct held *h)
{
	if (prev != NULL)
		prev->h_next = h->h_next;
	else
		a->a_head = h->h_next;
	if (a->a_tail == h)
		a->a_tail = prev;
	a->a_n--;
	a->a_bytes -= h->h_len;
	if (h->h_link != NO_LINK)
		a->a_per_link[h->h_link]--;
}

/*
 * A link waiter waits up to the ask ttl (envelopes carry no ttl of their
 * own; a CLI gives up on its own --timeout first).  A bare name waits at
 * most suspect_after too: a link not up by then was reset as failed, so
 * it is not coming up but broken, and the name is unknown.
 */
static uint64_t
deadline(const struct br *br, enum br_await_why why)
{
	const struct br_conf *c = br->b_conf;
	uint64_t ttl = c->c_ask_ttl_ms;

	if (why != BR_AWAIT_LINK && c->c_suspect_after_ms < ttl)
		ttl = c->c_suspect_after_ms;
	return br_now_ms() + ttl;
}

int
br_await_hold(struct br *br, const struct br_origin *o,
    const struct tp_env *env, enum br_await_why why)
{
	struct br_await *a = await_of(br);
	uint32_t li = why == BR_AWAIT_LINK ? link_index(br, env) : NO_LINK;
	const char *no;
	struct held *h;

	if ((no = refusal(a, o, li, tp_env_size(env))) != NULL ||
	    (h = held_new(br, o, env)) == NULL) {
		if (a != NULL)
			a->a_st.as_full++;
		br->b_stats.st_busy++;
		br_answer_error(br, o, env->e_id, BR_E_BUSY, "broker busy: "
		    "%s (cluster not ready)", no != NULL ? no :
		    "out of memory");
		return -1;
	}
	h->h_link = li;
	h->h_why = why;
	h->h_deadline_ms = deadline(br, why);
	append(a, h);
	a->a_st.as_held++;
	log_debug("request waits for the cluster", "to=%.*s why=%s",
	    (int)env->e_to.s_len, env->e_to.s_ptr, why == BR_AWAIT_LINK ?
	    "link" : why == BR_AWAIT_NAMES ? "names" : "subscriptions");
	return 0;
}

/* ---- release ---- */

static struct br_origin
origin_of(const struct held *h)
{
	struct br_origin o = { h->h_origin, h->h_hdrlen > 0 ? h->h_hdr :
	    NULL, h->h_hdrlen };

	return o;
}

static const struct br_await_ops *ops;
static void *ops_arg;

void
br_await_set_ops(const struct br_await_ops *o, void *arg)
{
	ops = o;
	ops_arg = arg;
}

/* It decoded when it was held, so a failure here is out of memory or
 * never; the sender hears it either way. */
static void
route_again(struct br *br, struct held *h)
{
	struct br_origin o = origin_of(h);
	struct tp_env env;

	if (tp_env_decode(h->h_env, h->h_len, &br->b_lim, &env, NULL) == 0)
		ops->aw_route(ops_arg, &o, &env);
	else
		ops->aw_fail(ops_arg, &o, h->h_kind, h->h_id, BR_E_BADREQ,
		    "bad request");
}

/* Past its deadline: a link waiter times out, a bare name is unknown -
 * unless it became routable by a change nobody kicked for (a local
 * actor of that name was spawned meanwhile). */
static void
expire(struct br *br, struct br_await *a, struct held *h)
{
	const char *to = (const char *)h->h_env + h->h_to_off, *at;
	struct br_origin o = origin_of(h);
	size_t len = h->h_to_len;
	char text[256];

	if (h->h_why == BR_AWAIT_TOPIC) {	/* to whoever is there */
		a->a_expiring = true;
		route_again(br, h);
		a->a_expiring = false;
		return;
	}
	if (br_await_needed(br, to, len) == BR_AWAIT_NO) {
		route_again(br, h);
		return;
	}
	if (h->h_why == BR_AWAIT_NAMES) {
		br->b_stats.st_unknown_actor++;
		snprintf(text, sizeof(text), "unknown actor '%.*s' (no node "
		    "announced it)", (int)h->h_to_len, to);
		ops->aw_fail(ops_arg, &o, h->h_kind, h->h_id, BR_E_UNKNOWN_ACTOR,
		    text);
		return;
	}
	a->a_st.as_timeouts++;
	if ((at = memchr(to, '@', h->h_to_len)) != NULL) {
		len = h->h_to_len - (size_t)(at - to) - 1;
		to = at + 1;
	}
	snprintf(text, sizeof(text), "no link to node '%.*s' within the ask "
	    "ttl (alive, link not up)", (int)len, to);
	ops->aw_fail(ops_arg, &o, h->h_kind, h->h_id, BR_E_TIMEOUT, text);
}

/* Walks the list in order; each entry for which done() says so leaves
 * it and goes to act(). */
static void
sweep(struct br *br, struct br_await *a,
    bool (*done)(struct br *, const struct held *, uint64_t), uint64_t now,
    void (*act)(struct br *, struct br_await *, struct held *))
{
	struct held *prev = NULL, *h = a->a_head;

	a->a_next_ms = UINT64_MAX;
	while (h != NULL) {
		struct held *next = h->h_next;

		if (!done(br, h, now)) {
			if (h->h_deadline_ms < a->a_next_ms)
				a->a_next_ms = h->h_deadline_ms;
			prev = h;
			h = next;
			continue;
		}
		unlink_held(a, prev, h);
		act(br, a, h);
		free(h);
		/* act may have appended: continue from prev's successor */
		h = prev != NULL ? prev->h_next : a->a_head;
	}
}

static bool
is_ready(struct br *br, const struct held *h, uint64_t now)
{
	(void)now;
	if (h->h_why == BR_AWAIT_TOPIC)
		return br_await_topic_needed(br) == BR_AWAIT_NO;
	return br_await_needed(br, (const char *)h->h_env + h->h_to_off,
	    h->h_to_len) == BR_AWAIT_NO;
}

static bool
is_due(struct br *br, const struct held *h, uint64_t now)
{
	(void)br;
	return now >= h->h_deadline_ms;
}

static bool
is_any(struct br *br, const struct held *h, uint64_t now)
{
	(void)br;
	(void)h;
	(void)now;
	return true;
}

static void
act_route(struct br *br, struct br_await *a, struct held *h)
{
	(void)a;
	route_again(br, h);
}

void
br_await_kick(struct br *br)
{
	struct br_await *a = br->b_await;

	if (a == NULL || a->a_head == NULL)
		return;
	if (a->a_busy) {	/* a change while routing: once more */
		a->a_again = true;
		return;
	}
	a->a_busy = true;
	do {
		a->a_again = false;
		sweep(br, a, is_ready, 0, act_route);
	} while (a->a_again);
	a->a_busy = false;
}

void
br_await_tick(struct br *br, uint64_t now)
{
	struct br_await *a = br->b_await;

	if (a == NULL || a->a_head == NULL || a->a_busy)
		return;
	a->a_busy = true;
	a->a_again = false;
	if (br->b_stopping)	/* the router answers "shutting down" */
		sweep(br, a, is_any, now, act_route);
	else if (now >= a->a_next_ms)
		sweep(br, a, is_due, now, expire);
	a->a_busy = false;
	if (a->a_again)
		br_await_kick(br);
}

void
br_await_fini(struct br *br)
{
	struct br_await *a = br->b_await;
	struct held *h;

	if (a == NULL)
		return;
	while ((h = a->a_head) != NULL) {
		a->a_head = h->h_next;
		free(h);
	}
	free(a);
	br->b_await = NULL;
}

void
br_await_stats(const struct br *br, struct br_await_stats *out)
{
	if (br->b_await != NULL) {
		*out = br->b_await->a_st;
		out->as_waiting = br->b_await->a_n;
	} else
		memset(out, 0, sizeof(*out));
}

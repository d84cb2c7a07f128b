/*
 * br_names — actor name tables and member gossip on peer links.
 * Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "br.h"
#include "br_actor.h"
#include "br_disc.h"
#include "br_kv.h"
#include "br_names.h"
#include "br_topic.h"
#include "tp_body.h"
#include "tp_topic.h"

uint64_t
br_names_hash(struct br *br)
{
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	for (uint32_t i = 0; i < br->b_nactors; i++) {
		const struct br_actor *a = br->b_actors[i];
		const char *s[2] = { a->a_conf.ca_name,
		    br_astate_name(a->a_state) };

		for (int k = 0; k < 2; k++)
			for (const char *c = s[k]; ; c++) {
				h = (h ^ (uint8_t)*c) * 1099511628211ull;
				if (*c == '\0')
					break;
			}
		h = (h ^ (uint64_t)a->a_pid ^ a->a_removed) *
		    1099511628211ull;
	}
	return (h ^ br_topic_hash(br)) * 1099511628211ull;
}

/* A pool goes by its name: its instances are nobody's address. */
static bool
gossiped(const struct br_actor *a)
{
	return !a->a_removed && a->a_pool == NULL;
}

static uint32_t
live_actors(const struct br *br)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < br->b_nactors; i++)
		n += gossiped(br->b_actors[i]);
	return n;
}

static void
pack_actor(msgpack_packer *pk, const struct br_actor *a)
{
	const char *st = br_astate_name(a->a_state);

	msgpack_pack_array(pk, 3);
	msgpack_pack_str_with_body(pk, a->a_conf.ca_name,
	    strlen(a->a_conf.ca_name));
	msgpack_pack_str_with_body(pk, st, strlen(st));
	msgpack_pack_uint32(pk, a->a_pid > 0 ? (uint32_t)a->a_pid : 0);
}

/* The whole table, sent when the link comes up and whenever a name or a
 * state changed (checked every beacon interval): tables are small. */
void
br_names_pack_table(struct br *br, msgpack_sbuffer *sb)
{
	msgpack_packer pk;

	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 3);
	br_kv_str(&pk, "op", "names");
	msgpack_pack_str_with_body(&pk, "names", 5);
	msgpack_pack_array(&pk, live_actors(br));
	for (uint32_t i = 0; i < br->b_nactors; i++)
		if (gossiped(br->b_actors[i]))
			pack_actor(&pk, br->b_actors[i]);
	msgpack_pack_str_with_body(&pk, "subs", 4);
	br_topic_pack_union(br, &pk);
}

/* The peer's patterns; a bad one is skipped, a list too long ignored
 * whole (the old one stays), none means none. */
static void
subs_on(struct br_rtable *rt, const msgpack_object *arr)
{
	struct tp_body list;
	const char *p;
	size_t len;
	uint32_t n = 0;
	char (*t)[256];

	if (arr == NULL) {		/* none, or a peer from before topics */
		free(rt->rt_subs);
		rt->rt_subs = NULL;
		rt->rt_nsubs = 0;
		return;
	}
	if (tp_body_open_array(&list, arr, 0,
	    BR_NAMES_SUBS_MAX, "subs", NULL) != 0 ||
	    (t = calloc(arr->via.array.size + 1, sizeof(*t))) == NULL)
		return;
	while (tp_body_str(&list, NULL, TP_BODY_OPT, TP_TOPIC_MAX, &p,
	    &len) == 0)
		if (tp_topic_pattern_ok(p, len)) {
			memcpy(t[n], p, len);
			t[n++][len] = '\0';
		}
	free(rt->rt_subs);
	rt->rt_subs = t;
	rt->rt_nsubs = n;
}

bool
br_names_wants(const struct br_rtable *t, const char *topic, size_t len)
{
	for (uint32_t i = 0; i < t->rt_nsubs; i++)
		if (tp_topic_match(t->rt_subs[i], strlen(t->rt_subs[i]),
		    topic, len))
			return true;
	return false;
}

static int
rname_cmp(const void *a, const void *b)
{
	return strcmp(((const struct br_rname *)a)->rn_name,
	    ((const struct br_rname *)b)->rn_name);
}

/* One entry [name, state, pid]; false (skipped) when malformed. */
static bool
rname_fill(struct br_rname *r, struct tp_body *e)
{
	uint64_t pid;

	tp_body_strz(e, NULL, TP_BODY_NONEMPTY, r->rn_name,
	    sizeof(r->rn_name));
	tp_body_strz(e, NULL, 0, r->rn_state, sizeof(r->rn_state));
	tp_body_uint(e, NULL, 0, 0, UINT32_MAX, &pid);
	if (tp_body_end(e) != 0)
		return false;
	r->rn_pid = (uint32_t)pid;
	return true;
}

int
br_names_on(struct br_rtable *rt, const msgpack_object *body)
{
	const msgpack_object *arr, *subs = NULL;
	struct tp_body b, list, e;
	struct br_rname *t;
	uint32_t n = 0;

	tp_body_open(&b, body, 0, "names", NULL);
	tp_body_skip(&b, "op");
	tp_body_value(&b, "subs", TP_BODY_OPT, &subs);
	if (tp_body_value(&b, "names", 0, &arr) != 0 ||
	    tp_body_end(&b) != 0 || tp_body_open_array(&list, arr, 0,
	    BR_MAX_ACTORS, "names", NULL) != 0 ||
	    (t = calloc(arr->via.array.size + 1, sizeof(*t))) == NULL)
		return -1;
	while (tp_body_array(&list, NULL, TP_BODY_OPT, 3, &e) == 0)
		if (rname_fill(&t[n], &e))
			n++;
	qsort(t, n, sizeof(*t), rname_cmp);
	free(rt->rt_names);
	rt->rt_names = t;
	rt->rt_n = n;
	rt->rt_rx = true;
	subs_on(rt, subs);
	return (int)n;
}

void
br_names_clear(struct br_rtable *t)
{
	free(t->rt_names);
	free(t->rt_subs);
	*t = (struct br_rtable){ NULL, 0, false, NULL, 0 };
}

bool
br_names_has(const struct br_rtable *t, const char *name, size_t len)
{
	struct br_rname key;

	if (len >= sizeof(key.rn_name) || t->rt_n == 0)
		return false;
	memcpy(key.rn_name, name, len);
	key.rn_name[len] = '\0';
	return bsearch(&key, t->rt_names, t->rt_n, sizeof(key),
	    rname_cmp) != NULL;
}

void
br_names_pack(const struct br_rtable *t, const char *node,
    msgpack_packer *pk)
{
	for (uint32_t k = 0; k < t->rt_n; k++) {
		msgpack_pack_map(pk, 5);
		br_kv_str(pk, "name", t->rt_names[k].rn_name);
		br_kv_str(pk, "node", node);
		br_kv_uint(pk, "pid", t->rt_names[k].rn_pid);
		br_kv_str(pk, "state", t->rt_names[k].rn_state);
		msgpack_pack_str_with_body(pk, "remote", 6);
		msgpack_pack_true(pk);
	}
}

/* The alive members we know, so that a node that seeds only one peer
 * still finds the others (seeds mode has no multicast to tell it). */
void
br_names_pack_members(struct br *br, msgpack_sbuffer *sb)
{
	uint32_t n = 0, cnt = br_disc_count(br);
	msgpack_packer pk;

	for (uint32_t i = 0; i < cnt; i++)
		n += br_disc_node(br, i)->n_state == BR_M_ALIVE;
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 2);
	br_kv_str(&pk, "op", "members");
	msgpack_pack_str_with_body(&pk, "m", 1);
	msgpack_pack_array(&pk, n);
	for (uint32_t i = 0; i < cnt; i++) {
		const struct br_node *m = br_disc_node(br, i);

		if (m->n_state != BR_M_ALIVE)
			continue;
		msgpack_pack_array(&pk, 3);
		msgpack_pack_str_with_body(&pk, m->n_name, strlen(m->n_name));
		msgpack_pack_uint64(&pk, m->n_inc);
		msgpack_pack_str_with_body(&pk, m->n_endpoint,
		    strlen(m->n_endpoint));
	}
}

/* Entries [name, incarnation, endpoint]; malformed ones are skipped, a
 * list over BR_MAX_NODES is ignored whole. */
void
br_names_on_members(struct br *br, const msgpack_object *body)
{
	char ep[BR_ENDPOINT_MAX];
	struct tp_body b, list, e;
	const char *name;
	size_t len;
	uint64_t inc;

	tp_body_open(&b, body, 0, "members", NULL);
	tp_body_skip(&b, "op");
	tp_body_array(&b, "m", 0, BR_MAX_NODES, &list);
	if (tp_body_end(&b) != 0)
		return;
	while (tp_body_array(&list, NULL, TP_BODY_OPT, 3, &e) == 0) {
		tp_body_str(&e, NULL, 0, BR_NAME_MAX, &name, &len);
		tp_body_uint(&e, NULL, 0, 0, UINT64_MAX, &inc);
		tp_body_strz(&e, NULL, 0, ep, sizeof(ep));
		if (tp_body_end(&e) == 0)
			br_disc_learn(br, name, len, inc, ep);
	}
}

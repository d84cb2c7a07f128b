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

const msgpack_object *
br_names_get(const msgpack_object *m, const char *key, msgpack_object_type t)
{
	if (m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < m->via.map.size; i++) {
		const msgpack_object *k = &m->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size ==
		    strlen(key) && memcmp(k->via.str.ptr, key,
		    k->via.str.size) == 0)
			return m->via.map.ptr[i].val.type == t ?
			    &m->via.map.ptr[i].val : NULL;
	}
	return NULL;
}

bool
br_names_op_is(const msgpack_object *body, const char *op)
{
	const msgpack_object *o = br_names_get(body, "op",
	    MSGPACK_OBJECT_STR);

	return o != NULL && o->via.str.size == strlen(op) &&
	    memcmp(o->via.str.ptr, op, o->via.str.size) == 0;
}

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
	return h;
}

static uint32_t
live_actors(const struct br *br)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < br->b_nactors; i++)
		n += !br->b_actors[i]->a_removed;
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
	msgpack_pack_map(&pk, 2);
	br_kv_str(&pk, "op", "names");
	msgpack_pack_str_with_body(&pk, "names", 5);
	msgpack_pack_array(&pk, live_actors(br));
	for (uint32_t i = 0; i < br->b_nactors; i++)
		if (!br->b_actors[i]->a_removed)
			pack_actor(&pk, br->b_actors[i]);
}

static int
rname_cmp(const void *a, const void *b)
{
	return strcmp(((const struct br_rname *)a)->rn_name,
	    ((const struct br_rname *)b)->rn_name);
}

static bool
rname_fill(struct br_rname *r, const msgpack_object *e)
{
	const msgpack_object *f = e->via.array.ptr;

	if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 3 ||
	    f[0].type != MSGPACK_OBJECT_STR || f[1].type != MSGPACK_OBJECT_STR ||
	    f[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    f[0].via.str.size == 0 || f[0].via.str.size >= BR_NAME_MAX ||
	    f[1].via.str.size >= sizeof(r->rn_state))
		return false;
	snprintf(r->rn_name, sizeof(r->rn_name), "%.*s",
	    (int)f[0].via.str.size, f[0].via.str.ptr);
	snprintf(r->rn_state, sizeof(r->rn_state), "%.*s",
	    (int)f[1].via.str.size, f[1].via.str.ptr);
	r->rn_pid = (uint32_t)f[2].via.u64;
	return true;
}

int
br_names_on(struct br_rtable *rt, const msgpack_object *body)
{
	const msgpack_object *arr = br_names_get(body, "names",
	    MSGPACK_OBJECT_ARRAY);
	struct br_rname *t;
	uint32_t n = 0;

	if (arr == NULL || arr->via.array.size > BR_MAX_ACTORS ||
	    (t = calloc(arr->via.array.size + 1, sizeof(*t))) == NULL)
		return -1;
	for (uint32_t i = 0; i < arr->via.array.size; i++)
		if (rname_fill(&t[n], &arr->via.array.ptr[i]))
			n++;
	qsort(t, n, sizeof(*t), rname_cmp);
	free(rt->rt_names);
	rt->rt_names = t;
	rt->rt_n = n;
	rt->rt_rx = true;
	return (int)n;
}

void
br_names_clear(struct br_rtable *t)
{
	free(t->rt_names);
	*t = (struct br_rtable){ NULL, 0, false };
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

void
br_names_on_members(struct br *br, const msgpack_object *body)
{
	const msgpack_object *arr = br_names_get(body, "m",
	    MSGPACK_OBJECT_ARRAY);
	char ep[BR_ENDPOINT_MAX];

	if (arr == NULL || arr->via.array.size > BR_MAX_NODES)
		return;
	for (uint32_t i = 0; i < arr->via.array.size; i++) {
		const msgpack_object *e = &arr->via.array.ptr[i];
		const msgpack_object *f = e->via.array.ptr;

		if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 3 ||
		    f[0].type != MSGPACK_OBJECT_STR ||
		    f[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
		    f[2].type != MSGPACK_OBJECT_STR ||
		    f[2].via.str.size >= sizeof(ep))
			continue;
		snprintf(ep, sizeof(ep), "%.*s", (int)f[2].via.str.size,
		    f[2].via.str.ptr);
		br_disc_learn(br, f[0].via.str.ptr, f[0].via.str.size,
		    f[1].via.u64, ep);
	}
}

/*
 * br_topic — topic subscriptions of this node's actors.  Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "br.h"
#include "br_actor.h"
#include "br_log.h"
#include "br_topic.h"
#include "tp_err.h"
#include "tp_topic.h"

struct br_sub {
	uint32_t	 s_home;	/* actor index taking the copies */
	uint32_t	 s_owner;	/* process's index, or OWNER_CONF */
	uint64_t	 s_copies;	/* copies this one brought */
	uint32_t	 s_len;
	char		 s_pat[TP_TOPIC_MAX + 1];
};

struct br_topics {
	struct br_sub	*t_subs;
	uint32_t	 t_n, t_cap;
	uint32_t	*t_seen;	/* per home: last match it took */
	uint32_t	 t_epoch;
	uint64_t	 t_gen;		/* bumped by every change */
};

int
br_topic_init(struct br *br)
{
	struct br_topics *t;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->t_seen = calloc(BR_MAX_ACTORS, sizeof(*t->t_seen))) == NULL) {
		free(t);
		return -1;
	}
	br->b_topics = t;
	return 0;
}

void
br_topic_fini(struct br *br)
{
	struct br_topics *t = br->b_topics;

	if (t == NULL)
		return;
	free(t->t_subs);
	free(t->t_seen);
	free(t);
	br->b_topics = NULL;
}

static int
add(struct br_topics *t, uint32_t home, uint32_t owner, const char *pat,
    size_t len)
{
	struct br_sub *s;

	if (t->t_n == t->t_cap) {
		uint32_t cap = t->t_cap ? t->t_cap * 2 : 16;

		if (t->t_cap >= BR_TOPIC_SUBS_MAX ||
		    (s = realloc(t->t_subs, cap * sizeof(*s))) == NULL)
			return TP_ENOMEM;
		t->t_subs = s;
		t->t_cap = cap;
	}
	s = &t->t_subs[t->t_n++];
	*s = (struct br_sub){ home, owner, 0, (uint32_t)len, "" };
	memcpy(s->s_pat, pat, len);
	s->s_pat[len] = '\0';
	t->t_gen++;
	return 0;
}

/* Removes the entries keep() refuses, keeping order. */
static void
sweep(struct br_topics *t, bool (*gone)(const struct br_sub *, const void *),
    const void *arg)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < t->t_n; i++)
		if (!gone(&t->t_subs[i], arg))
			t->t_subs[k++] = t->t_subs[i];
	t->t_gen += k != t->t_n;
	t->t_n = k;
}

static bool
is_conf(const struct br_sub *s, const void *arg)
{
	return s->s_owner == BR_TOPIC_OWNER_CONF;
}

struct conf_add {
	struct br_topics *ca_t;
	uint32_t	 ca_home;
};

static int
conf_item(void *arg, const char *p, size_t n)
{
	struct conf_add *c = arg;

	return add(c->ca_t, c->ca_home, BR_TOPIC_OWNER_CONF, p, n) == 0 ?
	    0 : -1;
}

/* ca_subscribe (checked by the config already), item by item. */
static int
add_list(struct br_topics *t, uint32_t home, const char *list)
{
	struct conf_add c = { t, home };

	return tp_topic_list(list, strlen(list), conf_item, &c, NULL);
}

int
br_topic_sync_conf(struct br *br)
{
	struct br_topics *t = br->b_topics;

	sweep(t, is_conf, NULL);
	for (uint32_t i = 0; i < br->b_nactors; i++) {
		const struct br_actor *a = br->b_actors[i];

		if (a->a_removed || a->a_pool != NULL ||
		    add_list(t, i, a->a_conf.ca_subscribe) == 0)
			continue;
		log_error("too many subscriptions on this node: some are "
		    "left out", "actor=%s max=%d", a->a_conf.ca_name,
		    BR_TOPIC_SUBS_MAX);
		return -1;
	}
	return 0;
}

static struct br_sub *
find(struct br_topics *t, uint32_t home, const char *pat, size_t len)
{
	for (uint32_t i = 0; i < t->t_n; i++) {
		struct br_sub *s = &t->t_subs[i];

		if (s->s_home == home && s->s_len == len &&
		    memcmp(s->s_pat, pat, len) == 0)
			return s;
	}
	return NULL;
}

int
br_topic_subscribe(struct br *br, struct br_actor *a, const char *pat,
    size_t len)
{
	struct br_topics *t = br->b_topics;
	uint32_t home = br_actor_index(br_actor_home(a)), mine = 0;

	if (!tp_topic_pattern_ok(pat, len))
		return TP_EINVAL;
	if (find(t, home, pat, len) != NULL)
		return 1;
	for (uint32_t i = 0; i < t->t_n; i++)
		mine += t->t_subs[i].s_owner == br_actor_index(a);
	if (mine >= BR_SUBS_MAX)
		return TP_ENOMEM;
	return add(t, home, br_actor_index(a), pat, len);
}

struct unsub {
	uint32_t	 u_home;
	const char	*u_pat;
	size_t		 u_len;
};

static bool
is_unsub(const struct br_sub *s, const void *arg)
{
	const struct unsub *u = arg;

	return s->s_home == u->u_home && s->s_len == u->u_len &&
	    memcmp(s->s_pat, u->u_pat, u->u_len) == 0;
}

int
br_topic_unsubscribe(struct br *br, struct br_actor *a, const char *pat,
    size_t len)
{
	struct unsub u = { br_actor_index(br_actor_home(a)), pat, len };
	uint32_t n = br->b_topics->t_n;

	sweep(br->b_topics, is_unsub, &u);
	return br->b_topics->t_n < n ? 0 : 1;
}

static bool
is_owner(const struct br_sub *s, const void *arg)
{
	return s->s_owner == *(const uint32_t *)arg;
}

void
br_topic_forget(struct br *br, uint32_t owner)
{
	if (br->b_topics != NULL)
		sweep(br->b_topics, is_owner, &owner);
}

size_t
br_topic_match(struct br *br, const char *topic, size_t len, uint32_t *out,
    size_t max)
{
	struct br_topics *t = br->b_topics;
	size_t n = 0;

	if (++t->t_epoch == 0) {	/* wrapped: every mark is stale */
		memset(t->t_seen, 0, BR_MAX_ACTORS * sizeof(*t->t_seen));
		t->t_epoch = 1;
	}
	for (uint32_t i = 0; i < t->t_n && n < max; i++) {
		struct br_sub *s = &t->t_subs[i];

		/* a removed actor's run-time ones go when its process does */
		if (t->t_seen[s->s_home] == t->t_epoch ||
		    br->b_actors[s->s_home]->a_removed ||
		    !tp_topic_match(s->s_pat, s->s_len, topic, len))
			continue;
		t->t_seen[s->s_home] = t->t_epoch;
		s->s_copies++;
		out[n++] = s->s_home;
	}
	return n;
}

void
br_topic_pack_subs(struct br *br, msgpack_packer *pk, uint32_t home)
{
	const struct br_topics *t = br->b_topics;
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->t_n; i++)
		n += t->t_subs[i].s_home == home;
	msgpack_pack_array(pk, n);
	for (uint32_t i = 0; i < t->t_n; i++)
		if (t->t_subs[i].s_home == home)
			msgpack_pack_str_with_body(pk, t->t_subs[i].s_pat,
			    t->t_subs[i].s_len);
}

/* True when entry i's pattern is the first of its kind. */
static bool
first_of(const struct br_topics *t, uint32_t i)
{
	for (uint32_t j = 0; j < i; j++)
		if (t->t_subs[j].s_len == t->t_subs[i].s_len &&
		    memcmp(t->t_subs[j].s_pat, t->t_subs[i].s_pat,
		    t->t_subs[i].s_len) == 0)
			return false;
	return true;
}

void
br_topic_pack_union(struct br *br, msgpack_packer *pk)
{
	const struct br_topics *t = br->b_topics;
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->t_n; i++)
		n += first_of(t, i);
	msgpack_pack_array(pk, n);
	for (uint32_t i = 0; i < t->t_n; i++)
		if (first_of(t, i))
			msgpack_pack_str_with_body(pk, t->t_subs[i].s_pat,
			    t->t_subs[i].s_len);
}

uint64_t
br_topic_hash(const struct br *br)
{
	return br->b_topics != NULL ? br->b_topics->t_gen : 0;
}

void
br_topic_each(const struct br *br, void (*fn)(void *arg, const char *pat,
    uint64_t copies), void *arg)
{
	const struct br_topics *t = br->b_topics;

	for (uint32_t i = 0; i < t->t_n; i++) {
		uint64_t c = 0;

		if (!first_of(t, i))
			continue;
		for (uint32_t j = i; j < t->t_n; j++)
			if (t->t_subs[j].s_len == t->t_subs[i].s_len &&
			    memcmp(t->t_subs[j].s_pat, t->t_subs[i].s_pat,
			    t->t_subs[i].s_len) == 0)
				c += t->t_subs[j].s_copies;
		fn(arg, t->t_subs[i].s_pat, c);
	}
}

/*
 * br_supgrp — supervisor groups and their restart intensity windows.
 * Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "br_supgrp.h"

struct supgrp_one {
	struct br_conf_sup g_conf;
	int32_t		 g_parent;	/* group index, -1 at the top */
	bool		 g_failed;
	uint64_t	*g_times;	/* ring: when its last restarts were */
	uint32_t	 g_ntimes;
	uint32_t	 g_head;
};

struct supgrp {
	struct supgrp_one *s_g;
	size_t		 s_n;
};

int32_t
supgrp_index(const struct supgrp *g, const char *name)
{
	for (size_t i = 0; i < g->s_n; i++)
		if (strcmp(g->s_g[i].g_conf.cs_name, name) == 0)
			return (int32_t)i;
	return -1;
}

void
supgrp_free(struct supgrp *g)
{
	if (g == NULL)
		return;
	for (size_t i = 0; i < g->s_n; i++)
		free(g->s_g[i].g_times);
	free(g->s_g);
	free(g);
}

struct supgrp *
supgrp_new(const struct br_conf *conf)
{
	size_t n = conf->c_nsups;
	struct supgrp *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return NULL;
	if ((g->s_g = calloc(n ? n : 1, sizeof(*g->s_g))) == NULL) {
		free(g);
		return NULL;
	}
	g->s_n = n;
	for (size_t i = 0; i < n; i++) {
		uint32_t cap = conf->c_sups[i].cs_intensity;

		g->s_g[i].g_conf = conf->c_sups[i];
		if ((g->s_g[i].g_times = calloc(cap ? cap : 1,
		    sizeof(uint64_t))) == NULL) {
			supgrp_free(g);
			return NULL;
		}
	}
	for (size_t i = 0; i < n; i++)
		g->s_g[i].g_parent = supgrp_index(g,
		    g->s_g[i].g_conf.cs_parent);
	return g;
}

void
supgrp_carry(struct supgrp *to, const struct supgrp *from)
{
	for (size_t i = 0; i < to->s_n; i++) {
		struct supgrp_one *ng = &to->s_g[i];
		int32_t o = supgrp_index(from, ng->g_conf.cs_name);
		const struct supgrp_one *og = o >= 0 ? &from->s_g[o] : NULL;

		if (og == NULL || !br_conf_sup_same(&og->g_conf, &ng->g_conf))
			continue;
		ng->g_failed = og->g_failed;
		ng->g_ntimes = og->g_ntimes;
		ng->g_head = og->g_head;
		memcpy(ng->g_times, og->g_times, og->g_ntimes *
		    sizeof(uint64_t));
	}
}

size_t
supgrp_count(const struct supgrp *g)
{
	return g->s_n;
}

int32_t
supgrp_parent(const struct supgrp *g, uint32_t gi)
{
	return gi < g->s_n ? g->s_g[gi].g_parent : -1;
}

const struct br_conf_sup *
supgrp_conf(const struct supgrp *g, uint32_t gi)
{
	return &g->s_g[gi].g_conf;
}

bool
supgrp_failed(const struct supgrp *g, uint32_t gi)
{
	return gi < g->s_n && g->s_g[gi].g_failed;
}

/* Bounded by the group count: a parent loop (config validation forbids
 * it) cannot hang the loop. */
bool
supgrp_under(const struct supgrp *g, uint32_t gi, uint32_t top)
{
	int32_t i = gi < g->s_n ? (int32_t)gi : -1;

	for (size_t hops = 0; i >= 0 && hops <= g->s_n; hops++) {
		if ((uint32_t)i == top)
			return true;
		i = g->s_g[i].g_parent;
	}
	return false;
}

bool
supgrp_admit(struct supgrp *g, uint32_t gi, uint64_t now)
{
	struct supgrp_one *o = &g->s_g[gi];
	uint32_t cap = o->g_conf.cs_intensity, n = 0;

	for (uint32_t i = 0; i < o->g_ntimes; i++)
		if (now - o->g_times[i] < o->g_conf.cs_period_ms)
			n++;
	if (n >= cap)
		return false;
	o->g_times[o->g_head] = now;
	o->g_head = (o->g_head + 1) % cap;
	if (o->g_ntimes < cap)
		o->g_ntimes++;
	return true;
}

void
supgrp_fail(struct supgrp *g, uint32_t gi)
{
	for (size_t i = 0; i < g->s_n; i++)
		if (supgrp_under(g, (uint32_t)i, gi))
			g->s_g[i].g_failed = true;
}

void
supgrp_revive_above(struct supgrp *g, uint32_t gi)
{
	for (size_t i = 0; i < g->s_n; i++)
		if (g->s_g[i].g_failed && supgrp_under(g, gi, (uint32_t)i)) {
			g->s_g[i].g_failed = false;
			g->s_g[i].g_ntimes = 0;
		}
}

size_t
supgrp_chain(const struct supgrp *g, uint32_t gi, const char **names,
    size_t max)
{
	int32_t i = gi < g->s_n ? (int32_t)gi : -1;
	size_t n = 0;

	while (i >= 0 && n < max && n <= g->s_n) {
		names[n++] = g->s_g[i].g_conf.cs_name;
		i = g->s_g[i].g_parent;
	}
	return n;
}

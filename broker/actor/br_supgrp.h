/*
 * br_supgrp — supervisor groups: the tree of [supervisor NAME] sections,
 * each with its restart intensity window (at most cs_intensity restarts
 * within cs_period_ms) and whether it has given up.  Pure data: no time
 * source, no children; br_supfsm asks and decides.  Groups are numbered
 * in config order (0 is root, which br_conf puts first).  Loop thread
 * only.
 */
#ifndef BR_SUPGRP_H
#define BR_SUPGRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "br_conf.h"

struct supgrp;

/* The groups of conf (read, not kept), none failed, windows empty.
 * Returns NULL when out of memory; free with supgrp_free. */
struct supgrp *supgrp_new(const struct br_conf *conf);
void supgrp_free(struct supgrp *g);
/* Each group of to whose settings equal those of its namesake in from
 * takes over its failure and restart history (a reload). */
void supgrp_carry(struct supgrp *to, const struct supgrp *from);

size_t supgrp_count(const struct supgrp *g);
/* The index of group name, or -1. */
int32_t supgrp_index(const struct supgrp *g, const char *name);
/* gi's parent, -1 at the top. */
int32_t supgrp_parent(const struct supgrp *g, uint32_t gi);
/* gi's settings, borrowed until supgrp_free. */
const struct br_conf_sup *supgrp_conf(const struct supgrp *g, uint32_t gi);
bool supgrp_failed(const struct supgrp *g, uint32_t gi);
/* True when gi is top or lies under it. */
bool supgrp_under(const struct supgrp *g, uint32_t gi, uint32_t top);

/* True when one more restart at now fits in gi's window, which then
 * counts it; false when the group must give up (nothing counted). */
bool supgrp_admit(struct supgrp *g, uint32_t gi, uint64_t now);
/* gi and every group under it have given up. */
void supgrp_fail(struct supgrp *g, uint32_t gi);
/* Every failed group at or above gi is revived with an empty window
 * (a restart by hand). */
void supgrp_revive_above(struct supgrp *g, uint32_t gi);
/* gi's chain, innermost first: up to max names (borrowed until
 * supgrp_free); returns how many. */
size_t supgrp_chain(const struct supgrp *g, uint32_t gi, const char **names,
    size_t max);

#endif

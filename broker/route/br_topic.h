/*
 * br_topic — topic subscriptions of this node's actors: who takes a copy
 * of a message published to a topic (docs/ARCHITECTURE.md "Topics").
 *
 * A subscription is a pattern (tp_topic: words, `*` one word, a last `>`
 * the rest) held for a home, the actor or pool whose mailbox takes the
 * copies (a pool's instances subscribe as the pool: each copy is handled
 * by one of them).  Config subscriptions (`subscribe =`) are read from
 * the actors' settings again on start, reload and spawn; run-time ones
 * (troupe_subscribe) belong to the process that made them and go when it
 * exits.  At most BR_SUBS_MAX run-time subscriptions per process and
 * BR_TOPIC_SUBS_MAX in all: memory is bounded by configuration.  A
 * publish is matched against every subscription (linear in their
 * number; tables are small).  Loop thread only.
 */
#ifndef BR_TOPIC_H
#define BR_TOPIC_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#define BR_TOPIC_SUBS_MAX 65536	/* subscriptions on one node */
#define BR_TOPIC_OWNER_CONF UINT32_MAX	/* a config subscription */

struct br;
struct br_actor;

int br_topic_init(struct br *br);
void br_topic_fini(struct br *br);

/* The config subscriptions of every actor and pool not removed, read
 * again from their settings.  Returns 0, or -1 when the table is full
 * (logged; those past the limit are left out). */
int br_topic_sync_conf(struct br *br);

/* A run-time subscribe from a's process: 0, 1 when it was there
 * already, TP_EINVAL (not a pattern) or TP_ENOMEM (a limit). */
int br_topic_subscribe(struct br *br, struct br_actor *a, const char *pat,
    size_t len);
/* Removes pat of a's home (run-time or config, until the next reload):
 * 0, or 1 when there was none. */
int br_topic_unsubscribe(struct br *br, struct br_actor *a, const char *pat,
    size_t len);
/* The process of actor index owner went: its run-time subscriptions
 * with it. */
void br_topic_forget(struct br *br, uint32_t owner);

/* The homes (actor indexes) with a subscription matching topic, each
 * once, in table order: up to max into out; returns how many. */
size_t br_topic_match(struct br *br, const char *topic, size_t len,
    uint32_t *out, size_t max);

/* An array of home's patterns. */
void br_topic_pack_subs(struct br *br, msgpack_packer *pk, uint32_t home);
/* An array of every distinct pattern of this node (the gossip). */
void br_topic_pack_union(struct br *br, msgpack_packer *pk);
/* Changes when any subscription does (the gossip's trigger). */
uint64_t br_topic_hash(const struct br *br);
/* Each distinct pattern with the copies it brought (metrics). */
void br_topic_each(const struct br *br, void (*fn)(void *arg,
    const char *pat, uint64_t copies), void *arg);

#endif

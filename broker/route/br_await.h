/*
 * br_await — requests that wait for the cluster to be routable.  Loop
 * thread only.
 *
 * A SEND or ASK from an actor or the CLI to name@node, where node is a
 * member that is alive (or suspect while its link is being re-opened) but
 * whose link is not up yet, is held here instead of failing at once; so
 * is one to a bare name that no node has yet while some member's link or
 * names table is still on its way.  A held request is routed again, in
 * arrival order, as soon as its reason to wait is gone (the link came up,
 * the names arrived, the member was declared dead, ...).  At its
 * deadline a name@node request gets ERROR 5 (ask_ttl), a bare name
 * ERROR 1 (min(ask_ttl, suspect_after)).  See docs/ARCHITECTURE.md
 * "Routing".
 *
 * Bounded: BR_AWAIT_PER_NODE requests per node (one link window: all of
 * them leave at link-up without waiting for credit), BR_AWAIT_MAX and
 * BR_AWAIT_BYTES in all; a request that finds it full hears ERROR 8 at
 * once and is counted.
 */
#ifndef BR_AWAIT_H
#define BR_AWAIT_H

#include <stddef.h>
#include <stdint.h>

#include "tp_env.h"

struct br;
struct br_origin;

#define BR_AWAIT_PER_NODE 1024		/* = BR_LINK_WINDOW */
#define BR_AWAIT_MAX 4096
#define BR_AWAIT_BYTES (64u << 20)

/* What a request's target still needs before it can be routed. */
enum br_await_why {
	BR_AWAIT_NO,		/* route (or fail) now */
	BR_AWAIT_LINK,		/* name@node: the node's link to come up */
	BR_AWAIT_NAMES,		/* bare name: names tables on their way */
	BR_AWAIT_TOPIC,		/* publish: a member's subscriptions are */
};

/* Counters for `troupe stats` and metrics. */
struct br_await_stats {
	uint64_t	 as_held;	/* requests that waited */
	uint64_t	 as_full;	/* refused: the wait list was full */
	uint64_t	 as_timeouts;	/* answered ERROR 5 while waiting */
	uint64_t	 as_waiting;	/* held now (a gauge) */
};

/*
 * Whether a request to `to` (len bytes, "name" or "name@node" for another
 * node) from a local sender must wait, and for what.  Bare names: only
 * when no local actor and no node's names table has it and some member's
 * link is coming up, so that a truly unknown name on a settled cluster
 * still fails fast.
 */
enum br_await_why br_await_needed(struct br *br, const char *to,
    size_t len);
/* BR_AWAIT_TOPIC while some member's link is coming up or its names
 * table (which carries its subscriptions) is on its way: a publish
 * right after start would miss that node's subscribers.  At its
 * deadline a held publish goes to whoever is there. */
enum br_await_why br_await_topic_needed(struct br *br);

/*
 * Holds the request env from o (copied: envelope bytes, o's nng
 * backtrace) until why is gone or its deadline passes.  Returns 0 when
 * held; -1 when it was answered instead (ERROR 8: the list is full or
 * out of memory) and the caller must give the sender its credit back.
 */
int br_await_hold(struct br *br, const struct br_origin *o,
    const struct tp_env *env, enum br_await_why why);

/* Something changed (a link came up or went down, a names table arrived,
 * a member changed state): routes again, in order, every held request
 * whose reason to wait is gone. */
void br_await_kick(struct br *br);

/* Deadlines (ERROR 5), and on shutdown releases everything (the router
 * answers "shutting down"); every tick. */
void br_await_tick(struct br *br, uint64_t now);

/* How a held request leaves: routed again (env decoded from the bytes
 * held; buffers borrowed for the call), or failed (its sender hears
 * ERROR code with text and gets its credit back).  Routing registers
 * these; nothing here calls the router. */
struct br_await_ops {
	void	(*aw_route)(void *arg, const struct br_origin *o,
		    const struct tp_env *env);
	void	(*aw_fail)(void *arg, const struct br_origin *o,
		    uint32_t kind, uint64_t id, int code, const char *text);
};
/* ops: static storage. */
void br_await_set_ops(const struct br_await_ops *ops, void *arg);

/* Frees what is held without answering (the broker stops). */
void br_await_fini(struct br *br);

void br_await_stats(const struct br *br, struct br_await_stats *out);

#endif

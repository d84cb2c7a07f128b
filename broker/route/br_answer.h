/*
 * br_answer — where answers go.  Every request the broker takes has an
 * origin: an actor (by index), the CLI (the nng backtrace of its request
 * on ctl.sock), or a peer link.  Routing, control ops, the admission
 * check and the held requests all answer through here; the module that
 * owns each kind of origin registers how to reach it (an ops table per
 * class), so none of them calls the others.  Loop thread only.
 */
#ifndef BR_ANSWER_H
#define BR_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "tp_env.h"

struct br;

/* Wire error codes in ERROR bodies (ARCHITECTURE.md "Error codes"). */
enum br_errcode {
	BR_E_UNKNOWN_ACTOR = 1,
	BR_E_REJECTED = 2,
	BR_E_SHUTDOWN = 3,
	BR_E_BADREQ = 4,
	BR_E_TIMEOUT = 5,
	BR_E_PERM = 6,
	BR_E_UNREACHABLE = 7,
	BR_E_BUSY = 8,
	BR_E_NOREPLY = 9,
	BR_E_DROPPED = 10,
};

/* Who is waiting for an answer: the CLI (through a pending slot that
 * holds its nng backtrace), an actor (by index), a peer link or a client
 * link. */
#define BR_ORIGIN_CLI UINT32_MAX
/* A peer link as origin (or pending target): BR_ORIGIN_PEER | link
 * generation << 8 | link index (br_peer_origin); never equal to
 * BR_ORIGIN_CLI. */
#define BR_ORIGIN_PEER 0x80000000u
#define BR_IS_PEER(o) ((o) != BR_ORIGIN_CLI && ((o) & BR_ORIGIN_PEER) != 0)
/* A client link as origin: BR_ORIGIN_CLIENT | generation << 16 | slot
 * (br_client); never a peer's or an actor index. */
#define BR_ORIGIN_CLIENT 0x40000000u
#define BR_IS_CLIENT(o) ((o) != BR_ORIGIN_CLI && \
	((o) & (BR_ORIGIN_PEER | BR_ORIGIN_CLIENT)) == BR_ORIGIN_CLIENT)

/* Where an answer goes: an actor (by index), a peer origin, or the CLI
 * request whose nng backtrace header is o_hdr (borrowed). */
struct br_origin {
	uint32_t	 o_actor;	/* actor index, peer or BR_ORIGIN_CLI */
	const uint8_t	*o_hdr;
	size_t		 o_hdrlen;
};

enum br_oclass {
	BR_OC_ACTOR,
	BR_OC_CLI,
	BR_OC_PEER,
	BR_OC_CLIENT,
	BR_OC_N
};

/* How one class of origin is reached. */
struct br_answer_ops {
	/* Sends env (buffers borrowed for the call) to o: 0, or -1 when o
	 * is gone or out of memory (the answer is lost, as its asker). */
	int	(*an_send)(void *arg, const struct br_origin *o,
		    const struct tp_env *env);
	/* o's message was placed (queued, dropped or refused): o may send
	 * one more.  NULL for a class without a send window (the CLI). */
	void	(*an_credit)(void *arg, const struct br_origin *o);
	/* o's name as the `from` of what it sends ("cli-7"), NUL-terminated
	 * and at most BR_NAME_MAX bytes; NULL when the class names itself
	 * otherwise (actors, the CLI, peers). */
	const char *(*an_name)(void *arg, const struct br_origin *o);
};

static inline enum br_oclass
br_origin_class(const struct br_origin *o)
{
	if (o->o_actor == BR_ORIGIN_CLI)
		return BR_OC_CLI;
	if (BR_IS_PEER(o->o_actor))
		return BR_OC_PEER;
	return BR_IS_CLIENT(o->o_actor) ? BR_OC_CLIENT : BR_OC_ACTOR;
}

/* ops (borrowed: static storage) and arg answer every origin of class
 * c from now on. */
void br_answer_set_ops(enum br_oclass c, const struct br_answer_ops *ops,
    void *arg);

/* Sends an envelope of kind to o with corr and raw msgpack body (len
 * bytes, borrowed), from this node; 0 or -1 (nobody to answer). */
int br_answer(struct br *br, const struct br_origin *o, uint32_t kind,
    uint64_t corr, const uint8_t *body, size_t len);

/* Sends ERROR {"code":code,"message":...} to o. */
int br_answer_error(struct br *br, const struct br_origin *o, uint64_t corr,
    int code, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Gives o back the credit of one message (a no-op for the CLI). */
void br_answer_credit(const struct br_origin *o);

/* o's name through its class (an_name), or "?" when it has none. */
const char *br_answer_name(const struct br_origin *o);

#endif

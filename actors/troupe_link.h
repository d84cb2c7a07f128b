/*
 * troupe_link — the actor side of the actor link (docs/ARCHITECTURE.md
 * "Actor link") over tp_link: dial, hello, the credit window, the
 * cumulative ACK, the answer an ask waits for, the deliveries' queue
 * (troupe_queue) and the bye that ends a clean stop.
 *
 * Every frame from the broker goes through one place, troupe_link_pump:
 * CREDITs and answers to our own ASK are consumed at once, and a frame
 * holding deliveries is queued whole.  So a handler that blocks in
 * troupe_send/troupe_ask keeps reading the link without ever running a
 * handler inside another one.
 *
 * Outgoing envelopes (sends, asks, replies, ACKs) are batched by tp_link
 * and leave whenever the library is about to wait (for a frame, a credit
 * or an answer), when a batching limit is reached, or on
 * troupe_link_flush: the transport's per-message cost is paid once per
 * burst, and an idle actor's lone message still leaves at once.  Sends
 * block while nng's send queue is full (the actor is its own process).
 *
 * Once an error made the link fatal every call returns TP_ECLOSED (or the
 * error), and troupe_link_fatal says so.  One thread only.
 */
#ifndef TROUPE_LINK_H
#define TROUPE_LINK_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tp_env.h"

/* What an ask (or a confirmed send) waits for: the envelope whose corr is
 * w_corr.  The body is malloc'ed for the waiter, who frees it. */
struct troupe_await {
	uint64_t	 w_corr;
	bool		 w_done;
	int		 w_code;	/* 0 REPLY or ACK, > 0 ERROR code */
	uint8_t		*w_body;
	size_t		 w_len;
};

struct troupe_link_conf {
	const char	*tc_name;	/* the actor's name, for its log lines */
	const char	*tc_url;	/* TROUPE_MAILBOX */
	const char	*tc_self;	/* name@node: every envelope's from */
	size_t		 tc_window;	/* deliveries the queue may hold */
	int		 tc_stop_fd;	/* readable when a stop signal came */
	volatile sig_atomic_t *tc_stop;	/* set by that signal */
};

struct troupe_link;

/* A link (not dialled yet); conf's strings are borrowed and must outlive
 * it.  NULL when out of memory. */
struct troupe_link *troupe_link_new(const struct troupe_link_conf *conf);
/* Frees the link (closed first by troupe_link_close, if it was open). */
void troupe_link_free(struct troupe_link *l);

/* Dials the broker (retrying while it comes up) and says hello, then
 * waits for the first CREDIT.  0, or an error (fatal; logged). */
int troupe_link_open(struct troupe_link *l);

/*
 * A clean stop: the last ACK and a bye the broker answers (nng 1.5.2 has
 * no flush: nng_close drops what is still queued, the broker would
 * redeliver it), then the socket is closed.  Skips the bye when the
 * link is fatal or the broker gone.
 */
void troupe_link_close(struct troupe_link *l);

/* The decode limits of the link (bodies, names). */
const struct tp_limits *troupe_link_limits(const struct troupe_link *l);

/* Queues an envelope of kind (body copied; flags TP_F_*) for the broker.
 * 0 or an error (fatal). */
int troupe_link_send(struct troupe_link *l, uint32_t kind, uint64_t id,
    const char *to, uint64_t corr, uint32_t flags, const void *body,
    size_t len);

/* Queues CONTROL {"op":op,"topic":pattern} (subscribe, unsubscribe;
 * pattern checked by the caller, at most 255 bytes).  No credit: the
 * broker applies it before anything queued later.  0, TP_ETOOBIG
 * (pattern too long, nothing sent) or an error (fatal). */
int troupe_link_topic_op(struct troupe_link *l, const char *op,
    const char *pattern);

/* Sends the ACK owed and what is queued.  0 or an error (fatal). */
int troupe_link_flush(struct troupe_link *l);

/* Waits up to timeout_ms (< 0 forever) for one frame and takes it: 0 (a
 * frame was taken or the time ran out), TP_ECLOSED when a stop signal
 * came, or the error that made the link fatal. */
int troupe_link_pump(struct troupe_link *l, int timeout_ms);

/* Spends one credit, pumping until there is one or the deadline (ms,
 * monotonic; < 0 none) passes (TP_ETIMEDOUT). */
int troupe_link_take_credit(struct troupe_link *l, int64_t deadline);

/* Pumps until w is answered or the deadline passes; TP_EINVAL when an
 * answer is already awaited (an ask inside an ask). */
int troupe_link_await(struct troupe_link *l, struct troupe_await *w,
    int64_t deadline);
/* True while an answer is awaited. */
bool troupe_link_awaiting(const struct troupe_link *l);

/* The next queued delivery (valid until troupe_link_done), false if none
 * waits; troupe_link_done: it was handled (ACKed with the next flush). */
bool troupe_link_next(struct troupe_link *l, struct tp_env *env);
void troupe_link_done(struct troupe_link *l);

/* Marks the link fatal with a log line "what: why"; returns rv. */
int troupe_link_fail(struct troupe_link *l, const char *what,
    const char *why, int rv);
bool troupe_link_fatal(const struct troupe_link *l);

/* 0 while the broker that spawned us (TROUPE_BROKER_PID) is our parent;
 * TP_ECLOSED when it is gone, TP_EINVAL when the variable is bad. */
int troupe_link_check_parent(void);

/* Milliseconds of CLOCK_MONOTONIC (deadlines). */
int64_t troupe_link_now_ms(void);

#endif

/*
 * troupe.h — the actor library (libtroupe): the one header an actor needs.
 *
 * An actor is a child process of trouped.  main() calls troupe_actor_main
 * with a table of callbacks; the library dials the mailbox named in the
 * environment (docs/ARCHITECTURE.md "Actor link"), says hello, waits for
 * its send credits and then calls receive() once per delivered SEND or
 * ASK, acknowledging each frame's messages after their handlers returned.
 * SIGTERM or SIGINT stop it after the current message: terminate() runs
 * and troupe_actor_main returns 0, the process's exit status.
 *
 * Functions return 0 or a negative TP_E* code (tp_err.h); the ERROR codes
 * that travel on the wire are the positive TROUPE_ERR_* below.  Nothing
 * here is thread-safe: call the library from the thread that runs
 * troupe_actor_main, inside the callbacks.
 */
#ifndef TROUPE_H
#define TROUPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "tp_err.h"

/* Kinds a handler sees (equal to the wire kinds TP_K_SEND, TP_K_ASK). */
enum troupe_kind {
	TROUPE_SEND = 1,
	TROUPE_ASK = 2,
};

/* Codes carried in ERROR bodies (docs/ARCHITECTURE.md). */
enum troupe_errcode {
	TROUPE_ERR_UNKNOWN_ACTOR = 1,
	TROUPE_ERR_REJECTED = 2,
	TROUPE_ERR_SHUTDOWN = 3,
	TROUPE_ERR_BAD_REQUEST = 4,
	TROUPE_ERR_TIMEOUT = 5,
	TROUPE_ERR_PERMISSION = 6,
	TROUPE_ERR_UNREACHABLE = 7,
	TROUPE_ERR_BUSY = 8,
	TROUPE_ERR_NO_REPLY = 9,
	TROUPE_ERR_DROPPED = 10,	/* lost to a full mailbox's drop policy */
};

/* Why terminate() is called. */
enum troupe_reason {
	TROUPE_STOP_SIGNAL = 0,	/* SIGTERM/SIGINT: a normal stop */
	TROUPE_STOP_INIT,	/* init() failed */
	TROUPE_STOP_ERROR,	/* the broker link failed or broke protocol */
};

/* Longest actor or node name the library handles ("name@node" <= 255). */
#define TROUPE_NAME_MAX 255

struct troupe_ctx;
struct json_t;

/*
 * One delivered message.  Everything it points to (names, body bytes and
 * the decoded body) is owned by the library and valid only during the
 * receive() call that got it.
 */
struct troupe_msg {
	enum troupe_kind	 m_kind;
	uint64_t		 m_id;		/* answer an ASK with this */
	const char		*m_from;	/* "actor@node", "cli@node" */
	const char		*m_to;
	uint64_t		 m_corr;
	uint32_t		 m_flags;	/* TP_F_* */
	bool			 m_redelivered;	/* delivered before, unacked */
	const uint8_t		*m_body;	/* raw msgpack, one value */
	size_t			 m_body_len;
	msgpack_object		 m_obj;		/* m_body decoded */
};

/*
 * The callbacks.  init (optional) runs once the broker granted credits;
 * non-zero makes the actor exit 1.  receive handles one SEND or ASK; an
 * ASK it does not answer with troupe_reply/troupe_reply_error is answered
 * ERROR TROUPE_ERR_NO_REPLY by the library.  terminate (optional) runs
 * once before exit, also after a failed init.
 */
struct troupe_actor_ops {
	int	(*init)(struct troupe_ctx *ctx);
	void	(*receive)(struct troupe_ctx *ctx, const struct troupe_msg *msg);
	void	(*terminate)(struct troupe_ctx *ctx, enum troupe_reason why);
};

/* A REPLY or ERROR to troupe_ask; free with troupe_reply_free. */
struct troupe_reply {
	int		 r_code;	/* 0 for a REPLY, else the ERROR code */
	uint8_t		*r_body;	/* raw msgpack, owned (malloc) */
	size_t		 r_len;
	msgpack_zone	*r_zone;	/* holds r_obj */
	msgpack_object	 r_obj;		/* r_body decoded */
};

/*
 * Runs the actor: reads TROUPE_MAILBOX, TROUPE_ACTOR, TROUPE_NODE and
 * TROUPE_BROKER_PID (optional: when set and no longer our parent, exits
 * at once), connects, and loops until SIGTERM/SIGINT.  arg is handed back
 * by troupe_arg().  Returns the exit status for main: 0 after a signal, 1
 * on a missing variable, a failed init or a broken link.  Frees all it
 * allocated before returning.
 */
int troupe_actor_main(const struct troupe_actor_ops *ops, void *arg);

/*
 * Sends body (len bytes of one msgpack value; len 0 sends nil) to actor
 * "to" ("name" or "name@node").  Spends one credit; with none left it
 * waits for the broker's CREDIT, queueing deliveries that arrive meanwhile
 * for after the current handler.  Returns 0, TP_EINVAL (bad body or
 * name), TP_ECLOSED (stop signal while waiting) or a transport error.
 * The message is copied at once but may wait in the library's outgoing
 * batch: it leaves when the library next waits (the handler returned,
 * credits ran out, an ask), when the batch is full, or on troupe_flush.
 */
int troupe_send(struct troupe_ctx *ctx, const char *to, const void *body,
    size_t len);

/*
 * Publishes body to topic (docs/ARCHITECTURE.md "Topics"): exactly like
 * troupe_send (one credit, batched, the same returns), but the SEND's
 * "to" is the topic and its flags carry TP_F_TOPIC; the broker places a
 * copy in the mailbox of every actor subscribed to a matching pattern.
 * A subscriber sees m_to = the topic and TP_F_TOPIC in m_flags.
 * TP_EINVAL for a topic that is no name (dot-separated words of
 * [A-Za-z0-9_-], at most 255 bytes and 32 words) or a bad body.
 */
int troupe_publish(struct troupe_ctx *ctx, const char *topic,
    const void *body, size_t len);

/*
 * Subscribes this actor to pattern: a topic name whose words may be "*"
 * (any one word) and whose last word may be ">" (one or more words).
 * Fire and forget: a CONTROL on the mailbox link, no credit spent, no
 * answer; the link is ordered, so the broker applies it before anything
 * this actor sends later.  The broker holds at most 64 subscriptions
 * per actor: more are refused and logged by the broker, not reported
 * here.  A subscription made at run time lasts until this process
 * exits: a restarted instance starts with its config's `subscribe =`
 * list only, so an actor that subscribes itself does it in init().
 * Returns 0, TP_EINVAL (not a pattern) or a transport error.
 */
int troupe_subscribe(struct troupe_ctx *ctx, const char *pattern);

/* Ends a subscription made with pattern (the same text), as
 * troupe_subscribe: fire and forget, TP_EINVAL for no pattern. */
int troupe_unsubscribe(struct troupe_ctx *ctx, const char *pattern);

/*
 * Like troupe_send, then waits up to timeout_ms (< 0: forever) until the
 * broker holding the mailbox of "to" has accepted the message: queued,
 * and on disk by its fsync policy for a durable mailbox (across nodes,
 * the remote broker's word).  Deliveries that arrive meanwhile are
 * queued as troupe_ask does.  Returns 0 once accepted, a positive
 * TROUPE_ERR_* code when the broker refused it (rejected, unknown actor,
 * unreachable...), or a negative TP_E* code (TP_ETIMEDOUT, TP_ECLOSED,
 * TP_EINVAL: bad arguments, or called inside a troupe_ask).
 */
int troupe_send_confirmed(struct troupe_ctx *ctx, const char *to,
    const void *body, size_t len, int timeout_ms);

/*
 * Sends everything pending now (sends, replies, acknowledgements), for a
 * handler that is about to compute for long after sending.  Blocks while
 * the link's send queue is full.  Returns 0, TP_ECLOSED or TP_ENOMEM.
 */
int troupe_flush(struct troupe_ctx *ctx);

/*
 * Asks "to" and waits up to timeout_ms (< 0: forever) for the answer,
 * queueing deliveries as troupe_send does.  Returns 0 with the REPLY in
 * *out, a positive TROUPE_ERR_* code with the ERROR body in *out, or a
 * negative TP_E* code (TP_ETIMEDOUT, TP_ECLOSED, ...) with *out empty.
 * In every case the caller calls troupe_reply_free(out) afterwards.
 */
int troupe_ask(struct troupe_ctx *ctx, const char *to, const void *body,
    size_t len, int timeout_ms, struct troupe_reply *out);

/* Frees what troupe_ask put in r (which itself is the caller's). */
void troupe_reply_free(struct troupe_reply *r);

/*
 * Answers req, the ASK being handled, with body (no credit needed).  Once
 * per ASK: a second answer or an answer to a SEND returns TP_EINVAL.
 */
int troupe_reply(struct troupe_ctx *ctx, const struct troupe_msg *req,
    const void *body, size_t len);

/* Answers req with ERROR {"code": code, "message": message}. */
int troupe_reply_error(struct troupe_ctx *ctx, const struct troupe_msg *req,
    int code, const char *message);

/* The actor's name and node, from the environment; owned by the library. */
const char *troupe_self(const struct troupe_ctx *ctx);
const char *troupe_node(const struct troupe_ctx *ctx);

/* The arg given to troupe_actor_main. */
void *troupe_arg(const struct troupe_ctx *ctx);

/* A pointer the actor keeps between callbacks; the actor owns it. */
void troupe_set_state(struct troupe_ctx *ctx, void *state);
void *troupe_state(const struct troupe_ctx *ctx);

/*
 * Body builder, so actors never write msgpack by hand.  Errors stick: once
 * an append failed every later one returns TP_ENOMEM too, and so does
 * troupe_body_error.  troupe_body_free releases the buffer (the struct is
 * the caller's).
 */
struct troupe_body {
	msgpack_sbuffer	 b_buf;
	msgpack_packer	 b_pk;
	int		 b_err;
};

void troupe_body_init(struct troupe_body *b);
int troupe_body_map(struct troupe_body *b, uint32_t npairs);
int troupe_body_array(struct troupe_body *b, uint32_t n);
int troupe_body_str(struct troupe_body *b, const char *s);
int troupe_body_strn(struct troupe_body *b, const char *s, size_t len);
int troupe_body_int(struct troupe_body *b, int64_t v);
int troupe_body_uint(struct troupe_body *b, uint64_t v);
int troupe_body_double(struct troupe_body *b, double v);
int troupe_body_bool(struct troupe_body *b, bool v);
int troupe_body_nil(struct troupe_body *b);
int troupe_body_bin(struct troupe_body *b, const void *p, size_t len);
/* Appends a decoded value as is (e.g. part of a received body). */
int troupe_body_object(struct troupe_body *b, const msgpack_object *o);
int troupe_body_error(const struct troupe_body *b);
const void *troupe_body_data(const struct troupe_body *b);
size_t troupe_body_len(const struct troupe_body *b);
void troupe_body_free(struct troupe_body *b);

/*
 * JSON -> msgpack: objects become maps with str keys in document order,
 * arrays arrays, strings str, integers int64, reals float64, true, false
 * and null the same.  troupe_json_pack packs j with any packer;
 * troupe_body_json appends it to b.  At most 16 levels of nesting.
 * Returns 0, TP_EINVAL (j NULL), TP_EDEPTH or TP_ENOMEM; j stays the
 * caller's.  A failed troupe_body_json sticks in b (troupe_body_error).
 */
int troupe_json_pack(msgpack_packer *pk, const struct json_t *j);
int troupe_body_json(struct troupe_body *b, const struct json_t *j);

/* Readers over a decoded body.  The value of key in map obj (string keys
 * only), or NULL when obj is not a map or has no such key. */
const msgpack_object *troupe_obj_map_get(const msgpack_object *obj,
    const char *key);

/* True when obj is a string equal to s. */
bool troupe_obj_str_eq(const msgpack_object *obj, const char *s);

/* Stores an integer obj in *v; TP_ETYPE if not an integer, TP_ETOOBIG if
 * over INT64_MAX. */
int troupe_obj_as_int64(const msgpack_object *obj, int64_t *v);

/*
 * Converts obj to a new jansson value (*out, the caller's json_decref):
 * binary, ext and non-UTF-8 strings become base64 strings, map keys that
 * are not strings become their compact JSON text, integers over INT64_MAX
 * and floats become reals (non-finite ones null).  At most 16 levels of
 * nesting (TP_EDEPTH).  Returns 0 or TP_E*.
 */
int troupe_obj_json(const msgpack_object *obj, struct json_t **out);

/* Same, as compact JSON text in *out (malloc'd, the caller frees). */
int troupe_obj_to_json(const msgpack_object *obj, char **out);

/*
 * ---- The client API: a program that is not an actor ----
 *
 * Any local program (a web server, a script's helper, a test harness)
 * opens a client link to a node: a streaming connection with the actor
 * link's protocol, batching and credit window (docs/ARCHITECTURE.md
 * "Client link"), admitted like the control socket (the broker's uid,
 * root, node.allow_uids, node.allow_group).  A client is not supervised
 * and has no mailbox: it sends and asks; nobody can send to it.
 *
 * Every SEND of a client is confirmed: the broker holding the target's
 * mailbox answers once it is placed there (on disk by the node's fsync
 * policy for a durable mailbox), or refuses it, and the result is
 * reported for that message.  troupe_client_send is asynchronous and
 * windowed: it returns once the message is queued for the broker, and
 * blocks (reading results meanwhile) only while the window is full.
 * Results of asynchronous calls reach the callback set with
 * troupe_client_set_cb, called from inside any troupe_client_* call
 * that reads the link (never from another thread); failures with no
 * callback set are counted (troupe_client_failures).
 *
 * One client per thread: nothing here is thread-safe, but distinct
 * clients may run on distinct threads.  Functions return 0 or a negative
 * TP_E* code; a refusal by the broker is a positive TROUPE_ERR_* code.
 * Once the link broke every call returns TP_ECLOSED and the results not
 * known yet are reported with TP_ECLOSED (their fate is unknown: a
 * message that was placed stays placed).
 */
struct troupe_client;

/* One result of an asynchronous send or ask. */
struct troupe_result {
	uint64_t	 tr_id;		/* what send/ask returned in *id */
	int		 tr_kind;	/* TROUPE_SEND or TROUPE_ASK */
	int		 tr_code;	/* 0; TROUPE_ERR_*; or TP_ETIMEDOUT,
					 * TP_ECLOSED (link lost) */
	const char	*tr_message;	/* the broker's error text, or NULL */
	const uint8_t	*tr_body;	/* an ask's REPLY (or ERROR) body:
					 * raw msgpack, tr_len bytes */
	size_t		 tr_len;
	void		*tr_tag;	/* the tag given to the call */
};

/* Everything in r is valid only during the call.  The callback runs
 * inside a call on its client, so it must not call into that client
 * again (send, ask, poll, flush, close; the getters window, pending, failures,
 * name and node are fine): it notes what to do, and the program does it
 * once the call returned. */
typedef void troupe_client_cb(void *arg, const struct troupe_result *r);

/*
 * Opens a client link.  where: NULL for the default node (the first of
 * $TROUPE_BROKER, $TROUPE_RUN_DIR, the zero-config node $TROUPE_NODE,
 * the default run dir, the one zero-config node running here), a
 * control socket URL ("ipc:///run/troupe/ctl.sock") or a run dir.
 * timeout_ms bounds the dial and the broker's answer (< 0: 5 s).  On 0
 * *out is the caller's (troupe_client_close).  Errors: TP_EUNREACH (no
 * broker listens there), TP_EPERM (not admitted: TROUPE_ERR_PERMISSION
 * from the broker is returned as TP_EPERM too), TP_EPEER (not a
 * broker), TP_ETIMEDOUT, TP_EAGAIN (all client links in use), TP_ENOMEM.
 * The reason is in troupe_client_open_error's text.
 */
int troupe_client_open(const char *where, int timeout_ms,
    struct troupe_client **out);

/* The text of the last troupe_client_open failure on this thread. */
const char *troupe_client_open_error(void);

/* Closes the link after waiting up to timeout_ms (< 0: forever) for the
 * results still owed (troupe_client_flush); frees c.  What had no result
 * by then is reported TP_ECLOSED. */
void troupe_client_close(struct troupe_client *c, int timeout_ms);

/* Results of asynchronous calls go to cb(arg, result) from now on. */
void troupe_client_set_cb(struct troupe_client *c, troupe_client_cb *cb,
    void *arg);

/*
 * Sends body (len bytes of one msgpack value; len 0 sends nil) to "to"
 * ("name" or "name@node") without waiting for its result, which reaches
 * the callback with tag.  *id (may be NULL) gets the message's id.
 * Blocks only while the window is full.  Returns 0, TP_EINVAL (bad
 * name or body), TP_ETOOBIG, TP_ECLOSED.
 */
int troupe_client_send(struct troupe_client *c, const char *to,
    const void *body, size_t len, void *tag, uint64_t *id);

/*
 * Publishes body to topic (see troupe_publish) as troupe_client_send
 * does: windowed, its result to the callback with tag.  The broker
 * ACKs it once every local subscriber's copy is placed.  Returns as
 * troupe_client_send; TP_EINVAL for a topic that is no name.
 */
int troupe_client_publish(struct troupe_client *c, const char *topic,
    const void *body, size_t len, void *tag, uint64_t *id);

/* Sends and waits up to timeout_ms (< 0: forever) for its result: 0
 * placed, a TROUPE_ERR_* code, or TP_ETIMEDOUT / TP_ECLOSED. */
int troupe_client_send_confirmed(struct troupe_client *c, const char *to,
    const void *body, size_t len, int timeout_ms);

/* Asks and waits up to timeout_ms (< 0: forever), like troupe_ask:
 * 0 with the REPLY in *out, a TROUPE_ERR_* code with the ERROR body, or
 * TP_ETIMEDOUT / TP_ECLOSED; troupe_reply_free(out) in every case. */
int troupe_client_ask(struct troupe_client *c, const char *to,
    const void *body, size_t len, int timeout_ms, struct troupe_reply *out);

/* Asks without waiting: the REPLY or ERROR (or TP_ETIMEDOUT after
 * timeout_ms; < 0: the broker's ask ttl) reaches the callback with tag.
 * Returns as troupe_client_send. */
int troupe_client_ask_async(struct troupe_client *c, const char *to,
    const void *body, size_t len, int timeout_ms, void *tag, uint64_t *id);

/*
 * A descriptor for another event loop: it polls readable when frames
 * from the broker wait; then call troupe_client_poll(c, 0).  Owned by
 * the library (do not close or read it); -1 if nng cannot give one.
 */
int troupe_client_fd(struct troupe_client *c);

/* Sends what is queued, then reads results for up to timeout_ms (0: only
 * what is there; < 0: until one came), calling the callback.  Returns
 * the number of results reported, or TP_ECLOSED. */
int troupe_client_poll(struct troupe_client *c, int timeout_ms);

/* Sends what is queued and waits up to timeout_ms (< 0: forever) until
 * every result is in.  0, TP_ETIMEDOUT or TP_ECLOSED. */
int troupe_client_flush(struct troupe_client *c, int timeout_ms);

/* The window the broker granted (node.client_window): a caller that
 * keeps no more than this many results owed never waits inside a send. */
uint32_t troupe_client_window(const struct troupe_client *c);
/* Results still owed (messages sent, not yet answered). */
uint32_t troupe_client_pending(const struct troupe_client *c);
/* Asynchronous results that failed while no callback was set. */
uint64_t troupe_client_failures(const struct troupe_client *c);
/* The client's name ("cli-7") and its node, as the broker said. */
const char *troupe_client_name(const struct troupe_client *c);
const char *troupe_client_node(const struct troupe_client *c);

#endif

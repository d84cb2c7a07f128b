/*
 * tp_link — the one link layer: every connection that carries troupe
 * frames (actor <-> broker on both sides, broker <-> broker, clients)
 * sends and receives through a struct tp_link.  It owns, per link:
 *
 *   - the frame being built: envelopes are packed straight into one
 *     nng message behind TP_LINK_HEAD reserved bytes; at flush time the
 *     batch head [2, 8, array(n)] (and an owed CREDIT) is written into
 *     that room and the rest trimmed.  A lone envelope leaves alone
 *     (latency), several leave as one BATCH frame;
 *   - batching with ONE set of limits (struct tp_link_conf): a frame
 *     leaves when it holds lc_max_env envelopes or lc_max_bytes bytes
 *     (capped by the frame limit), or on tp_link_flush.  A kind sets the
 *     numbers for its traffic in its conf, nowhere else: the actor's
 *     frames leave at 64 KiB (pipelining), the broker's deliveries at
 *     the window (one frame per window); peers take the defaults;
 *   - a small bounded ring of built frames the socket refused (full):
 *     they go first next time, in order, and a sealed frame is never
 *     sealed again (a nonce is used once).  When the ring is full, put
 *     says TP_LINK_FULL: there is no unbounded queue;
 *   - the credit window: tp_link_credit (what we may send, spent by the
 *     owner with tp_link_credit_take) and the credit owed to the other
 *     side (tp_link_credit_owe), which leaves as a CREDIT envelope first
 *     in the next sealed-or-ordinary frame;
 *   - the frame receive loop (tp_link_recv) with bad-frame accounting:
 *     admit -> open -> tp_frame_open/tp_frame_next -> one env hook per
 *     envelope; a frame that does not decode is counted and the link
 *     keeps working;
 *   - counters (tp_link_stats).
 *
 * Link kinds plug in as a struct tp_link_ops (nng's nni_sp_tran style):
 * every hook is optional except lo_env.  The link never switches on its
 * kind.  Loop thread only (or the one thread of an actor process): no
 * locks, no nng callbacks.
 *
 * Plain and sealed frames (a peer link): with lo_seal set, every frame
 * is sealed at flush unless its envelopes were put with TP_LINK_PLAIN
 * (hellos).  A frame holds one kind only: an envelope of the other kind
 * flushes the current frame first, so order is kept.  A CREDIT owed never
 * rides in a plain frame.
 *
 * A shared listener (the peer side's receive socket, polyamorous): make a
 * receive-only link on it whose lo_admit picks, per frame, the link the
 * frame belongs to (by tp_link_pipe, the frame's nng pipe) and returns
 * it through *target.  That link's lo_open, lo_env, lo_bad and counters
 * then take the frame.  A send-side-only link simply never calls
 * tp_link_recv (its lo_env may be the receive link's).
 *
 * How the kinds use it:
 *   actor, actor process side (troupe_link.c): lc_block; lo_env queues
 *     deliveries and takes answers, lo_credit, lo_keep keeps a frame that
 *     holds deliveries, lo_bad is fatal.
 *   mailbox, broker side (br_actor.c): non-blocking with the ring;
 *     lo_admit checks the gate's pipe (TP_LINK_DROP), lo_env routes,
 *     lo_dirty puts the actor on the dirty list; tp_link_credit_owe for
 *     each placed message; deliveries with tp_link_put_raw while
 *     tp_link_room says so; tp_link_flush before the loop sleeps.
 *   peer (br_plink.c / br_peer.c): one tp_link per peer over its l_out
 *     socket (send side: put plain hellos with TP_LINK_PLAIN, the rest
 *     sealed by lo_seal = tp_sec_seal; TP_LINK_FULL from flush = blocked,
 *     retry on tick; a negative code = cannot seal, reset; tp_link_reset
 *     on link down, tp_link_rebind on a new stream; lc_max_credit =
 *     BR_LINK_WINDOW), and one receive-only tp_link over the listener
 *     whose lo_admit finds the peer's tp_link by tp_link_pipe (or keeps
 *     the listener for a stray or hello frame), lo_open = tp_sec_open
 *     when the picked link is up, lo_bad resets the link and closes the
 *     pipe, lo_credit wakes the senders waiting for credit.
 *
 * Ownership: the link owns the frame being built and the ring; a frame
 * handed to nng is nng's.  Received messages are the link's, and freed
 * after the last envelope unless lo_keep takes them.
 */
#ifndef TP_LINK_H
#define TP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include "tp_env.h"
#include "tp_err.h"

#define TP_LINK_MAX_ENV		256		/* default lc_max_env */
#define TP_LINK_MAX_BYTES	(256u << 10)	/* default lc_max_bytes */
#define TP_LINK_RING		8		/* default lc_ring */
/* Bytes reserved in front of a frame: batch head (<= 8) and the owed
 * CREDIT envelope (<= 24). */
#define TP_LINK_HEAD		40

/* Positive results: not errors. */
#define TP_LINK_FULL	1	/* put/flush: the ring is full; retry later */
#define TP_LINK_STOP	2	/* lo_env: stop reading this frame */
#define TP_LINK_DROP	3	/* lo_admit: frame refused, not counted bad */

/* Put flags. */
#define TP_LINK_PLAIN	0x1u	/* never sealed (a hello) */

struct tp_link;

struct tp_link_conf {
	uint32_t	 lc_max_env;	/* envelopes per frame; 0 = default */
	size_t		 lc_max_bytes;	/* bytes per frame; 0 = default */
	uint32_t	 lc_ring;	/* refused frames kept; 0 = default */
	uint32_t	 lc_max_credit;	/* the window: credit never exceeds it
					 * (a peer returning more is capped);
					 * 0 = UINT32_MAX */
	bool		 lc_block;	/* sends block (an actor process);
					 * else non-blocking with the ring */
	const struct tp_limits *lc_lim;	/* decode limits (borrowed: must
					 * outlive the link); NULL = default */
	struct tp_frame_cache *lc_cache; /* the receiving thread's decoded
					 * envelopes (borrowed, shared by its
					 * links); NULL = decode twice */
	bool		 lc_skim;	/* a router's link: frames are opened
					 * with tp_frame_open_skim (bodies
					 * bounded, not walked; e_raw set) */
};

struct tp_link_ops {
	const char	*lo_name;	/* "actor", "mailbox", "peer", ... */
	/*
	 * Per received frame, before decoding (the broker checks the
	 * mailbox pipe; a shared listener picks the link by pipe).  May set
	 * *target to another link, which then takes the frame.  Returns 0
	 * (go on), TP_LINK_DROP (refused; the link frees msg, counts nothing)
	 * or < 0 (a bad frame, counted on lk; err may be filled).
	 */
	int		(*lo_admit)(void *arg, struct tp_link *lk, nng_msg *msg,
			    struct tp_link **target, struct tp_err *err);
	/*
	 * Opens a frame (unseals): on 0 *msgp may be replaced by its
	 * plaintext (the hook frees the old one).  A hook that finds the
	 * frame plain (its link not up yet) returns 0 and leaves it.  < 0:
	 * bad frame (counted), *msgp untouched.
	 */
	int		(*lo_open)(void *arg, nng_msg **msgp, struct tp_err *err);
	/*
	 * Seals a built frame: on 0 *msgp is replaced by the sealed frame
	 * (the hook frees the plaintext); on < 0 *msgp is untouched and the
	 * link frees it and returns the code from flush.  Called once per
	 * frame, never again for a frame kept in the ring.
	 */
	int		(*lo_seal)(void *arg, nng_msg **msgp);
	/*
	 * One envelope of an admitted frame (env points into the frame,
	 * valid until the frame is freed).  Returns 0, TP_LINK_STOP (stop
	 * this frame; not bad) or < 0 (bad frame: counted, lo_bad called).
	 * Required.
	 */
	int		(*lo_env)(void *arg, const struct tp_env *env);
	/*
	 * A CREDIT envelope arrived and was added to the credit (body n, as
	 * sent: more than lc_max_credit allows was capped).
	 * When set, the link consumes CREDIT envelopes itself (a bad count
	 * is a bad frame); when NULL they go to lo_env like any other.
	 */
	void		(*lo_credit)(void *arg, uint64_t n);
	/* After the last envelope of a good frame: true when the hook took
	 * msg (its envelopes point into it); else the link frees it. */
	bool		(*lo_keep)(void *arg, nng_msg *msg);
	/* A frame was counted bad (code, err filled); msg is still valid
	 * and freed by the link after this returns. */
	void		(*lo_bad)(void *arg, nng_msg *msg, int code,
			    const struct tp_err *err);
	/* The link went from "nothing to send" to "something to send"
	 * (first put or credit owed since the last flush): the owner puts
	 * it on its dirty list and flushes it before sleeping. */
	void		(*lo_dirty)(void *arg);
};

struct tp_link_stats {
	uint64_t	 ls_frames_in;
	uint64_t	 ls_frames_out;
	uint64_t	 ls_envs_in;
	uint64_t	 ls_envs_out;
	uint64_t	 ls_bad_frames;
	uint64_t	 ls_full;	/* times the socket refused a frame */
};

/*
 * A new link over sock (borrowed: the caller opens and closes it) with
 * ops and arg (borrowed: must outlive the link), conf (copied; NULL =
 * defaults).  Returns NULL when out of memory.
 */
struct tp_link *tp_link_new(nng_socket sock, const struct tp_link_ops *ops,
    void *arg, const struct tp_link_conf *conf);

/* Frees the link, the frame being built and the ring (never sent). */
void tp_link_free(struct tp_link *lk);

/* Drops what is not sent (frame, ring), zeroes credit and credit owed;
 * counters stay.  For a link whose other side went away. */
void tp_link_reset(struct tp_link *lk);

/* tp_link_reset, then the link works over sock (a socket reopened). */
void tp_link_rebind(struct tp_link *lk, nng_socket sock);

/*
 * Packs env into the frame being built (env's buffers are copied).
 * flags: TP_LINK_PLAIN.  A frame at its limit leaves first.  Returns 0,
 * TP_LINK_FULL (ring full: env not taken), TP_ETOOBIG (env larger than
 * any frame), or the negative code of a failed send/seal/allocation.
 */
int tp_link_put(struct tp_link *lk, const struct tp_env *env,
    unsigned flags);

/* Like tp_link_put for an already-encoded envelope (len bytes of buf,
 * copied): a broker mailbox item. */
int tp_link_put_raw(struct tp_link *lk, const void *buf, size_t len,
    unsigned flags);

/* True when a put of len bytes would be taken (not TP_LINK_FULL). */
bool tp_link_room(const struct tp_link *lk, size_t len);

/*
 * Sends the ring, then the frame being built (with the CREDIT owed in
 * front).  Returns 0 (all sent), TP_LINK_FULL (frames wait in the ring:
 * flush again later), or a negative code (send error; seal failure: the
 * frame is dropped).
 */
int tp_link_flush(struct tp_link *lk);

/* Frames in the ring plus 1 when a frame is being built. */
uint32_t tp_link_pending(const struct tp_link *lk);

/*
 * Receives up to budget frames without blocking and hands each through
 * the hooks (see struct tp_link_ops).  Returns the number of frames
 * received (< budget: the socket is empty), or a negative TP_E* code
 * when the socket failed (closed).
 */
int tp_link_recv(struct tp_link *lk, int budget);

/*
 * Like tp_link_recv, but waits up to timeout_ms (< 0: forever) for the
 * first frame in nng's own blocking receive (a thread that has nothing
 * else to wait for: one wake-up, no pollable fd).  Returns the frames
 * taken (0: the time ran out) or a negative TP_E* code.  A tp_link_recv
 * may raise an error of the socket meanwhile (closed).
 */
int tp_link_recv_wait(struct tp_link *lk, int timeout_ms, int budget);

/* The pipe of the frame being received: valid inside the hooks. */
nng_pipe tp_link_pipe(const struct tp_link *lk);

/* The socket the link works over. */
nng_socket tp_link_socket(const struct tp_link *lk);

/* The owner's arg (a shared listener's lo_admit finds its links' args). */
void *tp_link_arg(const struct tp_link *lk);

/* Credit we may still spend (SEND/ASK on a windowed link). */
uint32_t tp_link_credit(const struct tp_link *lk);
/* Adds n to the credit, capped at lc_max_credit. */
void tp_link_credit_add(struct tp_link *lk, uint64_t n);
/* Spends one credit: true when there was one. */
bool tp_link_credit_take(struct tp_link *lk);
/* Owes the other side n more credits: a CREDIT goes first in the next
 * frame that is not plain; marks the link dirty (lo_dirty). */
void tp_link_credit_owe(struct tp_link *lk, uint32_t n);
/* Credit owed and not yet sent. */
uint32_t tp_link_credit_due(const struct tp_link *lk);

/* Copies the link's counters. */
void tp_link_stats(const struct tp_link *lk, struct tp_link_stats *out);

#endif

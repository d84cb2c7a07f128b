/*
 * br_durable — durable mailboxes in the broker: the glue between an
 * actor's mailbox (br_mbx) and its append-only log (br_dlog) in
 * node.data_dir/ACTOR/ (docs/RELIABILITY.md).
 *
 *   route: mbx_put OK --> br_dur_append (DATA record, it->mi_dseq)
 *            |                 |
 *            |   durable now (always, off) --> sender confirmed at once
 *            |   not yet (batch) --> waits in the actor's FIFO until the
 *            |                       group commit (timer, fsync_interval)
 *            |                       --> the confirm hook (routing's) confirms it
 *   actor ACK n --> br_dur_acked_from (ACK record lo..hi, compaction)
 *   start: dlog_open recovers the unacknowledged records into the
 *          mailbox (mbx_restore: flagged redelivered); a torn or corrupt
 *          tail is cut and logged.
 *
 * Only SENDs are logged: an ASK's asker lives in broker memory and could
 * not be answered after a broker crash anyway.  Loop thread only.
 */
#ifndef BR_DURABLE_H
#define BR_DURABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

struct br;
struct br_conf_actor;
struct br_dactor;
struct mbx;
struct mbx_item;

/* The data dir when node.data_dir is not set: /var/lib/troupe as root,
 * else $XDG_STATE_HOME/troupe, else ~/.local/state/troupe, else
 * /tmp/troupe-state-UID (zero-config nodes add /NAME). */
void br_dur_default_dir(char *d, size_t n);

/* Resolves node.data_dir (created only when a durable actor opens its
 * log) and the group-commit timer.  Returns 0 or -1 (logged). */
int br_dur_init(struct br *br);

/* Closes the timer; call after every actor's br_dur_detach. */
void br_dur_fini(struct br *br);

/*
 * An actor's log handle lives in *dp (NULL: not durable).  Opens the log
 * of the actor ca when ca says durable (and closes it when a reload made
 * the actor non-durable), recovering the unacknowledged records into mb,
 * its mailbox (borrowed for the life of the log).  Call after mbx_init.
 * Returns 0, or -1 when the log cannot be opened (logged): the actor
 * must not run non-durable silently.
 */
int br_dur_attach(struct br *br, struct br_dactor **dp,
    const struct br_conf_actor *ca, struct mbx *mb);

/* Syncs, confirms what waited for the disk, closes *dp's log (the files
 * stay) and sets *dp to NULL.  Fine for a non-durable actor. */
void br_dur_detach(struct br_dactor **dp);

/* Like br_dur_detach without confirming anyone (the broker is going
 * away: sockets and links are closed). */
void br_dur_close(struct br_dactor **dp);

/* True when d is a log: the actor's SENDs go through it. */
bool br_dur_is(const struct br_dactor *d);

/*
 * Logs it, a SEND just queued in d's actor's mailbox, setting it->mi_dseq.
 * Returns 1 when it is durable already (confirm the sender now), 0 when
 * it waits for the group commit (then the caller registers the sender
 * with br_dur_wait), or -1 when the append failed (logged; the caller
 * takes the item back out with mbx_unput and refuses it).
 */
int br_dur_append(struct br_dactor *d, struct mbx_item *it);

/*
 * Remembers that the sender (origin, its CLI pending slot pend or 0, its
 * id, the envelope flags) is confirmed once seq is durable: the loop then
 * calls the confirm hook with these.  Returns 0, or -1 when out of memory
 * (the caller confirms at once rather than never).
 */
int br_dur_wait(struct br_dactor *d, uint64_t seq, uint32_t origin,
    uint64_t pend, uint64_t id, uint32_t flags);

/* The actor acknowledged the first n in-flight items of list head
 * (borrowed: its mailbox's, or a pool instance's, whose log is the
 * pool's): marks their log records done.  Call before mbx_ack(n). */
void br_dur_acked_from(struct br_dactor *d, const struct mbx_item *head,
    uint32_t n);

/* Items that left a's mailbox without delivery (drop-oldest): their
 * records are done too.  list is mi_next-linked, still the caller's. */
void br_dur_dropped(struct br_dactor *d, const struct mbx_item *list);

/* Who confirms a sender once its record is durable (routing registers
 * it; ops in static storage): the values given to br_dur_wait. */
struct br_dur_ops {
	void	(*do_confirm)(void *arg, uint32_t origin, uint64_t pend,
		    uint64_t id, uint32_t flags);
};
void br_dur_set_ops(const struct br_dur_ops *ops, void *arg);

/* Adds "durable" and "log" to an actor map (2 pairs). */
void br_dur_pack(msgpack_packer *pk, const struct br_dactor *d);
#define BR_DUR_FIELDS 2

#endif

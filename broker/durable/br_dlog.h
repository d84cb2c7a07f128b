/*
 * br_dlog — the durable mailbox log: one append-only log per durable actor
 * in its own directory (node.data_dir/ACTOR/), made of segment files
 * seg-%016llu.log (numbered in creation order) of bounded size.
 *
 * A record, all integers little-endian:
 *
 *   +-------+-------+-------+--------+------+----------------+----------+
 *   | magic | len   | seq   | type   | zero | payload[len]   | BLAKE2b  |
 *   | u32   | u32   | u64   | u16    | u16  |                | 16 bytes |
 *   +-------+-------+-------+--------+------+----------------+----------+
 *
 * The checksum (libsodium crypto_generichash, 16 bytes) covers header and
 * payload.  Types:
 *
 *   SEG   first record of every segment; seq = the next data seq at
 *         creation, so the numbering survives compaction of everything.
 *   DATA  one message (the encoded envelope bytes); seq = base of the
 *         segment + index: data seqs are dense within a segment and only
 *         grow across segments.
 *   ACK   payload = u64 lo; seq = hi: data records lo..hi (inclusive) were
 *         acknowledged by the actor (or dropped) and must not come back.
 *
 * Recovery (dlog_open) reads every segment in order and verifies every
 * record; at the first torn or corrupt one it truncates that segment there
 * (ftruncate + fsync), deletes every later segment (their records may
 * depend on the lost one, and the log must stay a prefix of what was
 * written), and reports it.  Then it hands every unacknowledged data
 * record, in seq order, to a callback: the broker re-queues them flagged
 * redelivered.
 *
 * Compaction: the oldest segment is deleted once all its data records are
 * acknowledged (never the segment being written), so disk use is bounded
 * by the unacknowledged records plus one segment.  Segments are deleted in
 * order only, because a segment may hold the ACK records of an older one.
 *
 * Durability, by policy: ALWAYS syncs (fdatasync) in every dlog_append;
 * BATCH syncs in dlog_sync, which the broker calls from its loop timer
 * every batch_ms (group commit); OFF never syncs.  dlog_durable() tells
 * which seqs are on disk by the policy, so the broker acknowledges a
 * sender only then.  Creating or deleting a segment also syncs the
 * directory (except under OFF).
 *
 * Single-threaded: only the event-loop thread calls it.  Plain POSIX I/O.
 */
#ifndef BR_DLOG_H
#define BR_DLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tp_err.h"

#define DLOG_MAGIC		0x474c4454u	/* "TDLG" on disk */
#define DLOG_HDR_LEN		20u
#define DLOG_SUM_LEN		16u
#define DLOG_OVERHEAD		(DLOG_HDR_LEN + DLOG_SUM_LEN)
#define DLOG_SEG_BYTES		(4u << 20)	/* default segment size */
#define DLOG_MAX_RECORD		((1u << 20) + 4096u)	/* default payload max */
#define DLOG_MAX_SEGS		65536u		/* segment files per log */

enum dlog_rtype { DLOG_R_SEG = 1, DLOG_R_DATA = 2, DLOG_R_ACK = 3 };

enum dlog_fsync { DLOG_FSYNC_ALWAYS, DLOG_FSYNC_BATCH, DLOG_FSYNC_OFF };

/* Replaces fdatasync/fsync (tests count calls, inject failures). */
typedef int (*dlog_syncfn)(int fd, void *arg);

/* Receives one unacknowledged data record during recovery, in seq order.
 * bytes are valid during the call only.  Returns 0, or non-zero to stop
 * the recovery (dlog_open then fails with TP_EINVAL). */
typedef int (*dlog_recoverfn)(uint64_t seq, const uint8_t *bytes,
    size_t len, void *arg);

struct dlog_opts {
	enum dlog_fsync	 do_fsync;	/* default (zeroed) = ALWAYS */
	uint64_t	 do_seg_bytes;	/* 0 = DLOG_SEG_BYTES; min 4 KiB */
	uint32_t	 do_max_record;	/* payload max, 0 = DLOG_MAX_RECORD */
	dlog_recoverfn	 do_recover;	/* NULL: unacked records not handed */
	void		*do_recover_arg;
	dlog_syncfn	 do_sync;	/* NULL = fdatasync / fsync */
	void		*do_sync_arg;
};

/* What recovery found; filled by dlog_open even when it fails late. */
struct dlog_report {
	uint32_t	 dr_segments;	/* segment files read */
	uint64_t	 dr_records;	/* valid data records read */
	uint64_t	 dr_acked;	/* of which acknowledged */
	uint64_t	 dr_unacked;	/* handed to do_recover */
	uint64_t	 dr_ack_records;
	bool		 dr_truncated;	/* a torn or corrupt record was cut */
	uint64_t	 dr_trunc_segment;	/* its segment number */
	uint64_t	 dr_trunc_offset;	/* byte offset in that segment */
	uint64_t	 dr_trunc_bytes;	/* bytes cut, later segments too */
	uint32_t	 dr_segs_removed;	/* later segments deleted */
	char		 dr_reason[96];	/* "bad checksum", "torn record"... */
};

/* Counters since dlog_open. */
struct dlog_stats {
	uint64_t	 ds_appended;
	uint64_t	 ds_acked;
	uint64_t	 ds_syncs;	/* sync calls made (files and dir) */
	uint64_t	 ds_segs_created;
	uint64_t	 ds_segs_deleted;
	uint64_t	 ds_bytes;	/* bytes in live segment files */
	uint32_t	 ds_segments;	/* live segment files */
};

struct dlog;

/*
 * Opens (creating dir 0700 if missing) the log in dir, recovers it as
 * described above, calls opts->do_recover for every unacknowledged data
 * record, and opens a segment for appends.  report (may be NULL) says
 * what was found and cut.  On success returns 0 and *out is a log the
 * caller closes with dlog_close.  Else a negative TP_E* code, err says
 * why, *out is untouched.  opts NULL means the defaults.
 */
int dlog_open(const char *dir, const struct dlog_opts *opts,
    struct dlog **out, struct dlog_report *report, struct tp_err *err);

/*
 * Appends one data record holding a copy of len bytes; *seq (may be NULL)
 * gets its seq.  Under ALWAYS it is on disk when this returns 0.  Returns
 * 0, TP_ETOOBIG (len over max_record) or TP_ESYS (the log is unchanged:
 * a partial write is cut off again).
 */
int dlog_append(struct dlog *log, const void *bytes, size_t len,
    uint64_t *seq, struct tp_err *err);

/*
 * Makes every appended record durable (BATCH: one fdatasync for all of
 * them, group commit; ALWAYS and OFF: nothing to do).  *durable (may be
 * NULL) gets dlog_durable() afterwards.  Returns 0 or TP_ESYS.
 */
int dlog_sync(struct dlog *log, uint64_t *durable, struct tp_err *err);

/* True when records were appended since the last sync (BATCH). */
bool dlog_sync_pending(const struct dlog *log);

/* The highest seq that is durable by the policy (every seq up to it is):
 * 0 when none.  Under OFF every appended record counts as durable. */
uint64_t dlog_durable(const struct dlog *log);

/* The seq the next dlog_append will return. */
uint64_t dlog_next_seq(const struct dlog *log);

/*
 * Marks data records lo..hi (inclusive) acknowledged: they will not be
 * recovered again, and segments holding only acknowledged records are
 * deleted (oldest first).  Seqs that do not exist (compacted away, not
 * yet appended) are ignored; acking twice is harmless.  The ACK record
 * follows the policy like data (BATCH: durable at the next dlog_sync).
 * Returns 0, TP_EINVAL (lo > hi) or TP_ESYS.
 */
int dlog_ack(struct dlog *log, uint64_t lo, uint64_t hi, struct tp_err *err);

/* Counters; valid as long as log. */
const struct dlog_stats *dlog_stats(const struct dlog *log);

/* Syncs (unless OFF), closes and frees the log.  NULL is fine. */
void dlog_close(struct dlog *log);

const char *dlog_fsync_name(enum dlog_fsync);
/* Parses "always", "batch", "off"; returns 0 or -1. */
int dlog_fsync_parse(const char *s, enum dlog_fsync *out);

#endif

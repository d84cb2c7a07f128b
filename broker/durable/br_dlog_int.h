/*
 * br_dlog_int — what br_dlog.c (appends, acks, open/close) and
 * br_dlogscan.c (recovery at open) share: the log's in-memory layout and
 * the record and segment helpers.  Not for other modules: use br_dlog.h.
 */
#ifndef BR_DLOG_INT_H
#define BR_DLOG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "br_dlog.h"

#define DLOG_NAME_LEN	(4 + 16 + 4)	/* seg- %016llu .log */
#define DLOG_MAX_SEQ	(1ull << 62)	/* far off; keeps seq math exact */

/* One segment file as recovery or appends left it in memory. */
struct dlog_seg {
	uint64_t	 sg_id;		/* file number */
	uint64_t	 sg_base;	/* seq of its first data record */
	uint64_t	 sg_nrec;	/* data records: base .. base+nrec-1 */
	uint64_t	 sg_nacked;
	uint64_t	 sg_size;	/* valid bytes */
	uint8_t		*sg_bits;	/* acked bitmap, by seq - base */
	size_t		 sg_bitcap;	/* bytes */
};

/* An open log: the definition behind br_dlog.h's opaque type. */
struct dlog {
	char		*dl_dir;
	int		 dl_dirfd;
	int		 dl_fd;		/* last segment, for appends */
	struct dlog_opts dl_opts;
	struct dlog_seg	*dl_segs;
	size_t		 dl_nsegs;
	size_t		 dl_capsegs;
	uint64_t	 dl_next_seq;
	uint64_t	 dl_next_id;	/* next segment file number */
	uint64_t	 dl_durable;
	bool		 dl_dirty;	/* written since the last sync */
	uint8_t		*dl_buf;	/* record assembly / segment reads */
	size_t		 dl_bufcap;
	struct dlog_stats dl_stats;
};

/* One parsed record; payload points into the caller's buffer. */
struct dlog_rec {
	uint32_t	 r_len;
	uint64_t	 r_seq;
	uint16_t	 r_type;
	const uint8_t	*r_payload;
};

/* Reads an n-byte little-endian unsigned integer at p. */
uint64_t dlog_get_le(const uint8_t *p, int n);

/* Writes the file name of segment id ("seg-%016llu.log") into buf. */
void dlog_seg_name(char buf[DLOG_NAME_LEN + 1], uint64_t id);

/* Sets err to "DIR/SEGMENT: what: strerror(errno)" and returns TP_ESYS;
 * call right after the failing system call. */
int dlog_sys_err(struct tp_err *err, const struct dlog *log,
    const char *what, uint64_t id);

/* Syncs fd (fsync for a directory, else fdatasync; or the do_sync hook)
 * and counts it.  Returns 0, or nonzero with errno set. */
int dlog_fd_sync(struct dlog *log, int fd, bool dir);

/* Grows log->dl_buf to at least n bytes.  Returns 0 or TP_ENOMEM (the
 * old buffer stays). */
int dlog_buf_reserve(struct dlog *log, size_t n);

/*
 * Parses and verifies one record at p (n bytes left).  Returns 0 with *r
 * filled (r_payload points into p, which the caller owns), or -1 with
 * *why (a static string) set: the record is torn or corrupt.
 */
int dlog_rec_parse(const struct dlog *log, const uint8_t *p, size_t n,
    struct dlog_rec *r, const char **why);

/* The newest segment (the one appended to), or NULL if there is none. */
struct dlog_seg *dlog_seg_last(struct dlog *log);

/* Adds an empty segment id after the others.  Returns 0 or TP_ENOMEM. */
int dlog_seg_push(struct dlog *log, uint64_t id);

/* Accounts one more data record in sg (seq sg_base + sg_nrec).  Returns
 * 0 or TP_ENOMEM. */
int dlog_seg_add_rec(struct dlog_seg *sg);

/* Marks seqs lo..hi acknowledged in every segment; returns how many were
 * not acknowledged before. */
uint64_t dlog_acks_apply(struct dlog *log, uint64_t lo, uint64_t hi);

/* True if seq (within sg's range) is acknowledged. */
bool dlog_seg_acked(const struct dlog_seg *sg, uint64_t seq);

/* Forgets segment k (frees its bitmap); the file is not touched. */
void dlog_seg_drop(struct dlog *log, size_t k);

/*
 * Recovery, for dlog_open on a fresh log: reads and verifies every
 * segment in the directory, cuts (truncates or deletes) from the first
 * bad record on, then hands each unacknowledged data record to
 * do_recover.  Fills *rep.  Returns 0, or a TP_E* code with err set
 * (the log is half-built: the caller closes it).
 */
int dlog_recover(struct dlog *log, struct dlog_report *rep,
    struct tp_err *err);

#endif

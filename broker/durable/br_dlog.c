/*
 * br_dlog — durable mailbox log (see br_dlog.h for the format).
 *
 * In memory a log is the list of its live segments, oldest first; each
 * knows its data seq range and which of those seqs are acknowledged (a
 * bitmap of at most seg_bytes / 36 bits).  The last segment is the one
 * appended to.  Recovery (scanning the segments at open) is in
 * br_dlogscan.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "br_dlog.h"
#include "br_dlog_int.h"

#define DLOG_MIN_SEG	4096u
#define DLOG_MAX_SEG	(1ull << 30)
#define DLOG_MAX_REC	(64u << 20)

/* ---- little helpers ---- */

static void
put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t
dlog_get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

void
dlog_seg_name(char buf[DLOG_NAME_LEN + 1], uint64_t id)
{
	snprintf(buf, DLOG_NAME_LEN + 1, "seg-%016" PRIu64 ".log", id);
}

int
dlog_sys_err(struct tp_err *err, const struct dlog *log, const char *what,
    uint64_t id)
{
	return tp_err_set(err, TP_ESYS, "%s/seg-%016" PRIu64 ".log: %s: %s",
	    log->dl_dir, id, what, strerror(errno));
}

int
dlog_fd_sync(struct dlog *log, int fd, bool dir)
{
	int rv;

	log->dl_stats.ds_syncs++;
	if (log->dl_opts.do_sync != NULL)
		return log->dl_opts.do_sync(fd, log->dl_opts.do_sync_arg);
	do
		rv = dir ? fsync(fd) : fdatasync(fd);
	while (rv != 0 && errno == EINTR);
	return rv;
}

/* Syncs the directory after a create or unlink, unless the policy is OFF. */
static int
dir_sync(struct dlog *log)
{
	if (log->dl_opts.do_fsync == DLOG_FSYNC_OFF)
		return 0;
	return dlog_fd_sync(log, log->dl_dirfd, true);
}

int
dlog_buf_reserve(struct dlog *log, size_t n)
{
	uint8_t *p;

	if (n <= log->dl_bufcap)
		return 0;
	if ((p = realloc(log->dl_buf, n)) == NULL)
		return TP_ENOMEM;
	log->dl_buf = p;
	log->dl_bufcap = n;
	return 0;
}

static void
checksum(uint8_t out[DLOG_SUM_LEN], const uint8_t *p, size_t n)
{
	crypto_generichash(out, DLOG_SUM_LEN, p, n, NULL, 0);
}

/* Writes the record into dl_buf; returns its total length. */
static size_t
rec_build(struct dlog *log, uint16_t type, uint64_t seq, const void *payload,
    uint32_t len)
{
	uint8_t *p = log->dl_buf;

	put_le32(p, DLOG_MAGIC);
	put_le32(p + 4, len);
	put_le64(p + 8, seq);
	p[16] = (uint8_t)type;
	p[17] = (uint8_t)(type >> 8);
	p[18] = p[19] = 0;
	if (len > 0)
		memcpy(p + DLOG_HDR_LEN, payload, len);
	checksum(p + DLOG_HDR_LEN + len, p, DLOG_HDR_LEN + len);
	return DLOG_OVERHEAD + len;
}

/*
 * Parses and verifies one record at p (n bytes left).  Returns 0, or -1
 * with *why set: the record is torn or corrupt.
 */
int
dlog_rec_parse(const struct dlog *log, const uint8_t *p, size_t n,
    struct dlog_rec *r, const char **why)
{
	uint8_t sum[DLOG_SUM_LEN];

	if (n < DLOG_HDR_LEN)
		return *why = "torn header", -1;
	if (dlog_get_le(p, 4) != DLOG_MAGIC || p[18] != 0 || p[19] != 0)
		return *why = "bad magic", -1;
	r->r_len = (uint32_t)dlog_get_le(p + 4, 4);
	r->r_seq = dlog_get_le(p + 8, 8);
	r->r_type = (uint16_t)dlog_get_le(p + 16, 2);
	if (r->r_len > log->dl_opts.do_max_record)
		return *why = "length over the limit", -1;
	if (n - DLOG_HDR_LEN < (size_t)r->r_len + DLOG_SUM_LEN)
		return *why = "torn record", -1;
	checksum(sum, p, DLOG_HDR_LEN + r->r_len);
	if (sodium_memcmp(sum, p + DLOG_HDR_LEN + r->r_len, DLOG_SUM_LEN) != 0)
		return *why = "bad checksum", -1;
	r->r_payload = p + DLOG_HDR_LEN;
	return 0;
}

/* ---- segments and acks ---- */

struct dlog_seg *
dlog_seg_last(struct dlog *log)
{
	return log->dl_nsegs ? &log->dl_segs[log->dl_nsegs - 1] : NULL;
}

int
dlog_seg_push(struct dlog *log, uint64_t id)
{
	struct dlog_seg *s;
	size_t cap;

	if (log->dl_nsegs == log->dl_capsegs) {
		cap = log->dl_capsegs ? log->dl_capsegs * 2 : 8;
		if ((s = realloc(log->dl_segs, cap * sizeof(*s))) == NULL)
			return TP_ENOMEM;
		log->dl_segs = s;
		log->dl_capsegs = cap;
	}
	s = &log->dl_segs[log->dl_nsegs++];
	memset(s, 0, sizeof(*s));
	s->sg_id = id;
	log->dl_stats.ds_segments = (uint32_t)log->dl_nsegs;
	return 0;
}

/* Accounts one more data record (its seq is sg_base + sg_nrec). */
int
dlog_seg_add_rec(struct dlog_seg *sg)
{
	size_t need = (size_t)(sg->sg_nrec / 8 + 1), cap;
	uint8_t *p;

	if (need > sg->sg_bitcap) {
		cap = sg->sg_bitcap ? sg->sg_bitcap * 2 : 64;
		if ((p = realloc(sg->sg_bits, cap)) == NULL)
			return TP_ENOMEM;
		memset(p + sg->sg_bitcap, 0, cap - sg->sg_bitcap);
		sg->sg_bits = p;
		sg->sg_bitcap = cap;
	}
	sg->sg_nrec++;
	return 0;
}

/* Marks lo..hi acked in every segment; returns how many were new. */
uint64_t
dlog_acks_apply(struct dlog *log, uint64_t lo, uint64_t hi)
{
	uint64_t n = 0, a, b, i;
	struct dlog_seg *sg;

	for (size_t k = 0; k < log->dl_nsegs; k++) {
		sg = &log->dl_segs[k];
		if (sg->sg_nrec == 0 || hi < sg->sg_base ||
		    lo > sg->sg_base + sg->sg_nrec - 1)
			continue;
		a = lo > sg->sg_base ? lo - sg->sg_base : 0;
		b = hi - sg->sg_base < sg->sg_nrec ? hi - sg->sg_base :
		    sg->sg_nrec - 1;
		for (i = a; i <= b; i++) {
			if (sg->sg_bits[i / 8] & (1u << (i % 8)))
				continue;
			sg->sg_bits[i / 8] |= (uint8_t)(1u << (i % 8));
			sg->sg_nacked++;
			n++;
		}
	}
	return n;
}

bool
dlog_seg_acked(const struct dlog_seg *sg, uint64_t seq)
{
	uint64_t i = seq - sg->sg_base;

	return (sg->sg_bits[i / 8] & (1u << (i % 8))) != 0;
}

void
dlog_seg_drop(struct dlog *log, size_t k)
{
	struct dlog_seg *sg = &log->dl_segs[k];

	log->dl_stats.ds_bytes -= sg->sg_size;
	free(sg->sg_bits);
	memmove(sg, sg + 1, (log->dl_nsegs - k - 1) * sizeof(*sg));
	log->dl_nsegs--;
	log->dl_stats.ds_segments = (uint32_t)log->dl_nsegs;
}

static int
seg_unlink(struct dlog *log, size_t k, struct tp_err *err)
{
	char name[DLOG_NAME_LEN + 1];
	uint64_t id = log->dl_segs[k].sg_id;

	dlog_seg_name(name, id);
	if (unlinkat(log->dl_dirfd, name, 0) != 0 && errno != ENOENT)
		return dlog_sys_err(err, log, "unlink", id);
	dlog_seg_drop(log, k);
	log->dl_stats.ds_segs_deleted++;
	return 0;
}

/* Deletes the oldest segments while all their data is acknowledged; the
 * last one stays (appends go there). */
static int
compact(struct dlog *log, struct tp_err *err)
{
	bool any = false;
	int rv;

	while (log->dl_nsegs > 1 &&
	    log->dl_segs[0].sg_nacked == log->dl_segs[0].sg_nrec) {
		if ((rv = seg_unlink(log, 0, err)) != 0)
			return rv;
		any = true;
	}
	if (any && dir_sync(log) != 0)
		return tp_err_set(err, TP_ESYS, "%s: sync: %s", log->dl_dir,
		    strerror(errno));
	return 0;
}

/* ---- writing ---- */

static int
write_all(int fd, const uint8_t *p, size_t n, off_t off)
{
	ssize_t w;

	while (n > 0) {
		w = pwrite(fd, p, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/*
 * Writes the record in dl_buf at the end of the last segment.  On failure
 * the segment is cut back to where it was, so the log stays whole.
 */
static int
seg_write(struct dlog *log, size_t n, struct tp_err *err)
{
	struct dlog_seg *sg = dlog_seg_last(log);
	int saved;

	if (write_all(log->dl_fd, log->dl_buf, n, (off_t)sg->sg_size) != 0) {
		saved = errno;
		if (ftruncate(log->dl_fd, (off_t)sg->sg_size) != 0)
			(void)0;	/* recovery cuts the torn tail */
		errno = saved;
		return dlog_sys_err(err, log, "write", sg->sg_id);
	}
	sg->sg_size += n;
	log->dl_stats.ds_bytes += n;
	log->dl_dirty = true;
	return 0;
}

/* Under ALWAYS, syncs what seg_write wrote; on failure cuts it off. */
static int
write_sync(struct dlog *log, size_t n, struct tp_err *err)
{
	struct dlog_seg *sg = dlog_seg_last(log);
	int saved;

	if (log->dl_opts.do_fsync != DLOG_FSYNC_ALWAYS)
		return 0;
	if (dlog_fd_sync(log, log->dl_fd, false) != 0) {
		saved = errno;
		sg->sg_size -= n;
		log->dl_stats.ds_bytes -= n;
		if (ftruncate(log->dl_fd, (off_t)sg->sg_size) != 0)
			(void)0;
		errno = saved;
		return dlog_sys_err(err, log, "fdatasync", sg->sg_id);
	}
	log->dl_dirty = false;
	return 0;
}

static void
mark_durable(struct dlog *log)
{
	if (!log->dl_dirty || log->dl_opts.do_fsync == DLOG_FSYNC_OFF)
		log->dl_durable = log->dl_next_seq - 1;
}

/* Syncs the last segment when it has unsynced records, unless OFF. */
static int
sync_dirty(struct dlog *log, struct tp_err *err)
{
	if (!log->dl_dirty || log->dl_opts.do_fsync == DLOG_FSYNC_OFF)
		return 0;
	if (dlog_fd_sync(log, log->dl_fd, false) != 0)
		return dlog_sys_err(err, log, "fdatasync",
		    dlog_seg_last(log)->sg_id);
	log->dl_dirty = false;
	return 0;
}

/* Syncs and closes the last segment's fd, unless OFF. */
static int
seg_close_fd(struct dlog *log, struct tp_err *err)
{
	int rv;

	if (log->dl_fd < 0)
		return 0;
	rv = sync_dirty(log, err);
	close(log->dl_fd);
	log->dl_fd = -1;
	return rv;
}

/* Creates the next segment file, starting with its SEG record. */
static int
seg_create(struct dlog *log, struct tp_err *err)
{
	char name[DLOG_NAME_LEN + 1];
	uint64_t id = log->dl_next_id;
	size_t n;
	int rv;

	if ((rv = seg_close_fd(log, err)) != 0)
		return rv;
	mark_durable(log);
	dlog_seg_name(name, id);
	log->dl_fd = openat(log->dl_dirfd, name, O_WRONLY | O_CREAT |
	    O_TRUNC | O_CLOEXEC, 0600);
	if (log->dl_fd < 0)
		return dlog_sys_err(err, log, "create", id);
	if ((rv = dlog_seg_push(log, id)) != 0 ||
	    (rv = dlog_buf_reserve(log, DLOG_OVERHEAD)) != 0)
		return tp_err_set(err, rv, "out of memory");
	log->dl_next_id++;
	log->dl_stats.ds_segs_created++;
	dlog_seg_last(log)->sg_base = log->dl_next_seq;
	n = rec_build(log, DLOG_R_SEG, log->dl_next_seq, NULL, 0);
	if ((rv = seg_write(log, n, err)) != 0 ||
	    (rv = write_sync(log, n, err)) != 0)
		return rv;
	if (dir_sync(log) != 0)
		return dlog_sys_err(err, log, "sync dir", id);
	return 0;
}

/* Appends the record built in dl_buf (n bytes), rolling first when the
 * last segment would grow over seg_bytes. */
static int
append_rec(struct dlog *log, size_t n, struct tp_err *err)
{
	struct dlog_seg *sg = dlog_seg_last(log);
	int rv;

	if (sg->sg_size > DLOG_OVERHEAD &&
	    sg->sg_size + n > log->dl_opts.do_seg_bytes) {
		/* seg_create clobbers dl_buf with the SEG record: keep the
		 * pending one past it. */
		if ((rv = dlog_buf_reserve(log, n + DLOG_OVERHEAD)) != 0)
			return tp_err_set(err, rv, "out of memory");
		memmove(log->dl_buf + DLOG_OVERHEAD, log->dl_buf, n);
		if ((rv = seg_create(log, err)) != 0)
			return rv;
		memmove(log->dl_buf, log->dl_buf + DLOG_OVERHEAD, n);
	}
	if ((rv = seg_write(log, n, err)) != 0)
		return rv;
	return write_sync(log, n, err);
}

int
dlog_append(struct dlog *log, const void *bytes, size_t len, uint64_t *seq,
    struct tp_err *err)
{
	size_t n;
	int rv;

	if (len > log->dl_opts.do_max_record)
		return tp_err_set(err, TP_ETOOBIG, "record of %zu bytes over "
		    "the limit %" PRIu32, len, log->dl_opts.do_max_record);
	if (log->dl_next_seq >= DLOG_MAX_SEQ)
		return tp_err_set(err, TP_ETOOBIG, "sequence exhausted");
	if ((rv = dlog_buf_reserve(log, len + DLOG_OVERHEAD)) != 0)
		return tp_err_set(err, rv, "out of memory");
	n = rec_build(log, DLOG_R_DATA, log->dl_next_seq, bytes,
	    (uint32_t)len);
	if ((rv = append_rec(log, n, err)) != 0)
		return rv;
	if ((rv = dlog_seg_add_rec(dlog_seg_last(log))) != 0)
		return tp_err_set(err, rv, "out of memory");
	if (seq != NULL)
		*seq = log->dl_next_seq;
	log->dl_next_seq++;
	log->dl_stats.ds_appended++;
	mark_durable(log);
	return 0;
}

int
dlog_ack(struct dlog *log, uint64_t lo, uint64_t hi, struct tp_err *err)
{
	uint8_t p[8];
	size_t n;
	int rv;

	if (lo > hi || lo == 0)
		return tp_err_set(err, TP_EINVAL, "bad ack range %" PRIu64
		    "..%" PRIu64, lo, hi);
	if (hi >= log->dl_next_seq)
		hi = log->dl_next_seq - 1;
	if (lo > hi)
		return 0;
	if ((rv = dlog_buf_reserve(log, sizeof(p) + DLOG_OVERHEAD)) != 0)
		return tp_err_set(err, rv, "out of memory");
	put_le64(p, lo);
	n = rec_build(log, DLOG_R_ACK, hi, p, sizeof(p));
	if ((rv = append_rec(log, n, err)) != 0)
		return rv;
	log->dl_stats.ds_acked += dlog_acks_apply(log, lo, hi);
	return compact(log, err);
}

int
dlog_sync(struct dlog *log, uint64_t *durable, struct tp_err *err)
{
	int rv = sync_dirty(log, err);

	mark_durable(log);
	if (durable != NULL)
		*durable = log->dl_durable;
	return rv;
}

bool
dlog_sync_pending(const struct dlog *log)
{
	return log->dl_dirty && log->dl_opts.do_fsync != DLOG_FSYNC_OFF;
}

uint64_t
dlog_durable(const struct dlog *log)
{
	return log->dl_durable;
}

uint64_t
dlog_next_seq(const struct dlog *log)
{
	return log->dl_next_seq;
}

const struct dlog_stats *
dlog_stats(const struct dlog *log)
{
	return &log->dl_stats;
}

/* ---- open and close ---- */

/* Reopens the last segment for appends, or starts a new one. */
static int
open_tail(struct dlog *log, struct tp_err *err)
{
	char name[DLOG_NAME_LEN + 1];
	struct dlog_seg *sg = dlog_seg_last(log);

	if (sg == NULL || sg->sg_size >= log->dl_opts.do_seg_bytes)
		return seg_create(log, err);
	dlog_seg_name(name, sg->sg_id);
	log->dl_fd = openat(log->dl_dirfd, name, O_WRONLY | O_CLOEXEC);
	if (log->dl_fd < 0)
		return dlog_sys_err(err, log, "open", sg->sg_id);
	return 0;
}

static int
opts_fill(struct dlog_opts *o, const struct dlog_opts *in,
    struct tp_err *err)
{
	if (in != NULL)
		*o = *in;
	else
		memset(o, 0, sizeof(*o));
	if (o->do_seg_bytes == 0)
		o->do_seg_bytes = DLOG_SEG_BYTES;
	if (o->do_max_record == 0)
		o->do_max_record = DLOG_MAX_RECORD;
	if (o->do_seg_bytes < DLOG_MIN_SEG || o->do_seg_bytes > DLOG_MAX_SEG ||
	    o->do_max_record > DLOG_MAX_REC || (unsigned)o->do_fsync >
	    DLOG_FSYNC_OFF)
		return tp_err_set(err, TP_EINVAL, "bad durable log options");
	return 0;
}

static int
log_new(const char *dir, const struct dlog_opts *opts, struct dlog **out,
    struct tp_err *err)
{
	struct dlog *log;
	int rv;

	if (sodium_init() < 0)
		return tp_err_set(err, TP_ESYS, "libsodium init failed");
	if ((log = calloc(1, sizeof(*log))) == NULL ||
	    (log->dl_dir = strdup(dir)) == NULL) {
		free(log);
		return tp_err_set(err, TP_ENOMEM, "out of memory");
	}
	log->dl_fd = log->dl_dirfd = -1;
	log->dl_next_seq = log->dl_next_id = 1;
	*out = log;
	if ((rv = opts_fill(&log->dl_opts, opts, err)) != 0)
		return rv;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return tp_err_set(err, TP_ESYS, "%s: mkdir: %s", dir,
		    strerror(errno));
	log->dl_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (log->dl_dirfd < 0)
		return tp_err_set(err, TP_ESYS, "%s: %s", dir,
		    strerror(errno));
	return 0;
}

int
dlog_open(const char *dir, const struct dlog_opts *opts, struct dlog **out,
    struct dlog_report *report, struct tp_err *err)
{
	struct dlog_report local;
	struct dlog *log = NULL;
	int rv;

	if (report == NULL)
		report = &local;
	memset(report, 0, sizeof(*report));
	if ((rv = log_new(dir, opts, &log, err)) != 0 ||
	    (rv = dlog_recover(log, report, err)) != 0)
		goto out_close;
	if ((rv = open_tail(log, err)) != 0 || (rv = compact(log, err)) != 0)
		goto out_close;
	log->dl_durable = log->dl_next_seq - 1;
	*out = log;
	return 0;
out_close:
	dlog_close(log);
	return rv;
}

void
dlog_close(struct dlog *log)
{
	if (log == NULL)
		return;
	(void)seg_close_fd(log, NULL);
	if (log->dl_dirfd >= 0)
		close(log->dl_dirfd);
	for (size_t k = 0; k < log->dl_nsegs; k++)
		free(log->dl_segs[k].sg_bits);
	free(log->dl_segs);
	free(log->dl_buf);
	free(log->dl_dir);
	free(log);
}

const char *
dlog_fsync_name(enum dlog_fsync f)
{
	switch (f) {
	case DLOG_FSYNC_ALWAYS:
		return "always";
	case DLOG_FSYNC_BATCH:
		return "batch";
	case DLOG_FSYNC_OFF:
		return "off";
	}
	return "?";
}

int
dlog_fsync_parse(const char *s, enum dlog_fsync *out)
{
	static const enum dlog_fsync all[] = { DLOG_FSYNC_ALWAYS,
	    DLOG_FSYNC_BATCH, DLOG_FSYNC_OFF };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, dlog_fsync_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return -1;
}

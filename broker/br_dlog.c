/*
 * br_dlog — durable mailbox log (see br_dlog.h for the format).
 *
 * In memory a log is the list of its live segments, oldest first; each
 * knows its data seq range and which of those seqs are acknowledged (a
 * bitmap of at most seg_bytes / 36 bits).  The last segment is the one
 * appended to.
 */
#include <dirent.h>
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

#define DLOG_NAME_LEN	(4 + 16 + 4)	/* seg- %016llu .log */
#define DLOG_MIN_SEG	4096u
#define DLOG_MAX_SEG	(1ull << 30)
#define DLOG_MAX_REC	(64u << 20)
#define DLOG_MAX_SEQ	(1ull << 62)	/* far off; keeps seq math exact */

struct dlog_seg {
	uint64_t	 sg_id;		/* file number */
	uint64_t	 sg_base;	/* seq of its first data record */
	uint64_t	 sg_nrec;	/* data records: base .. base+nrec-1 */
	uint64_t	 sg_nacked;
	uint64_t	 sg_size;	/* valid bytes */
	uint8_t		*sg_bits;	/* acked bitmap, by seq - base */
	size_t		 sg_bitcap;	/* bytes */
};

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

static uint64_t
get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
seg_name(char buf[DLOG_NAME_LEN + 1], uint64_t id)
{
	snprintf(buf, DLOG_NAME_LEN + 1, "seg-%016" PRIu64 ".log", id);
}

static int
sys_err(struct tp_err *err, const struct dlog *log, const char *what,
    uint64_t id)
{
	return tp_err_set(err, TP_ESYS, "%s/seg-%016" PRIu64 ".log: %s: %s",
	    log->dl_dir, id, what, strerror(errno));
}

static int
do_sync(struct dlog *log, int fd, bool dir)
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
	return do_sync(log, log->dl_dirfd, true);
}

static int
buf_reserve(struct dlog *log, size_t n)
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
static int
rec_parse(const struct dlog *log, const uint8_t *p, size_t n,
    struct dlog_rec *r, const char **why)
{
	uint8_t sum[DLOG_SUM_LEN];

	if (n < DLOG_HDR_LEN)
		return *why = "torn header", -1;
	if (get_le(p, 4) != DLOG_MAGIC || p[18] != 0 || p[19] != 0)
		return *why = "bad magic", -1;
	r->r_len = (uint32_t)get_le(p + 4, 4);
	r->r_seq = get_le(p + 8, 8);
	r->r_type = (uint16_t)get_le(p + 16, 2);
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

static struct dlog_seg *
seg_last(struct dlog *log)
{
	return log->dl_nsegs ? &log->dl_segs[log->dl_nsegs - 1] : NULL;
}

static int
seg_push(struct dlog *log, uint64_t id)
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
static int
seg_add_rec(struct dlog_seg *sg)
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
static uint64_t
acks_apply(struct dlog *log, uint64_t lo, uint64_t hi)
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

static bool
seg_acked(const struct dlog_seg *sg, uint64_t seq)
{
	uint64_t i = seq - sg->sg_base;

	return (sg->sg_bits[i / 8] & (1u << (i % 8))) != 0;
}

static void
seg_drop(struct dlog *log, size_t k)
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

	seg_name(name, id);
	if (unlinkat(log->dl_dirfd, name, 0) != 0 && errno != ENOENT)
		return sys_err(err, log, "unlink", id);
	seg_drop(log, k);
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
	struct dlog_seg *sg = seg_last(log);
	int saved;

	if (write_all(log->dl_fd, log->dl_buf, n, (off_t)sg->sg_size) != 0) {
		saved = errno;
		if (ftruncate(log->dl_fd, (off_t)sg->sg_size) != 0)
			(void)0;	/* recovery cuts the torn tail */
		errno = saved;
		return sys_err(err, log, "write", sg->sg_id);
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
	struct dlog_seg *sg = seg_last(log);
	int saved;

	if (log->dl_opts.do_fsync != DLOG_FSYNC_ALWAYS)
		return 0;
	if (do_sync(log, log->dl_fd, false) != 0) {
		saved = errno;
		sg->sg_size -= n;
		log->dl_stats.ds_bytes -= n;
		if (ftruncate(log->dl_fd, (off_t)sg->sg_size) != 0)
			(void)0;
		errno = saved;
		return sys_err(err, log, "fdatasync", sg->sg_id);
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

/* Syncs and closes the last segment's fd, unless OFF. */
static int
seg_close_fd(struct dlog *log, struct tp_err *err)
{
	int rv = 0;

	if (log->dl_fd < 0)
		return 0;
	if (log->dl_dirty && log->dl_opts.do_fsync != DLOG_FSYNC_OFF) {
		if (do_sync(log, log->dl_fd, false) != 0)
			rv = sys_err(err, log, "fdatasync",
			    seg_last(log)->sg_id);
		else
			log->dl_dirty = false;
	}
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
	seg_name(name, id);
	log->dl_fd = openat(log->dl_dirfd, name, O_WRONLY | O_CREAT |
	    O_TRUNC | O_CLOEXEC, 0600);
	if (log->dl_fd < 0)
		return sys_err(err, log, "create", id);
	if ((rv = seg_push(log, id)) != 0 ||
	    (rv = buf_reserve(log, DLOG_OVERHEAD)) != 0)
		return tp_err_set(err, rv, "out of memory");
	log->dl_next_id++;
	log->dl_stats.ds_segs_created++;
	seg_last(log)->sg_base = log->dl_next_seq;
	n = rec_build(log, DLOG_R_SEG, log->dl_next_seq, NULL, 0);
	if ((rv = seg_write(log, n, err)) != 0 ||
	    (rv = write_sync(log, n, err)) != 0)
		return rv;
	if (dir_sync(log) != 0)
		return sys_err(err, log, "sync dir", id);
	return 0;
}

/* Appends the record built in dl_buf (n bytes), rolling first when the
 * last segment would grow over seg_bytes. */
static int
append_rec(struct dlog *log, size_t n, struct tp_err *err)
{
	struct dlog_seg *sg = seg_last(log);
	int rv;

	if (sg->sg_size > DLOG_OVERHEAD &&
	    sg->sg_size + n > log->dl_opts.do_seg_bytes) {
		/* seg_create clobbers dl_buf with the SEG record: keep the
		 * pending one past it. */
		if ((rv = buf_reserve(log, n + DLOG_OVERHEAD)) != 0)
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
	if ((rv = buf_reserve(log, len + DLOG_OVERHEAD)) != 0)
		return tp_err_set(err, rv, "out of memory");
	n = rec_build(log, DLOG_R_DATA, log->dl_next_seq, bytes,
	    (uint32_t)len);
	if ((rv = append_rec(log, n, err)) != 0)
		return rv;
	if ((rv = seg_add_rec(seg_last(log))) != 0)
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
	if ((rv = buf_reserve(log, sizeof(p) + DLOG_OVERHEAD)) != 0)
		return tp_err_set(err, rv, "out of memory");
	put_le64(p, lo);
	n = rec_build(log, DLOG_R_ACK, hi, p, sizeof(p));
	if ((rv = append_rec(log, n, err)) != 0)
		return rv;
	log->dl_stats.ds_acked += acks_apply(log, lo, hi);
	return compact(log, err);
}

int
dlog_sync(struct dlog *log, uint64_t *durable, struct tp_err *err)
{
	int rv = 0;

	if (log->dl_dirty && log->dl_opts.do_fsync != DLOG_FSYNC_OFF) {
		if (do_sync(log, log->dl_fd, false) != 0)
			rv = sys_err(err, log, "fdatasync",
			    seg_last(log)->sg_id);
		else
			log->dl_dirty = false;
	}
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

/* ---- recovery ---- */

static int
id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* True for "seg-" 16 digits ".log"; *id gets the number. */
static bool
seg_parse_name(const char *s, uint64_t *id)
{
	if (strlen(s) != DLOG_NAME_LEN || strncmp(s, "seg-", 4) != 0 ||
	    strcmp(s + 20, ".log") != 0)
		return false;
	*id = 0;
	for (int i = 4; i < 20; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*id = *id * 10 + (uint64_t)(s[i] - '0');
	}
	return true;
}

/* Lists the segment numbers in the directory, sorted; bounded count. */
static int
seg_list(struct dlog *log, uint64_t **ids, size_t *nids, struct tp_err *err)
{
	struct dirent *de;
	uint64_t *v = NULL, *t, id;
	size_t n = 0, cap = 0;
	int fd, rv = 0;
	DIR *d;

	if ((fd = dup(log->dl_dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return tp_err_set(err, TP_ESYS, "%s: %s", log->dl_dir,
		    strerror(errno));
	}
	rewinddir(d);
	while (rv == 0 && (de = readdir(d)) != NULL) {
		if (!seg_parse_name(de->d_name, &id))
			continue;
		if (n == DLOG_MAX_SEGS) {
			rv = tp_err_set(err, TP_ETOOBIG, "%s: over %u "
			    "segments", log->dl_dir, DLOG_MAX_SEGS);
			break;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((t = realloc(v, cap * sizeof(*v))) == NULL) {
				rv = tp_err_set(err, TP_ENOMEM, "no memory");
				break;
			}
			v = t;
		}
		v[n++] = id;
	}
	closedir(d);
	if (rv != 0) {
		free(v);
		return rv;
	}
	if (n > 0)
		qsort(v, n, sizeof(*v), id_cmp);
	*ids = v;
	*nids = n;
	return 0;
}

/*
 * Reads at most the size bound of a segment into dl_buf: a segment never
 * exceeds seg_bytes, or one record alone.  Bytes past the bound are left
 * out and so get cut as a corrupt tail.  *n gets the bytes read, *size
 * the file size.
 */
static int
seg_read(struct dlog *log, uint64_t id, size_t *n, uint64_t *size,
    struct tp_err *err)
{
	char name[DLOG_NAME_LEN + 1];
	size_t bound = log->dl_opts.do_seg_bytes + log->dl_opts.do_max_record +
	    2 * DLOG_OVERHEAD, want, got = 0;
	struct stat st;
	ssize_t r = 0;
	int fd, rv = 0;

	seg_name(name, id);
	if ((fd = openat(log->dl_dirfd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return sys_err(err, log, "open", id);
	if (fstat(fd, &st) != 0) {
		rv = sys_err(err, log, "stat", id);
		goto out_close;
	}
	*size = (uint64_t)st.st_size;
	want = *size < bound ? (size_t)*size : bound;
	if ((rv = buf_reserve(log, want)) != 0) {
		rv = tp_err_set(err, rv, "out of memory");
		goto out_close;
	}
	while (got < want) {
		r = pread(fd, log->dl_buf + got, want - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got < want && r < 0)
		rv = sys_err(err, log, "read", id);
	*n = got;
out_close:
	close(fd);
	return rv;
}

/* Checks a record against the sequence rules and accounts it. */
static int
scan_apply(struct dlog *log, const struct dlog_rec *r, uint64_t off,
    struct dlog_report *rep, const char **why)
{
	struct dlog_seg *sg = seg_last(log);
	uint64_t lo;

	if ((off == 0) != (r->r_type == DLOG_R_SEG))
		return *why = off ? "misplaced segment record" :
		    "no segment record", -1;
	switch (r->r_type) {
	case DLOG_R_SEG:
		if (r->r_len != 0 || r->r_seq < log->dl_next_seq ||
		    r->r_seq > DLOG_MAX_SEQ)
			return *why = "bad segment record", -1;
		sg->sg_base = log->dl_next_seq = r->r_seq;
		return 0;
	case DLOG_R_DATA:
		if (r->r_seq != log->dl_next_seq)
			return *why = "sequence gap", -1;
		if (seg_add_rec(sg) != 0)
			return *why = "out of memory", -1;
		log->dl_next_seq++;
		rep->dr_records++;
		return 0;
	case DLOG_R_ACK:
		lo = r->r_len == 8 ? get_le(r->r_payload, 8) : 0;
		if (lo == 0 || lo > r->r_seq || r->r_seq >= log->dl_next_seq)
			return *why = "bad ack record", -1;
		acks_apply(log, lo, r->r_seq);
		rep->dr_ack_records++;
		return 0;
	}
	return *why = "unknown record type", -1;
}

/* Verifies one segment read into dl_buf (n bytes); *cut gets the offset
 * of the first bad record, or n when all are good. */
static void
scan_segment(struct dlog *log, size_t n, struct dlog_report *rep,
    size_t *cut, const char **why)
{
	struct dlog_rec r;
	size_t off = 0;

	while (off < n) {
		if (rec_parse(log, log->dl_buf + off, n - off, &r, why) != 0 ||
		    scan_apply(log, &r, off, rep, why) != 0)
			break;
		off += DLOG_OVERHEAD + r.r_len;
	}
	if (off == 0 && n == 0)
		*why = "empty segment";
	*cut = off;
}

static void
report_cut(struct dlog_report *rep, uint64_t id, uint64_t off,
    uint64_t bytes, const char *why)
{
	rep->dr_truncated = true;
	rep->dr_trunc_segment = id;
	rep->dr_trunc_offset = off;
	rep->dr_trunc_bytes = bytes;
	snprintf(rep->dr_reason, sizeof(rep->dr_reason), "%s", why);
}

/* Cuts segment id at off (deleting it when nothing valid is left). */
static int
seg_cut(struct dlog *log, uint64_t id, uint64_t off, struct tp_err *err)
{
	char name[DLOG_NAME_LEN + 1];
	int fd, rv = 0;

	seg_name(name, id);
	if (off == 0) {
		if (unlinkat(log->dl_dirfd, name, 0) != 0)
			return sys_err(err, log, "unlink", id);
		return 0;
	}
	if ((fd = openat(log->dl_dirfd, name, O_WRONLY | O_CLOEXEC)) < 0)
		return sys_err(err, log, "open", id);
	if (ftruncate(fd, (off_t)off) != 0)
		rv = sys_err(err, log, "truncate", id);
	else if (log->dl_opts.do_fsync != DLOG_FSYNC_OFF &&
	    do_sync(log, fd, false) != 0)
		rv = sys_err(err, log, "fsync", id);
	close(fd);
	return rv;
}

/* Deletes segments ids[from..] after a cut; adds their sizes to *bytes. */
static int
cut_rest(struct dlog *log, const uint64_t *ids, size_t from, size_t nids,
    struct dlog_report *rep, struct tp_err *err)
{
	char name[DLOG_NAME_LEN + 1];
	struct stat st;

	for (size_t i = from; i < nids; i++) {
		seg_name(name, ids[i]);
		if (fstatat(log->dl_dirfd, name, &st, 0) == 0)
			rep->dr_trunc_bytes += (uint64_t)st.st_size;
		if (unlinkat(log->dl_dirfd, name, 0) != 0)
			return sys_err(err, log, "unlink", ids[i]);
		rep->dr_segs_removed++;
	}
	return 0;
}

/* Reads and verifies segment ids[i]; on a bad record cuts the log there. */
static int
scan_one(struct dlog *log, const uint64_t *ids, size_t i, size_t nids,
    struct dlog_report *rep, struct tp_err *err)
{
	const char *why = NULL;
	uint64_t size;
	size_t n, cut;
	int rv;

	if ((rv = seg_read(log, ids[i], &n, &size, err)) != 0)
		return rv;
	rep->dr_segments++;
	if ((rv = seg_push(log, ids[i])) != 0)
		return tp_err_set(err, rv, "out of memory");
	scan_segment(log, n, rep, &cut, &why);
	if (cut == size && size > 0)
		return seg_last(log)->sg_size = size, 0;
	report_cut(rep, ids[i], cut, size - cut, why ? why : "over size");
	if ((rv = seg_cut(log, ids[i], cut, err)) != 0 ||
	    (rv = cut_rest(log, ids, i + 1, nids, rep, err)) != 0)
		return rv;
	if (cut == 0)
		seg_drop(log, log->dl_nsegs - 1);
	else
		seg_last(log)->sg_size = cut;
	return 1;
}

static int
scan_all(struct dlog *log, struct dlog_report *rep, struct tp_err *err)
{
	uint64_t *ids = NULL;
	size_t nids = 0;
	int rv;

	if ((rv = seg_list(log, &ids, &nids, err)) != 0)
		return rv;
	for (size_t i = 0; i < nids; i++) {
		if ((rv = scan_one(log, ids, i, nids, rep, err)) != 0)
			break;
	}
	if (nids > 0)
		log->dl_next_id = ids[nids - 1] + 1;
	free(ids);
	if (rv < 0)
		return rv;
	if (rep->dr_truncated && log->dl_opts.do_fsync != DLOG_FSYNC_OFF &&
	    do_sync(log, log->dl_dirfd, true) != 0)
		return tp_err_set(err, TP_ESYS, "%s: sync: %s", log->dl_dir,
		    strerror(errno));
	for (size_t k = 0; k < log->dl_nsegs; k++) {
		log->dl_stats.ds_bytes += log->dl_segs[k].sg_size;
		rep->dr_acked += log->dl_segs[k].sg_nacked;
	}
	return 0;
}

/* Hands the unacked data records of segment k to the callback. */
static int
deliver_seg(struct dlog *log, size_t k, struct dlog_report *rep,
    struct tp_err *err)
{
	struct dlog_seg *sg = &log->dl_segs[k];
	const char *why;
	struct dlog_rec r;
	uint64_t size;
	size_t n, off = 0;
	int rv;

	if (sg->sg_nacked == sg->sg_nrec)
		return 0;
	if ((rv = seg_read(log, sg->sg_id, &n, &size, err)) != 0)
		return rv;
	if (n > sg->sg_size)
		n = (size_t)sg->sg_size;
	while (off < n && rec_parse(log, log->dl_buf + off, n - off, &r,
	    &why) == 0) {
		off += DLOG_OVERHEAD + r.r_len;
		if (r.r_type != DLOG_R_DATA || seg_acked(sg, r.r_seq))
			continue;
		rep->dr_unacked++;
		if (log->dl_opts.do_recover != NULL &&
		    log->dl_opts.do_recover(r.r_seq, r.r_payload, r.r_len,
		    log->dl_opts.do_recover_arg) != 0)
			return tp_err_set(err, TP_EINVAL, "%s: recovery "
			    "stopped by the caller at seq %" PRIu64,
			    log->dl_dir, r.r_seq);
	}
	return 0;
}

/* Reopens the last segment for appends, or starts a new one. */
static int
open_tail(struct dlog *log, struct tp_err *err)
{
	char name[DLOG_NAME_LEN + 1];
	struct dlog_seg *sg = seg_last(log);

	if (sg == NULL || sg->sg_size >= log->dl_opts.do_seg_bytes)
		return seg_create(log, err);
	seg_name(name, sg->sg_id);
	log->dl_fd = openat(log->dl_dirfd, name, O_WRONLY | O_CLOEXEC);
	if (log->dl_fd < 0)
		return sys_err(err, log, "open", sg->sg_id);
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
	    (rv = scan_all(log, report, err)) != 0)
		goto out_close;
	for (size_t k = 0; k < log->dl_nsegs; k++)
		if ((rv = deliver_seg(log, k, report, err)) != 0)
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

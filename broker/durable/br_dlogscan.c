/*
 * br_dlogscan — durable mailbox log recovery: at open, lists the segment
 * files, verifies every record, cuts the log at the first torn or corrupt
 * one, and hands the unacknowledged data records to the caller.
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

#include "br_dlog.h"
#include "br_dlog_int.h"

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

	dlog_seg_name(name, id);
	if ((fd = openat(log->dl_dirfd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return dlog_sys_err(err, log, "open", id);
	if (fstat(fd, &st) != 0) {
		rv = dlog_sys_err(err, log, "stat", id);
		goto out_close;
	}
	*size = (uint64_t)st.st_size;
	want = *size < bound ? (size_t)*size : bound;
	if ((rv = dlog_buf_reserve(log, want)) != 0) {
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
		rv = dlog_sys_err(err, log, "read", id);
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
	struct dlog_seg *sg = dlog_seg_last(log);
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
		if (dlog_seg_add_rec(sg) != 0)
			return *why = "out of memory", -1;
		log->dl_next_seq++;
		rep->dr_records++;
		return 0;
	case DLOG_R_ACK:
		lo = r->r_len == 8 ? dlog_get_le(r->r_payload, 8) : 0;
		if (lo == 0 || lo > r->r_seq || r->r_seq >= log->dl_next_seq)
			return *why = "bad ack record", -1;
		dlog_acks_apply(log, lo, r->r_seq);
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
		if (dlog_rec_parse(log, log->dl_buf + off, n - off, &r,
		    why) != 0 || scan_apply(log, &r, off, rep, why) != 0)
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

	dlog_seg_name(name, id);
	if (off == 0) {
		if (unlinkat(log->dl_dirfd, name, 0) != 0)
			return dlog_sys_err(err, log, "unlink", id);
		return 0;
	}
	if ((fd = openat(log->dl_dirfd, name, O_WRONLY | O_CLOEXEC)) < 0)
		return dlog_sys_err(err, log, "open", id);
	if (ftruncate(fd, (off_t)off) != 0)
		rv = dlog_sys_err(err, log, "truncate", id);
	else if (log->dl_opts.do_fsync != DLOG_FSYNC_OFF &&
	    dlog_fd_sync(log, fd, false) != 0)
		rv = dlog_sys_err(err, log, "fsync", id);
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
		dlog_seg_name(name, ids[i]);
		if (fstatat(log->dl_dirfd, name, &st, 0) == 0)
			rep->dr_trunc_bytes += (uint64_t)st.st_size;
		if (unlinkat(log->dl_dirfd, name, 0) != 0)
			return dlog_sys_err(err, log, "unlink", ids[i]);
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
	if ((rv = dlog_seg_push(log, ids[i])) != 0)
		return tp_err_set(err, rv, "out of memory");
	scan_segment(log, n, rep, &cut, &why);
	if (cut == size && size > 0)
		return dlog_seg_last(log)->sg_size = size, 0;
	report_cut(rep, ids[i], cut, size - cut, why ? why : "over size");
	if ((rv = seg_cut(log, ids[i], cut, err)) != 0 ||
	    (rv = cut_rest(log, ids, i + 1, nids, rep, err)) != 0)
		return rv;
	if (cut == 0)
		dlog_seg_drop(log, log->dl_nsegs - 1);
	else
		dlog_seg_last(log)->sg_size = cut;
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
	    dlog_fd_sync(log, log->dl_dirfd, true) != 0)
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
	while (off < n && dlog_rec_parse(log, log->dl_buf + off, n - off, &r,
	    &why) == 0) {
		off += DLOG_OVERHEAD + r.r_len;
		if (r.r_type != DLOG_R_DATA || dlog_seg_acked(sg, r.r_seq))
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

int
dlog_recover(struct dlog *log, struct dlog_report *rep, struct tp_err *err)
{
	int rv;

	if ((rv = scan_all(log, rep, err)) != 0)
		return rv;
	for (size_t k = 0; k < log->dl_nsegs; k++)
		if ((rv = deliver_seg(log, k, rep, err)) != 0)
			return rv;
	return 0;
}

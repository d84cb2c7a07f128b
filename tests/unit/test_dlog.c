/*
 * Unit tests for br_dlog: append and recover, acks skipped on recovery,
 * torn and corrupt tails cut and reported, compaction, fsync policies
 * (sync calls counted through the injected hook), and a throughput
 * figure (printed, not asserted).  Every test works in its own temp dir.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "br_dlog.h"

#define MAXGOT 4096

struct got {
	size_t		 g_n;
	uint64_t	 g_seq[MAXGOT];
	uint32_t	 g_tag[MAXGOT];
};

static char tdir[64];
static struct got got;
static unsigned nsyncs;
static int sync_fail;

static void
setup(void)
{
	snprintf(tdir, sizeof(tdir), "/tmp/test-dlog-XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
	memset(&got, 0, sizeof(got));
	nsyncs = 0;
	sync_fail = 0;
}

static void
teardown(void)
{
	char path[512];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(tdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", tdir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(tdir);
}

TestSuite(dlog, .init = setup, .fini = teardown);

static int
count_sync(int fd, void *arg)
{
	(void)arg;
	nsyncs++;
	if (sync_fail) {
		errno = EIO;
		return -1;
	}
	return fdatasync(fd);
}

static int
collect(uint64_t seq, const uint8_t *bytes, size_t len, void *arg)
{
	uint32_t tag;

	(void)arg;
	cr_assert_geq(len, sizeof(tag));
	cr_assert_lt(got.g_n, MAXGOT);
	memcpy(&tag, bytes, sizeof(tag));
	got.g_seq[got.g_n] = seq;
	got.g_tag[got.g_n++] = tag;
	return 0;
}

static struct dlog_opts
opts(enum dlog_fsync f, uint64_t seg_bytes)
{
	struct dlog_opts o = { .do_fsync = f, .do_seg_bytes = seg_bytes,
	    .do_recover = collect, .do_sync = count_sync };

	return o;
}

static struct dlog *
open_log(const struct dlog_opts *o, struct dlog_report *rep)
{
	struct tp_err err = { 0 };
	struct dlog *log = NULL;
	int rv;

	memset(&got, 0, sizeof(got));
	rv = dlog_open(tdir, o, &log, rep, &err);
	cr_assert_eq(rv, 0, "dlog_open: %d %s", rv, err.e_msg);
	return log;
}

/* Appends a record of len bytes starting with tag; returns its seq. */
static uint64_t
put(struct dlog *log, uint32_t tag, size_t len)
{
	uint8_t buf[512];
	struct tp_err err = { 0 };
	uint64_t seq = 0;
	int rv;

	cr_assert(len >= sizeof(tag) && len <= sizeof(buf));
	memset(buf, (int)(tag & 0xff), len);
	memcpy(buf, &tag, sizeof(tag));
	rv = dlog_append(log, buf, len, &seq, &err);
	cr_assert_eq(rv, 0, "append: %s", err.e_msg);
	return seq;
}

static void
ack(struct dlog *log, uint64_t lo, uint64_t hi)
{
	struct tp_err err = { 0 };

	cr_assert_eq(dlog_ack(log, lo, hi, &err), 0, "ack: %s", err.e_msg);
}

/* Number of segment files, and the path of the n-th (sorted) one. */
static int
seg_files(char *nth, size_t nthlen, int n)
{
	struct dirent **list;
	int k, count = 0;

	k = scandir(tdir, &list, NULL, alphasort);
	cr_assert_geq(k, 0);
	for (int i = 0; i < k; i++) {
		if (strncmp(list[i]->d_name, "seg-", 4) == 0) {
			if (count == n && nth != NULL)
				snprintf(nth, nthlen, "%s/%s", tdir,
				    list[i]->d_name);
			count++;
		}
		free(list[i]);
	}
	free(list);
	return count;
}

static off_t
fsize(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	return st.st_size;
}

static void
flip_byte(const char *path, off_t off)
{
	uint8_t b;
	int fd = open(path, O_RDWR);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &b, 1, off), 1);
	b ^= 0x10;
	cr_assert_eq(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

#define REC(len)	(DLOG_OVERHEAD + (len))

/* Writes 10 records of 32 bytes with o, closes the log; path gets the
 * one segment file, and its size is returned. */
static off_t
ten_records(const struct dlog_opts *o, char *path, size_t pathlen)
{
	struct dlog *log = open_log(o, NULL);

	for (uint32_t i = 1; i <= 10; i++)
		put(log, i, 32);
	dlog_close(log);
	cr_assert_eq(seg_files(path, pathlen, 0), 1);
	return fsize(path);
}

Test(dlog, append_reopen_recover)
{
	struct dlog_opts o = opts(DLOG_FSYNC_ALWAYS, 0);
	struct dlog_report rep;
	struct dlog *log = open_log(&o, &rep);

	cr_assert_eq(rep.dr_records, 0);
	for (uint32_t i = 1; i <= 100; i++)
		cr_assert_eq(put(log, i, 40), i);
	dlog_close(log);
	log = open_log(&o, &rep);
	cr_assert_eq(got.g_n, 100);
	for (size_t i = 0; i < 100; i++) {
		cr_assert_eq(got.g_seq[i], i + 1);
		cr_assert_eq(got.g_tag[i], i + 1);
	}
	cr_assert_not(rep.dr_truncated);
	cr_assert_eq(rep.dr_records, 100);
	cr_assert_eq(rep.dr_unacked, 100);
	cr_assert_eq(dlog_next_seq(log), 101);
	cr_assert_eq(put(log, 101, 8), 101);
	dlog_close(log);
}

Test(dlog, acks_skip_on_recovery)
{
	struct dlog_opts o = opts(DLOG_FSYNC_ALWAYS, 0);
	struct dlog_report rep;
	struct dlog *log = open_log(&o, NULL);
	uint32_t want[] = { 5, 6, 8, 9, 10 };

	for (uint32_t i = 1; i <= 10; i++)
		put(log, i, 16);
	ack(log, 1, 4);
	ack(log, 7, 7);
	ack(log, 3, 4);		/* twice: harmless */
	cr_assert_eq(dlog_stats(log)->ds_acked, 5);
	dlog_close(log);
	log = open_log(&o, &rep);
	cr_assert_eq(got.g_n, 5);
	for (size_t i = 0; i < 5; i++)
		cr_assert_eq(got.g_tag[i], want[i]);
	cr_assert_eq(rep.dr_acked, 5);
	cr_assert_eq(rep.dr_ack_records, 3);
	cr_assert_eq(dlog_ack(log, 5, 4, NULL), TP_EINVAL);
	dlog_close(log);
}

/* A crash mid-write leaves half a record: recovery cuts it, says so,
 * and the log goes on from there. */
Test(dlog, torn_tail_truncated)
{
	struct dlog_opts o = opts(DLOG_FSYNC_ALWAYS, 0);
	struct dlog_report rep;
	struct dlog *log;
	char path[512];
	off_t size = ten_records(&o, path, sizeof(path));

	cr_assert_eq(truncate(path, size - 7), 0);
	log = open_log(&o, &rep);
	cr_assert(rep.dr_truncated);
	cr_assert_str_eq(rep.dr_reason, "torn record");
	cr_assert_eq(rep.dr_trunc_offset, (uint64_t)(size - REC(32)));
	cr_assert_eq(rep.dr_trunc_bytes, REC(32) - 7);
	cr_assert_eq(got.g_n, 9);
	cr_assert_eq(fsize(path), size - REC(32));
	cr_assert_eq(put(log, 10, 32), 10);
	dlog_close(log);
	log = open_log(&o, &rep);
	cr_assert_not(rep.dr_truncated);
	cr_assert_eq(got.g_n, 10);
	dlog_close(log);
}

Test(dlog, bitflip_last_record)
{
	struct dlog_opts o = opts(DLOG_FSYNC_OFF, 0);
	struct dlog_report rep;
	struct dlog *log;
	char path[512];
	off_t size = ten_records(&o, path, sizeof(path));

	flip_byte(path, size - REC(32) + DLOG_HDR_LEN + 20);
	log = open_log(&o, &rep);
	cr_assert(rep.dr_truncated);
	cr_assert_str_eq(rep.dr_reason, "bad checksum");
	cr_assert_eq(rep.dr_trunc_offset, (uint64_t)(size - REC(32)));
	cr_assert_eq(got.g_n, 9);
	cr_assert_eq(dlog_next_seq(log), 10);
	dlog_close(log);
}

/*
 * A bad record in the middle cuts everything after it, later segments
 * too: the log must stay a prefix of what was written (a later record
 * may be an ack of a lost one), so recovery never skips over damage.
 */
Test(dlog, bitflip_middle_cuts_rest)
{
	struct dlog_opts o = opts(DLOG_FSYNC_OFF, 4096);
	struct dlog_report rep;
	struct dlog *log = open_log(&o, NULL);
	char path[512];
	int nseg;

	for (uint32_t i = 1; i <= 200; i++)
		put(log, i, 100);
	dlog_close(log);
	nseg = seg_files(path, sizeof(path), 1);
	cr_assert_gt(nseg, 3);
	/* second segment: SEG record, then the 5th data record */
	flip_byte(path, REC(0) + 4 * REC(100) + 2);
	log = open_log(&o, &rep);
	cr_assert(rep.dr_truncated);
	cr_assert_str_eq(rep.dr_reason, "bad magic");
	cr_assert_eq(rep.dr_trunc_offset, REC(0) + 4 * REC(100));
	cr_assert_eq(rep.dr_segs_removed, (uint32_t)nseg - 2);
	cr_assert_eq(seg_files(NULL, 0, 0), 2);
	/* 4096 bytes hold 29 records after the SEG one, so 29 + 4 */
	cr_assert_eq(got.g_n, 33);
	cr_assert_eq(got.g_tag[32], 33);
	cr_assert_eq(put(log, 34, 100), 34);
	dlog_close(log);
}

Test(dlog, garbage_and_empty_segments)
{
	struct dlog_opts o = opts(DLOG_FSYNC_ALWAYS, 0);
	struct dlog_report rep;
	struct dlog *log;
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/seg-%016d.log", tdir, 7);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "\xff\xff\xff\xff garbage", 12), 12);
	close(fd);
	log = open_log(&o, &rep);
	cr_assert(rep.dr_truncated);
	cr_assert_eq(rep.dr_trunc_offset, 0);
	cr_assert_eq(got.g_n, 0);
	put(log, 1, 8);
	dlog_close(log);
	/* a crash right after creating a segment leaves it empty */
	snprintf(path, sizeof(path), "%s/seg-%016d.log", tdir, 9);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	log = open_log(&o, &rep);
	cr_assert(rep.dr_truncated);
	cr_assert_str_eq(rep.dr_reason, "empty segment");
	cr_assert_eq(got.g_n, 1);
	dlog_close(log);
}

Test(dlog, compaction_bounds_disk)
{
	struct dlog_opts o = opts(DLOG_FSYNC_OFF, 4096);
	struct dlog *log = open_log(&o, NULL);
	uint64_t seq, acked = 0;
	int maxseg = 0, n;

	/* steady state: the consumer lags 50 records behind */
	for (uint32_t i = 1; i <= 3000; i++) {
		seq = put(log, i, 100);
		if (seq > 50) {
			ack(log, acked + 1, seq - 50);
			acked = seq - 50;
		}
		n = (int)dlog_stats(log)->ds_segments;
		maxseg = n > maxseg ? n : maxseg;
	}
	/* 50 unacked records of 136 bytes (plus acks) span at most 4
	 * segments of 4 KiB, plus the one being written */
	cr_assert_leq(maxseg, 5, "max %d segments", maxseg);
	cr_assert_gt(dlog_stats(log)->ds_segs_deleted, 50);
	ack(log, acked + 1, seq);
	cr_assert_eq(dlog_stats(log)->ds_segments, 1);
	cr_assert_eq(seg_files(NULL, 0, 0), 1);
	dlog_close(log);
	/* everything acked and compacted: numbering still goes on */
	log = open_log(&o, NULL);
	cr_assert_eq(got.g_n, 0);
	cr_assert_eq(dlog_next_seq(log), 3001);
	dlog_close(log);
}

Test(dlog, fsync_always_each_append)
{
	struct dlog_opts o = opts(DLOG_FSYNC_ALWAYS, 0);
	struct dlog *log = open_log(&o, NULL);
	unsigned before = nsyncs;

	for (uint32_t i = 1; i <= 20; i++) {
		put(log, i, 16);
		cr_assert_eq(dlog_durable(log), i);
	}
	cr_assert_eq(nsyncs - before, 20);
	cr_assert_not(dlog_sync_pending(log));
	dlog_close(log);
}

Test(dlog, fsync_batch_group_commit)
{
	struct dlog_opts o = opts(DLOG_FSYNC_BATCH, 0);
	struct dlog *log = open_log(&o, NULL);
	uint64_t durable = 0;
	unsigned before;

	cr_assert_eq(dlog_sync(log, &durable, NULL), 0);
	before = nsyncs;
	for (uint32_t i = 1; i <= 50; i++)
		put(log, i, 16);
	cr_assert_eq(nsyncs, before);
	cr_assert_eq(dlog_durable(log), 0);
	cr_assert(dlog_sync_pending(log));
	cr_assert_eq(dlog_sync(log, &durable, NULL), 0);
	cr_assert_eq(durable, 50);
	cr_assert_eq(nsyncs - before, 1);
	cr_assert_eq(dlog_sync(log, &durable, NULL), 0);
	cr_assert_eq(nsyncs - before, 1, "nothing new: no sync");
	dlog_close(log);
}

Test(dlog, fsync_off_never)
{
	struct dlog_opts o = opts(DLOG_FSYNC_OFF, 4096);
	struct dlog *log = open_log(&o, NULL);

	for (uint32_t i = 1; i <= 100; i++)
		put(log, i, 100);
	ack(log, 1, 100);
	cr_assert_eq(dlog_durable(log), 100);
	cr_assert_eq(dlog_sync(log, NULL, NULL), 0);
	dlog_close(log);
	cr_assert_eq(nsyncs, 0);
}

/* A failed fdatasync under ALWAYS: the sender must not be acknowledged,
 * and the record must not come back later as if it had been. */
Test(dlog, fsync_failure_cuts_record)
{
	struct dlog_opts o = opts(DLOG_FSYNC_ALWAYS, 0);
	struct dlog *log = open_log(&o, NULL);
	struct tp_err err = { 0 };
	uint8_t b[16] = { 0 };
	uint64_t seq;

	put(log, 1, 16);
	sync_fail = 1;
	cr_assert_eq(dlog_append(log, b, sizeof(b), &seq, &err), TP_ESYS);
	cr_assert(strstr(err.e_msg, "fdatasync") != NULL, "%s", err.e_msg);
	cr_assert_eq(dlog_durable(log), 1);
	sync_fail = 0;
	cr_assert_eq(put(log, 2, 16), 2);
	dlog_close(log);
	log = open_log(&o, NULL);
	cr_assert_eq(got.g_n, 2);
	cr_assert_eq(got.g_tag[1], 2);
	dlog_close(log);
}

Test(dlog, limits)
{
	struct dlog_opts o = opts(DLOG_FSYNC_OFF, 0);
	struct dlog *log;
	struct tp_err err = { 0 };
	enum dlog_fsync f;
	uint8_t *big;

	o.do_max_record = 256;
	log = open_log(&o, NULL);
	big = calloc(1, 257);
	cr_assert_eq(dlog_append(log, big, 257, NULL, &err), TP_ETOOBIG);
	cr_assert_eq(dlog_append(log, big, 256, NULL, &err), 0);
	free(big);
	dlog_close(log);
	o.do_seg_bytes = 100;
	cr_assert_eq(dlog_open(tdir, &o, &log, NULL, &err), TP_EINVAL);
	cr_assert_eq(dlog_fsync_parse("batch", &f), 0);
	cr_assert_eq(f, DLOG_FSYNC_BATCH);
	cr_assert_eq(dlog_fsync_parse("sometimes", &f), -1);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 100k records of 200 bytes, group commit every 1000 appends: printed. */
Test(dlog, throughput_100k, .timeout = 120)
{
	struct dlog_opts o = opts(DLOG_FSYNC_BATCH, 0);
	struct dlog_report rep;
	struct dlog *log = open_log(&o, NULL);
	double t0 = now_s(), t1, t2;

	for (uint32_t i = 1; i <= 100000; i++) {
		put(log, i, 200);
		if (i % 1000 == 0)
			cr_assert_eq(dlog_sync(log, NULL, NULL), 0);
	}
	t1 = now_s();
	dlog_close(log);
	o.do_recover = NULL;
	log = open_log(&o, &rep);
	t2 = now_s();
	cr_assert_eq(rep.dr_unacked, 100000);
	cr_log_info("dlog: 100k appends (batch, sync/1000) %.0f rec/s, "
	    "recovery of 100k %.0f rec/s, %" PRIu64 " syncs",
	    100000 / (t1 - t0), 100000 / (t2 - t1), dlog_stats(log)->ds_syncs);
	fprintf(stderr, "dlog: 100k appends (batch, sync every 1000) %.0f "
	    "rec/s; recovery %.0f rec/s\n", 100000 / (t1 - t0),
	    100000 / (t2 - t1));
	dlog_close(log);
}

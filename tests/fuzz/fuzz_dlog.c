/*
 * fuzz_dlog — libFuzzer harness for durable log recovery (br_dlog).
 *
 * Writes the input as one or two segment files and runs dlog_open on
 * them.  Byte 0 holds options: bit 0 set = patch in the right BLAKE2b
 * checksum of every record that is framed plausibly, so that the fuzzer
 * gets past the checksum to the sequence rules; byte 1 says where to split
 * the rest into two segments.  Properties checked (abort on violation):
 * a recovered record never exceeds the record limit; a log that opened
 * takes an append (unless its seqs are exhausted) and an ack; and a
 * second recovery finds no damage, as the first one cut whatever was bad.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "br_dlog.h"

#define FUZZ_MAX_RECORD	4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_dir[64];

static int
fuzz_recover(uint64_t seq, const uint8_t *bytes, size_t len, void *arg)
{
	(void)seq;
	(void)arg;
	if (len > FUZZ_MAX_RECORD)
		abort();
	if (len > 0 && bytes[0] == 0xee && bytes[len - 1] == 0xee)
		return 1;	/* exercises the caller's stop */
	return 0;
}

static void
fuzz_clean(void)
{
	char path[512];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(fuzz_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, de->d_name);
		unlink(path);
	}
	closedir(d);
}

static void
fuzz_rmdir(void)
{
	fuzz_clean();
	rmdir(fuzz_dir);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Patches the checksum of every plausibly framed record in place. */
static void
fix_sums(uint8_t *p, size_t n)
{
	size_t off = 0, len;

	while (n - off >= DLOG_HDR_LEN) {
		len = le32(p + off + 4);
		if (len > FUZZ_MAX_RECORD || n - off - DLOG_HDR_LEN <
		    len + DLOG_SUM_LEN)
			return;
		crypto_generichash(p + off + DLOG_HDR_LEN + len, DLOG_SUM_LEN,
		    p + off, DLOG_HDR_LEN + len, NULL, 0);
		off += DLOG_OVERHEAD + len;
	}
}

static void
write_seg(uint64_t id, const uint8_t *p, size_t n)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/seg-%016llu.log", fuzz_dir,
	    (unsigned long long)id);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		abort();
	if (n > 0 && write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

static void
fuzz_open_twice(void)
{
	struct dlog_opts o = { .do_fsync = DLOG_FSYNC_OFF,
	    .do_seg_bytes = 4096, .do_max_record = FUZZ_MAX_RECORD,
	    .do_recover = fuzz_recover };
	struct dlog_report rep;
	struct dlog *log;
	uint64_t seq;
	int rv;

	if (dlog_open(fuzz_dir, &o, &log, &rep, NULL) != 0)
		return;
	/* A forged (checksummed) SEG record may put the log at the end of
	 * its seq space (2^62), as 2^62 appends would: refused, not a bug. */
	if ((rv = dlog_append(log, "x", 1, &seq, NULL)) == TP_ETOOBIG) {
		dlog_close(log);
		return;
	}
	if (rv != 0 || dlog_ack(log, 1, seq, NULL) != 0)
		abort();
	dlog_close(log);
	o.do_recover = NULL;
	if (dlog_open(fuzz_dir, &o, &log, &rep, NULL) != 0 ||
	    rep.dr_truncated || rep.dr_unacked != 0)
		abort();
	dlog_close(log);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf;
	size_t split;

	if (size < 2)
		return 0;
	if (fuzz_dir[0] == '\0') {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/fuzz-dlog-XXXXXX");
		if (mkdtemp(fuzz_dir) == NULL || sodium_init() < 0)
			abort();
		atexit(fuzz_rmdir);
	}
	if ((buf = malloc(size - 2 + 1)) == NULL)
		abort();
	memcpy(buf, data + 2, size - 2);
	if (data[0] & 1)
		fix_sums(buf, size - 2);
	split = (size - 2) * data[1] / 255;
	write_seg(1, buf, split);
	if (split < size - 2)
		write_seg(2, buf + split, size - 2 - split);
	free(buf);
	fuzz_open_twice();
	fuzz_clean();
	return 0;
}

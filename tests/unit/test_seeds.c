/*
 * test_seeds — br_seeds: which seeds count as answered, ourselves among
 * the seeds, what survives a new resolution, the rows `troupe nodes`
 * shows, and the warning's backoff (once, then 10 s, 20 s, ... capped),
 * driven by the clock values given, with the log written to a file.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "br_log.h"
#include "br_seeds.h"

#define SILENT 300

static char logpath[] = "/tmp/test_seeds_XXXXXX";

static void
open_log(void)
{
	struct br_log_opts lo = { 0 };
	char err[256];
	int fd = mkstemp(logpath);

	cr_assert_geq(fd, 0);
	close(fd);
	lo.lo_file = logpath;
	cr_assert_eq(br_log_open(&lo, err, sizeof(err)), 0, "%s", err);
}

static void
close_log(void)
{
	br_log_close();
	unlink(logpath);
}

static int
count_lines(const char *what)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(logpath, "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		n += strstr(line, what) != NULL;
	fclose(f);
	return n;
}

static struct sockaddr_in
addr(const char *ip, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };

	inet_pton(AF_INET, ip, &sa.sin_addr);
	return sa;
}

static void
two_seeds(struct br_seeds *ss, uint64_t now)
{
	struct sockaddr_in a[2] = { addr("10.0.0.1", 7447),
	    addr("10.0.0.2", 7447) };
	uint32_t src[2] = { 0, 1 };

	br_seeds_init(ss, "a:7447, b:7447, c:7447", now);
	cr_assert_eq(ss->ss_nspec, 3);
	br_seeds_replace(ss, a, src, 2);
}

Test(seeds, rows_for_unanswered_and_unresolved)
{
	struct br_seeds ss;
	struct br_seed_row rows[8];
	struct sockaddr_in from = addr("10.0.0.1", 7447);
	uint32_t n;

	two_seeds(&ss, 1000);
	n = br_seeds_rows(&ss, 1100, SILENT, rows, 8);
	cr_assert_eq(n, 3);
	cr_expect_str_eq(rows[0].sr_name, "c:7447");	/* unresolved */
	cr_expect_str_eq(rows[0].sr_endpoint, "");
	cr_expect_str_eq(rows[1].sr_endpoint, "udp://10.0.0.1:7447");
	cr_expect(!rows[1].sr_heard);
	br_seeds_heard(&ss, &from, false, 1200);
	n = br_seeds_rows(&ss, 1300, SILENT, rows, 8);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(rows[1].sr_name, "b:7447");
	/* silent again for longer than SILENT: tried again, age known */
	n = br_seeds_rows(&ss, 1600, SILENT, rows, 8);
	cr_assert_eq(n, 3);
	cr_expect(rows[1].sr_heard);
	cr_expect_eq(rows[1].sr_age_ms, 400);
}

Test(seeds, ourselves_is_not_a_seed_and_survives_resolution)
{
	struct br_seeds ss;
	struct br_seed_row rows[8];
	struct sockaddr_in self = addr("10.0.0.2", 7447), a[2] = {
	    addr("10.0.0.2", 7447), addr("10.0.0.3", 7447) };
	uint32_t src[2] = { 1, 2 };

	two_seeds(&ss, 0);
	br_seeds_heard(&ss, &self, true, 10);
	br_seeds_replace(&ss, a, src, 2);	/* b stays, c resolved */
	cr_assert_eq(br_seeds_rows(&ss, 20, SILENT, rows, 8), 2);
	cr_expect_str_eq(rows[0].sr_name, "a:7447");	/* now unresolved */
	cr_expect_str_eq(rows[1].sr_name, "c:7447");
	/* an index beyond the specs is not ours: nothing replaced */
	src[1] = 9;
	br_seeds_replace(&ss, a, src, 2);
	cr_expect_eq(ss.ss_naddr, 2);
	cr_expect_eq(ss.ss_addr[1].sa_spec, 2);
}

Test(seeds, only_ourselves_is_never_a_warning, .init = open_log,
    .fini = close_log)
{
	struct br_seeds ss;
	struct sockaddr_in a = addr("10.0.0.9", 7447);
	uint32_t src = 0;

	br_seeds_init(&ss, "me:7447", 0);
	br_seeds_replace(&ss, &a, &src, 1);
	br_seeds_heard(&ss, &a, true, 5);
	for (uint64_t t = 0; t < 60000; t += 100)
		br_seeds_tick(&ss, t, SILENT);
	cr_expect_eq(count_lines("cannot reach any seed"), 0);
}

Test(seeds, warning_once_then_backoff_then_answered, .init = open_log,
    .fini = close_log)
{
	struct br_seeds ss;
	struct sockaddr_in from = addr("10.0.0.1", 7447);
	uint64_t t;

	two_seeds(&ss, 0);
	for (t = 0; t <= SILENT; t += 100)	/* the grace */
		br_seeds_tick(&ss, t, SILENT);
	cr_expect_eq(count_lines("cannot reach any seed"), 0);
	for (; t < 31000; t += 100)		/* 10 ms beacons: no matter */
		br_seeds_tick(&ss, t, SILENT);
	/* at ~0.4 s, ~10.4 s, ~30.4 s */
	cr_expect_eq(count_lines("cannot reach any seed"), 3);
	cr_expect_eq(count_lines("next_report_s=40"), 1);
	br_seeds_heard(&ss, &from, false, t);
	br_seeds_tick(&ss, t, SILENT);
	br_seeds_tick(&ss, t + 100, SILENT);
	cr_expect_eq(count_lines("seed answered"), 1);
	/* lost again: at the next slot of the backoff (70.4 s), then 80 s
	 * later (150.4 s) */
	for (t += 1000; t < 200000; t += 100)
		br_seeds_tick(&ss, t, SILENT);
	cr_expect_eq(count_lines("cannot reach any seed"), 5);
	cr_expect_eq(count_lines("next_report_s=80"), 1);
}

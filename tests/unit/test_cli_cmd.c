/*
 * test_cli_cmd — the CLI's pure checks: pool sizes (scale) and topic
 * names (publish), which must fail with 64 before any broker is asked.
 */
#include <sysexits.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "cli_cmd.h"

Test(cli_cmd, instances_1_to_64)
{
	unsigned n = 0;

	cr_assert_eq(cli_parse_instances("1", &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(cli_parse_instances("64", &n), 0);
	cr_assert_eq(n, 64);
	cr_assert_eq(cli_parse_instances("007", &n), 0);
	cr_assert_eq(n, 7);
}

Test(cli_cmd, instances_refused)
{
	static const char *bad[] = { "0", "65", "-1", "+3", " 3", "3 ",
	    "3x", "", "1e1", "99999999999999999999", NULL };
	unsigned n = 42;

	cr_assert_eq(cli_parse_instances(NULL, &n), -1);
	for (int i = 0; bad[i] != NULL; i++)
		cr_assert_eq(cli_parse_instances(bad[i], &n), -1, "'%s'",
		    bad[i]);
	cr_assert_eq(n, 42, "a refused size is not stored");
}

Test(cli_cmd, topic_checked, .init = cr_redirect_stderr)
{
	cr_assert_eq(cli_check_topic("orders.new.eu"), 0);
	cr_assert_eq(cli_check_topic("a"), 0);
	cr_assert_eq(cli_check_topic("orders.*"), EX_USAGE);
	cr_assert_eq(cli_check_topic("a..b"), EX_USAGE);
	cr_assert_eq(cli_check_topic(""), EX_USAGE);
	fflush(stderr);
	cr_assert_stderr_neq_str("");
}

Test(cli_cmd, topic_error_is_one_line, .init = cr_redirect_stderr)
{
	cr_assert_eq(cli_check_topic("bad\ntopic"), EX_USAGE);
	fflush(stderr);
	cr_assert_stderr_eq_str("troupe: publish: invalid topic 'bad topic' "
	    "(dot-separated words of A-Z a-z 0-9 _ -, at most 255 bytes and "
	    "32 words)\n");
}

/*
 * test_cli_print — the `troupe actors` table: a pool's head row and its
 * indented instances, and rows of an older broker (no pool fields)
 * printed as before.  stdout is not a terminal here: no bold header.
 */
#include <stdio.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <jansson.h>

#include "cli_print.h"

static json_t *
rows(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	cr_assert_not_null(j, "%s", e.text);
	return j;
}

static void
table_is(const char *json, const char *want)
{
	json_t *j = rows(json);

	cr_assert_eq(cli_print_actors(j), 0);
	json_decref(j);
	fflush(stdout);
	cr_assert_stdout_eq_str(want);
}

Test(cli_print, pool_rows, .init = cr_redirect_stdout)
{
	table_is("[{\"name\":\"w\",\"node\":\"n1\",\"state\":\"running\","
	    "\"pool\":\"\",\"instances\":2,\"subscribe\":[\"a.*\"]},"
	    "{\"name\":\"w#0\",\"node\":\"n1\",\"state\":\"running\","
	    "\"pool\":\"w\",\"instances\":0,\"subscribe\":[]},"
	    "{\"name\":\"w#1\",\"node\":\"n1\",\"state\":\"running\","
	    "\"pool\":\"w\",\"instances\":0,\"subscribe\":[]},"
	    "{\"name\":\"echo\",\"node\":\"n1\",\"state\":\"running\","
	    "\"pool\":\"\",\"instances\":0,\"subscribe\":[]}]",
	    "NAME           NODE  PID  STATE    RESTARTS  MAILBOX  IN  OUT  "
	    "UPTIME  LAST-EXIT\n"
	    "w (pool of 2)  n1    -    running  -         -        -   -    "
	    "-       -\n"
	    "  w#0          n1    -    running  -         -        -   -    "
	    "-       -\n"
	    "  w#1          n1    -    running  -         -        -   -    "
	    "-       -\n"
	    "echo           n1    -    running  -         -        -   -    "
	    "-       -\n");
}

Test(cli_print, older_broker_rows, .init = cr_redirect_stdout)
{
	table_is("[{\"name\":\"echo\",\"node\":\"n1\",\"state\":\"running\"}]",
	    "NAME  NODE  PID  STATE    RESTARTS  MAILBOX  IN  OUT  "
	    "UPTIME  LAST-EXIT\n"
	    "echo  n1    -    running  -         -        -   -    "
	    "-       -\n");
}

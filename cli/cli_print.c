/*
 * cli_print — what the troupe CLI prints on stdout: compact JSON, the
 * actors and nodes tables (bold header on a terminal unless NO_COLOR),
 * "key: value" lines.  Each returns 0 or EX_OSERR (out of memory, one
 * line already on stderr).
 */
#define _GNU_SOURCE		/* asprintf */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli_opts.h"
#include "cli_json.h"
#include "cli_print.h"

#define NCOLS 10

struct col {
	const char	*col_head;
	const char	*col_key;
	/* the cell from the whole row instead of col_key's value */
	char		*(*col_text)(const json_t *row);
};

static char *actor_name(const json_t *actor);

static const struct col table_cols[NCOLS] = {
	{ "NAME", "name", actor_name }, { "NODE", "node", NULL },
	{ "PID", "pid", NULL }, { "STATE", "state", NULL },
	{ "RESTARTS", "restarts", NULL }, { "MAILBOX", "mailbox", NULL },
	{ "IN", "received", NULL }, { "OUT", "delivered", NULL },
	{ "UPTIME", "uptime", NULL }, { "LAST-EXIT", "last_exit", NULL },
};

static char *node_state(const json_t *node);

#define NODE_NCOLS 7
static const struct col node_cols[NODE_NCOLS] = {
	{ "NAME", "name", NULL }, { "STATE", "state", node_state },
	{ "ENDPOINT", "endpoint", NULL },
	{ "INCARNATION", "incarnation", NULL },
	{ "LAST-SEEN", "last_seen", NULL }, { "LINK", "link", NULL },
	{ "RTT", "rtt", NULL },
};

/* Control characters would break the one-line rule of stderr and tables. */
void
cli_print_flatten(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

int
cli_print_json(const json_t *j)
{
	char *s;

	if ((s = cli_json_dump(j)) == NULL) {
		cli_warn("out of memory");
		return EX_OSERR;
	}
	puts(s);
	free(s);
	return 0;
}

/* A table cell or field value; malloc'd, never NULL but on ENOMEM. */
static char *
cell_text(const json_t *v)
{
	char num[32], *s;

	if (v == NULL || json_is_null(v))
		return strdup("-");
	if (json_is_string(v)) {
		if ((s = strdup(json_string_value(v))) != NULL)
			cli_print_flatten(s);
		return s;
	}
	if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return strdup(num);
	}
	return cli_json_dump(v);
}

/* "alive" only when the member is routable; a member alive whose link or
 * names table is still coming is "alive/linking".  A broker that sends
 * no "routable" (an older one) keeps its member state. */
static char *
node_state(const json_t *node)
{
	const json_t *st = json_object_get(node, "state");
	const json_t *r = json_object_get(node, "routable");

	if (json_is_string(st) && strcmp(json_string_value(st), "alive") ==
	    0 && json_is_false(r))
		return strdup("alive/linking");
	return cell_text(st);
}

/* A pool's head row reads "NAME (pool of N)" and its instances follow
 * it indented ("  NAME#1"), so the pool shows as one block.  An actor
 * map without "pool" or "instances" (an older broker) prints as it
 * always did. */
static char *
actor_name(const json_t *actor)
{
	const json_t *name = json_object_get(actor, "name");
	const char *pool = json_string_value(json_object_get(actor, "pool"));
	json_int_t n = json_integer_value(json_object_get(actor,
	    "instances"));
	char *s, *cell;
	int rv;

	if ((s = cell_text(name)) == NULL || !json_is_string(name))
		return s;
	if (n > 0)
		rv = asprintf(&cell, "%s (pool of %" JSON_INTEGER_FORMAT ")",
		    s, n);
	else if (pool != NULL && *pool != '\0')
		rv = asprintf(&cell, "  %s", s);
	else
		return s;
	free(s);
	return rv < 0 ? NULL : cell;
}

static bool
use_colour(void)
{
	return isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
}

static void
print_row(char **cells, const size_t *width, bool bold, size_t ncols)
{
	size_t i;

	if (bold)
		fputs("\033[1m", stdout);
	for (i = 0; i < ncols; i++)
		if (i == ncols - 1)
			printf("%s", cells[i]);
		else
			printf("%-*s  ", (int)width[i], cells[i]);
	if (bold)
		fputs("\033[0m", stdout);
	putchar('\n');
}

static int
fill_row(char **cells, const json_t *actor, size_t *width,
    const struct col *cols, size_t ncols)
{
	size_t i;

	for (i = 0; i < ncols; i++) {
		if (!json_is_object(actor))
			cells[i] = cell_text(NULL);
		else if (cols[i].col_text != NULL)
			cells[i] = cols[i].col_text(actor);
		else
			cells[i] = cell_text(json_object_get(actor,
			    cols[i].col_key));
		if (cells[i] == NULL)
			return -1;
		if (strlen(cells[i]) > width[i])
			width[i] = strlen(cells[i]);
	}
	return 0;
}

static int
print_cols(const json_t *actors, const struct col *cols, size_t ncols)
{
	size_t n = json_array_size(actors), i, width[NCOLS];
	char *head[NCOLS], **cells;
	int rv = 0;

	if ((cells = calloc(n * ncols + 1, sizeof(*cells))) == NULL) {
		cli_warn("out of memory");
		return EX_OSERR;
	}
	for (i = 0; i < ncols; i++) {
		head[i] = (char *)(uintptr_t)cols[i].col_head;
		width[i] = strlen(head[i]);
	}
	for (i = 0; i < n && rv == 0; i++)
		rv = fill_row(cells + i * ncols, json_array_get(actors, i),
		    width, cols, ncols);
	if (rv != 0) {
		cli_warn("out of memory");
		rv = EX_OSERR;
		goto out_free_cells;
	}
	print_row(head, width, use_colour(), ncols);
	for (i = 0; i < n; i++)
		print_row(cells + i * ncols, width, false, ncols);
out_free_cells:
	for (i = 0; i < n * ncols; i++)
		free(cells[i]);
	free(cells);
	return rv;
}

int
cli_print_actors(const json_t *actors)
{
	return print_cols(actors, table_cols, NCOLS);
}

int
cli_print_fields(const json_t *obj)
{
	const char *key;
	json_t *v;
	char *text;

	json_object_foreach((json_t *)(uintptr_t)obj, key, v) {
		if ((text = cell_text(v)) == NULL) {
			cli_warn("out of memory");
			return EX_OSERR;
		}
		printf("%s: %s\n", key, text);
		free(text);
	}
	return 0;
}

int
cli_print_id(const struct cli_opts *o, uint64_t id)
{
	json_t *j;
	int rv;

	if (!o->o_json) {
		printf("%" PRIu64 "\n", id);
		return 0;
	}
	if ((j = json_pack("{s:I}", "id", (json_int_t)id)) == NULL) {
		cli_warn("out of memory");
		return EX_OSERR;
	}
	rv = cli_print_json(j);
	json_decref(j);
	return rv;
}

int
cli_print_nodes(const json_t *nodes)
{
	return print_cols(nodes, node_cols, NODE_NCOLS);
}

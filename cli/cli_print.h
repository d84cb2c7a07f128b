/*
 * cli_print — the troupe CLI's stdout: compact JSON, tables, "key: value"
 * lines.  The int functions return 0, or EX_OSERR after printing their
 * one stderr line (out of memory).  Nothing here takes ownership of the
 * JSON it is given.
 */
#ifndef CLI_PRINT_H
#define CLI_PRINT_H

#include <stdint.h>

#include <jansson.h>

#include "cli_opts.h"

/* Replaces control bytes in s (in place) with blanks: they would break
 * the one-line rule of stderr and the table columns. */
void cli_print_flatten(char *s);

/* Prints j as compact JSON and a newline. */
int cli_print_json(const json_t *j);

/* Prints the actors array as the `troupe actors` table. */
int cli_print_actors(const json_t *actors);

/* Prints the nodes array as the `troupe nodes` table. */
int cli_print_nodes(const json_t *nodes);

/* Prints each member of obj as "key: value" (values flattened, nested
 * ones as compact JSON). */
int cli_print_fields(const json_t *obj);

/* Prints a message id: the bare number, or {"id":N} with --json. */
int cli_print_id(const struct cli_opts *o, uint64_t id);

#endif

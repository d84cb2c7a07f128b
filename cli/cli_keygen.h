/*
 * cli_keygen — `troupe keygen [FILE] [--force]`: writes a new cluster key
 * (32 random bytes, mode 0600) for trouped's cluster.key_file.  Local,
 * never talks to a broker.  docs/SECURITY.md "Rotating the key".
 */
#ifndef CLI_KEYGEN_H
#define CLI_KEYGEN_H

#include "cli_cmd.h"

/*
 * args[0]: the key file, or NULL for tp_sec_key_default_path (the file
 * trouped uses when cluster.key_file is not set).  Refuses an existing
 * file unless o->o_force.  Prints the absolute path ({"path":...} with
 * --json).  Returns 0, 1 (file exists, cannot write) or 64 (no default
 * path); the one stderr line is printed.
 */
int cli_cmd_keygen(const struct cli_opts *o, char **args);

#endif

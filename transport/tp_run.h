/*
 * tp_run — where a broker's run dir is, the one rule trouped and the CLI
 * share (docs/ARCHITECTURE.md "Run dir").
 *
 * The default run dir is the one a broker with a config file and no
 * explicit run dir uses: /run/troupe as root, else $XDG_RUNTIME_DIR/troupe,
 * else /tmp/troupe-UID.  A zero-config node (no config file, no explicit
 * run dir) lives in BASE/NAME, BASE being the user's runtime directory +
 * "/troupe": $XDG_RUNTIME_DIR when it is set, absolute, a directory and
 * owned by this euid (for root too: a login session's /run/user/0, or a
 * test's own temp dir), else /run/troupe-local as root (/run/troupe is the
 * systemd unit's RuntimeDirectory: another owner, removed at its stop),
 * else /tmp/troupe-UID.
 * Every function writes into the caller's buf and returns 0, or -1 when
 * the path does not fit.
 */
#ifndef TP_RUN_H
#define TP_RUN_H

#include <stddef.h>

/* The default run dir (see above). */
int tp_run_default_dir(char *buf, size_t len);

/* BASE, the directory holding the zero-config nodes' run dirs. */
int tp_run_node_base(char *buf, size_t len);

/* BASE/NAME, the run dir of zero-config node name. */
int tp_run_node_dir(const char *name, char *buf, size_t len);

#endif

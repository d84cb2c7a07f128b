/*
 * tp_key — the cluster key file (see tp_sec.h for what the key protects,
 * docs/SECURITY.md for why the file is handled this way).  Functions
 * return 0 or a negative TP_E* / TP_SEC_E* code with one line in err.
 * The names keep tp_sec's prefix (tp_sec_key_*): the key is tp_sec's.
 */
#ifndef TP_KEY_H
#define TP_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tp_err.h"
#include "tp_sec.h"

/*
 * Reads the 32-byte key at path into key.  Refuses (one line in err) a
 * file that is not a regular file, has any group/other permission bit
 * (TP_SEC_EPERM), or is not exactly 32 bytes (TP_ETOOBIG / TP_ETRUNC).
 */
int tp_sec_key_load(const char *path, uint8_t key[TP_SEC_KEYBYTES],
    struct tp_err *err);

/*
 * Writes 32 fresh random bytes to path, mode 0600, fsynced; creates the
 * parent directory (0700) when missing.  Without force, an existing file
 * is an error (TP_EINVAL, "exists") and a new one appears whole (temp
 * file + link: a reader never sees it half written); with force it is
 * replaced atomically (temp file + rename).  key (may be NULL) receives
 * the new key.
 */
int tp_sec_key_create(const char *path, bool force,
    uint8_t key[TP_SEC_KEYBYTES], struct tp_err *err);

/*
 * The per-user default key path: $XDG_CONFIG_HOME/troupe/cluster.key
 * (for root only when root owns that directory), else for root
 * /etc/troupe/cluster.key, else $HOME/.config/troupe/cluster.key.
 * Returns 0, or TP_ETOOBIG / TP_EINVAL (no HOME).
 */
int tp_sec_key_default_path(char *buf, size_t len);

/*
 * What trouped does at start: loads conf_path when set (never creates
 * it); else the default path, created on first use.  used (len bytes)
 * gets the path, *created whether a new key was written.  Returns 0 or
 * the code of tp_sec_key_load / tp_sec_key_create (one line in err).
 */
int tp_sec_key_setup(const char *conf_path, uint8_t key[TP_SEC_KEYBYTES],
    char *used, size_t len, bool *created, struct tp_err *err);

#endif

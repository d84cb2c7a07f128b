/*
 * br_tap — the watch tap: a pub0 socket at ipc://RUN/tap.sock (0600) on
 * which the broker publishes one small record per routed message for
 * `troupe watch`.
 *
 * It costs nothing when nobody watches: a watcher holds a lease that it
 * renews every second with CONTROL {"op":"watch"} on the control socket;
 * without a live lease the routing hook is one load and one branch and
 * nothing is encoded.  No nng callback is involved (ARCHITECTURE.md
 * "Invariant"): the lease is taken and checked on the loop thread.
 *
 * A record is a msgpack map:
 *   {"node": str, "kind": "send"|"ask", "from": str, "to": str,
 *    "id": uint, "size": uint, "flags": uint, "ts_ms": uint,
 *    "body": raw msgpack bytes (bin) or nil, "truncated": bool}
 * where body holds the message body when it is at most BR_TAP_BODY_MAX
 * bytes (a cut msgpack value would not decode), else nil with truncated.
 * A pool's hand-off to an instance is a record of kind "deliver" with
 * "via": the instance (NAME#k); a publish one of kind "publish" with
 * "fanout": the copies made (local mailboxes plus peer links).
 */
#ifndef BR_TAP_H
#define BR_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>
#include <nng/nng.h>

#include "tp_env.h"

#define BR_TAP_BODY_MAX 512	/* body bytes copied into a record */
#define BR_TAP_LEASE_MS 3000	/* a watcher renews every second */

struct br_tap {
	nng_socket	 t_sock;
	bool		 t_open;
	uint64_t	 t_until_ms;	/* lease end; 0 = nobody watches */
	const char	*t_node;	/* borrowed from struct br */
	const struct tp_limits *t_lim;	/* borrowed from struct br */
	char		 t_url[300];
	uint64_t	 t_published;
};

/*
 * Listens on ipc://run_dir/tap.sock, mode 0600.  node and lim are
 * borrowed and must outlive the tap.  Returns 0 or -1 (logged).
 */
int br_tap_open(struct br_tap *t, const char *run_dir, const char *node,
    const struct tp_limits *lim);

/* Closes the socket and removes the socket file; safe if never opened. */
void br_tap_close(struct br_tap *t);

/*
 * Grants or renews the watch lease (BR_TAP_LEASE_MS from now) and packs
 * the CONTROL reply {"node": str, "tap": url, "lease_ms": uint} with pk.
 */
void br_tap_lease(struct br_tap *t, msgpack_packer *pk);

/* Publishes the record of one routed envelope (already encoded as the
 * target will see it); drops it when the lease ran out.  Never blocks. */
void br_tap_publish(struct br_tap *t, const uint8_t *env, size_t len);

/* What a "deliver" or "publish" record adds (static strings, borrowed). */
struct br_tap_note {
	const char	*tn_kind;
	const char	*tn_via;	/* "" when none */
	uint32_t	 tn_fanout;
};

/* Like br_tap_publish, with the note's kind and fields. */
void br_tap_publish_note(struct br_tap *t, const uint8_t *env, size_t len,
    const struct br_tap_note *note);

/* The hook of pools and topics: free unless someone holds a lease. */
static inline void
br_tap_noted(struct br_tap *t, const uint8_t *env, size_t len,
    const struct br_tap_note *note)
{
	if (t->t_until_ms != 0)
		br_tap_publish_note(t, env, len, note);
}

/* The routing hook: free unless someone holds a lease. */
static inline void
br_tap_routed(struct br_tap *t, const uint8_t *env, size_t len)
{
	if (t->t_until_ms != 0)
		br_tap_publish(t, env, len);
}

#endif

/*
 * troupe_cgrant — opening a client link, first half (libtroupe's
 * client API, troupe.h): which control socket "where" names, and the
 * broker's grant of a link on it (docs/ARCHITECTURE.md "Client link":
 * CONTROL {"op":"client"} answered {"url","name","node","window",
 * "max_body"}).  Internal to libtroupe: troupe_client.c dials the
 * granted link.
 */
#ifndef TROUPE_CGRANT_H
#define TROUPE_CGRANT_H

#include <stddef.h>
#include <stdint.h>

#include "tp_env.h"
#include "troupe.h"

#define TROUPE_CGRANT_URL_MAX 512

struct troupe_grant {
	char		 g_link[TROUPE_CGRANT_URL_MAX];	/* pair1 ipc URL */
	char		 g_name[TROUPE_NAME_MAX + 1];	/* "cli-7" */
	char		 g_node[TROUPE_NAME_MAX + 1];
	uint32_t	 g_window;			/* 1..65536 */
	uint64_t	 g_max_body;
};

/* The control URL where names (troupe_client_open in troupe.h) into
 * url (len bytes).  0, or TP_EINVAL (said by troupe_cgrant_fail). */
int troupe_cgrant_url(const char *where, char *url, size_t len);

/*
 * Asks the broker at url for a client link, within timeout_ms for the
 * dial and again for the answer; lim bounds the answer's decoding.
 * 0 with g filled, or TP_EUNREACH, TP_EPERM, TP_EPEER, TP_ETIMEDOUT,
 * TP_EAGAIN (no free link), TP_ENOMEM, with the reason set.
 */
int troupe_cgrant_ask(const char *url, int timeout_ms,
    const struct tp_limits *lim, struct troupe_grant *g);

/* An ERROR body {"code": int, "message": str}, decoded: its message
 * into msg (len bytes, "" if none), its code returned
 * (TROUPE_ERR_BAD_REQUEST when it has none). */
int troupe_cgrant_error(const msgpack_object *o, char *msg, size_t len);

/* Sets the text troupe_client_open_error returns (this thread's), from
 * fmt; returns rv. */
int troupe_cgrant_fail(int rv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif

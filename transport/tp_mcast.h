/*
 * tp_mcast — UDP multicast sockets for cluster discovery beacons.
 *
 * nng has no UDP transport, so this is plain POSIX: one non-blocking,
 * close-on-exec datagram socket per group, bound to the group's port and
 * joined to the group on one interface address.  The same socket sends
 * (out of that interface) and receives.  Several sockets on one host may
 * share a group and port (SO_REUSEPORT), which is how several brokers of a
 * local cluster hear each other.
 */
#ifndef TP_MCAST_H
#define TP_MCAST_H

#include <stdbool.h>
#include <stddef.h>

#include <netinet/in.h>

#include "tp_err.h"

/* Largest payload of one IPv4 UDP datagram. */
#define TP_MCAST_MAX_DGRAM 65507

struct tp_mcast {
	int			 m_fd;		/* -1 when closed */
	struct sockaddr_in	 m_group;	/* address and port */
	struct in_addr		 m_ifaddr;	/* interface used */
};

/*
 * Parses "A.B.C.D:PORT" (A.B.C.D in 224.0.0.0/4, PORT 1..65535) into sa.
 * Returns 0 or TP_EINVAL with a message naming the bad part.
 */
int tp_mcast_parse_group(const char *group, struct sockaddr_in *sa,
    struct tp_err *err);

/*
 * Opens m on group ("239.255.42.99:7446") through the interface that owns
 * ifaddr ("127.0.0.1"), with the given multicast ttl (0..255) and loop
 * (IP_MULTICAST_LOOP: whether this host's other sockets hear what m sends
 * out of a real interface; on lo every member hears one copy regardless,
 * so receivers must drop their own beacons by identity).  Returns 0, or
 * TP_EINVAL (bad group, interface or ttl) or TP_ESYS (a socket call failed,
 * errno's words in err); on failure nothing is left open and m->m_fd is
 * -1.  The caller closes m with tp_mcast_close.
 */
int tp_mcast_open(struct tp_mcast *m, const char *group, const char *ifaddr,
    int ttl, bool loop, struct tp_err *err);

/*
 * Sends len bytes (at most TP_MCAST_MAX_DGRAM) as one datagram to the
 * group.  buf stays the caller's.  Returns 0, TP_EAGAIN (socket buffer
 * full), TP_ETOOBIG or TP_ESYS.
 */
int tp_mcast_send(struct tp_mcast *m, const void *buf, size_t len,
    struct tp_err *err);

/*
 * Receives one datagram into buf (cap bytes), its length in *len and its
 * sender in *from (may be NULL).  Returns 0, TP_EAGAIN when nothing is
 * waiting, TP_ETOOBIG when the datagram was larger than cap (it is
 * dropped), or TP_ESYS.
 */
int tp_mcast_recv(struct tp_mcast *m, void *buf, size_t cap, size_t *len,
    struct sockaddr_in *from, struct tp_err *err);

/* The socket's fd, to poll for POLLIN; owned by m. */
int tp_mcast_fd(const struct tp_mcast *m);

/* Closes m (leaving the group); safe on a closed or failed m. */
void tp_mcast_close(struct tp_mcast *m);

#endif

/*
 * test_mcast — UDP multicast on 127.0.0.1 only, never an outward
 * interface: two sockets share a random group and port, one sends, the
 * other (and the sender itself, with loop on) receives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "tp_mcast.h"

#define LO "127.0.0.1"

/* 239.255.x.y:port with x, y and port random, so parallel runs differ. */
static void
random_group(char *buf, size_t len)
{
	struct timespec ts;
	unsigned r;

	clock_gettime(CLOCK_REALTIME, &ts);
	r = (unsigned)ts.tv_nsec ^ (unsigned)getpid() * 2654435761u;
	snprintf(buf, len, "239.255.%u.%u:%u", (r >> 8) & 0xff,
	    1 + (r >> 16) % 254, 20000 + r % 30000);
}

static void
open_pair(struct tp_mcast *a, struct tp_mcast *b, char *group, size_t len)
{
	struct tp_err err = { 0 };

	random_group(group, len);
	cr_assert_eq(tp_mcast_open(a, group, LO, 1, true, &err), 0, "%s",
	    err.e_msg);
	cr_assert_eq(tp_mcast_open(b, group, LO, 1, true, &err), 0, "%s",
	    err.e_msg);
}

/* Waits up to ms for a datagram on m and receives it. */
static int
recv_wait(struct tp_mcast *m, void *buf, size_t cap, size_t *len,
    struct sockaddr_in *from, int ms, struct tp_err *err)
{
	struct pollfd pfd = { .fd = tp_mcast_fd(m), .events = POLLIN };

	if (poll(&pfd, 1, ms) != 1)
		return TP_ETIMEDOUT;
	return tp_mcast_recv(m, buf, cap, len, from, err);
}

Test(mcast, send_and_receive_on_loopback, .timeout = 10)
{
	struct tp_mcast a, b;
	struct sockaddr_in from;
	struct tp_err err = { 0 };
	char group[64], buf[64];
	size_t len = 0;
	int rv;

	open_pair(&a, &b, group, sizeof(group));
	cr_assert_eq(tp_mcast_send(&a, "beacon-1", 8, &err), 0, "%s",
	    err.e_msg);
	rv = recv_wait(&b, buf, sizeof(buf), &len, &from, 2000, &err);
	cr_assert_eq(rv, 0, "no datagram on %s via lo: %d %s (does lo have "
	    "the MULTICAST flag?)", group, rv, err.e_msg);
	cr_assert_eq(len, 8);
	cr_assert(memcmp(buf, "beacon-1", 8) == 0);
	cr_assert_eq(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	/* with loop on, the sender hears itself too */
	cr_assert_eq(recv_wait(&a, buf, sizeof(buf), &len, NULL, 2000, &err),
	    0, "%s", err.e_msg);
	cr_assert_eq(len, 8);
	tp_mcast_close(&a);
	tp_mcast_close(&b);
}

Test(mcast, empty_socket_is_eagain)
{
	struct tp_mcast a, b;
	struct tp_err err = { 0 };
	char group[64], buf[16];
	size_t len = 0;

	open_pair(&a, &b, group, sizeof(group));
	cr_assert_eq(tp_mcast_recv(&b, buf, sizeof(buf), &len, NULL, &err),
	    TP_EAGAIN);
	cr_assert_eq(err.e_code, TP_EAGAIN);
	tp_mcast_close(&a);
	tp_mcast_close(&b);
}

/*
 * On lo the datagram really leaves through the loopback device and comes
 * back in, so every member on the host gets exactly one copy whatever
 * IP_MULTICAST_LOOP says (checked on Linux 6.x, with and without lo's
 * MULTICAST flag, and in a fresh network namespace).  Hence brokers must
 * drop their own beacons by node identity, not rely on loop = false.
 */
Test(mcast, loopback_delivers_once_whatever_loop_says, .timeout = 10)
{
	struct tp_mcast a, b;
	struct tp_err err = { 0 };
	char group[64], buf[16];
	size_t len = 0;

	random_group(group, sizeof(group));
	cr_assert_eq(tp_mcast_open(&a, group, LO, 1, false, &err), 0);
	cr_assert_eq(tp_mcast_open(&b, group, LO, 1, true, &err), 0);
	cr_assert_eq(tp_mcast_send(&a, "y", 1, &err), 0, "%s", err.e_msg);
	cr_assert_eq(recv_wait(&b, buf, sizeof(buf), &len, NULL, 2000, &err),
	    0, "b must hear a: %s", err.e_msg);
	cr_assert_eq(recv_wait(&a, buf, sizeof(buf), &len, NULL, 2000, &err),
	    0, "a hears itself on lo even with loop off");
	cr_assert_eq(recv_wait(&b, buf, sizeof(buf), &len, NULL, 200, &err),
	    TP_ETIMEDOUT, "duplicate datagram");
	cr_assert_eq(recv_wait(&a, buf, sizeof(buf), &len, NULL, 200, &err),
	    TP_ETIMEDOUT, "duplicate datagram");
	tp_mcast_close(&a);
	tp_mcast_close(&b);
}

Test(mcast, other_group_same_port_not_received, .timeout = 10)
{
	struct tp_mcast a, b;
	struct tp_err err = { 0 };
	char ga[64], gb[64], buf[16];
	unsigned x, y, port;
	size_t len = 0;

	random_group(ga, sizeof(ga));
	cr_assert_eq(sscanf(ga, "239.255.%u.%u:%u", &x, &y, &port), 3);
	snprintf(gb, sizeof(gb), "239.255.%u.%u:%u", x, y % 254 + 1, port);
	cr_assert_eq(tp_mcast_open(&a, ga, LO, 1, true, &err), 0);
	cr_assert_eq(tp_mcast_open(&b, gb, LO, 1, true, &err), 0);
	cr_assert_eq(tp_mcast_send(&a, "x", 1, &err), 0);
	cr_assert_eq(recv_wait(&b, buf, sizeof(buf), &len, NULL, 300, &err),
	    TP_ETIMEDOUT, "datagram of another group leaked in");
	tp_mcast_close(&a);
	tp_mcast_close(&b);
}

Test(mcast, datagram_larger_than_buffer, .timeout = 10)
{
	struct tp_mcast a, b;
	struct tp_err err = { 0 };
	char group[64], buf[4];
	size_t len = 0;

	open_pair(&a, &b, group, sizeof(group));
	cr_assert_eq(tp_mcast_send(&a, "0123456789", 10, &err), 0);
	cr_assert_eq(recv_wait(&b, buf, sizeof(buf), &len, NULL, 2000, &err),
	    TP_ETOOBIG);
	cr_assert(strstr(err.e_msg, "10 bytes") != NULL, "%s", err.e_msg);
	cr_assert_eq(tp_mcast_send(&a, buf, TP_MCAST_MAX_DGRAM + 1, &err),
	    TP_ETOOBIG);
	tp_mcast_close(&a);
	tp_mcast_close(&b);
}

Test(mcast, socket_flags)
{
	struct tp_mcast a;
	struct tp_err err = { 0 };
	char group[64];
	int fd, v = 0;
	socklen_t vlen = sizeof(v);

	random_group(group, sizeof(group));
	cr_assert_eq(tp_mcast_open(&a, group, LO, 3, true, &err), 0);
	fd = tp_mcast_fd(&a);
	cr_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert_eq(getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &v, &vlen), 0);
	cr_assert_neq(v, 0);
	cr_assert_eq(getsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &v, &vlen),
	    0);
	cr_assert_eq(v, 3);
	tp_mcast_close(&a);
	cr_assert_eq(tp_mcast_fd(&a), -1);
	tp_mcast_close(&a);	/* twice is harmless */
}

static void
expect_bad(const char *group, const char *ifaddr, int ttl,
    const char *needle)
{
	struct tp_mcast m;
	struct tp_err err = { 0 };

	cr_assert_eq(tp_mcast_open(&m, group, ifaddr, ttl, true, &err),
	    TP_EINVAL, "%s %s accepted", group, ifaddr);
	cr_assert_eq(m.m_fd, -1);
	cr_assert(strstr(err.e_msg, needle) != NULL,
	    "message \"%s\" lacks \"%s\"", err.e_msg, needle);
}

Test(mcast, bad_group_rejected)
{
	expect_bad("10.0.0.1:7446", LO, 1, "not in 224.0.0.0/4");
	expect_bad("240.0.0.1:7446", LO, 1, "not in 224.0.0.0/4");
	expect_bad("127.0.0.1:7446", LO, 1, "not in 224.0.0.0/4");
	expect_bad("239.255.1.300:7446", LO, 1, "not an IPv4 address");
	expect_bad("groupname:7446", LO, 1, "not an IPv4 address");
	expect_bad("239.255.1.1", LO, 1, "ADDRESS:PORT");
	expect_bad(":7446", LO, 1, "bad address");
	expect_bad(NULL, LO, 1, "ADDRESS:PORT");
	expect_bad("239.255.1.1:0", LO, 1, "bad port");
	expect_bad("239.255.1.1:65536", LO, 1, "bad port");
	expect_bad("239.255.1.1:", LO, 1, "bad port");
	expect_bad("239.255.1.1:-1", LO, 1, "bad port");
	expect_bad("239.255.1.1:74x", LO, 1, "bad port");
}

Test(mcast, bad_interface_rejected)
{
	expect_bad("239.255.1.1:7446", "localhost", 1, "not an IPv4");
	expect_bad("239.255.1.1:7446", "127.0.0.256", 1, "not an IPv4");
	expect_bad("239.255.1.1:7446", NULL, 1, "not an IPv4");
	expect_bad("239.255.1.1:7446", "0.0.0.0", 1, "unicast address");
	expect_bad("239.255.1.1:7446", "239.1.1.1", 1, "unicast address");
	expect_bad("239.255.1.1:7446", LO, 256, "ttl");
	expect_bad("239.255.1.1:7446", LO, -1, "ttl");
}

/* An address no interface owns: the kernel refuses the membership. */
Test(mcast, interface_not_on_host)
{
	struct tp_mcast m;
	struct tp_err err = { 0 };
	char group[64];

	random_group(group, sizeof(group));
	cr_assert_eq(tp_mcast_open(&m, group, "192.0.2.77", 1, true, &err),
	    TP_ESYS);
	cr_assert_eq(m.m_fd, -1);
	cr_assert(strstr(err.e_msg, "192.0.2.77") != NULL, "%s", err.e_msg);
}

Test(mcast, parse_group)
{
	struct sockaddr_in sa;
	struct tp_err err = { 0 };

	cr_assert_eq(tp_mcast_parse_group("239.255.42.99:7446", &sa, &err),
	    0);
	cr_assert_eq(ntohs(sa.sin_port), 7446);
	cr_assert_eq(ntohl(sa.sin_addr.s_addr), 0xefff2a63);
	cr_assert_eq(tp_mcast_parse_group("224.0.0.251:5353", &sa, &err), 0);
}

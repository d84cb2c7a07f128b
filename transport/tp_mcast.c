#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tp_mcast.h"

static int
sys_err(struct tp_err *err, const char *what, const char *arg)
{
	return tp_err_set(err, TP_ESYS, "%s%s%s: %s", what, arg ? " " : "",
	    arg ? arg : "", strerror(errno));
}

static int
parse_port(const char *s, in_port_t *port, const char *group,
    struct tp_err *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v == 0 ||
	    v > 65535)
		return tp_err_set(err, TP_EINVAL, "multicast group %s: bad "
		    "port \"%s\" (1..65535)", group, s);
	*port = htons((in_port_t)v);
	return 0;
}

int
tp_mcast_parse_group(const char *group, struct sockaddr_in *sa,
    struct tp_err *err)
{
	char host[INET_ADDRSTRLEN];
	const char *colon;
	size_t hlen;

	if (group == NULL || (colon = strrchr(group, ':')) == NULL)
		return tp_err_set(err, TP_EINVAL, "multicast group \"%s\": "
		    "expected ADDRESS:PORT", group ? group : "(null)");
	hlen = (size_t)(colon - group);
	if (hlen == 0 || hlen >= sizeof(host))
		return tp_err_set(err, TP_EINVAL, "multicast group \"%s\": "
		    "bad address", group);
	memcpy(host, group, hlen);
	host[hlen] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return tp_err_set(err, TP_EINVAL, "multicast group \"%s\": "
		    "\"%s\" is not an IPv4 address", group, host);
	if (!IN_MULTICAST(ntohl(sa->sin_addr.s_addr)))
		return tp_err_set(err, TP_EINVAL, "multicast group \"%s\": "
		    "%s is not in 224.0.0.0/4", group, host);
	return parse_port(colon + 1, &sa->sin_port, group, err);
}

static int
parse_args(struct tp_mcast *m, const char *group, const char *ifaddr,
    int ttl, struct tp_err *err)
{
	int rv;

	if ((rv = tp_mcast_parse_group(group, &m->m_group, err)) != 0)
		return rv;
	if (ifaddr == NULL || inet_pton(AF_INET, ifaddr, &m->m_ifaddr) != 1)
		return tp_err_set(err, TP_EINVAL, "multicast interface "
		    "\"%s\" is not an IPv4 address", ifaddr ? ifaddr :
		    "(null)");
	if (IN_MULTICAST(ntohl(m->m_ifaddr.s_addr)) ||
	    m->m_ifaddr.s_addr == htonl(INADDR_ANY))
		return tp_err_set(err, TP_EINVAL, "multicast interface %s: "
		    "need the unicast address of one interface", ifaddr);
	if (ttl < 0 || ttl > 255)
		return tp_err_set(err, TP_EINVAL, "multicast ttl %d not in "
		    "0..255", ttl);
	return 0;
}

static int
set_int(int fd, int level, int opt, int v, const char *name,
    struct tp_err *err)
{
	if (setsockopt(fd, level, opt, &v, sizeof(v)) != 0)
		return sys_err(err, "setsockopt", name);
	return 0;
}

/*
 * Bound to the group address rather than INADDR_ANY, so unicast or other
 * groups' datagrams to the same port never reach this socket.
 */
static int
bind_join(struct tp_mcast *m, const char *group, struct tp_err *err)
{
	struct ip_mreq mreq;

	if (bind(m->m_fd, (const struct sockaddr *)&m->m_group,
	    sizeof(m->m_group)) != 0)
		return sys_err(err, "bind", group);
	memset(&mreq, 0, sizeof(mreq));
	mreq.imr_multiaddr = m->m_group.sin_addr;
	mreq.imr_interface = m->m_ifaddr;
	if (setsockopt(m->m_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq,
	    sizeof(mreq)) != 0)
		return sys_err(err, "join multicast group", group);
	return 0;
}

static int
set_opts(struct tp_mcast *m, const char *ifaddr, int ttl, bool loop,
    struct tp_err *err)
{
	int rv;

	if ((rv = set_int(m->m_fd, SOL_SOCKET, SO_REUSEADDR, 1,
	    "SO_REUSEADDR", err)) != 0 ||
	    (rv = set_int(m->m_fd, SOL_SOCKET, SO_REUSEPORT, 1,
	    "SO_REUSEPORT", err)) != 0 ||
	    (rv = set_int(m->m_fd, IPPROTO_IP, IP_MULTICAST_TTL, ttl,
	    "IP_MULTICAST_TTL", err)) != 0 ||
	    (rv = set_int(m->m_fd, IPPROTO_IP, IP_MULTICAST_LOOP, loop,
	    "IP_MULTICAST_LOOP", err)) != 0)
		return rv;
	if (setsockopt(m->m_fd, IPPROTO_IP, IP_MULTICAST_IF, &m->m_ifaddr,
	    sizeof(m->m_ifaddr)) != 0)
		return sys_err(err, "send multicast through interface",
		    ifaddr);
	return 0;
}

int
tp_mcast_open(struct tp_mcast *m, const char *group, const char *ifaddr,
    int ttl, bool loop, struct tp_err *err)
{
	int rv;

	memset(m, 0, sizeof(*m));
	m->m_fd = -1;
	if ((rv = parse_args(m, group, ifaddr, ttl, err)) != 0)
		return rv;
	m->m_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (m->m_fd < 0)
		return sys_err(err, "socket", NULL);
	if ((rv = set_opts(m, ifaddr, ttl, loop, err)) != 0 ||
	    (rv = bind_join(m, group, err)) != 0)
		goto out_close;
	return 0;
out_close:
	tp_mcast_close(m);
	return rv;
}

int
tp_mcast_send(struct tp_mcast *m, const void *buf, size_t len,
    struct tp_err *err)
{
	char a[INET_ADDRSTRLEN];
	ssize_t n;

	if (len > TP_MCAST_MAX_DGRAM)
		return tp_err_set(err, TP_ETOOBIG, "datagram of %zu bytes, "
		    "limit %d", len, TP_MCAST_MAX_DGRAM);
	do
		n = sendto(m->m_fd, buf, len, MSG_DONTWAIT,
		    (const struct sockaddr *)&m->m_group, sizeof(m->m_group));
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return tp_err_set(err, TP_EAGAIN, "multicast send: socket "
		    "buffer full");
	if (n < 0)
		return sys_err(err, "multicast send to", inet_ntop(AF_INET,
		    &m->m_group.sin_addr, a, sizeof(a)));
	return 0;
}

int
tp_mcast_recv(struct tp_mcast *m, void *buf, size_t cap, size_t *len,
    struct sockaddr_in *from, struct tp_err *err)
{
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	char a[INET_ADDRSTRLEN];
	ssize_t n;

	do
		n = recvfrom(m->m_fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC,
		    (struct sockaddr *)&sa, &slen);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return tp_err_set(err, TP_EAGAIN, "no datagram waiting");
	if (n < 0)
		return sys_err(err, "multicast receive", NULL);
	if ((size_t)n > cap)	/* MSG_TRUNC gave the real size */
		return tp_err_set(err, TP_ETOOBIG, "datagram of %zd bytes "
		    "from %s dropped, buffer %zu", n, inet_ntop(AF_INET,
		    &sa.sin_addr, a, sizeof(a)), cap);
	*len = (size_t)n;
	if (from != NULL)
		*from = sa;
	return 0;
}

int
tp_mcast_fd(const struct tp_mcast *m)
{
	return m->m_fd;
}

void
tp_mcast_close(struct tp_mcast *m)
{
	if (m->m_fd >= 0)
		close(m->m_fd);
	m->m_fd = -1;
}

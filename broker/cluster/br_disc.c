/*
 * br_disc — beacons (multicast and seeds) and the member table.
 * Loop thread only: the sockets are non-blocking and polled by br_loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "br.h"
#include "br_disc.h"
#include "br_log.h"
#include "br_resolv.h"
#include "br_seeds.h"
#include "tp_key.h"
#include "tp_mcast.h"
#include "tp_sec.h"

#define RESOLVE_EVERY_MS 5000
#define ANSWER_GAP_MS 100	/* early beacons for newcomers: at most 10/s */
#define GROUP_MAX 64		/* as cluster.group */

struct br_disc {
	struct tp_mcast	 d_mc;		/* m_fd -1 when multicast is off */
	int		 d_ufd;		/* unicast UDP for seeds, -1 = off */
	struct br_seeds	 d_seeds;	/* cluster.seeds, their answers */
	char		 d_listen[BR_ENDPOINT_MAX];	/* as bound */
	char		 d_group[GROUP_MAX];	/* as joined */
	uint64_t	 d_next_beacon_ms;
	uint64_t	 d_last_beacon_ms;
	uint64_t	 d_next_resolve_ms;
	uint64_t	 d_inc;
	uint64_t	 d_seq;
	char		 d_endpoint[BR_ENDPOINT_MAX];
	struct br_node	 d_nodes[BR_MAX_NODES];
	uint32_t	 d_nnodes;
	struct br_disc_stats d_st;
	struct br_resolv *d_res;	/* NULL without seeds */
	uint8_t		 d_key[TP_SEC_KEYBYTES];
	bool		 d_encrypt;
	struct tp_sec_replay d_replay;
	const struct br_disc_ops *d_ops;	/* br_peer's; NULL before */
};

const char *
br_mstate_name(enum br_mstate st)
{
	static const char *names[] = { "alive", "suspect", "dead" };

	return names[st];
}

/* ---- the member table ---- */

void
br_disc_set_ops(struct br *br, const struct br_disc_ops *ops)
{
	if (br->b_disc != NULL)
		br->b_disc->d_ops = ops;
}

static void
link_reset(struct br_disc *d, struct br_node *n, const char *why)
{
	if (d->d_ops != NULL && n->n_link != NULL)
		d->d_ops->do_link_reset(n->n_link, why);
}

struct br_node *
br_disc_find(struct br *br, const char *name, size_t len)
{
	struct br_disc *d = br->b_disc;

	if (d == NULL)
		return NULL;
	for (uint32_t i = 0; i < d->d_nnodes; i++)
		if (strlen(d->d_nodes[i].n_name) == len &&
		    memcmp(d->d_nodes[i].n_name, name, len) == 0)
			return &d->d_nodes[i];
	return NULL;
}

/* A full table reuses its longest-dead slot: dead members are kept only
 * to be shown. */
static struct br_node *
node_slot(struct br_disc *d)
{
	struct br_node *old = NULL;

	if (d->d_nnodes < BR_MAX_NODES)
		return &d->d_nodes[d->d_nnodes++];
	for (uint32_t i = 0; i < d->d_nnodes; i++) {
		struct br_node *n = &d->d_nodes[i];

		if (n->n_state == BR_M_DEAD && (old == NULL ||
		    n->n_last_seen_ms < old->n_last_seen_ms))
			old = n;
	}
	if (old != NULL)
		link_reset(d, old, "member slot reused");
	return old;
}

static struct br_node *
node_new(struct br *br, const char *name, size_t len)
{
	struct br_disc *d = br->b_disc;
	struct br_node *n;

	if ((n = node_slot(d)) == NULL) {
		log_warn("member table full, node ignored", "node=%.*s",
		    (int)len, name);
		return NULL;
	}
	if (n->n_link == NULL && (d->d_ops == NULL ||
	    (n->n_link = d->d_ops->do_link_new(br, n)) == NULL)) {
		d->d_nnodes--;
		return NULL;
	}
	memcpy(n->n_name, name, len);
	n->n_name[len] = '\0';
	n->n_inc = 0;
	n->n_endpoint[0] = '\0';
	return n;
}

struct br_node *
br_disc_heard(struct br *br, const char *name, size_t len, uint64_t inc,
    const char *endpoint)
{
	struct br_node *n;

	if (len == 0 || len >= BR_NAME_MAX || br->b_disc == NULL ||
	    (len == strlen(br->b_node) && memcmp(name, br->b_node, len) == 0))
		return NULL;
	if ((n = br_disc_find(br, name, len)) == NULL &&
	    (n = node_new(br, name, len)) == NULL)
		return NULL;
	if (n->n_inc != inc) {
		if (n->n_inc != 0) {
			log_info("node restarted", "node=%s incarnation=%llx",
			    n->n_name, (unsigned long long)inc);
			link_reset(br->b_disc, n, "new incarnation");
		} else
			log_info("node joined", "node=%s incarnation=%llx",
			    n->n_name, (unsigned long long)inc);
		n->n_inc = inc;
		n->n_state = BR_M_ALIVE;
	} else if (n->n_state != BR_M_ALIVE) {
		log_info("node alive again", "node=%s", n->n_name);
		n->n_state = BR_M_ALIVE;
	}
	if (endpoint != NULL && *endpoint != '\0')
		snprintf(n->n_endpoint, sizeof(n->n_endpoint), "%s", endpoint);
	n->n_last_seen_ms = br_now_ms();
	n->n_last_seen_wall_ms = br_wall_ms();
	return n;
}

struct br_node *
br_disc_learn(struct br *br, const char *name, size_t len, uint64_t inc,
    const char *endpoint)
{
	if (br_disc_find(br, name, len) != NULL)
		return NULL;
	return br_disc_heard(br, name, len, inc, endpoint);
}

static void
age_node(struct br *br, struct br_node *n, uint64_t now)
{
	const struct br_conf *c = br->b_conf;
	uint64_t age = now - n->n_last_seen_ms;
	enum br_mstate st = n->n_state;

	if (st == BR_M_ALIVE && age > c->c_suspect_after_ms) {
		n->n_state = BR_M_SUSPECT;
		log_warn("node suspect", "node=%s silent_ms=%llu", n->n_name,
		    (unsigned long long)age);
		link_reset(br->b_disc, n, "node suspect");
	}
	if (n->n_state == BR_M_SUSPECT && age > c->c_dead_after_ms) {
		n->n_state = BR_M_DEAD;
		log_warn("node dead", "node=%s silent_ms=%llu", n->n_name,
		    (unsigned long long)age);
		link_reset(br->b_disc, n, "node dead");
	}
	if (n->n_state != st && br->b_disc->d_ops != NULL)
		br->b_disc->d_ops->do_changed(br);	/* waiters may fail */
}

/* ---- sockets ---- */

/* "tcp://H:P" into host and port strings; 0 or -1. */
static int
split_url(const char *url, char *host, size_t hlen, char *port,
    size_t plen)
{
	const char *h, *colon;

	if (strncmp(url, "tcp://", 6) != 0)
		return -1;
	h = url + 6;
	if ((colon = strrchr(h, ':')) == NULL || (size_t)(colon - h) >= hlen ||
	    strlen(colon + 1) >= plen)
		return -1;
	snprintf(host, hlen, "%.*s", (int)(colon - h), h);
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

static int
resolve4(const char *host, const char *port, struct sockaddr_in *out,
    uint32_t max)
{
	struct addrinfo hints = { .ai_family = AF_INET,
	    .ai_socktype = SOCK_DGRAM }, *res, *ai;
	uint32_t n = 0;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return 0;
	for (ai = res; ai != NULL && n < max; ai = ai->ai_next)
		memcpy(&out[n++], ai->ai_addr, sizeof(*out));
	freeaddrinfo(res);
	return (int)n;
}

/* Seeds are host names (a headless service, say): resolved again every
 * few seconds, off the loop thread (br_resolv), so that new addresses are
 * found.  A round where every lookup failed keeps the last list: DNS
 * hiccups do not empty it. */
static void
on_resolved(void *arg)
{
	struct br *br = arg;
	struct br_disc *d = br->b_disc;
	struct sockaddr_in tmp[BR_SEEDS_MAX_ADDRS];
	uint32_t src[BR_SEEDS_MAX_ADDRS];
	int n;

	if ((n = br_resolv_collect(d->d_res, tmp, src,
	    BR_SEEDS_MAX_ADDRS)) <= 0)
		return;
	br_seeds_replace(&d->d_seeds, tmp, src, (uint32_t)n);
}

/* Seeds mode listens for unicast beacons on the UDP port numbered like
 * the node's TCP port as bound (port 0 got a number by then), so a seed
 * "host:7447" names both. */
static int
open_unicast(struct br *br)
{
	struct br_disc *d = br->b_disc;
	char host[BR_ENDPOINT_MAX], port[16];
	struct sockaddr_in sa;
	int one = 1;

	if (split_url(d->d_listen, host, sizeof(host), port,
	    sizeof(port)) != 0 || resolve4(host, port, &sa, 1) != 1) {
		log_error("cannot use node.listen for seeds", "listen=%s",
		    d->d_listen);
		return -1;
	}
	d->d_ufd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (d->d_ufd < 0 || setsockopt(d->d_ufd, SOL_SOCKET, SO_REUSEADDR,
	    &one, sizeof(one)) != 0 ||
	    bind(d->d_ufd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		log_error("cannot open the seeds socket", "listen=%s "
		    "error=\"%s\"", d->d_listen, strerror(errno));
		return -1;
	}
	return 0;
}

static void
send_beacon_to(struct br *br, const uint8_t *buf, size_t len,
    const struct sockaddr_in *to)
{
	struct br_disc *d = br->b_disc;

	if (sendto(d->d_ufd, buf, len, 0, (const struct sockaddr *)to,
	    sizeof(*to)) == (ssize_t)len)
		d->d_st.ds_sent++;
}

static int
build_beacon(struct br *br, uint8_t *buf, size_t cap, size_t *len)
{
	struct br_disc *d = br->b_disc;
	const char *cluster = br->b_conf->c_cluster_name;
	struct br_beacon bc = {
		.bc_cluster = cluster, .bc_cluster_len = strlen(cluster),
		.bc_node = br->b_node, .bc_node_len = strlen(br->b_node),
		.bc_inc = d->d_inc, .bc_endpoint = d->d_endpoint,
		.bc_endpoint_len = strlen(d->d_endpoint),
		.bc_ts_ms = br_wall_ms(), .bc_seq = ++d->d_seq,
	};

	return br_beacon_seal(&bc, d->d_key, buf, cap, len);
}

static void
send_beacons(struct br *br)
{
	struct br_disc *d = br->b_disc;
	uint8_t buf[BR_BEACON_MAX];
	size_t len;

	if (build_beacon(br, buf, sizeof(buf), &len) != 0)
		return;
	if (d->d_mc.m_fd >= 0 && tp_mcast_send(&d->d_mc, buf, len, NULL) == 0)
		d->d_st.ds_sent++;
	for (uint32_t i = 0; d->d_ufd >= 0 && i < d->d_seeds.ss_naddr; i++)
		send_beacon_to(br, buf, len, &d->d_seeds.ss_addr[i].sa_addr);
}

/* A listener on 0.0.0.0 advertises no usable address: the receiver puts
 * the datagram's source address in its place. */
static void
endpoint_of(const struct br_beacon *bc, const struct sockaddr_in *from,
    char *out, size_t len)
{
	char src[INET_ADDRSTRLEN];
	const char *wild = "tcp://0.0.0.0:";
	size_t wl = strlen(wild);

	if (bc->bc_endpoint_len > wl && memcmp(bc->bc_endpoint, wild, wl) ==
	    0 && inet_ntop(AF_INET, &from->sin_addr, src, sizeof(src)) != NULL)
		snprintf(out, len, "tcp://%s:%.*s", src,
		    (int)(bc->bc_endpoint_len - wl), bc->bc_endpoint + wl);
	else
		snprintf(out, len, "%.*s", (int)bc->bc_endpoint_len,
		    bc->bc_endpoint);
}

/* MAC, timestamp window, then (node, incarnation, seq) newer than any
 * seen: only then is anything in the beacon believed.  Rejections are
 * counted per reason and logged at debug (a foreign node beacons every
 * interval). */
static int
beacon_check(struct br *br, const struct br_beacon *bc)
{
	struct br_disc *d = br->b_disc;
	char node[BR_NAME_MAX];
	struct tp_err err;
	int rv;

	snprintf(node, sizeof(node), "%.*s", (int)bc->bc_node_len,
	    bc->bc_node);
	rv = tp_sec_beacon_check(&d->d_replay, d->d_key, bc->bc_payload,
	    bc->bc_payload_len, bc->bc_mac, bc->bc_mac_len, bc->bc_node,
	    bc->bc_node_len, bc->bc_inc, bc->bc_seq, bc->bc_ts_ms, br_wall_ms(),
	    &err);
	if (rv == 0)
		return 0;
	if (rv == TP_SEC_EBADMAC)
		d->d_st.ds_rej_mac++;
	else if (rv == TP_SEC_ESTALE)
		d->d_st.ds_rej_stale++;
	else if (rv == TP_SEC_EREPLAY)
		d->d_st.ds_rej_replay++;
	else
		d->d_st.ds_bad++;
	log_debug("beacon rejected", "node=%s error=\"%s\"", node,
	    err.e_msg);
	return -1;
}

/* A node that just joined (or restarted) learns of us from our next
 * beacon: sent early, so that its side of the link (which needs us as a
 * member) comes up within a tick or so instead of a beacon interval. */
static void
beacon_soon(struct br_disc *d)
{
	uint64_t at = d->d_last_beacon_ms + ANSWER_GAP_MS;

	if (at < d->d_next_beacon_ms)
		d->d_next_beacon_ms = at;
}

static void
on_datagram(struct br *br, const uint8_t *buf, size_t len,
    const struct sockaddr_in *from, bool unicast)
{
	struct br_disc *d = br->b_disc;
	char ep[BR_ENDPOINT_MAX];
	struct br_beacon bc;
	struct tp_err err;
	struct br_node *n;
	bool known, fresh;

	if (br_beacon_decode(buf, len, &bc, &err) != 0) {
		d->d_st.ds_bad++;
		log_debug("bad beacon", "error=\"%s\"", err.e_msg);
		return;
	}
	if (bc.bc_cluster_len != strlen(br->b_conf->c_cluster_name) ||
	    memcmp(bc.bc_cluster, br->b_conf->c_cluster_name,
	    bc.bc_cluster_len) != 0) {
		d->d_st.ds_other_cluster++;	/* shares the group */
		return;
	}
	if (bc.bc_node_len == strlen(br->b_node) &&
	    memcmp(bc.bc_node, br->b_node, bc.bc_node_len) == 0) {
		/* only a keyed node may make us warn: no log spam by
		 * strangers */
		if (bc.bc_inc != d->d_inc && beacon_check(br, &bc) == 0)
			log_warn("another node uses our name", NULL);
		else if (bc.bc_inc == d->d_inc && unicast &&
		    beacon_check(br, &bc) == 0)
			br_seeds_heard(&d->d_seeds, from, true, br_now_ms());
		return;		/* our own, looped back */
	}
	if (beacon_check(br, &bc) != 0)
		return;
	d->d_st.ds_received++;
	if (unicast)
		br_seeds_heard(&d->d_seeds, from, false, br_now_ms());
	n = br_disc_find(br, bc.bc_node, bc.bc_node_len);
	known = n != NULL;
	fresh = n == NULL || n->n_inc != bc.bc_inc;
	endpoint_of(&bc, from, ep, sizeof(ep));
	n = br_disc_heard(br, bc.bc_node, bc.bc_node_len, bc.bc_inc, ep);
	if (n != NULL && fresh && !unicast)
		beacon_soon(d);
	/* a seed that does not list us learns of us at once */
	if (n != NULL && !known && unicast && d->d_ufd >= 0) {
		uint8_t out[BR_BEACON_MAX];
		size_t olen;

		if (build_beacon(br, out, sizeof(out), &olen) == 0)
			send_beacon_to(br, out, olen, from);
	}
}

static void
on_mcast(void *arg)
{
	struct br *br = arg;
	uint8_t buf[BR_BEACON_MAX];
	struct sockaddr_in from;
	size_t len;
	int rv;

	for (int i = 0; i < 64; i++) {
		rv = tp_mcast_recv(&br->b_disc->d_mc, buf, sizeof(buf), &len,
		    &from, NULL);
		if (rv == TP_EAGAIN || rv == TP_ESYS)
			return;
		if (rv == 0)
			on_datagram(br, buf, len, &from, false);
	}
}

static void
on_unicast(void *arg)
{
	struct br *br = arg;
	uint8_t buf[BR_BEACON_MAX];
	struct sockaddr_in from;
	socklen_t fl;
	ssize_t n;

	for (int i = 0; i < 64; i++) {
		fl = sizeof(from);
		n = recvfrom(br->b_disc->d_ufd, buf, sizeof(buf), MSG_TRUNC,
		    (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if ((size_t)n <= sizeof(buf))
			on_datagram(br, buf, (size_t)n, &from, true);
	}
}

static bool
disc_is(const struct br *br, const char *mode)
{
	return strcmp(br->b_conf->c_discovery, mode) == 0 ||
	    strcmp(br->b_conf->c_discovery, "both") == 0;
}

/*
 * cluster.group = auto (zero-config): a group and port drawn from the
 * cluster key, 239.255.X.Y:10000-29999 (below Linux's ephemeral ports).
 * Nodes sharing a key meet; another user's nodes, or a test's with its
 * own key, are almost always on another group (and their beacons would
 * fail the MAC anyway).  A keyed hash: the group says nothing of the key.
 */
static void
auto_group(const struct br_disc *d, char *out, size_t len)
{
	static const char ctx[] = "troupe multicast group v1";
	uint8_t h[16];

	crypto_generichash(h, sizeof(h), (const uint8_t *)ctx,
	    sizeof(ctx) - 1, d->d_key, sizeof(d->d_key));
	snprintf(out, len, "239.255.%u.%u:%u", h[0], h[1],
	    10000u + ((unsigned)h[2] << 8 | h[3]) % 20000u);
}

static int
open_mcast(struct br *br)
{
	struct br_disc *d = br->b_disc;
	struct tp_err err;

	if (strcmp(br->b_conf->c_group, "auto") == 0)
		auto_group(d, d->d_group, sizeof(d->d_group));
	else
		snprintf(d->d_group, sizeof(d->d_group), "%s",
		    br->b_conf->c_group);
	if (tp_mcast_open(&d->d_mc, d->d_group, br->b_conf->c_interface, 1,
	    true, &err) != 0) {
		log_error("cannot open the discovery group", "group=%s "
		    "interface=%s error=\"%s\"", d->d_group,
		    br->b_conf->c_interface, err.e_msg);
		return -1;
	}
	return br_loop_add(&br->b_loop, d->d_mc.m_fd, on_mcast, br, NULL);
}

/*
 * cluster.key_file, else the per-user default, created on first start so
 * that one user's local daemons share a key with no setup.  A key file
 * others may read, or of the wrong size, stops the start: one line.
 */
static int
load_key(struct br *br, struct br_disc *d)
{
	char path[BR_PATH_MAX];
	struct tp_err err;
	bool created;

	if (tp_sec_key_setup(br->b_conf->c_key_file, d->d_key, path,
	    sizeof(path), &created, &err) != 0) {
		log_error("cannot use the cluster key", "file=%s error=\"%s\"",
		    path, err.e_msg);
		return -1;
	}
	if (created)
		log_info("cluster key created", "file=%s", path);
	return 0;
}

/* Beacons advertise node.advertise when set (a NAT or port mapping in
 * front of node.listen), else node.listen as bound (br_disc_bound). */
static int
set_endpoint(struct br *br, struct br_disc *d, const char *listen)
{
	const struct br_conf *c = br->b_conf;
	const char *ep = c->c_advertise[0] != '\0' ? c->c_advertise : listen;

	if (strlen(ep) >= sizeof(d->d_endpoint) ||
	    strlen(listen) >= sizeof(d->d_listen)) {
		log_error("endpoint is too long for a beacon", "endpoint=%s",
		    ep);
		return -1;
	}
	memcpy(d->d_endpoint, ep, strlen(ep) + 1);
	memcpy(d->d_listen, listen, strlen(listen) + 1);
	return 0;
}

int
br_disc_bound(struct br *br, const char *url)
{
	return br->b_disc == NULL ? 0 : set_endpoint(br, br->b_disc, url);
}

static int
open_seeds(struct br *br, struct br_disc *d)
{
	if (open_unicast(br) != 0 ||
	    br_loop_add(&br->b_loop, d->d_ufd, on_unicast, br, NULL) != 0)
		return -1;
	if ((d->d_res = br_resolv_new()) == NULL) {
		log_error("cannot start the seeds resolver", NULL);
		return -1;
	}
	return br_loop_add(&br->b_loop, br_resolv_fd(d->d_res), on_resolved,
	    br, NULL);
}

int
br_disc_setup(struct br *br)
{
	struct br_disc *d;

	if (strcmp(br->b_conf->c_discovery, "off") == 0 || br->b_disc != NULL)
		return 0;
	if (sodium_init() < 0 || (d = calloc(1, sizeof(*d))) == NULL) {
		log_error("cannot set up discovery: out of memory", NULL);
		return -1;
	}
	br->b_disc = d;
	d->d_mc.m_fd = -1;
	d->d_ufd = -1;
	randombytes_buf(&d->d_inc, sizeof(d->d_inc));
	d->d_inc |= 1;		/* never 0: 0 means "unknown" */
	d->d_encrypt = strcmp(br->b_conf->c_encrypt, "off") != 0;
	tp_sec_replay_init(&d->d_replay, 0);
	br_seeds_init(&d->d_seeds, br->b_conf->c_seeds, br_now_ms());
	return load_key(br, d) != 0 ||
	    set_endpoint(br, d, br->b_conf->c_listen) != 0 ? -1 : 0;
}

int
br_disc_init(struct br *br)
{
	struct br_disc *d;

	if (br_disc_setup(br) != 0)
		return -1;
	if ((d = br->b_disc) == NULL)
		return 0;
	if (disc_is(br, "multicast") && open_mcast(br) != 0)
		return -1;
	if (disc_is(br, "seeds") && open_seeds(br, d) != 0)
		return -1;
	if (!d->d_encrypt)
		log_warn("cluster.encrypt = off: peer links are NOT encrypted "
		    "(peers are still authenticated); use only on a trusted "
		    "network", NULL);
	log_info("discovery started", "mode=%s cluster=%s incarnation=%llx "
	    "endpoint=%s group=%s encrypt=%s", br->b_conf->c_discovery,
	    br->b_conf->c_cluster_name, (unsigned long long)d->d_inc,
	    d->d_endpoint, d->d_group[0] != '\0' ? d->d_group : "-",
	    d->d_encrypt ? "on" : "off");
	return 0;
}

void
br_disc_fini(struct br *br)
{
	struct br_disc *d = br->b_disc;

	if (d == NULL)
		return;
	tp_mcast_close(&d->d_mc);
	if (d->d_ufd >= 0)
		close(d->d_ufd);
	br_resolv_free(d->d_res);
	sodium_memzero(d->d_key, sizeof(d->d_key));
	free(d);
	br->b_disc = NULL;
}

void
br_disc_tick(struct br *br, uint64_t now)
{
	struct br_disc *d = br->b_disc;

	if (d == NULL)
		return;
	if (d->d_res != NULL && now >= d->d_next_resolve_ms) {
		br_resolv_start(d->d_res, br->b_conf->c_seeds);
		d->d_next_resolve_ms = now + RESOLVE_EVERY_MS;
	}
	if (now >= d->d_next_beacon_ms) {
		send_beacons(br);
		d->d_last_beacon_ms = now;
		d->d_next_beacon_ms = now + br->b_conf->c_beacon_interval_ms;
	}
	if (d->d_res != NULL)
		br_seeds_tick(&d->d_seeds, now, br->b_conf->c_suspect_after_ms);
	for (uint32_t i = 0; i < d->d_nnodes; i++)
		age_node(br, &d->d_nodes[i], now);
}

uint64_t
br_disc_incarnation(const struct br *br)
{
	return br->b_disc != NULL ? br->b_disc->d_inc : 0;
}

const char *
br_disc_endpoint(const struct br *br)
{
	return br->b_disc != NULL ? br->b_disc->d_endpoint : "";
}

const uint8_t *
br_disc_key(const struct br *br)
{
	return br->b_disc->d_key;
}

bool
br_disc_encrypt(const struct br *br)
{
	return br->b_disc->d_encrypt;
}

void
br_disc_stats(const struct br *br, struct br_disc_stats *out)
{
	if (br->b_disc != NULL)
		*out = br->b_disc->d_st;
	else
		memset(out, 0, sizeof(*out));
}

uint32_t
br_disc_count(const struct br *br)
{
	return br->b_disc != NULL ? br->b_disc->d_nnodes : 0;
}

struct br_node *
br_disc_node(struct br *br, uint32_t i)
{
	return &br->b_disc->d_nodes[i];
}

uint32_t
br_disc_seed_rows(const struct br *br, struct br_seed_row *rows,
    uint32_t max)
{
	const struct br_disc *d = br->b_disc;

	if (d == NULL || d->d_res == NULL)
		return 0;
	return br_seeds_rows(&d->d_seeds, br_now_ms(),
	    br->b_conf->c_suspect_after_ms, rows, max);
}

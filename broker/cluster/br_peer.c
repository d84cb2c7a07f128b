/*
 * br_peer — the registry of peer links: one link per member, the peer
 * listener whose frames go to the link that bound their stream, and the
 * lookups the router needs (by node, by origin, by actor name).  Loop
 * thread only.  Each link is br_plink's.
 */
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "br.h"
#include "br_disc.h"
#include "br_log.h"
#include "br_names.h"
#include "br_peer.h"
#include "br_plink.h"
#include "tp_link.h"
#include "tp_nng.h"
#include "tp_sec.h"

struct br_peers {
	nng_socket	 p_in;		/* polyamorous pair1, receive only */
	int		 p_in_fd;
	struct tp_link	*p_rx;		/* over p_in: picks a link per frame */
	struct br_link	*p_links[BR_MAX_NODES];
	uint32_t	 p_nlinks;
	uint32_t	 p_rr;		/* round-robin cursor for groups */
	struct br_plink_ctx p_ctx;	/* ops, counters, dirty links */
};

struct br_link *
br_peer_link(struct br *br, uint32_t idx)
{
	struct br_peers *p = br->b_peers;

	return p != NULL && idx < p->p_nlinks ? p->p_links[idx] : NULL;
}

struct br_link *
br_peer_link_of(struct br *br, uint32_t o)
{
	struct br_link *l = br_peer_link(br, o & 0xff);

	return l != NULL && br_plink_origin(l) == o ? l : NULL;
}

void
br_peers_stats(const struct br *br, struct br_peer_stats *out)
{
	if (br->b_peers != NULL)
		*out = br->b_peers->p_ctx.pc_st;
	else
		memset(out, 0, sizeof(*out));
}

uint32_t
br_peers_count(const struct br *br)
{
	return br->b_peers != NULL ? br->b_peers->p_nlinks : 0;
}

const struct br_link *
br_peers_at(const struct br *br, uint32_t i)
{
	return br->b_peers->p_links[i];
}

struct br_link *
br_peer_pick(struct br *br, const char *name, size_t len)
{
	struct br_peers *p = br->b_peers;

	if (p == NULL || p->p_nlinks == 0)
		return NULL;
	for (uint32_t k = 0; k < p->p_nlinks; k++) {
		struct br_link *l = p->p_links[(p->p_rr + k) % p->p_nlinks];

		if (br_plink_is_up(l) && br_plink_has_name(l, name, len)) {
			p->p_rr = (p->p_rr + k + 1) % p->p_nlinks;
			return l;
		}
	}
	return NULL;
}

size_t
br_peer_topic_links(struct br *br, const char *topic, size_t len,
    struct br_link **out, size_t max)
{
	struct br_peers *p = br->b_peers;
	size_t n = 0;

	for (uint32_t k = 0; p != NULL && k < p->p_nlinks && n < max; k++)
		if (br_plink_is_up(p->p_links[k]) && br_names_wants(
		    br_plink_names(p->p_links[k]), topic, len))
			out[n++] = p->p_links[k];
	return n;
}

struct br_link *
br_peer_by_node(struct br *br, const char *name, size_t len)
{
	struct br_node *n = br_disc_find(br, name, len);

	return n != NULL ? n->n_link : NULL;
}

static bool
node_match(const struct br_link *l, const char *filter, size_t flen)
{
	const char *name = br_plink_node_name(l);

	return filter == NULL || (strlen(name) == flen &&
	    memcmp(name, filter, flen) == 0);
}

uint32_t
br_peer_actor_count(struct br *br, const char *filter, size_t flen)
{
	struct br_peers *p = br->b_peers;
	uint32_t n = 0;

	for (uint32_t i = 0; p != NULL && i < p->p_nlinks; i++)
		if (node_match(p->p_links[i], filter, flen))
			n += br_plink_names(p->p_links[i])->rt_n;
	return n;
}

void
br_peer_pack_actors(struct br *br, msgpack_packer *pk, const char *filter,
    size_t flen)
{
	struct br_peers *p = br->b_peers;

	for (uint32_t i = 0; p != NULL && i < p->p_nlinks; i++)
		if (node_match(p->p_links[i], filter, flen))
			br_plink_pack_names(p->p_links[i], pk);
}

static struct br_link *
link_by_pipe(struct br_peers *p, uint32_t id)
{
	for (uint32_t i = 0; i < p->p_nlinks; i++)
		if (br_plink_pipe(p->p_links[i]) == id)
			return p->p_links[i];
	return NULL;
}

/* The listener's hooks: a frame on a stream an UP link bound goes to
 * that link's tp_link (sealed); any other frame stays with the listener,
 * whose envelopes can only be hellos. */
static int
rx_admit(void *arg, struct tp_link *lk, nng_msg *msg, struct tp_link **target,
    struct tp_err *err)
{
	struct br *br = arg;
	struct br_link *l = link_by_pipe(br->b_peers,
	    (uint32_t)nng_pipe_id(tp_link_pipe(lk)));
	struct tp_link *t = l != NULL ? br_plink_rx(l) : NULL;

	if (t != NULL)
		*target = t;
	return 0;
}

static int
rx_hello(void *arg, const struct tp_env *env)
{
	struct br *br = arg;
	struct br_peers *p = br->b_peers;

	return br_plink_hello(br, &p->p_ctx, tp_link_pipe(p->p_rx), env);
}

static void
rx_bad(void *arg, nng_msg *msg, int code, const struct tp_err *err)
{
	struct br *br = arg;
	struct br_peers *p = br->b_peers;

	br_plink_stray(&p->p_ctx, tp_link_pipe(p->p_rx));
}

static const struct tp_link_ops rx_ops = {
	.lo_name = "peer listener",
	.lo_admit = rx_admit,
	.lo_env = rx_hello,
	.lo_bad = rx_bad,
};

static void
on_peer_in(void *arg)
{
	struct br *br = arg;

	tp_link_recv(br->b_peers->p_rx, 256);
}

/* The member table's: a link for each new member (BR_MAX_NODES at
 * most, as members). */
static struct br_link *
link_new(struct br *br, struct br_node *n)
{
	struct br_peers *p = br->b_peers;
	struct br_link *l;

	if (p == NULL || p->p_nlinks >= BR_MAX_NODES ||
	    (l = br_plink_new(br, &p->p_ctx, n, p->p_nlinks)) == NULL)
		return NULL;
	p->p_links[p->p_nlinks++] = l;
	return l;
}

static void
changed(struct br *br)
{
	br->b_peers->p_ctx.pc_ops->po_changed(br);
}

void
br_peers_tick(struct br *br, uint64_t now)
{
	struct br_peers *p = br->b_peers;

	for (uint32_t i = 0; p != NULL && i < p->p_nlinks; i++)
		br_plink_tick(p->p_links[i], now);
}

void
br_peers_flush(struct br *br)
{
	if (br->b_peers != NULL)
		br_plink_flush(&br->b_peers->p_ctx);
}

/* The receiving side: a polyamorous pair1 listener (receive only, see
 * br_peer.h), with the same frame limit (plus the seal) and buffers as
 * tp_sock_open. */
static int
open_in(struct br *br, struct br_peers *p)
{
	char bound[BR_ENDPOINT_MAX];
	struct tp_err err;
	int rv;

	if ((rv = nng_pair1_open_poly(&p->p_in)) != 0) {
		tp_nng_err(&err, rv, "open peer listener", NULL);
		log_error("cannot open peer listener", "error=\"%s\"",
		    err.e_msg);
		return -1;
	}
	nng_socket_set_size(p->p_in, NNG_OPT_RECVMAXSZ,
	    br->b_lim.l_max_frame + tp_sec_overhead());
	nng_socket_set_int(p->p_in, NNG_OPT_RECVBUF, 256);
	if ((p->p_rx = tp_link_new(p->p_in, &rx_ops, br, &(struct
	    tp_link_conf){ .lc_lim = &br->b_lim,
	    .lc_skim = true,
	    .lc_cache = &br->b_fcache })) == NULL) {
		log_error("cannot open peer listener", "error=\"out of "
		    "memory\"");
		return -1;
	}
	if (tp_listen_bound(p->p_in, br->b_conf->c_listen, bound,
	    sizeof(bound), &err) != 0 ||
	    tp_recv_fd(p->p_in, &p->p_in_fd, &err) != 0) {
		log_error("cannot listen for peers", "listen=%s error=\"%s\"",
		    br->b_conf->c_listen, err.e_msg);
		return -1;
	}
	/* port 0 (zero-config): beacons announce the port we got */
	if (br_disc_bound(br, bound) != 0)
		return -1;
	log_info("listening for peers", "listen=%s", bound);
	return br_loop_add(&br->b_loop, p->p_in_fd, on_peer_in, br, NULL);
}

/* What the member table tells its links (br_disc_ops). */
static const struct br_disc_ops disc_ops = {
	.do_link_new = link_new,
	.do_link_reset = br_plink_reset,
	.do_changed = changed,
};

int
br_peers_init(struct br *br, const struct br_peer_ops *ops)
{
	struct br_peers *p;

	if (strcmp(br->b_conf->c_discovery, "off") == 0)
		return 0;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->p_ctx.pc_ops = ops;
	br->b_peers = p;
	if (br_disc_setup(br) != 0)	/* done already when trouped runs */
		return -1;
	br_disc_set_ops(br, &disc_ops);
	return open_in(br, p);
}

void
br_peers_fini(struct br *br)
{
	struct br_peers *p = br->b_peers;

	if (p == NULL)
		return;
	nng_close(p->p_in);
	tp_link_free(p->p_rx);
	for (uint32_t i = 0; i < p->p_nlinks; i++)
		br_plink_free(p->p_links[i]);
	free(p);
	br->b_peers = NULL;
}

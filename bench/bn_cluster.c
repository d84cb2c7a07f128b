/*
 * bn_cluster — B3 (B1 and B2 across two nodes over 127.0.0.1 TCP, link
 * encryption on and off) and B7 (a three-node cluster forming by
 * multicast; a killed node declared dead).  Ports 17496-17499, multicast
 * group 239.255.74.91:17499 on 127.0.0.1 only.
 */
#define _GNU_SOURCE		/* mkdtemp */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "bn_cases.h"
#include "troupe.h"

#define ROW "%-4s %-44s %-34s %s\n"
#define NODES 3

static const char *node_names[NODES] = { "n1", "n2", "n3" };
static const int node_ports[NODES] = { 17496, 17497, 17498 };

struct cluster {
	char		 c_dir[64];
	char		 c_key[128];
	struct bn_broker c_b[NODES];
	uint32_t	 c_n;
};

/* A cluster key as `troupe keygen` writes it: 32 random bytes, 0600. */
static void
cluster_key(struct cluster *c)
{
	uint8_t key[32];
	int fd;

	if (sodium_init() < 0)
		bn_die("cannot initialise libsodium");
	snprintf(c->c_dir, sizeof(c->c_dir), "/tmp/troupe-bench-key-XXXXXX");
	if (mkdtemp(c->c_dir) == NULL)
		bn_die("mkdtemp: %s", strerror(errno));
	snprintf(c->c_key, sizeof(c->c_key), "%s/cluster.key", c->c_dir);
	randombytes_buf(key, sizeof(key));
	if ((fd = open(c->c_key, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
	    write(fd, key, sizeof(key)) != (ssize_t)sizeof(key) ||
	    close(fd) != 0)
		bn_die("%s: %s", c->c_key, strerror(errno));
}

static char *
node_conf(struct bn_run *r, const struct cluster *c, uint32_t i,
    const char *encrypt)
{
	char *buf;
	size_t len;
	FILE *f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		bn_die("open_memstream: %s", strerror(errno));
	fprintf(f, "[node]\nname = %s\nlisten = tcp://127.0.0.1:%d\n\n"
	    "[cluster]\ndiscovery = multicast\ngroup = 239.255.74.91:17499\n"
	    "interface = 127.0.0.1\nbeacon_interval = 1s\nkey_file = %s\n"
	    "encrypt = %s\n\n", node_names[i], node_ports[i], c->c_key,
	    encrypt);
	bn_conf_actor(f, "src", r->r_actor);
	bn_conf_actor(f, "sink", r->r_actor);
	bn_conf_actor(f, "echo", r->r_actor);
	return bn_conf_close(f, &buf);
}

/* State and link of node `name` as broker b sees it ("" when unknown). */
static void
node_view(struct bn_broker *b, const char *name, char *state, char *link)
{
	const msgpack_object *n, *v;
	msgpack_zone zone;
	msgpack_object o;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	*state = *link = '\0';
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	bn_pack_op(&pk, "nodes", 0);
	msgpack_zone_init(&zone, 4096);
	if (bn_control(b, sb.data, sb.size, &zone, &o) == 0 &&
	    o.type == MSGPACK_OBJECT_ARRAY)
		for (uint32_t i = 0; i < o.via.array.size; i++) {
			n = &o.via.array.ptr[i];
			if (!troupe_obj_str_eq(troupe_obj_map_get(n, "name"),
			    name))
				continue;
			if ((v = troupe_obj_map_get(n, "state")) != NULL &&
			    v->type == MSGPACK_OBJECT_STR)
				snprintf(state, 16, "%.*s",
				    (int)v->via.str.size, v->via.str.ptr);
			if ((v = troupe_obj_map_get(n, "link")) != NULL &&
			    v->type == MSGPACK_OBJECT_STR)
				snprintf(link, 16, "%.*s",
				    (int)v->via.str.size, v->via.str.ptr);
		}
	msgpack_zone_destroy(&zone);
	msgpack_sbuffer_destroy(&sb);
}

/* Every node sees every other alive with its link up. */
static bool
formed(struct cluster *c)
{
	char state[16], link[16];

	for (uint32_t i = 0; i < c->c_n; i++)
		for (uint32_t j = 0; j < c->c_n; j++) {
			if (i == j)
				continue;
			node_view(&c->c_b[i], node_names[j], state, link);
			if (strcmp(state, "alive") != 0 ||
			    strcmp(link, "up") != 0)
				return false;
		}
	return true;
}

/* Starts n nodes; returns seconds from the first spawn until formed. */
static double
cluster_start(struct bn_run *r, struct cluster *c, uint32_t n,
    const char *encrypt)
{
	uint64_t t0, deadline;
	char *conf;

	memset(c, 0, sizeof(*c));
	cluster_key(c);
	c->c_n = n;
	t0 = bn_now_ns();
	for (uint32_t i = 0; i < n; i++) {
		conf = node_conf(r, c, i, encrypt);
		bn_broker_start(&c->c_b[i], r->r_bin, conf, NULL);
		free(conf);
	}
	for (uint32_t i = 0; i < n; i++)
		bn_broker_wait_ready(&c->c_b[i], 3, t0, 30000);
	deadline = t0 + 30000000000u;
	while (!formed(c)) {
		if (bn_now_ns() > deadline)
			bn_die("the cluster did not form in 30 s (see %s)",
			    c->c_b[0].br_dir);
		usleep(20000);
	}
	return (double)(bn_now_ns() - t0) / 1e9;
}

static void
cluster_stop(struct cluster *c)
{
	for (uint32_t i = 0; i < c->c_n; i++)
		bn_broker_stop(&c->c_b[i], 30000);
	unlink(c->c_key);
	rmdir(c->c_dir);
}

/* ---- B3 ---------------------------------------------------------------- */

static void
b3_run(struct bn_run *r, const char *encrypt)
{
	const char *sink = "sink@n2", *echo = "echo@n2";
	struct cluster c;
	struct bn_pct p;
	char what[64], m[96], q[96];
	double rate;

	cluster_start(r, &c, 2, encrypt);
	bn_flow(&c.c_b[0], "src", &sink, 1, bn_scale(r, 20000), 128);
	rate = bn_flow(&c.c_b[0], "src", &sink, 1, bn_scale(r, 200000), 128);
	snprintf(what, sizeof(what), "n1 -> n2 over TCP, 128 B, encrypt %s",
	    encrypt);
	snprintf(m, sizeof(m), "%.0f msg/s, %.1f MB/s", rate,
	    rate * 128 / 1e6);
	snprintf(q, sizeof(q), "%.2f x B1, %.2f x B0%s", r->r_b1_128_msgs_s >
	    0 ? rate / r->r_b1_128_msgs_s : 0, rate / r->r_b0_msgs_s,
	    strcmp(encrypt, "on") == 0 ? " (target >= 0.5 x B1)" : "");
	bn_out(r, ROW, "B3", what, m, q);
	bn_asks(&c.c_b[0], "src", echo, bn_scale(r, 10000), &p);
	snprintf(what, sizeof(what), "ask n1 -> n2 over TCP, encrypt %s",
	    encrypt);
	snprintf(m, sizeof(m), "p50 %.0f p90 %.0f p99 %.0f us",
	    (double)p.p_p50 / 1e3, (double)p.p_p90 / 1e3,
	    (double)p.p_p99 / 1e3);
	snprintf(q, sizeof(q), "p50 %.2f x B0", (double)p.p_p50 / 1e3 /
	    r->r_b0_rtt_p50_us);
	bn_out(r, ROW, "B3", what, m, q);
	cluster_stop(&c);
}

void
bn_case_b3(struct bn_run *r)
{
	if (!bn_wanted(r, "B3"))
		return;
	b3_run(r, "on");
	b3_run(r, "off");
}

/* ---- B7 ---------------------------------------------------------------- */

/* Seconds from now until every live node sees node `dead` as dead. */
static double
wait_declared_dead(struct cluster *c, uint32_t dead)
{
	uint64_t t0 = bn_now_ns(), deadline = t0 + 60000000000u;
	char state[16], link[16];
	uint32_t seen;

	for (;;) {
		seen = 0;
		for (uint32_t i = 0; i < c->c_n; i++) {
			if (i == dead)
				continue;
			node_view(&c->c_b[i], node_names[dead], state, link);
			seen += strcmp(state, "dead") == 0 || state[0] == '\0';
		}
		if (seen == c->c_n - 1)
			return (double)(bn_now_ns() - t0) / 1e9;
		if (bn_now_ns() > deadline)
			bn_die("B7: %s not declared dead in 60 s",
			    node_names[dead]);
		usleep(20000);
	}
}

void
bn_case_b7(struct bn_run *r)
{
	struct cluster c;
	double form, dead;
	char m[96];

	if (!bn_wanted(r, "B7"))
		return;
	form = cluster_start(r, &c, NODES, "on");
	bn_broker_kill9(&c.c_b[2]);
	dead = wait_declared_dead(&c, 2);
	cluster_stop(&c);
	snprintf(m, sizeof(m), "formed %.2f s, dead declared %.2f s", form,
	    dead);
	bn_out(r, ROW, "B7", "3 nodes by multicast (beacon 1 s); kill -9",
	    m, "targets < 2 s, < 5 s (defaults)");
}

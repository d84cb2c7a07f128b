/*
 * bn_broker — a trouped under test: temp dir, spawn, readiness, stop, and
 * requests on its control link (docs/ARCHITECTURE.md "Control link").
 */
#define _GNU_SOURCE		/* mkdtemp */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "bn.h"
#include "tp_nng.h"
#include "troupe.h"

#define MAX_ARGS 32

void
bn_broker_kill9(struct bn_broker *b)
{
	kill(b->br_pid, SIGKILL);
	waitpid(b->br_pid, NULL, 0);
	bn_proc_untrack(b->br_pid);
	b->br_pid = 0;
}

static void
write_conf(const char *path, const char *conf)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL || fputs(conf, f) == EOF ||
	    fclose(f) != 0)
		bn_die("cannot write %s: %s", path, strerror(errno));
}

void
bn_broker_start(struct bn_broker *b, const char *bin_dir, const char *conf,
    char *const *wrap)
{
	static char opt_c[] = "-c";
	char confp[300], logp[300], prog[300];
	char *argv[MAX_ARGS];
	size_t n = 0;

	memset(b, 0, sizeof(*b));
	snprintf(b->br_dir, sizeof(b->br_dir), "/tmp/troupe-bench-XXXXXX");
	if (mkdtemp(b->br_dir) == NULL)
		bn_die("mkdtemp: %s", strerror(errno));
	snprintf(b->br_run, sizeof(b->br_run), "%s/run", b->br_dir);
	snprintf(b->br_ctl_url, sizeof(b->br_ctl_url), "ipc://%s/ctl.sock",
	    b->br_run);
	snprintf(confp, sizeof(confp), "%s/troupe.conf", b->br_dir);
	snprintf(logp, sizeof(logp), "%s/trouped.log", b->br_dir);
	snprintf(prog, sizeof(prog), "%s/trouped", bin_dir);
	write_conf(confp, conf);
	for (; wrap != NULL && wrap[n] != NULL && n < MAX_ARGS - 4; n++)
		argv[n] = wrap[n];
	argv[n++] = prog;
	argv[n++] = opt_c;
	argv[n++] = confp;
	argv[n] = NULL;
	if ((b->br_pid = bn_proc_spawn(argv, bn_proc_env(b->br_run), NULL,
	    logp, logp)) < 0)
		bn_die("cannot start %s: %s", argv[0], strerror(errno));
	b->br_next_id = 1;
}

void
bn_ctl_dial(struct bn_broker *b, nng_socket *s, int timeout_ms)
{
	struct tp_sockopts so = tp_sockopts_default;
	struct tp_err err;

	so.o_send_timeout = timeout_ms;
	so.o_recv_timeout = timeout_ms;
	if (tp_sock_open(s, TP_REQ, &so, &err) != 0)
		bn_die("%s", err.e_msg);
	nng_socket_set_ms(*s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	/* the socket file appears at bind(), before listen(): retry */
	for (int i = 0; tp_dial(*s, b->br_ctl_url, true, &err) != 0; i++) {
		if (i == 500) {
			nng_close(*s);
			bn_die("%s", err.e_msg);
		}
		usleep(10000);
	}
}

int
bn_request(nng_socket s, uint64_t id, uint32_t kind, const char *to,
    const void *body, size_t len, nng_msg **msg, struct tp_env *env)
{
	struct tp_env req = { .e_kind = kind, .e_id = id };
	struct tp_err err;

	req.e_from = tp_slice_str("cli@bench");
	req.e_to = tp_slice_str(to);
	req.e_body = body;
	req.e_body_len = len;
	if (tp_send_env(s, &req, 0, &err) != 0 ||
	    tp_recv_msg(s, msg, 0, &err) != 0)
		return -1;
	if (tp_env_decode(nng_msg_body(*msg), nng_msg_len(*msg),
	    &tp_limits_default, env, &err) != 0) {
		nng_msg_free(*msg);
		return -1;
	}
	return 0;
}

static void
own_link(struct bn_broker *b)
{
	if (!b->br_ctl_open) {
		bn_ctl_dial(b, &b->br_ctl, 120000);
		b->br_ctl_open = true;
	}
}

/* One request on b's own link; the answer's body is decoded into obj in
 * zone (which also keeps the bytes).  Returns the answer's kind or -1. */
static int
request_obj(struct bn_broker *b, uint32_t kind, const char *to,
    const void *body, size_t len, msgpack_zone *zone, msgpack_object *obj)
{
	struct tp_env env;
	uint8_t *copy;
	nng_msg *msg;
	int rv;

	own_link(b);
	if (bn_request(b->br_ctl, b->br_next_id++, kind, to, body, len, &msg,
	    &env) != 0)
		return -1;
	/* strings in obj point into the body: keep the body in the zone */
	if ((copy = msgpack_zone_malloc(zone, env.e_body_len + 1)) == NULL)
		bn_die("out of memory");
	memcpy(copy, env.e_body, env.e_body_len);
	env.e_body = copy;
	rv = tp_env_body(&env, zone, obj, NULL) == 0 ? (int)env.e_kind : -1;
	nng_msg_free(msg);
	return rv;
}

void
bn_ask(struct bn_broker *b, const char *to, const void *body, size_t len,
    msgpack_zone *zone, msgpack_object *obj)
{
	int kind = request_obj(b, TP_K_ASK, to, body, len, zone, obj);

	if (kind < 0)
		bn_die("ask %s: no answer (see %s/trouped.log)", to,
		    b->br_dir);
	if (kind != TP_K_REPLY)
		bn_die("ask %s: answered %s", to,
		    tp_kind_name((uint32_t)kind));
}

int
bn_control(struct bn_broker *b, const void *body, size_t len,
    msgpack_zone *zone, msgpack_object *obj)
{
	return request_obj(b, TP_K_CONTROL, "", body, len, zone, obj) ==
	    TP_K_REPLY ? 0 : -1;
}

/* Counts actors in state "running" in the actors answer and stores up
 * to max of their pids. */
static uint32_t
walk_actors(const struct tp_env *env, pid_t *pids, uint32_t max)
{
	const msgpack_object *a;
	msgpack_zone zone;
	msgpack_object o;
	uint32_t n = 0;

	msgpack_zone_init(&zone, 4096);
	if (tp_env_body(env, &zone, &o, NULL) == 0 &&
	    o.type == MSGPACK_OBJECT_ARRAY)
		for (uint32_t i = 0; i < o.via.array.size; i++) {
			a = &o.via.array.ptr[i];
			if (!troupe_obj_str_eq(troupe_obj_map_get(a, "state"),
			    "running"))
				continue;
			if (n < max)
				pids[n] = (pid_t)bn_get_u64(a, "pid");
			n++;
		}
	msgpack_zone_destroy(&zone);
	return n;
}

uint32_t
bn_broker_actors(struct bn_broker *b, pid_t *pids, uint32_t max)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct tp_env env;
	nng_msg *msg;
	uint32_t n = 0;

	own_link(b);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	bn_pack_op(&pk, "actors", 0);
	if (bn_request(b->br_ctl, b->br_next_id++, TP_K_CONTROL, "",
	    sb.data, sb.size, &msg, &env) == 0) {
		n = walk_actors(&env, pids, max);
		nng_msg_free(msg);
	}
	msgpack_sbuffer_destroy(&sb);
	return n;
}

double
bn_broker_wait_ready(struct bn_broker *b, uint32_t n, uint64_t t_spawn_ns,
    int timeout_ms)
{
	uint64_t deadline = bn_now_ns() + (uint64_t)timeout_ms * 1000000;
	uint32_t up = 0;

	while (bn_now_ns() < deadline) {
		if (waitpid(b->br_pid, NULL, WNOHANG) == b->br_pid) {
			bn_proc_untrack(b->br_pid);
			bn_die("trouped exited (see %s/trouped.log)",
			    b->br_dir);
		}
		if (access(b->br_ctl_url + 6, F_OK) == 0 &&
		    (up = bn_broker_actors(b, NULL, 0)) >= n)
			break;
		usleep(up > 0 ? 20000 : 2000);
	}
	if (up < n)
		bn_die("only %u of %u actors running (see %s/trouped.log)",
		    up, n, b->br_dir);
	return (double)(bn_now_ns() - t_spawn_ns) / 1e6;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

double
bn_broker_stop(struct bn_broker *b, int timeout_ms)
{
	uint64_t t0 = bn_now_ns(), dl = t0 + (uint64_t)timeout_ms * 1000000;
	double ms;

	if (b->br_ctl_open)
		nng_close(b->br_ctl);
	b->br_ctl_open = false;
	if (b->br_pid > 0)	/* else killed and reaped already */
		kill(b->br_pid, SIGTERM);
	while (b->br_pid > 0 && waitpid(b->br_pid, NULL, WNOHANG) == 0) {
		if (bn_now_ns() > dl) {
			fprintf(stderr, "bench: trouped ignored SIGTERM, "
			    "killing it\n");
			kill(b->br_pid, SIGKILL);
			waitpid(b->br_pid, NULL, 0);
			break;
		}
		usleep(1000);
	}
	ms = (double)(bn_now_ns() - t0) / 1e6;
	if (b->br_pid > 0)
		bn_proc_untrack(b->br_pid);
	b->br_pid = 0;
	if (getenv("BENCH_KEEP") == NULL)
		nftw(b->br_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return ms;
}

/*
 * test_actor — the actor library and the built-in actors against a broker
 * played by the test itself: a pair1 listener at ipc://TMP/mbx.sock, the
 * real build/bin/troupe-* spawned with posix_spawn and the TROUPE_*
 * environment, frames checked on the wire.
 *
 * The binary is also an actor: started with TROUPE_TEST_ROLE=relay it
 * runs a library actor that sends and asks (the built-ins never do) from
 * a constructor, before Criterion's main.
 *
 * TROUPE_BIN names the directory of the actor binaries (default: ../bin
 * next to this test's directory).  TROUPE_TEST_VALGRIND=1 runs every actor
 * under valgrind; a leak or error makes its exit status 99.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <nng/nng.h>

#include "tp_env.h"
#include "tp_nng.h"
#include "troupe.h"

extern char **environ;

#define RECV_MS 5000

struct tbroker {
	char		 tb_dir[64];
	char		 tb_url[128];
	char		 tb_log[128];
	char		 tb_vglog[128];	/* valgrind's log, kept if not empty */
	nng_socket	 tb_sock;
	bool		 tb_open;
	pid_t		 tb_pid;
	nng_msg		*tb_msg;	/* holds tb_env's bytes */
	struct tp_frame	 tb_fr;		/* envelopes of tb_msg left */
	struct tp_env	 tb_env;
	uint64_t	 tb_acked;
	msgpack_zone	 tb_zone;
};

static struct tbroker tb;

/* --- the relay actor (this binary re-executed) -------------------------- */

struct relay {
	uint64_t	 r_notes;
};

/* {"op":"relay","to":T,"n":N}: N sends then one ask to T, answered with
 * {"rv":ask result,"notes":notes seen so far,"pong":the reply's pong}. */
static void
relay_run(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	struct relay *r = troupe_state(ctx);
	const msgpack_object *to = troupe_obj_map_get(&msg->m_obj, "to");
	struct troupe_reply rep;
	struct troupe_body b;
	int64_t n = 0, i, pong = -1;
	char name[64];
	int rv;

	troupe_obj_as_int64(troupe_obj_map_get(&msg->m_obj, "n"), &n);
	if (to == NULL || to->type != MSGPACK_OBJECT_STR ||
	    to->via.str.size >= sizeof(name))
		return;
	memcpy(name, to->via.str.ptr, to->via.str.size);
	name[to->via.str.size] = '\0';
	for (i = 0; i < n; i++) {
		troupe_body_init(&b);
		troupe_body_map(&b, 1);
		troupe_body_str(&b, "i");
		troupe_body_int(&b, i);
		troupe_send(ctx, name, troupe_body_data(&b),
		    troupe_body_len(&b));
		troupe_body_free(&b);
	}
	rv = troupe_ask(ctx, name, "\xa4ping", 5, 3000, &rep);
	troupe_obj_as_int64(troupe_obj_map_get(&rep.r_obj, "pong"), &pong);
	troupe_reply_free(&rep);
	troupe_body_init(&b);
	troupe_body_map(&b, 3);
	troupe_body_str(&b, "rv");
	troupe_body_int(&b, rv);
	troupe_body_str(&b, "notes");
	troupe_body_uint(&b, r->r_notes);
	troupe_body_str(&b, "pong");
	troupe_body_int(&b, pong);
	troupe_reply(ctx, msg, troupe_body_data(&b), troupe_body_len(&b));
	troupe_body_free(&b);
}

/* {"op":"topics"}: bad names and patterns first (each must be
 * TP_EINVAL and send nothing), then a subscribe, a publish and an
 * unsubscribe that must leave in that order; answered {"bad":B,"ok":K}
 * (how many calls returned TP_EINVAL, 0). */
static void
tally(int rv, int64_t *bad, int64_t *ok)
{
	*bad += rv == TP_EINVAL;
	*ok += rv == 0;
}

static void
relay_topics(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	struct troupe_body b;
	int64_t bad = 0, ok = 0;

	/* one call per statement: an initializer list has no order */
	tally(troupe_subscribe(ctx, "a..b"), &bad, &ok);
	tally(troupe_subscribe(ctx, "a.>.b"), &bad, &ok);
	tally(troupe_subscribe(ctx, NULL), &bad, &ok);
	tally(troupe_unsubscribe(ctx, ""), &bad, &ok);
	tally(troupe_publish(ctx, "a.*", "\x01", 1), &bad, &ok);
	tally(troupe_publish(ctx, "a b", "\x01", 1), &bad, &ok);
	tally(troupe_publish(ctx, "ok", "\xc1", 1), &bad, &ok);
	tally(troupe_subscribe(ctx, "orders.*.eu"), &bad, &ok);
	tally(troupe_publish(ctx, "orders.new.eu", "\x2a", 1), &bad, &ok);
	tally(troupe_unsubscribe(ctx, "orders.>"), &bad, &ok);
	troupe_body_init(&b);
	troupe_body_map(&b, 2);
	troupe_body_str(&b, "bad");
	troupe_body_int(&b, bad);
	troupe_body_str(&b, "ok");
	troupe_body_int(&b, ok);
	troupe_reply(ctx, msg, troupe_body_data(&b), troupe_body_len(&b));
	troupe_body_free(&b);
}

static void
relay_receive(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	struct relay *r = troupe_state(ctx);
	const msgpack_object *op = troupe_obj_map_get(&msg->m_obj, "op");
	struct troupe_body b;

	if (troupe_obj_str_eq(op, "relay"))
		relay_run(ctx, msg);
	else if (troupe_obj_str_eq(op, "topics"))
		relay_topics(ctx, msg);
	else if (troupe_obj_str_eq(op, "note"))
		r->r_notes++;
	else if (troupe_obj_str_eq(op, "notes")) {
		troupe_body_init(&b);
		troupe_body_uint(&b, r->r_notes);
		troupe_reply(ctx, msg, troupe_body_data(&b),
		    troupe_body_len(&b));
		troupe_body_free(&b);
	}
}

static int
relay_init(struct troupe_ctx *ctx)
{
	troupe_set_state(ctx, troupe_arg(ctx));
	return 0;
}

__attribute__((constructor)) static void
relay_main(void)
{
	static const struct troupe_actor_ops ops = {
		.init = relay_init,
		.receive = relay_receive,
	};
	const char *role = getenv("TROUPE_TEST_ROLE");
	struct relay r = { 0 };

	if (role != NULL && strcmp(role, "relay") == 0)
		exit(troupe_actor_main(&ops, &r));
}

/* --- the broker side ---------------------------------------------------- */

static void
bin_path(const char *name, char *out, size_t len)
{
	const char *env = getenv("TROUPE_BIN");
	char exe[PATH_MAX];
	ssize_t n;

	if (env != NULL && *env != '\0') {
		snprintf(out, len, "%s/%s", env, name);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert(n > 0, "readlink /proc/self/exe");
	exe[n] = '\0';
	/* build/X/tests/test_actor -> build/X/bin */
	snprintf(out, len, "%s/../bin/%s", dirname(exe), name);
}

static void
tb_setup(void)
{
	struct tp_sockopts o = tp_sockopts_default;
	struct tp_err err;

	memset(&tb, 0, sizeof(tb));
	strcpy(tb.tb_dir, "/tmp/troupe-test-actor-XXXXXX");
	cr_assert_not_null(mkdtemp(tb.tb_dir));
	snprintf(tb.tb_url, sizeof(tb.tb_url), "ipc://%s/mbx.sock",
	    tb.tb_dir);
	snprintf(tb.tb_log, sizeof(tb.tb_log), "%s/log.jsonl", tb.tb_dir);
	o.o_recv_timeout = RECV_MS;
	o.o_send_timeout = RECV_MS;
	cr_assert_eq(tp_sock_open(&tb.tb_sock, TP_PAIR, &o, &err), 0, "%s",
	    err.e_msg);
	tb.tb_open = true;
	cr_assert_eq(tp_listen(tb.tb_sock, tb.tb_url, 0600, &err), 0, "%s",
	    err.e_msg);
	msgpack_zone_init(&tb.tb_zone, 1024);
}

static void
tb_teardown(void)
{
	char path[256];
	struct stat st;

	if (tb.tb_pid > 0) {
		kill(tb.tb_pid, SIGKILL);
		waitpid(tb.tb_pid, NULL, 0);
	}
	if (tb.tb_msg != NULL)
		nng_msg_free(tb.tb_msg);
	if (tb.tb_open)
		nng_close(tb.tb_sock);
	msgpack_zone_destroy(&tb.tb_zone);
	snprintf(path, sizeof(path), "%s/mbx.sock", tb.tb_dir);
	unlink(path);
	unlink(tb.tb_log);
	rmdir(tb.tb_dir);
	if (tb.tb_vglog[0] != '\0' && stat(tb.tb_vglog, &st) == 0 &&
	    st.st_size == 0)
		unlink(tb.tb_vglog);
	else if (tb.tb_vglog[0] != '\0')
		fprintf(stderr, "valgrind findings in %s\n", tb.tb_vglog);
}

static void
spawn_actor(const char *name, const char *exe, const char *role)
{
	char e_mbx[160], e_act[64], e_pid[64], e_run[96], e_log[160];
	char e_role[64], path[PATH_MAX], vglog[160];
	char *envp[] = { e_mbx, e_act, "TROUPE_NODE=t1", e_pid, e_run, e_log,
	    e_role, "PATH=/usr/bin:/bin", NULL };
	char *argv[12];
	int argc = 0;
	ssize_t n;

	snprintf(e_mbx, sizeof(e_mbx), "TROUPE_MAILBOX=%s", tb.tb_url);
	snprintf(e_act, sizeof(e_act), "TROUPE_ACTOR=%s", name);
	snprintf(e_pid, sizeof(e_pid), "TROUPE_BROKER_PID=%d", (int)getpid());
	snprintf(e_run, sizeof(e_run), "TROUPE_RUN_DIR=%s", tb.tb_dir);
	snprintf(e_log, sizeof(e_log), "TROUPE_LOGGER_FILE=%s", tb.tb_log);
	snprintf(e_role, sizeof(e_role), "TROUPE_TEST_ROLE=%s",
	    role ? role : "");
	if (exe != NULL)
		bin_path(exe, path, sizeof(path));
	else {
		n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		cr_assert(n > 0, "readlink /proc/self/exe");
		path[n] = '\0';
	}
	if (getenv("TROUPE_TEST_VALGRIND") != NULL) {
		snprintf(tb.tb_vglog, sizeof(tb.tb_vglog), "%s.vg-%s",
		    tb.tb_dir, name);
		snprintf(vglog, sizeof(vglog), "--log-file=%s", tb.tb_vglog);
		argv[argc++] = "valgrind";
		argv[argc++] = "-q";
		argv[argc++] = "--leak-check=full";
		argv[argc++] = strcmp(getenv("TROUPE_TEST_VALGRIND"),
		    "all") == 0 ? "--show-leak-kinds=all" :
		    "--show-leak-kinds=definite,indirect";
		argv[argc++] = "--errors-for-leak-kinds=definite,indirect";
		argv[argc++] = "--error-exitcode=99";
		argv[argc++] = vglog;
	}
	argv[argc++] = path;
	argv[argc] = NULL;
	cr_assert_eq(posix_spawn(&tb.tb_pid, argc > 1 ? "/usr/bin/valgrind" :
	    path, NULL, NULL, argv, envp), 0, "spawn %s", path);
}

/* The next envelope from the actor into tb_env: the rest of the last
 * frame first (the library batches what it sends), then a new frame. */
static int
tb_recv(void)
{
	struct tp_err err;
	int rv;

	if (tb.tb_msg != NULL && tb.tb_fr.f_left > 0) {
		rv = tp_frame_next(&tb.tb_fr, &tb.tb_env, &err);
		cr_assert_eq(rv, 1, "decode: %s", err.e_msg);
		return 0;
	}
	if (tb.tb_msg != NULL)
		nng_msg_free(tb.tb_msg);
	tb.tb_msg = NULL;
	if ((rv = tp_recv_msg(tb.tb_sock, &tb.tb_msg, 0, &err)) != 0)
		return rv;
	rv = tp_frame_open(&tb.tb_fr, nng_msg_body(tb.tb_msg),
	    nng_msg_len(tb.tb_msg), &tp_limits_default, &err);
	cr_assert_eq(rv, 0, "frame: %s", err.e_msg);
	rv = tp_frame_next(&tb.tb_fr, &tb.tb_env, &err);
	cr_assert_eq(rv, 1, "decode: %s", err.e_msg);
	return 0;
}

static msgpack_object
tb_body(void)
{
	msgpack_object o;

	msgpack_zone_clear(&tb.tb_zone);
	cr_assert_eq(tp_env_body(&tb.tb_env, &tb.tb_zone, &o, NULL), 0);
	return o;
}

static uint64_t
ack_count(void)
{
	msgpack_object o = tb_body();

	cr_assert_eq(o.type, MSGPACK_OBJECT_POSITIVE_INTEGER, "ACK body");
	return o.via.u64;
}

/* Next envelope that is not an ACK; ACKs are added up on the way. */
static void
tb_expect(uint32_t kind)
{
	for (;;) {
		cr_assert_eq(tb_recv(), 0, "nothing from the actor (want %s)",
		    tp_kind_name(kind));
		if (tb.tb_env.e_kind != TP_K_ACK)
			break;
		tb.tb_acked += ack_count();
	}
	cr_assert_eq(tb.tb_env.e_kind, kind, "got %s, want %s",
	    tp_kind_name(tb.tb_env.e_kind), tp_kind_name(kind));
}

static void
tb_wait_acks(uint64_t n)
{
	while (tb.tb_acked < n) {
		cr_assert_eq(tb_recv(), 0, "acked %llu of %llu",
		    (unsigned long long)tb.tb_acked, (unsigned long long)n);
		cr_assert_eq(tb.tb_env.e_kind, TP_K_ACK, "got %s",
		    tp_kind_name(tb.tb_env.e_kind));
		tb.tb_acked += ack_count();
	}
	cr_assert_eq(tb.tb_acked, n, "acked more than delivered");
}

static void
pack_env(msgpack_packer *pk, uint32_t kind, uint64_t id, uint32_t flags,
    const void *body, size_t len)
{
	struct tp_env env;

	memset(&env, 0, sizeof(env));
	env.e_kind = kind;
	env.e_id = id;
	env.e_from = tp_slice_str("cli@t1");
	env.e_to = tp_slice_str("them");
	env.e_flags = flags;
	env.e_body = body;
	env.e_body_len = len;
	cr_assert_eq(tp_env_pack(pk, &env), 0);
}

static void
tb_send_full(uint32_t kind, uint64_t id, uint64_t corr, uint32_t flags,
    const void *body, size_t len)
{
	struct tp_env env;
	struct tp_err err;

	memset(&env, 0, sizeof(env));
	env.e_kind = kind;
	env.e_id = id;
	env.e_from = tp_slice_str("cli@t1");
	env.e_to = tp_slice_str("them");
	env.e_corr = corr;
	env.e_flags = flags;
	env.e_body = body;
	env.e_body_len = len;
	cr_assert_eq(tp_send_env(tb.tb_sock, &env, 0, &err), 0, "%s",
	    err.e_msg);
}

static void
tb_send(uint32_t kind, uint64_t id, const void *body, size_t len)
{
	tb_send_full(kind, id, 0, 0, body, len);
}

static void
tb_credit(uint64_t n)
{
	uint8_t b = (uint8_t)n;	/* positive fixint */

	cr_assert(n < 128);
	tb_send(TP_K_CREDIT, 0, &b, 1);
}

/* Spawns name and checks its hello: {"op":"hello","pid":PID}. */
static void
tb_handshake(const char *name, const char *exe, const char *role,
    uint64_t credit)
{
	msgpack_object o;
	int64_t pid = 0;

	spawn_actor(name, exe, role);
	tb_expect(TP_K_CONTROL);
	o = tb_body();
	cr_assert(troupe_obj_str_eq(troupe_obj_map_get(&o, "op"), "hello"));
	cr_assert_eq(troupe_obj_as_int64(troupe_obj_map_get(&o, "pid"),
	    &pid), 0);
	cr_assert_eq(pid, tb.tb_pid, "hello pid %lld, spawned %d",
	    (long long)pid, (int)tb.tb_pid);
	cr_assert_eq(tb.tb_env.e_id, 0);
	tb_credit(credit);
}

/* Sends SIGTERM and checks a clean exit 0 within 5 s. */
static void
tb_stop(void)
{
	int i, st = -1;
	pid_t p = 0;

	cr_assert_eq(kill(tb.tb_pid, SIGTERM), 0);
	for (i = 0; i < 500 && p == 0; i++) {
		if ((p = waitpid(tb.tb_pid, &st, WNOHANG)) == 0)
			usleep(10000);
	}
	cr_assert_eq(p, tb.tb_pid, "actor did not exit after SIGTERM");
	tb.tb_pid = 0;
	cr_assert(WIFEXITED(st), "actor killed by signal %d", WTERMSIG(st));
	cr_assert_eq(WEXITSTATUS(st), 0, "exit status %d", WEXITSTATUS(st));
}

static void
body_op(struct troupe_body *b, const char *op)
{
	troupe_body_init(b);
	troupe_body_map(b, 1);
	troupe_body_str(b, "op");
	troupe_body_str(b, op);
}

static int64_t
reply_int(const char *key)
{
	msgpack_object o = tb_body();
	int64_t v = -1;

	cr_assert_eq(troupe_obj_as_int64(troupe_obj_map_get(&o, key), &v), 0,
	    "reply has no integer %s", key);
	return v;
}

static int64_t
counter_get(uint64_t id)
{
	struct troupe_body b;

	body_op(&b, "get");
	tb_send(TP_K_ASK, id, troupe_body_data(&b), troupe_body_len(&b));
	troupe_body_free(&b);
	tb_expect(TP_K_REPLY);
	cr_assert_eq(tb.tb_env.e_corr, id);
	return reply_int("count");
}

TestSuite(actor, .init = tb_setup, .fini = tb_teardown, .timeout = 60);

Test(actor, echo_answers_ask_with_same_bytes)
{
	struct troupe_body b;

	tb_handshake("echo", "troupe-echo", NULL, 8);
	troupe_body_init(&b);
	troupe_body_map(&b, 2);
	troupe_body_str(&b, "x");
	troupe_body_array(&b, 3);
	troupe_body_int(&b, -5);
	troupe_body_double(&b, 2.5);
	troupe_body_bin(&b, "\0\1\2", 3);
	troupe_body_str(&b, "y");
	troupe_body_nil(&b);
	tb_send(TP_K_SEND, 76, "\x01", 1);	/* ignored, acked */
	tb_send(TP_K_ASK, 77, troupe_body_data(&b), troupe_body_len(&b));
	tb_expect(TP_K_REPLY);
	cr_assert_eq(tb.tb_env.e_corr, 77);
	cr_assert_eq(tb.tb_env.e_to.s_len, 6);
	cr_assert_eq(memcmp(tb.tb_env.e_to.s_ptr, "cli@t1", 6), 0);
	cr_assert_eq(tb.tb_env.e_body_len, troupe_body_len(&b));
	cr_assert_eq(memcmp(tb.tb_env.e_body, troupe_body_data(&b),
	    troupe_body_len(&b)), 0, "echo changed the body");
	troupe_body_free(&b);
	tb_wait_acks(2);
	tb_stop();
}

/* 1000 sends in a window of 64 unacknowledged, like the broker. */
Test(actor, counter_counts_1000_sends)
{
	struct troupe_body b;
	uint64_t sent = 0;

	tb_handshake("counter", "troupe-counter", NULL, 8);
	troupe_body_init(&b);
	troupe_body_map(&b, 1);
	troupe_body_str(&b, "n");
	troupe_body_int(&b, 1);
	while (sent < 1000) {
		while (sent < 1000 && sent - tb.tb_acked < 64)
			tb_send(TP_K_SEND, ++sent, troupe_body_data(&b),
			    troupe_body_len(&b));
		if (sent < 1000)
			tb_wait_acks(tb.tb_acked + 1);
	}
	troupe_body_free(&b);
	cr_assert_eq(counter_get(5000), 1000);
	tb_wait_acks(1001);
	body_op(&b, "reset");
	tb_send(TP_K_ASK, 5001, troupe_body_data(&b), troupe_body_len(&b));
	troupe_body_free(&b);
	tb_expect(TP_K_REPLY);
	cr_assert_eq(reply_int("count"), 0);
	tb_send(TP_K_SEND, 5002, "\x01", 1);
	cr_assert_eq(counter_get(5003), 1);
	tb_stop();
}

Test(actor, batch_of_10_is_acked_once)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct tp_err err;
	nng_msg *msg;
	uint64_t i;

	tb_handshake("counter", "troupe-counter", NULL, 8);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	cr_assert_eq(tp_batch_pack_head(&pk, 10), 0);
	for (i = 0; i < 10; i++)
		pack_env(&pk, TP_K_SEND, 100 + i, 0, "\xc3", 1);
	cr_assert_eq(nng_msg_alloc(&msg, 0), 0);
	cr_assert_eq(nng_msg_append(msg, sb.data, sb.size), 0);
	msgpack_sbuffer_destroy(&sb);
	cr_assert_eq(nng_sendmsg(tb.tb_sock, msg, 0), 0);
	cr_assert_eq(tb_recv(), 0);
	cr_assert_eq(tb.tb_env.e_kind, TP_K_ACK);
	cr_assert_eq(ack_count(), 10, "one ACK for the whole batch");
	(void)err;
	cr_assert_eq(counter_get(200), 10);
	tb_stop();
}

Test(actor, unanswered_ask_gets_error_9)
{
	const msgpack_object *m;
	msgpack_object o;
	int64_t code = 0;

	tb_handshake("sink", "troupe-sink", NULL, 8);
	tb_send(TP_K_SEND, 30, "\x01", 1);
	tb_send(TP_K_ASK, 31, "\x02", 1);
	tb_expect(TP_K_ERROR);
	cr_assert_eq(tb.tb_env.e_corr, 31);
	cr_assert_eq(memcmp(tb.tb_env.e_to.s_ptr, "cli@t1", 6), 0);
	o = tb_body();
	cr_assert_eq(troupe_obj_as_int64(troupe_obj_map_get(&o, "code"),
	    &code), 0);
	cr_assert_eq(code, TROUPE_ERR_NO_REPLY);
	m = troupe_obj_map_get(&o, "message");
	cr_assert(troupe_obj_str_eq(m, "no reply"));
	tb_wait_acks(2);
	tb_stop();
}

static json_t *
log_line(FILE *fp)
{
	char line[4096];
	json_error_t jerr;
	json_t *j;

	cr_assert_not_null(fgets(line, sizeof(line), fp), "log too short");
	cr_assert_not_null(j = json_loads(line, 0, &jerr), "%s: %s", line,
	    jerr.text);
	return j;
}

Test(actor, logger_writes_redelivered_lines)
{
	struct troupe_body b;
	json_t *j, *want;
	msgpack_object o;
	FILE *fp;

	tb_handshake("logger", "troupe-logger", NULL, 8);
	troupe_body_init(&b);
	troupe_body_map(&b, 2);
	troupe_body_str(&b, "a");
	troupe_body_int(&b, 1);
	troupe_body_int(&b, 7);		/* a key that is not a string */
	troupe_body_bin(&b, "hi", 2);
	tb_send_full(TP_K_SEND, 41, 0, TP_F_REDELIVERED, troupe_body_data(&b),
	    troupe_body_len(&b));
	troupe_body_free(&b);
	tb_send(TP_K_ASK, 42, "\xa1x", 2);
	tb_expect(TP_K_REPLY);
	cr_assert_eq(tb.tb_env.e_corr, 42);
	o = tb_body();
	cr_assert_eq(troupe_obj_map_get(&o, "ok")->type,
	    MSGPACK_OBJECT_BOOLEAN);
	tb_wait_acks(2);
	tb_stop();

	cr_assert_not_null(fp = fopen(tb.tb_log, "r"));
	j = log_line(fp);
	want = json_loads("{\"id\":41,\"from\":\"cli@t1\",\"kind\":\"send\","
	    "\"redelivered\":true,\"body\":{\"a\":1,\"7\":\"aGk=\"}}", 0, NULL);
	cr_assert(json_equal(j, want), "line 1: %s",
	    json_dumps(j, JSON_COMPACT));
	json_decref(j);
	json_decref(want);
	j = log_line(fp);
	want = json_loads("{\"id\":42,\"from\":\"cli@t1\",\"kind\":\"ask\","
	    "\"redelivered\":false,\"body\":\"x\"}", 0, NULL);
	cr_assert(json_equal(j, want), "line 2: %s",
	    json_dumps(j, JSON_COMPACT));
	json_decref(j);
	json_decref(want);
	fclose(fp);
}

/* A handler that sends with no credit left blocks; deliveries arriving
 * meanwhile wait until it returned; its ask gets the broker's REPLY. */
Test(actor, send_blocks_on_credit_and_queues_deliveries)
{
	struct troupe_body b;
	struct tp_err err;
	nng_msg *msg;
	uint64_t ask_id;
	int i;

	tb_handshake("relay", NULL, "relay", 2);
	troupe_body_init(&b);
	troupe_body_map(&b, 3);
	troupe_body_str(&b, "op");
	troupe_body_str(&b, "relay");
	troupe_body_str(&b, "to");
	troupe_body_str(&b, "echo");
	troupe_body_str(&b, "n");
	troupe_body_int(&b, 4);
	tb_send(TP_K_ASK, 500, troupe_body_data(&b), troupe_body_len(&b));
	troupe_body_free(&b);
	for (i = 0; i < 2; i++) {
		tb_expect(TP_K_SEND);
		cr_assert_eq(tb.tb_env.e_to.s_len, 4);
		cr_assert_eq(reply_int("i"), i);
	}
	/* out of credit: nothing more may come */
	cr_assert_eq(nng_socket_set_ms(tb.tb_sock, NNG_OPT_RECVTIMEO, 300), 0);
	cr_assert_eq(tp_recv_msg(tb.tb_sock, &msg, 0, &err), TP_ETIMEDOUT,
	    "actor sent without credit");
	cr_assert_eq(nng_socket_set_ms(tb.tb_sock, NNG_OPT_RECVTIMEO,
	    RECV_MS), 0);
	body_op(&b, "note");
	for (i = 0; i < 3; i++)
		tb_send(TP_K_SEND, 600 + i, troupe_body_data(&b),
		    troupe_body_len(&b));
	troupe_body_free(&b);
	tb_credit(3);
	for (i = 2; i < 4; i++) {
		tb_expect(TP_K_SEND);
		cr_assert_eq(reply_int("i"), i);
	}
	tb_expect(TP_K_ASK);
	ask_id = tb.tb_env.e_id;
	cr_assert_eq(tb.tb_acked, 0, "acked before the handler returned");
	tb_send_full(TP_K_REPLY, 900, ask_id + 1000, 0, "\x01", 1);  /* stray */
	tb_send_full(TP_K_REPLY, 901, ask_id, 0, "\x81\xa4pong\x2a", 7);
	tb_expect(TP_K_REPLY);
	cr_assert_eq(tb.tb_env.e_corr, 500);
	cr_assert_eq(reply_int("rv"), 0);
	cr_assert_eq(reply_int("pong"), 42);
	cr_assert_eq(reply_int("notes"), 0, "a delivery ran inside a handler");
	tb_wait_acks(4);
	body_op(&b, "notes");
	tb_send(TP_K_ASK, 700, troupe_body_data(&b), troupe_body_len(&b));
	troupe_body_free(&b);
	tb_expect(TP_K_REPLY);
	cr_assert_eq(tb_body().via.u64, 3);
	tb_stop();
	tb_wait_acks(5);	/* the last ACK survives the exit */
}

static void
expect_topic_op(const char *op, const char *topic)
{
	msgpack_object o;

	tb_expect(TP_K_CONTROL);
	o = tb_body();
	cr_assert(troupe_obj_str_eq(troupe_obj_map_get(&o, "op"), op),
	    "want op %s", op);
	cr_assert(troupe_obj_str_eq(troupe_obj_map_get(&o, "topic"), topic),
	    "want topic %s", topic);
	cr_assert_eq(o.via.map.size, 2, "only op and topic");
}

/* Bad topics and patterns are refused with TP_EINVAL before anything
 * leaves; good ones leave in call order: subscribe as a CONTROL, the
 * publish as a SEND to the topic flagged TOPIC (one credit), then the
 * unsubscribe. */
Test(actor, topics_checked_and_sent_in_order)
{
	struct troupe_body b;

	tb_handshake("relay", NULL, "relay", 1);
	body_op(&b, "topics");
	tb_send(TP_K_ASK, 800, troupe_body_data(&b), troupe_body_len(&b));
	troupe_body_free(&b);
	expect_topic_op("subscribe", "orders.*.eu");
	tb_expect(TP_K_SEND);
	cr_assert_eq(tb.tb_env.e_to.s_len, strlen("orders.new.eu"));
	cr_assert(memcmp(tb.tb_env.e_to.s_ptr, "orders.new.eu", 13) == 0);
	cr_assert_eq(tb.tb_env.e_flags, TP_F_TOPIC);
	cr_assert_eq(tb_body().via.u64, 42);
	expect_topic_op("unsubscribe", "orders.>");
	tb_expect(TP_K_REPLY);
	cr_assert_eq(tb.tb_env.e_corr, 800);
	cr_assert_eq(reply_int("bad"), 7);
	cr_assert_eq(reply_int("ok"), 3);
	tb_stop();
}

Test(actor, sigterm_while_waiting_for_credit_exits_0)
{
	spawn_actor("echo", "troupe-echo", NULL);
	tb_expect(TP_K_CONTROL);
	tb_stop();
}

Test(actor, parent_mismatch_exits_at_once)
{
	char path[PATH_MAX];
	char *envp[] = { "TROUPE_MAILBOX=ipc:///nonexistent",
	    "TROUPE_ACTOR=x", "TROUPE_BROKER_PID=1", NULL };
	char *argv[] = { path, NULL };
	int st;

	bin_path("troupe-echo", path, sizeof(path));
	cr_assert_eq(posix_spawn(&tb.tb_pid, path, NULL, NULL, argv, envp), 0);
	cr_assert_eq(waitpid(tb.tb_pid, &st, 0), tb.tb_pid);
	tb.tb_pid = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
}

/* --- body helpers, in process ------------------------------------------ */

Test(body, json_of_odd_values)
{
	msgpack_zone z;
	msgpack_object o;
	struct troupe_body b;
	size_t off = 0;
	char *s;
	int i;

	troupe_body_init(&b);
	troupe_body_map(&b, 3);
	troupe_body_array(&b, 1);	/* key [1] */
	troupe_body_int(&b, 1);
	troupe_body_bool(&b, false);
	troupe_body_str(&b, "bad");
	troupe_body_strn(&b, "\xff\xfe", 2);
	troupe_body_str(&b, "big");
	troupe_body_uint(&b, UINT64_MAX);
	cr_assert_eq(troupe_body_error(&b), 0);
	msgpack_zone_init(&z, 1024);
	cr_assert_eq(msgpack_unpack(troupe_body_data(&b), troupe_body_len(&b),
	    &off, &z, &o), MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(troupe_obj_to_json(&o, &s), 0);
	cr_assert_str_eq(s, "{\"[1]\":false,\"bad\":\"//4=\","
	    "\"big\":1.8446744073709552e19}");
	free(s);
	troupe_body_free(&b);

	troupe_body_init(&b);
	for (i = 0; i < 17; i++)
		troupe_body_array(&b, 1);
	troupe_body_nil(&b);
	off = 0;
	cr_assert_eq(msgpack_unpack(troupe_body_data(&b), troupe_body_len(&b),
	    &off, &z, &o), MSGPACK_UNPACK_SUCCESS);
	cr_assert_eq(troupe_obj_to_json(&o, &s), TP_EDEPTH);
	cr_assert_eq(troupe_obj_to_json(&o.via.array.ptr[0], &s), 0);
	free(s);
	troupe_body_free(&b);
	msgpack_zone_destroy(&z);
}

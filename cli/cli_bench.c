/*
 * cli_bench — load generator.  By default each sender thread owns a
 * client link and keeps its window in flight (the data path, as `nats
 * bench` measures it): a message's latency runs from its send to its
 * result (SEND placed in the mailbox, ASK answered), kept in b_lat[k]
 * (the send time, then the difference) with k as the result's tag.
 * With --sync each sender owns a req0 socket on the control link and
 * has one request in flight: every latency is a real round trip.
 */
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#include "cli_bench.h"
#include "cli_client.h"
#include "cli_node.h"
#include "tp_nng.h"
#include "troupe.h"

#define MAX_SENDERS 64
#define MAX_SIZE (1u << 20)	/* the broker's default body limit */
#define MAX_COUNT 1000000000u
#define BAR_WIDTH 30
#define TICK_NS 100000000u	/* progress redraw */

struct bench {
	const struct cli_opts *b_opts;
	const char	*b_mode;	/* "send" or "ask" */
	const char	*b_actor;
	uint32_t	 b_kind;	/* TP_K_SEND or TP_K_ASK */
	uint64_t	 b_size, b_count;
	uint32_t	 b_senders;
	bool		 b_sync;	/* --sync: round trips, control link */
	char		 b_url[CLI_URL_MAX];
	uint8_t		*b_body;
	size_t		 b_body_len;
	atomic_uint_fast64_t b_done;
	atomic_int	 b_status;	/* first failure's exit status */
	uint64_t	*b_lat;		/* ns each, b_count of them */
};

struct sender {
	struct bench	*s_b;
	pthread_t	 s_thread;
	uint64_t	 s_first, s_n;	/* its slice of b_lat */
	char		 s_err[CLI_URL_MAX + TP_ERR_MSGLEN + 64];
	int		 s_rv;		/* async: the first failure's status */
	struct tp_dialw	 s_dialw;	/* outlives its socket */
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- arguments ---- */

static int
parse_u64(const char *name, const char *s, uint64_t min, uint64_t max,
    uint64_t *v)
{
	char *end;
	unsigned long long n;

	if (s == NULL) {
		cli_warn("bench: %s needs a value", name);
		return EX_USAGE;
	}
	n = strtoull(s, &end, 10);
	if (*s == '-' || end == s || *end != '\0' || n < min || n > max) {
		cli_warn("bench: %s must be a number from %" PRIu64 " to %"
		    PRIu64 ", not '%s'", name, min, max, s);
		return EX_USAGE;
	}
	*v = n;
	return 0;
}

static const char *const bench_opts[] = { "--size", "--count",
    "--senders", "--sync" };

bool
cli_bench_opt(const char *arg)
{
	size_t n = strcspn(arg, "=");

	for (size_t i = 0; i < sizeof(bench_opts) / sizeof(*bench_opts); i++)
		if (strlen(bench_opts[i]) == n &&
		    strncmp(arg, bench_opts[i], n) == 0)
			return true;
	return false;
}

/* args[*i] is an option, its value either after '=' or the next word. */
static int
parse_opt(struct bench *b, char **args, int *i)
{
	const char *arg = args[*i], *eq = strchr(arg, '='), *val;
	char name[16];
	uint64_t v;
	int rv;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg, "="), arg);
	if (!cli_bench_opt(arg)) {
		cli_warn("bench: unexpected argument '%s'", arg);
		return EX_USAGE;
	}
	if (strcmp(arg, "--sync") == 0) {
		b->b_sync = true;
		return 0;
	}
	if (strcmp(name, "--sync") == 0) {
		cli_warn("bench: --sync takes no value");
		return EX_USAGE;
	}
	val = eq ? eq + 1 : args[*i + 1];
	if (eq == NULL && val != NULL)
		(*i)++;
	if (strcmp(name, "--size") == 0)
		return parse_u64(name, val, 2, MAX_SIZE, &b->b_size);
	if (strcmp(name, "--count") == 0)
		return parse_u64(name, val, 1, MAX_COUNT, &b->b_count);
	if ((rv = parse_u64(name, val, 1, MAX_SENDERS, &v)) == 0)
		b->b_senders = (uint32_t)v;
	return rv;
}

static int
parse_args(struct bench *b, char **args)
{
	int rv;

	if (args[0] == NULL || args[1] == NULL) {
		cli_warn("bench: needs send|ask and an actor");
		return EX_USAGE;
	}
	b->b_mode = args[0];
	b->b_actor = args[1];
	if (strcmp(b->b_mode, "send") == 0)
		b->b_kind = TP_K_SEND;
	else if (strcmp(b->b_mode, "ask") == 0)
		b->b_kind = TP_K_ASK;
	else {
		cli_warn("bench: '%s' is not send or ask", b->b_mode);
		return EX_USAGE;
	}
	for (int i = 2; args[i] != NULL; i++)
		if ((rv = parse_opt(b, args, &i)) != 0)
			return rv;
	if (b->b_senders > b->b_count)
		b->b_senders = (uint32_t)b->b_count;
	return 0;
}

/* One msgpack bin whose encoding is exactly b_size bytes. */
static int
make_body(struct bench *b)
{
	size_t hdr = b->b_size < 2 + 256 ? 2 : b->b_size < 3 + 65536 ? 3 : 5;
	size_t n = b->b_size - hdr;
	msgpack_sbuffer sb;
	msgpack_packer pk;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (msgpack_pack_bin(&pk, n) != 0 ||
	    (b->b_body = malloc(sb.size + n)) == NULL) {
		msgpack_sbuffer_destroy(&sb);
		return -1;
	}
	memcpy(b->b_body, sb.data, sb.size);
	randombytes_buf(b->b_body + sb.size, n);	/* not compressible */
	b->b_body_len = sb.size + n;
	msgpack_sbuffer_destroy(&sb);
	return 0;
}

/* ---- senders ---- */

static int
sender_dial(struct sender *s, nng_socket *sock)
{
	const struct cli_opts *o = s->s_b->b_opts;
	struct tp_sockopts so = tp_sockopts_default;
	struct tp_err err = { 0 };
	int rv;

	so.o_send_timeout = o->o_timeout;
	so.o_recv_timeout = o->o_timeout;
	if (tp_sock_open(sock, TP_REQ, &so, &err) != 0) {
		snprintf(s->s_err, sizeof(s->s_err), "%s", err.e_msg);
		return EX_OSERR;
	}
	/* a resent SEND would be queued twice */
	nng_socket_set_ms(*sock, NNG_OPT_REQ_RESENDTIME,
	    NNG_DURATION_INFINITE);
	if ((rv = tp_dial_wait(&s->s_dialw, *sock, s->s_b->b_url,
	    o->o_timeout, &err)) != 0) {
		snprintf(s->s_err, sizeof(s->s_err), "cannot reach broker at "
		    "%s: %s", s->s_b->b_url, err.e_msg);
		nng_close(*sock);
		tp_dial_fini(&s->s_dialw);
		return rv == TP_EPERM ? EX_NOPERM : EX_UNAVAILABLE;
	}
	return 0;
}

/* An ERROR answer: its message for the user, its code's exit status. */
static int
error_status(struct sender *s, const struct tp_env *env)
{
	int64_t c = 0;

	if (cli_error_body(env, &c, s->s_err, sizeof(s->s_err)) != 0)
		snprintf(s->s_err, sizeof(s->s_err), "%s %s: the broker "
		    "answered an error", s->s_b->b_mode, s->s_b->b_actor);
	return c > 0 ? cli_exit_for_code(c) : 1;
}

/* The exit status an answer means; fills s_err when it is not 0. */
static int
check_answer(struct sender *s, nng_msg *m, uint64_t id)
{
	uint32_t want = s->s_b->b_kind == TP_K_SEND ? TP_K_ACK : TP_K_REPLY;
	struct tp_err err = { 0 };
	struct tp_env env;

	if (tp_env_decode(nng_msg_body(m), nng_msg_len(m), &tp_limits_default,
	    &env, &err) != 0) {
		snprintf(s->s_err, sizeof(s->s_err), "malformed answer: %s",
		    err.e_msg);
		return 1;
	}
	if (env.e_kind == TP_K_ERROR)
		return error_status(s, &env);
	if (env.e_kind != want || env.e_corr != id) {
		snprintf(s->s_err, sizeof(s->s_err), "unexpected '%s' answer",
		    tp_kind_name(env.e_kind));
		return 1;
	}
	return 0;
}

static int
one_request(struct sender *s, nng_socket sock, struct tp_env *env,
    uint64_t *lat)
{
	struct tp_err err = { 0 };
	uint64_t t0 = now_ns();
	nng_msg *m;
	int rv;

	if (tp_send_env(sock, env, 0, &err) != 0 ||
	    tp_recv_msg(sock, &m, 0, &err) != 0) {
		snprintf(s->s_err, sizeof(s->s_err), "%s", err.e_msg);
		return err.e_code == TP_ETIMEDOUT ? EX_TEMPFAIL :
		    EX_UNAVAILABLE;
	}
	*lat = now_ns() - t0;
	rv = check_answer(s, m, env->e_id);
	nng_msg_free(m);
	return rv;
}

/* One request at a time on the control link. */
static int
sync_run(struct sender *s)
{
	struct bench *b = s->s_b;
	struct tp_env env = { .e_kind = b->b_kind };
	nng_socket sock;
	int rv = 0;

	env.e_from = tp_slice_str("cli@bench");
	env.e_to = tp_slice_str(b->b_actor);
	env.e_body = b->b_body;
	env.e_body_len = b->b_body_len;
	randombytes_buf(&env.e_id, sizeof(env.e_id));
	env.e_id = (env.e_id >> 2) + 1;
	if ((rv = sender_dial(s, &sock)) != 0)
		return rv;
	for (uint64_t i = 0; i < s->s_n && atomic_load(&b->b_status) == 0;
	    i++, env.e_id++) {
		if ((rv = one_request(s, sock, &env,
		    &b->b_lat[s->s_first + i])) != 0)
			break;
		atomic_fetch_add(&b->b_done, 1);
	}
	nng_close(sock);
	tp_dial_fini(&s->s_dialw);
	return rv;
}

static void
async_fail(struct sender *s, int code, const char *why)
{
	if (s->s_rv != 0)
		return;
	s->s_rv = cli_client_status(code);
	snprintf(s->s_err, sizeof(s->s_err), "%s %s: %s", s->s_b->b_mode,
	    s->s_b->b_actor, why != NULL && why[0] != '\0' ? why :
	    cli_client_text(code));
}

static void
on_result(void *arg, const struct troupe_result *r)
{
	struct sender *s = arg;
	uint64_t *lat = &s->s_b->b_lat[(uintptr_t)r->tr_tag];

	if (r->tr_code != 0) {
		async_fail(s, r->tr_code, r->tr_message);
		return;
	}
	*lat = now_ns() - *lat;
	atomic_fetch_add_explicit(&s->s_b->b_done, 1, memory_order_relaxed);
}

/* The window in flight on a client link of the sender's own. */
static int
async_run(struct sender *s)
{
	struct bench *b = s->s_b;
	struct troupe_client *c;
	void *tag;
	int rv;

	if ((rv = cli_client_dial(b->b_url, b->b_opts->o_timeout, &c,
	    s->s_err, sizeof(s->s_err))) != 0)
		return rv;
	troupe_client_set_cb(c, on_result, s);
	for (uint64_t k = s->s_first; k < s->s_first + s->s_n &&
	    s->s_rv == 0 && atomic_load(&b->b_status) == 0; k++) {
		tag = (void *)(uintptr_t)k;
		b->b_lat[k] = now_ns();
		rv = b->b_kind == TP_K_SEND ? troupe_client_send(c,
		    b->b_actor, b->b_body, b->b_body_len, tag, NULL) :
		    troupe_client_ask_async(c, b->b_actor, b->b_body,
		    b->b_body_len, b->b_opts->o_timeout, tag, NULL);
		if (rv != 0)
			async_fail(s, rv, NULL);
	}
	if (s->s_rv == 0 && (rv = troupe_client_flush(c,
	    b->b_opts->o_timeout)) != 0)
		async_fail(s, rv, NULL);
	troupe_client_set_cb(c, NULL, NULL);
	troupe_client_close(c, 0);
	return s->s_rv;
}

static void *
sender_run(void *arg)
{
	struct sender *s = arg;
	struct bench *b = s->s_b;
	int rv, zero = 0;

	rv = b->b_sync ? sync_run(s) : async_run(s);
	if (rv != 0)
		atomic_compare_exchange_strong(&b->b_status, &zero, rv);
	return NULL;
}

/* ---- progress and summary ---- */

static void
progress(const struct bench *b, uint64_t done, uint64_t t0, bool last)
{
	double secs = (double)(now_ns() - t0) / 1e9;
	int fill = (int)(done * BAR_WIDTH / b->b_count);

	fprintf(stderr, "\r[%.*s%*s] %3d%% %" PRIu64 "/%" PRIu64 " %.0f msg/s",
	    fill, "##############################", BAR_WIDTH - fill, "",
	    (int)(done * 100 / b->b_count), done, b->b_count,
	    secs > 0 ? (double)done / secs : 0.0);
	if (last)
		fputc('\n', stderr);
	fflush(stderr);
}

static void
wait_senders(struct bench *b, struct sender *s, uint64_t t0)
{
	bool tty = isatty(STDERR_FILENO);
	struct timespec tick = { 0, TICK_NS };

	while (tty && atomic_load(&b->b_done) < b->b_count &&
	    atomic_load(&b->b_status) == 0) {
		progress(b, atomic_load(&b->b_done), t0, false);
		nanosleep(&tick, NULL);
	}
	for (uint32_t i = 0; i < b->b_senders; i++)
		pthread_join(s[i].s_thread, NULL);
	if (tty)
		progress(b, atomic_load(&b->b_done), t0, true);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted latencies, in microseconds. */
static double
pct_us(const uint64_t *v, uint64_t n, unsigned pct)
{
	uint64_t i = (n * pct + 99) / 100;

	return (double)v[i > 0 ? i - 1 : 0] / 1e3;
}

static int
summary(struct bench *b, double secs)
{
	double rate = (double)b->b_count / secs;
	double mbs = rate * (double)b->b_size / 1e6;
	const char *flow = b->b_sync ? "sync" : "async";
	uint64_t n = b->b_count;
	json_t *j;

	qsort(b->b_lat, n, sizeof(*b->b_lat), cmp_u64);
	if (!b->b_opts->o_json) {
		printf("%s %s: %" PRIu64 " msgs of %" PRIu64 " B, "
		    "%u sender%s, %s, %.2f s\n", b->b_mode, b->b_actor, n,
		    b->b_size, b->b_senders, b->b_senders == 1 ? "" : "s",
		    flow, secs);
		printf("  %.0f msgs/s, %.2f MB/s\n", rate, mbs);
		printf("  latency p50 %.0f us, p90 %.0f us, p99 %.0f us, "
		    "max %.0f us\n", pct_us(b->b_lat, n, 50),
		    pct_us(b->b_lat, n, 90), pct_us(b->b_lat, n, 99),
		    pct_us(b->b_lat, n, 100));
		return 0;
	}
	j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:i, s:f, s:f, s:f, s:f, "
	    "s:f, s:f, s:f}", "mode", b->b_mode, "flow", flow, "actor",
	    b->b_actor, "count",
	    (json_int_t)n, "size", (json_int_t)b->b_size, "senders",
	    (int)b->b_senders, "seconds", secs, "msgs_per_s", rate,
	    "mb_per_s", mbs, "p50_us", pct_us(b->b_lat, n, 50), "p90_us",
	    pct_us(b->b_lat, n, 90), "p99_us", pct_us(b->b_lat, n, 99),
	    "max_us", pct_us(b->b_lat, n, 100));
	if (j == NULL || json_dumpf(j, stdout, JSON_COMPACT |
	    JSON_REAL_PRECISION(6)) != 0) {
		json_decref(j);
		cli_warn("out of memory");
		return EX_OSERR;
	}
	putchar('\n');
	json_decref(j);
	return 0;
}

/* ---- the command ---- */

static int
run(struct bench *b)
{
	struct sender s[MAX_SENDERS];
	uint64_t t0, per = b->b_count / b->b_senders, first = 0;
	int rv;

	memset(s, 0, sizeof(s));
	t0 = now_ns();
	for (uint32_t i = 0; i < b->b_senders; i++) {
		s[i].s_b = b;
		s[i].s_first = first;
		s[i].s_n = per + (i < b->b_count % b->b_senders);
		first += s[i].s_n;
		if (pthread_create(&s[i].s_thread, NULL, sender_run,
		    &s[i]) != 0) {
			atomic_store(&b->b_status, EX_OSERR);
			b->b_senders = i;
			break;
		}
	}
	wait_senders(b, s, t0);
	if ((rv = atomic_load(&b->b_status)) != 0) {
		for (uint32_t i = 0; i < b->b_senders; i++)
			if (s[i].s_err[0] != '\0') {
				cli_warn("bench: %s", s[i].s_err);
				break;
			}
		return rv;
	}
	return summary(b, (double)(now_ns() - t0) / 1e9);
}

int
cli_cmd_bench(const struct cli_opts *o, char **args)
{
	struct bench b;
	int rv;

	memset(&b, 0, sizeof(b));
	b.b_opts = o;
	b.b_size = 128;
	b.b_count = 10000;
	b.b_senders = 1;
	if ((rv = parse_args(&b, args)) != 0)
		return rv;
	if ((rv = cli_broker_url(o, b.b_url, sizeof(b.b_url))) != 0)
		return rv;
	if (make_body(&b) != 0 || (b.b_lat = calloc(b.b_count,
	    sizeof(*b.b_lat))) == NULL) {
		free(b.b_body);
		cli_warn("out of memory");
		return EX_OSERR;
	}
	rv = run(&b);
	free(b.b_lat);
	free(b.b_body);
	return rv;
}

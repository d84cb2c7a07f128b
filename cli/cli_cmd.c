#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#include "cli_cmd.h"
#include "cli_json.h"
#include "cli_node.h"
#include "cli_print.h"
#include "tp_body.h"
#include "tp_env.h"
#include "tp_nng.h"
#include "tp_topic.h"

#define FRAME_MAX (16u << 20)
#define MSG_MAX 512		/* bytes of a broker error we print */

/*
 * Answers can carry the whole actor table, so a body may fill a frame;
 * the depth is the broker's body limit.  A batch is never an answer.
 */
static const struct tp_limits cli_limits = {
	.l_max_frame = FRAME_MAX,
	.l_max_body = FRAME_MAX,
	.l_max_name = 255,
	.l_max_depth = CLI_JSON_MAX_DEPTH,
	.l_max_batch = 1,
};

struct cli_conn {
	nng_socket	 c_sock;
	struct tp_dialw	 c_dialw;
	const struct cli_opts *c_opts;
	char		 c_url[CLI_URL_MAX];
	char		 c_from[300];
	uint64_t	 c_next_id;
	uint32_t	 c_flags;	/* on every SEND: TP_F_TOPIC */
};

struct cli_answer {
	nng_msg		*a_msg;		/* holds a_env's bytes */
	struct tp_env	 a_env;
	uint64_t	 a_id;		/* the id of the request */
};

/* ---- durations, exit codes ---- */

int
cli_parse_duration(const char *s, nng_duration *ms)
{
	static const struct { const char *u; unsigned long long mul; }
	    units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
	    { "h", 3600000 }, { "", 1000 } };
	unsigned long long v;
	char *end;
	size_t i;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].u) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]) || v == 0 ||
	    v > INT32_MAX / units[i].mul)
		return -1;
	*ms = (nng_duration)(v * units[i].mul);
	return 0;
}

void
cli_fmt_duration(nng_duration ms, char *buf, size_t len)
{
	if (ms % 3600000 == 0)
		snprintf(buf, len, "%dh", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%dm", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%ds", ms / 1000);
	else
		snprintf(buf, len, "%dms", ms);
}

int
cli_exit_for_code(int64_t code)
{
	switch (code) {
	case 5:		return EX_TEMPFAIL;	/* timeout */
	case 6:		return EX_NOPERM;	/* permission denied */
	default:	return 1;
	}
}

/* ---- request bodies ---- */

static int
pack_body(const json_t *j, msgpack_sbuffer *sb)
{
	struct tp_err err = { 0 };

	if (cli_json_to_msgpack(j, sb, &err) != 0) {
		cli_warn("%s", err.e_msg);
		return err.e_code == TP_ENOMEM ? EX_OSERR : EX_DATAERR;
	}
	if (sb->size > tp_limits_default.l_max_body) {
		cli_warn("message of %zu bytes is over the %zu-byte limit",
		    sb->size, tp_limits_default.l_max_body);
		return EX_DATAERR;
	}
	return 0;
}

static int
parse_body(const char *text, msgpack_sbuffer *sb)
{
	struct tp_err err = { 0 };
	json_t *j;
	int rv;

	if (cli_json_parse(text, 0, &j, &err) != 0) {
		cli_warn("%s", err.e_msg);
		return EX_DATAERR;
	}
	rv = pack_body(j, sb);
	json_decref(j);
	return rv;
}

/* ---- the control link ---- */

static void
conn_ids(struct cli_conn *c)
{
	char host[256] = "localhost";

	if (gethostname(host, sizeof(host) - 1) == 0)
		host[strcspn(host, ".")] = '\0';
	snprintf(c->c_from, sizeof(c->c_from), "cli@%s", host);
	/* Random and well under INT64_MAX: ids stay JSON integers even
	 * after a long stdin stream increments them. */
	randombytes_buf(&c->c_next_id, sizeof(c->c_next_id));
	c->c_next_id = (c->c_next_id & ((UINT64_C(1) << 62) - 1)) + 1;
}

static void
conn_close(struct cli_conn *c)
{
	nng_close(c->c_sock);
	tp_dial_fini(&c->c_dialw);
}

/* nng says "connect to URL: reason"; the user wants only the reason. */
static const char *
dial_reason(const struct tp_err *err, const char *url)
{
	const char *m = err->e_msg, *p;

	if ((p = strstr(m, url)) != NULL && strncmp(p + strlen(url), ": ",
	    2) == 0)
		return p + strlen(url) + 2;
	return m;
}

int
cli_dial(struct tp_dialw *w, nng_socket s, const char *url,
    nng_duration timeout, const char *what)
{
	struct tp_err err = { 0 };
	int rv;

	if ((rv = tp_dial_wait(w, s, url, timeout, &err)) == 0)
		return 0;
	cli_warn("cannot reach %s at %s: %s", what, url,
	    dial_reason(&err, url));
	return rv == TP_EPERM ? EX_NOPERM : EX_UNAVAILABLE;
}

static int
conn_open(struct cli_conn *c, const struct cli_opts *o)
{
	struct tp_sockopts so = tp_sockopts_default;
	struct tp_err err = { 0 };
	int rv;

	memset(c, 0, sizeof(*c));
	c->c_opts = o;
	if ((rv = cli_broker_url(o, c->c_url, sizeof(c->c_url))) != 0)
		return rv;
	so.o_max_frame = FRAME_MAX;
	so.o_send_timeout = o->o_timeout;
	so.o_recv_timeout = o->o_timeout;
	if (tp_sock_open(&c->c_sock, TP_REQ, &so, &err) != 0) {
		cli_warn("%s", err.e_msg);
		return EX_OSERR;
	}
	/* A resent SEND would be queued twice: never resend. */
	if ((rv = nng_socket_set_ms(c->c_sock, NNG_OPT_REQ_RESENDTIME,
	    NNG_DURATION_INFINITE)) != 0) {
		cli_warn("set resend time: %s", nng_strerror(rv));
		goto out_close;
	}
	if ((rv = cli_dial(&c->c_dialw, c->c_sock, c->c_url, o->o_timeout,
	    "broker")) != 0) {
		conn_close(c);
		return rv;
	}
	conn_ids(c);
	return 0;
out_close:
	conn_close(c);
	return EX_OSERR;
}

static int
fail_io(const struct cli_conn *c, int rv, const struct tp_err *err,
    const char *who)
{
	char d[32];

	if (rv == TP_ETIMEDOUT) {
		cli_fmt_duration(c->c_opts->o_timeout, d, sizeof(d));
		cli_warn("timed out after %s waiting for %s", d, who);
		return EX_TEMPFAIL;
	}
	cli_warn("lost the broker at %s: %s", c->c_url, err->e_msg);
	return EX_UNAVAILABLE;
}

int
cli_error_body(const struct tp_env *env, int64_t *code, char *msg,
    size_t size)
{
	msgpack_zone zone;
	msgpack_object o;
	struct tp_body b;
	const char *p;
	size_t n;
	int rv = -1;

	if (size > 0)
		msg[0] = '\0';
	if (!msgpack_zone_init(&zone, 512))
		return -1;
	if (tp_body_unpack(env->e_body, env->e_body_len, 4, &zone, &o,
	    NULL) == 0) {
		tp_body_open(&b, &o, TP_BODY_LAX, NULL, NULL);
		tp_body_int(&b, "code", 0, INT64_MIN, INT64_MAX, code);
		if (tp_body_str(&b, "message", 0, SIZE_MAX, &p, &n) == 0 &&
		    tp_body_end(&b) == 0) {
			snprintf(msg, size, "%.*s", (int)(n < size ? n : size),
			    p);
			rv = 0;
		}
	}
	msgpack_zone_destroy(&zone);
	return rv;
}

/* Prints the ERROR body's message; returns the exit status for its code. */
static int
answer_error(const struct tp_env *env)
{
	char line[MSG_MAX];
	int64_t code = 0;

	if (cli_error_body(env, &code, line, sizeof(line)) != 0) {
		cli_warn("the broker sent a malformed error");
		return 1;
	}
	cli_print_flatten(line);
	if (line[0] == '\0')
		cli_warn("broker error %" PRId64, code);
	else
		cli_warn("%s", line);
	return cli_exit_for_code(code);
}

/* Checks what came back; returns 0 or the exit status (printed). */
static int
answer_check(const struct cli_answer *a, uint32_t kind, uint32_t want)
{
	const struct tp_env *e = &a->a_env;

	if (e->e_kind == TP_K_ERROR)
		return answer_error(e);
	if (e->e_kind != want) {
		cli_warn("unexpected '%s' answer from the broker",
		    tp_kind_name(e->e_kind));
		return 1;
	}
	if (kind != TP_K_CONTROL && e->e_corr != a->a_id) {
		cli_warn("the broker answered request %" PRIu64 " with one "
		    "for %" PRIu64, a->a_id, e->e_corr);
		return 1;
	}
	return 0;
}

/*
 * Sends one request and waits for its answer of kind want.  On 0 the
 * caller frees a->a_msg; otherwise the error is printed, nothing is left
 * to free and the exit status is returned.
 */
static int
conn_request(struct cli_conn *c, uint32_t kind, const char *to,
    const msgpack_sbuffer *body, uint32_t want, const char *who,
    struct cli_answer *a)
{
	struct tp_env env = { 0 };
	struct tp_err err = { 0 };
	int rv;

	memset(a, 0, sizeof(*a));
	env.e_kind = kind;
	env.e_id = a->a_id = c->c_next_id++;
	/* the ACK then comes from the broker holding the mailbox */
	if (kind == TP_K_SEND && c->c_opts->o_confirm)
		env.e_flags = TP_F_CONFIRM;
	if (kind == TP_K_SEND)
		env.e_flags |= c->c_flags;
	env.e_from = tp_slice_str(c->c_from);
	env.e_to = tp_slice_str(to);
	env.e_body = (const uint8_t *)body->data;
	env.e_body_len = body->size;
	if ((rv = tp_send_env(c->c_sock, &env, 0, &err)) != 0 ||
	    (rv = tp_recv_msg(c->c_sock, &a->a_msg, 0, &err)) != 0)
		return fail_io(c, rv, &err, who);
	if (tp_env_decode(nng_msg_body(a->a_msg), nng_msg_len(a->a_msg),
	    &cli_limits, &a->a_env, &err) != 0) {
		cli_warn("malformed answer from the broker: %s", err.e_msg);
		rv = 1;
	} else
		rv = answer_check(a, kind, want);
	if (rv != 0) {
		nng_msg_free(a->a_msg);
		a->a_msg = NULL;
	}
	return rv;
}

/* Converts an answer's body; prints and returns bad_status on failure. */
static int
answer_json(const struct cli_answer *a, json_t **out, const char *what,
    int bad_status)
{
	struct tp_err err = { 0 };

	if (cli_json_from_msgpack(a->a_env.e_body, a->a_env.e_body_len, out,
	    &err) != 0) {
		cli_warn("%s: %s", what, err.e_msg);
		return bad_status;
	}
	return 0;
}

/* ---- commands ---- */

static int
send_one(struct cli_conn *c, const char *actor, const msgpack_sbuffer *sb)
{
	struct cli_answer a;
	int rv;

	if ((rv = conn_request(c, TP_K_SEND, actor, sb, TP_K_ACK, actor,
	    &a)) != 0)
		return rv;
	nng_msg_free(a.a_msg);
	return cli_print_id(c->c_opts, a.a_id);
}

/* send and publish: one SEND to args[0] with flags, its id printed. */
static int
send_cmd(const struct cli_opts *o, char **args, uint32_t flags)
{
	struct cli_conn c;
	msgpack_sbuffer sb;
	int rv;

	msgpack_sbuffer_init(&sb);
	/* Bad JSON is the user's to fix whether or not a broker runs. */
	if ((rv = parse_body(args[1], &sb)) != 0)
		goto out_free_body;
	if ((rv = conn_open(&c, o)) != 0)
		goto out_free_body;
	c.c_flags = flags;
	rv = send_one(&c, args[0], &sb);
	conn_close(&c);
out_free_body:
	msgpack_sbuffer_destroy(&sb);
	return rv;
}

int
cli_cmd_send(const struct cli_opts *o, char **args)
{
	return send_cmd(o, args, 0);
}

int
cli_check_topic(const char *topic)
{
	char shown[TP_TOPIC_MAX + 2];

	if (tp_topic_name_ok(topic, strlen(topic)))
		return 0;
	snprintf(shown, sizeof(shown), "%s", topic);
	cli_print_flatten(shown);
	cli_warn("publish: invalid topic '%s'%s (dot-separated words of "
	    "A-Z a-z 0-9 _ -, at most %d bytes and %d words)", shown,
	    strlen(topic) >= sizeof(shown) ? "..." : "", TP_TOPIC_MAX,
	    TP_TOPIC_WORDS);
	return EX_USAGE;
}

int
cli_cmd_publish(const struct cli_opts *o, char **args)
{
	int rv;

	if ((rv = cli_check_topic(args[0])) != 0)
		return rv;
	return send_cmd(o, args, TP_F_TOPIC);
}

int
cli_cmd_ask(const struct cli_opts *o, char **args)
{
	struct cli_answer a;
	struct cli_conn c;
	msgpack_sbuffer sb;
	json_t *reply;
	int rv;

	msgpack_sbuffer_init(&sb);
	if ((rv = parse_body(args[1], &sb)) != 0)
		goto out_free_body;
	if ((rv = conn_open(&c, o)) != 0)
		goto out_free_body;
	if ((rv = conn_request(&c, TP_K_ASK, args[0], &sb, TP_K_REPLY,
	    args[0], &a)) != 0)
		goto out_close;
	if ((rv = answer_json(&a, &reply, "reply has no JSON form",
	    EX_DATAERR)) == 0) {
		rv = cli_print_json(reply);
		json_decref(reply);
	}
	nng_msg_free(a.a_msg);
out_close:
	conn_close(&c);
out_free_body:
	msgpack_sbuffer_destroy(&sb);
	return rv;
}

/* Runs the CONTROL request req (the caller's); *out is the reply body. */
static int
control_json(const struct cli_opts *o, const json_t *req, json_t **out)
{
	struct cli_answer a;
	struct cli_conn c;
	msgpack_sbuffer sb;
	int rv;

	msgpack_sbuffer_init(&sb);
	if ((rv = pack_body(req, &sb)) != 0 || (rv = conn_open(&c, o)) != 0)
		goto out_free_body;
	if ((rv = conn_request(&c, TP_K_CONTROL, "", &sb, TP_K_REPLY,
	    "the broker", &a)) == 0) {
		rv = answer_json(&a, out, "malformed reply from the broker",
		    1);
		nng_msg_free(a.a_msg);
	}
	conn_close(&c);
out_free_body:
	msgpack_sbuffer_destroy(&sb);
	return rv;
}

/* Runs CONTROL {"op":op[,"name":name]}; *out is the reply body. */
static int
control(const struct cli_opts *o, const char *op, const char *name,
    json_t **out)
{
	json_t *req;
	int rv;

	req = name ? json_pack("{s:s, s:s}", "op", op, "name", name) :
	    json_pack("{s:s}", "op", op);
	if (req == NULL) {
		cli_warn("invalid request (is the name UTF-8?)");
		return EX_DATAERR;
	}
	rv = control_json(o, req, out);
	json_decref(req);
	return rv;
}

/* inspect and stats: one object, as JSON or as "key: value" lines. */
static int
control_object(const struct cli_opts *o, const char *op, const char *name)
{
	json_t *r;
	int rv;

	if ((rv = control(o, op, name, &r)) != 0)
		return rv;
	if (!json_is_object(r)) {
		cli_warn("the broker's %s reply is not an object", op);
		rv = 1;
	} else
		rv = o->o_json ? cli_print_json(r) : cli_print_fields(r);
	json_decref(r);
	return rv;
}

int
cli_cmd_actors(const struct cli_opts *o, char **args)
{
	json_t *r;
	int rv;

	json_t *req = o->o_node != NULL ? json_pack("{s:s, s:s}", "op",
	    "actors", "node", o->o_node) : json_pack("{s:s}", "op", "actors");

	if (req == NULL) {
		cli_warn("invalid request (is the node name UTF-8?)");
		return EX_DATAERR;
	}
	rv = control_json(o, req, &r);
	json_decref(req);
	if (rv != 0)
		return rv;
	if (!json_is_array(r)) {
		cli_warn("the broker's actor list is not an array");
		rv = 1;
	} else
		rv = o->o_json ? cli_print_json(r) : cli_print_actors(r);
	json_decref(r);
	return rv;
}

/* Adds the human columns of a node row: ages and round trips in units a
 * reader takes in at a glance. */
static void
node_display(json_t *n)
{
	json_int_t age = json_integer_value(json_object_get(n,
	    "last_seen_ms"));
	json_int_t rtt = json_integer_value(json_object_get(n, "rtt_us"));
	char buf[32];

	/* a seed that never answered has no last_seen_ms */
	if (json_object_get(n, "last_seen_ms") == NULL)
		snprintf(buf, sizeof(buf), "never");
	else
		snprintf(buf, sizeof(buf), "%.1fs ago", (double)age / 1000.0);
	json_object_set_new(n, "last_seen", json_string(buf));
	if (rtt > 0)
		snprintf(buf, sizeof(buf), "%.2fms", (double)rtt / 1000.0);
	else
		snprintf(buf, sizeof(buf), "-");
	json_object_set_new(n, "rtt", json_string(buf));
}

int
cli_cmd_nodes(const struct cli_opts *o, char **args)
{
	size_t i;
	json_t *r;
	int rv;

	if ((rv = control(o, "nodes", NULL, &r)) != 0)
		return rv;
	if (!json_is_array(r)) {
		cli_warn("the broker's node list is not an array");
		rv = 1;
	} else if (o->o_json)
		rv = cli_print_json(r);
	else {
		for (i = 0; i < json_array_size(r); i++)
			node_display(json_array_get(r, i));
		rv = cli_print_nodes(r);
	}
	json_decref(r);
	return rv;
}

int
cli_cmd_inspect(const struct cli_opts *o, char **args)
{
	return control_object(o, "inspect", args[0]);
}

int
cli_cmd_stats(const struct cli_opts *o, char **args)
{
	return control_object(o, "stats", NULL);
}

int
cli_control(const struct cli_opts *o, const char *op, json_t **out)
{
	return control(o, op, NULL, out);
}

static const char *
args_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "?";
}

/* spawn, stop, restart and scale answer with the actor: "NAME
 * STATE". */
static int
lifecycle(const struct cli_opts *o, json_t *req)
{
	json_t *r;
	int rv;

	if (req == NULL) {
		cli_warn("invalid request (is the name UTF-8?)");
		return EX_DATAERR;
	}
	rv = control_json(o, req, &r);
	json_decref(req);
	if (rv != 0)
		return rv;
	if (!json_is_object(r)) {
		cli_warn("the broker's reply is not an actor object");
		rv = 1;
	} else if (o->o_json)
		rv = cli_print_json(r);
	else
		printf("%s %s\n", args_str(r, "name"), args_str(r, "state"));
	json_decref(r);
	return rv;
}

static int
set_opt(json_t *req, const char *key, const char *val)
{
	return val == NULL ? 0 : json_object_set_new(req, key,
	    json_string(val));
}

int
cli_cmd_spawn(const struct cli_opts *o, char **args)
{
	json_t *req;

	if (o->o_exec == NULL || *o->o_exec == '\0') {
		cli_warn("spawn: --exec PATH is required");
		fprintf(stderr, "usage: troupe [OPTIONS] spawn NAME --exec "
		    "PATH [--restart R] [--mailbox N] [--overflow P] "
		    "[--instances N] [--subscribe P1,P2]\n");
		return EX_USAGE;
	}
	req = json_pack("{s:s, s:s}", "op", "spawn", "name", args[0]);
	if (req != NULL && (set_opt(req, "exec", o->o_exec) != 0 ||
	    set_opt(req, "restart", o->o_restart) != 0 ||
	    set_opt(req, "mailbox", o->o_mailbox) != 0 ||
	    set_opt(req, "overflow", o->o_overflow) != 0 ||
	    set_opt(req, "instances", o->o_instances) != 0 ||
	    set_opt(req, "subscribe", o->o_subscribe) != 0)) {
		json_decref(req);
		req = NULL;
	}
	return lifecycle(o, req);
}

int
cli_cmd_stop(const struct cli_opts *o, char **args)
{
	return lifecycle(o, json_pack("{s:s, s:s}", "op", "stop", "name",
	    args[0]));
}

int
cli_cmd_restart(const struct cli_opts *o, char **args)
{
	return lifecycle(o, json_pack("{s:s, s:s}", "op", "restart", "name",
	    args[0]));
}

int
cli_parse_instances(const char *s, unsigned *n)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > CLI_INSTANCES_MAX)
		return -1;
	*n = (unsigned)v;
	return 0;
}

int
cli_cmd_scale(const struct cli_opts *o, char **args)
{
	unsigned n;

	if (cli_parse_instances(args[1], &n) != 0) {
		cli_warn("scale: instances must be a whole number from 1 to "
		    "%d, not '%s'", CLI_INSTANCES_MAX, args[1]);
		fprintf(stderr, "usage: troupe [OPTIONS] scale NAME N\n");
		return EX_USAGE;
	}
	return lifecycle(o, json_pack("{s:s, s:s, s:I}", "op", "scale",
	    "name", args[0], "instances", (json_int_t)n));
}

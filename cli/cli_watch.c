/*
 * cli_watch — `troupe watch [ACTOR...] [--node NODE]`: subscribes to the
 * broker's tap (broker/br_tap.h) and prints one line per routed message.
 *
 * The broker publishes only while a watcher holds a lease, so this renews
 * it with CONTROL {"op":"watch"} every second; the reply names the tap's
 * URL.  Records are untrusted bytes: bounds-walked before msgpack-c sees
 * them, and the tap socket refuses frames over WATCH_FRAME_MAX.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli_watch.h"
#include "cli_cmd.h"
#include "cli_json.h"
#include "tp_body.h"
#include "tp_nng.h"

#define WATCH_FRAME_MAX	65536
#define RENEW_MS	1000
#define WIDTH_DEFAULT	160
#define BODY_MIN	16

struct watch {
	const struct cli_opts *w_opts;
	char		**w_actors;	/* filter; empty = all */
	char		 w_node[128];	/* the node being watched */
	char		 w_tap[CLI_URL_MAX];
	nng_socket	 w_sock;
	struct tp_dialw	 w_dialw;	/* outlives w_sock */
	size_t		 w_width;
	msgpack_zone	 w_zone;
};

/* One decoded record; strings point into the received message. */
struct record {
	msgpack_object	 r_obj;
	struct tp_slice	 r_kind, r_from, r_to, r_node, r_via;
	const msgpack_object *r_body;
	uint64_t	 r_id, r_size, r_fanout;
	bool		 r_noted;	/* a pool's deliver, a publish */
	bool		 r_truncated;
};

/* Renews the lease; the first call also learns the tap's URL and node. */
static int
lease(struct watch *w, bool first)
{
	const char *node, *tap;
	json_t *r;
	int rv;

	if ((rv = cli_control(w->w_opts, "watch", &r)) != 0)
		return rv;
	if (json_unpack(r, "{s:s, s:s}", "node", &node, "tap", &tap) != 0) {
		cli_warn("the broker's watch reply is malformed");
		json_decref(r);
		return 1;
	}
	if (first) {
		snprintf(w->w_node, sizeof(w->w_node), "%s", node);
		snprintf(w->w_tap, sizeof(w->w_tap), "%s", tap);
	}
	json_decref(r);
	return 0;
}

static int
tap_open(struct watch *w)
{
	struct tp_sockopts so = tp_sockopts_default;
	struct tp_err err = { 0 };
	int rv;

	so.o_max_frame = WATCH_FRAME_MAX;
	so.o_recv_timeout = RENEW_MS;
	if (tp_sock_open(&w->w_sock, TP_SUB, &so, &err) != 0) {
		cli_warn("%s", err.e_msg);
		return EX_OSERR;
	}
	if ((rv = cli_dial(&w->w_dialw, w->w_sock, w->w_tap, w->w_opts->o_timeout,
	    "the tap")) != 0) {
		nng_close(w->w_sock);
		tp_dial_fini(&w->w_dialw);
		return rv;
	}
	return 0;
}

static size_t
out_width(void)
{
	struct winsize ws;
	const char *c = getenv("COLUMNS");
	long n;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ,
	    &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (c != NULL && (n = strtol(c, NULL, 10)) > 0 && n < 100000)
		return (size_t)n;
	return WIDTH_DEFAULT;
}

/* --- records ------------------------------------------------------------- */

/* Returns 0 with r filled (pointing into buf and the zone), or -1.  Lax:
 * a newer broker may add fields this watcher does not print. */
static int
record_decode(struct watch *w, const void *buf, size_t len,
    struct record *r)
{
	struct tp_body b;

	memset(r, 0, sizeof(*r));
	msgpack_zone_clear(&w->w_zone);
	if (tp_body_unpack(buf, len, 4, &w->w_zone, &r->r_obj, NULL) != 0)
		return -1;
	tp_body_open(&b, &r->r_obj, TP_BODY_LAX, "record", NULL);
	tp_body_str(&b, "kind", 0, SIZE_MAX, &r->r_kind.s_ptr,
	    &r->r_kind.s_len);
	tp_body_str(&b, "from", 0, SIZE_MAX, &r->r_from.s_ptr,
	    &r->r_from.s_len);
	tp_body_str(&b, "to", 0, SIZE_MAX, &r->r_to.s_ptr, &r->r_to.s_len);
	tp_body_str(&b, "node", 0, SIZE_MAX, &r->r_node.s_ptr,
	    &r->r_node.s_len);
	tp_body_value(&b, "body", TP_BODY_OPT, &r->r_body);
	tp_body_uint(&b, "id", TP_BODY_OPT, 0, UINT64_MAX, &r->r_id);
	tp_body_uint(&b, "size", TP_BODY_OPT, 0, UINT64_MAX, &r->r_size);
	tp_body_bool(&b, "truncated", TP_BODY_OPT, &r->r_truncated);
	r->r_noted = tp_body_uint(&b, "fanout", TP_BODY_OPT, 0, UINT32_MAX,
	    &r->r_fanout) == 0;
	tp_body_str(&b, "via", TP_BODY_OPT, SIZE_MAX, &r->r_via.s_ptr,
	    &r->r_via.s_len);
	return tp_body_end(&b) == 0 ? 0 : -1;
}

/* "name" of "name@node" equals actor. */
static bool
name_is(struct tp_slice s, const char *actor)
{
	const char *p = s.s_ptr, *at;
	size_t n = s.s_len;

	if ((at = memchr(p, '@', n)) != NULL)
		n = (size_t)(at - p);
	return tp_body_streq(p, n, actor);
}

static bool
record_wanted(const struct watch *w, const struct record *r)
{
	if (w->w_opts->o_node != NULL && !tp_body_streq(r->r_node.s_ptr,
	    r->r_node.s_len, w->w_opts->o_node))
		return false;
	if (w->w_actors[0] == NULL)
		return true;
	for (char **a = w->w_actors; *a != NULL; a++)
		if (name_is(r->r_from, *a) || name_is(r->r_to, *a) ||
		    (r->r_via.s_len > 0 && name_is(r->r_via, *a)))
			return true;
	return false;
}

/* The body as JSON, or NULL when it was not carried (too large). */
static json_t *
record_body(const struct record *r)
{
	json_t *j = NULL;

	if (r->r_body == NULL || r->r_body->type != MSGPACK_OBJECT_BIN)
		return NULL;
	if (cli_json_from_msgpack(r->r_body->via.bin.ptr,
	    r->r_body->via.bin.size, &j, NULL) != 0)
		return NULL;
	return j;
}

static json_t *
str_json(struct tp_slice s)
{
	return json_stringn_nocheck(s.s_len ? s.s_ptr : "", s.s_len);
}

static int
print_record_json(const struct record *r)
{
	json_t *j, *body = record_body(r);
	char *s;

	j = json_pack("{s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:b}",
	    "node", str_json(r->r_node), "kind", str_json(r->r_kind),
	    "from", str_json(r->r_from), "to", str_json(r->r_to),
	    "id", (json_int_t)r->r_id, "size", (json_int_t)r->r_size,
	    "body", body != NULL ? body : json_null(),
	    "truncated", r->r_truncated || body == NULL);
	if (j != NULL && r->r_noted && (json_object_set_new(j, "via",
	    str_json(r->r_via)) != 0 || json_object_set_new(j, "fanout",
	    json_integer((json_int_t)r->r_fanout)) != 0)) {
		json_decref(j);
		j = NULL;
	}
	if (j == NULL || (s = cli_json_dump(j)) == NULL) {
		json_decref(j);
		cli_warn("out of memory");
		return EX_OSERR;
	}
	puts(s);
	free(s);
	json_decref(j);
	return 0;
}

/* Control characters in names or bodies would break the one-line rule. */
static void
flatten(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static void
print_body(const struct record *r, size_t room)
{
	json_t *body = record_body(r);
	char *s = body != NULL ? cli_json_dump(body) : NULL;

	json_decref(body);
	if (s == NULL) {
		printf("<%" PRIu64 " bytes>\n", r->r_size);
		return;
	}
	flatten(s);
	if (room < BODY_MIN)
		room = BODY_MIN;
	if (strlen(s) > room)
		printf("%.*s...\n", (int)(room - 3), s);
	else
		printf("%s\n", s);
	free(s);
}

static int
print_record(const struct watch *w, const struct record *r)
{
	char head[1024], extra[320] = "";
	int n;

	if (w->w_opts->o_json)
		return print_record_json(r);
	if (r->r_noted && r->r_via.s_len > 0)
		snprintf(extra, sizeof(extra), " via %.*s",
		    (int)r->r_via.s_len, r->r_via.s_ptr);
	else if (r->r_noted)
		snprintf(extra, sizeof(extra), " fanout=%" PRIu64,
		    r->r_fanout);
	n = snprintf(head, sizeof(head), "%.*s %.*s -> %.*s%s id=%" PRIu64
	    " size=%" PRIu64 " body=", (int)r->r_kind.s_len,
	    r->r_kind.s_ptr, (int)r->r_from.s_len, r->r_from.s_ptr,
	    (int)r->r_to.s_len, r->r_to.s_ptr, extra, r->r_id, r->r_size);
	if (n < 0)
		return 1;
	flatten(head);
	fputs(head, stdout);
	print_body(r, w->w_width > (size_t)n ? w->w_width - (size_t)n : 0);
	return 0;
}

/* --- the loop ------------------------------------------------------------ */

static int
take(struct watch *w, nng_msg *msg)
{
	struct record r;
	int rv = 0;

	if (record_decode(w, nng_msg_body(msg), nng_msg_len(msg), &r) != 0)
		cli_warn("malformed tap record skipped");
	else if (record_wanted(w, &r))
		rv = print_record(w, &r);
	nng_msg_free(msg);
	if (rv == 0 && fflush(stdout) != 0)
		rv = EX_IOERR;	/* the reader went away */
	return rv;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Records and lease renewals interleave: a busy stream must not starve
 * the renewal, so it goes by the clock, not by receive timeouts. */
static int
watch_loop(struct watch *w)
{
	struct tp_err err = { 0 };
	uint64_t renew = mono_ms() + RENEW_MS;
	nng_msg *msg;
	int rv;

	for (;;) {
		rv = tp_recv_msg(w->w_sock, &msg, 0, &err);
		if (rv == 0)
			rv = take(w, msg);
		else if (rv == TP_ETIMEDOUT)
			rv = 0;
		else {
			cli_warn("lost the tap at %s: %s", w->w_tap,
			    err.e_msg);
			return EX_UNAVAILABLE;
		}
		if (rv != 0)
			return rv;
		if (mono_ms() >= renew) {
			if ((rv = lease(w, false)) != 0)
				return rv;
			renew = mono_ms() + RENEW_MS;
		}
	}
}

int
cli_cmd_watch(const struct cli_opts *o, char **args)
{
	struct watch w = { .w_opts = o, .w_actors = args };
	int rv;

	if ((rv = lease(&w, true)) != 0)
		return rv;
	if (o->o_node != NULL && strcmp(o->o_node, w.w_node) != 0) {
		cli_warn("cannot watch node '%s': this broker is '%s' (remote "
		    "nodes need the cluster link)", o->o_node, w.w_node);
		return EX_UNAVAILABLE;
	}
	if ((rv = tap_open(&w)) != 0)
		return rv;
	w.w_width = out_width();
	msgpack_zone_init(&w.w_zone, 4096);
	fprintf(stderr, "troupe: watching node %s (interrupt to stop)\n",
	    w.w_node);
	rv = watch_loop(&w);
	msgpack_zone_destroy(&w.w_zone);
	nng_close(w.w_sock);
	tp_dial_fini(&w.w_dialw);
	return rv;
}

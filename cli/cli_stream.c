/*
 * cli_stream — `troupe send ACTOR -` and `troupe publish TOPIC -` on one
 * client link.
 *
 * Line K's result waits in slot (K - 1) % CLI_CLIENT_WINDOW of a ring
 * until every line before it is printed: results come in any order (a
 * refusal may pass an ACK run), ids leave in input order.  The ring is
 * the window: a line is read only while a slot is free, so memory is
 * bounded by the window and the longest line, however much stdin holds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli_client.h"
#include "cli_cmd.h"
#include "cli_feed.h"
#include "cli_json.h"
#include "cli_print.h"
#include "cli_stream.h"
#include "troupe.h"

#define TICK_MS 100		/* how often a stall is looked for */
#define WHY_MAX 512		/* bytes of a failure's words */

enum sl_state {
	SL_WAIT = 1,
	SL_OK,
	SL_FAIL,
};

struct sline {
	uint64_t	 sl_id;
	enum sl_state	 sl_state;
	int		 sl_code;	/* a failure's client API code */
	char		*sl_why;	/* its words (malloc), NULL: no memory */
};

struct stream {
	const struct cli_opts *st_opts;
	const char	*st_actor;	/* or the topic */
	bool		 st_topic;	/* each line a publish to st_actor */
	struct cli_pipe	 st_p;
	uint64_t	 st_head;	/* the oldest line not printed */
	uint64_t	 st_tail;	/* the next line read */
	uint64_t	 st_ok;		/* lines accepted */
	int		 st_status;	/* the first failed line's */
	bool		 st_stop;	/* a line failed: read no more */
	uint32_t	 st_max;	/* lines in flight: the ring, or the
					 * broker's smaller window */
	int64_t		 st_since;	/* ms of the last result */
	struct sline	 st_ring[CLI_CLIENT_WINDOW];
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct sline *
slot(struct stream *st, uint64_t line)
{
	return &st->st_ring[(line - 1) % CLI_CLIENT_WINDOW];
}

static uint64_t
owed(const struct stream *st)
{
	return st->st_tail - st->st_head;
}

static void line_fail(struct stream *, struct sline *, int, const char *,
    ...) __attribute__((format(printf, 4, 5)));

/* Line sl failed with code; nothing more is read. */
static void
line_fail(struct stream *st, struct sline *sl, int code, const char *fmt,
    ...)
{
	char why[WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	cli_print_flatten(why);
	sl->sl_state = SL_FAIL;
	sl->sl_code = code;
	sl->sl_why = strdup(why);
	st->st_stop = true;
}

static void
on_result(void *arg, const struct troupe_result *r)
{
	struct stream *st = arg;
	struct sline *sl = r->tr_tag;

	st->st_since = now_ms();
	if (r->tr_code == 0)
		sl->sl_state = SL_OK;
	else
		line_fail(st, sl, r->tr_code, "%s", r->tr_message != NULL &&
		    r->tr_message[0] != '\0' ? r->tr_message :
		    cli_client_text(r->tr_code));
}

/* Reads, packs and sends one line, or fails it. */
static void
take_line(struct stream *st, enum cli_feed_line kind, char *p, size_t n)
{
	struct sline *sl = slot(st, st->st_tail++);
	msgpack_sbuffer *sb = &st->st_p.p_sb;
	struct tp_err err = { 0 };
	json_t *j;
	int rv;

	memset(sl, 0, sizeof(*sl));
	sl->sl_state = SL_WAIT;
	if (kind == CLI_FEED_LONG) {
		line_fail(st, sl, TP_ETOOBIG, "line longer than %u bytes",
		    CLI_FEED_LINE_MAX);
		return;
	}
	if ((rv = cli_json_parse_line(p, n, &j, &err)) == 0) {
		msgpack_sbuffer_clear(sb);
		rv = cli_json_to_msgpack(j, sb, &err);
		json_decref(j);
	}
	if (rv != 0) {
		line_fail(st, sl, rv, "%s", err.e_msg);
		return;
	}
	if (owed(st) == 1)
		st->st_since = now_ms();	/* the first result owed */
	if ((rv = (st->st_topic ? troupe_client_publish :
	    troupe_client_send)(st->st_p.p_c, st->st_actor, sb->data,
	    sb->size, sl, &sl->sl_id)) == TP_ETOOBIG)
		line_fail(st, sl, rv, "message of %zu bytes is over the "
		    "broker's limit", sb->size);
	else if (rv != 0)
		line_fail(st, sl, rv, "%s", cli_client_text(rv));
}

static int
print_line(struct stream *st, uint64_t line, const struct sline *sl)
{
	const char *why = sl->sl_why ? sl->sl_why : cli_client_text(
	    sl->sl_code);
	json_t *j;
	int rv;

	if (sl->sl_state == SL_OK) {
		st->st_ok++;
		if (!st->st_opts->o_json)
			return printf("%" PRIu64 "\n", sl->sl_id) < 0;
		j = json_pack("{s:I, s:I}", "line", (json_int_t)line, "id",
		    (json_int_t)sl->sl_id);
	} else {
		if (st->st_status == 0)
			st->st_status = cli_client_status(sl->sl_code);
		cli_warn("line %" PRIu64 ": %s", line, why);
		if (!st->st_opts->o_json)
			return 0;
		j = json_pack("{s:I, s:s, s:i}", "line", (json_int_t)line,
		    "error", why, "code", cli_client_wire(sl->sl_code));
	}
	if (j == NULL)
		return EX_OSERR;
	rv = cli_print_json(j);
	json_decref(j);
	return rv;
}

/* Prints the lines whose results are in, up to the first still owed. */
static void
settle(struct stream *st)
{
	struct sline *sl;

	while (st->st_head < st->st_tail) {
		sl = slot(st, st->st_head);
		if (sl->sl_state == SL_WAIT)
			break;
		if (print_line(st, st->st_head, sl) != 0 &&
		    st->st_status == 0) {
			st->st_status = EX_IOERR;
			st->st_stop = true;
		}
		free(sl->sl_why);
		sl->sl_why = NULL;
		st->st_head++;
	}
}

/* No result for --timeout: what is owed fails (its fate unknown). */
static void
time_out(struct stream *st)
{
	char d[32];

	cli_fmt_duration(st->st_opts->o_timeout, d, sizeof(d));
	for (uint64_t k = st->st_head; k < st->st_tail; k++)
		if (slot(st, k)->sl_state == SL_WAIT)
			line_fail(st, slot(st, k), TP_ETIMEDOUT, "timed out "
			    "after %s waiting for %s", d, st->st_actor);
	settle(st);
}

static void
run(struct stream *st)
{
	struct cli_feed *in = &st->st_p.p_in;
	enum cli_feed_line k;
	size_t n;
	char *p;
	int rv;

	for (;;) {
		while (!st->st_stop && owed(st) < st->st_max &&
		    (k = cli_feed_next(in, &p, &n)) != CLI_FEED_NONE)
			take_line(st, k, p, n);
		settle(st);
		if (owed(st) == 0 && (st->st_stop ||
		    cli_feed_eof(in)))
			return;
		if (!st->st_stop && owed(st) < st->st_max &&
		    cli_feed_ready(in))
			continue;	/* settling made room */
		if (owed(st) > 0 && now_ms() - st->st_since >
		    st->st_opts->o_timeout) {
			time_out(st);
			return;
		}
		rv = cli_feed_wait(in, st->st_p.p_c, !st->st_stop &&
		    owed(st) < st->st_max, owed(st) > 0 ? TICK_MS : -1);
		if (rv == TP_ESYS && !st->st_stop) {
			cli_warn("cannot read stdin: %s", strerror(errno));
			if (st->st_status == 0)
				st->st_status = EX_IOERR;
			st->st_stop = true;
		} else if (rv == TP_ECLOSED && !st->st_stop) {
			cli_warn("lost the broker: %s", cli_client_text(rv));
			st->st_status = EX_UNAVAILABLE;
			st->st_stop = true;
		}
	}
}

int
cli_stream_send(const struct cli_opts *o, const char *actor, bool topic)
{
	struct stream *st;
	int rv;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		cli_warn("out of memory");
		return EX_OSERR;
	}
	st->st_opts = o;
	st->st_actor = actor;
	st->st_topic = topic;
	st->st_head = st->st_tail = 1;
	if ((rv = cli_pipe_open(&st->st_p, o, on_result, st)) != 0)
		goto out_free;
	st->st_max = troupe_client_window(st->st_p.p_c);
	if (st->st_max > CLI_CLIENT_WINDOW)
		st->st_max = CLI_CLIENT_WINDOW;
	run(st);
	/* what timed out may still be answered: nobody listens now */
	troupe_client_set_cb(st->st_p.p_c, NULL, NULL);
	cli_pipe_close(&st->st_p);
	if ((rv = st->st_status) != 0)
		cli_warn("%" PRIu64 " of %" PRIu64 " lines accepted (read up "
		    "to line %" PRIu64 ")", st->st_ok, st->st_tail - 1,
		    st->st_tail - 1);
out_free:
	free(st);
	return rv;
}

/*
 * cli_copro — the JSON-lines co-process on one client link.
 *
 * A line in flight holds a slot (its number and its "id"), the tag of
 * its send or ask; free slots are a stack.  Answers are written by the
 * result callback; inside a send that waits for the window (the
 * broker's window smaller than ours) each answer is flushed at once,
 * since the writer may wait for it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli_client.h"
#include "cli_copro.h"
#include "cli_feed.h"
#include "cli_json.h"
#include "troupe.h"

#define TICK_MS 50		/* asks' own deadlines are looked at */

struct cslot {
	uint64_t	 cs_line;
	json_t		*cs_echo;	/* the line's "id" (a reference) */
	struct cslot	*cs_next;	/* on the free stack */
};

struct copro {
	bool		 cp_ask;
	int		 cp_timeout;	/* ask: ms, -1 the broker's ttl */
	struct cli_pipe	 cp_p;
	struct cslot	*cp_free;
	uint32_t	 cp_owed;
	bool		 cp_failed;	/* some line answered ok:false */
	int		 cp_status;	/* link lost, stdin unreadable */
	bool		 cp_in_call;	/* inside a send or ask */
	struct cslot	 cp_slot[CLI_CLIENT_WINDOW];
};

/* The request of one line. */
struct creq {
	const char	*r_to;
	const json_t	*r_body;
	json_t		*r_echo;
};

/* Writes one answer line; value (the reply, stolen) or msg_id for an
 * ok one, code and why for a failed one. */
static void
answer(struct copro *cp, uint64_t line, json_t *echo, int code,
    const char *why, json_t *value, uint64_t msg_id)
{
	json_t *o = json_object(), *w;
	char *text = NULL;

	if (o != NULL) {
		json_object_set_new(o, "line", json_integer((json_int_t)line));
		if (echo != NULL)
			json_object_set(o, "id", echo);
		json_object_set_new(o, "ok", json_boolean(code == 0));
	}
	if (o != NULL && code == 0 && cp->cp_ask)
		json_object_set_new(o, "reply", value != NULL ? value :
		    json_null());
	else if (o != NULL && code == 0)
		json_object_set_new(o, "msg_id", json_integer(
		    (json_int_t)msg_id));
	else if (o != NULL) {
		if ((w = json_string(why)) == NULL)	/* not UTF-8 */
			w = json_string(cli_client_text(code));
		json_object_set_new(o, "error", w);
		json_object_set_new(o, "code", json_integer(
		    cli_client_wire(code)));
		cp->cp_failed = true;
	}
	if (o == NULL || (text = cli_json_dump(o)) == NULL) {
		cli_warn("out of memory writing the answer of line %" PRIu64,
		    line);
		cp->cp_failed = true;
	} else
		printf("%s\n", text);
	free(text);
	json_decref(o);
	if (cp->cp_in_call)
		fflush(stdout);
}

static void
slot_push(struct copro *cp, struct cslot *s)
{
	s->cs_next = cp->cp_free;
	cp->cp_free = s;
}

static void
slot_give(struct copro *cp, struct cslot *s)
{
	json_decref(s->cs_echo);
	s->cs_echo = NULL;
	slot_push(cp, s);
	cp->cp_owed--;
}

static void
on_result(void *arg, const struct troupe_result *r)
{
	struct copro *cp = arg;
	struct cslot *s = r->tr_tag;
	struct tp_err err = { 0 };
	json_t *reply = NULL;
	int code = r->tr_code;
	const char *why = r->tr_message;

	if (code == 0 && cp->cp_ask && cli_json_from_msgpack(r->tr_body,
	    r->tr_len, &reply, &err) != 0) {
		code = err.e_code;
		why = "reply has no JSON form";
	}
	if (code != 0 && (why == NULL || why[0] == '\0'))
		why = cli_client_text(code);
	answer(cp, s->cs_line, s->cs_echo, code, why, reply, r->tr_id);
	slot_give(cp, s);
}

/* Reads {"to","body","id"} out of j (the caller's): 0, or TP_EINVAL
 * with why filled. */
static int
request_of(json_t *j, struct creq *q, struct tp_err *err)
{
	const char *key;
	json_t *v;

	memset(q, 0, sizeof(*q));
	if (!json_is_object(j))
		return tp_err_set(err, TP_EINVAL, "a line must be an object "
		    "{\"to\": ACTOR, \"body\": JSON, \"id\": ...}");
	q->r_echo = json_object_get(j, "id");
	json_object_foreach(j, key, v) {
		if (strcmp(key, "to") == 0 && json_is_string(v))
			q->r_to = json_string_value(v);
		else if (strcmp(key, "body") == 0)
			q->r_body = v;
		else if (strcmp(key, "to") == 0)
			return tp_err_set(err, TP_EINVAL, "\"to\" must be an "
			    "actor name (a string)");
		else if (strcmp(key, "id") != 0)
			return tp_err_set(err, TP_EINVAL, "unknown key '%.64s' "
			    "(a line has to, body and id)", key);
	}
	if (q->r_to == NULL || q->r_to[0] == '\0')
		return tp_err_set(err, TP_EINVAL, "no \"to\" actor");
	return 0;
}

/* Sends or asks q with slot s as its tag; 0 or a client API code. */
static int
start(struct copro *cp, const struct creq *q, struct cslot *s,
    struct tp_err *err)
{
	msgpack_sbuffer *sb = &cp->cp_p.p_sb;
	int rv;

	msgpack_sbuffer_clear(sb);
	if ((rv = cli_json_to_msgpack(q->r_body ? q->r_body : json_null(),
	    sb, err)) != 0)
		return rv;
	cp->cp_in_call = true;
	if (cp->cp_ask)
		rv = troupe_client_ask_async(cp->cp_p.p_c, q->r_to, sb->data,
		    sb->size, cp->cp_timeout, s, NULL);
	else
		rv = troupe_client_send(cp->cp_p.p_c, q->r_to, sb->data,
		    sb->size, s, NULL);
	cp->cp_in_call = false;
	if (rv != 0)
		tp_err_set(err, rv, "%s", cli_client_text(rv));
	return rv;
}

static void
take_line(struct copro *cp, enum cli_feed_line kind, char *p, size_t n)
{
	uint64_t line = cp->cp_p.p_in.f_lineno;
	struct tp_err err = { 0 };
	struct cslot *s;
	struct creq q = { 0 };
	json_t *j = NULL;
	int rv;

	if (kind == CLI_FEED_LONG)
		rv = tp_err_set(&err, TP_ETOOBIG, "line longer than %u bytes",
		    CLI_FEED_LINE_MAX);
	else if ((rv = cli_json_parse_line(p, n, &j, &err)) == 0)
		rv = request_of(j, &q, &err);
	if (rv == 0) {
		s = cp->cp_free;
		cp->cp_free = s->cs_next;
		cp->cp_owed++;
		s->cs_line = line;
		s->cs_echo = json_incref(q.r_echo);
		if ((rv = start(cp, &q, s, &err)) != 0)
			slot_give(cp, s);
		if (rv == TP_ECLOSED)
			cp->cp_status = EX_UNAVAILABLE;
	}
	if (rv != 0)
		answer(cp, line, q.r_echo, rv, err.e_msg, NULL, 0);
	json_decref(j);
}

static void
run(struct copro *cp)
{
	struct cli_feed *in = &cp->cp_p.p_in;
	enum cli_feed_line k;
	size_t n;
	char *p;
	int rv;

	for (;;) {
		while (cp->cp_status == 0 && cp->cp_free != NULL &&
		    (k = cli_feed_next(in, &p, &n)) != CLI_FEED_NONE)
			take_line(cp, k, p, n);
		if (cp->cp_owed == 0 && (cp->cp_status != 0 ||
		    cli_feed_eof(in)))
			return;
		if (cp->cp_status == EX_UNAVAILABLE)
			return;		/* close answers what is left */
		rv = cli_feed_wait(in, cp->cp_p.p_c, cp->cp_status == 0 &&
		    cp->cp_free != NULL, cp->cp_owed > 0 ? TICK_MS : -1);
		if (rv == TP_ECLOSED)
			cp->cp_status = EX_UNAVAILABLE;
		else if (rv == TP_ESYS && cp->cp_status == 0) {
			cli_warn("cannot read stdin: %s", strerror(errno));
			cp->cp_status = EX_IOERR;
		}
	}
}

int
cli_copro_run(const struct cli_opts *o, bool ask)
{
	struct copro *cp;
	int rv;

	if ((cp = calloc(1, sizeof(*cp))) == NULL) {
		cli_warn("out of memory");
		return EX_OSERR;
	}
	cp->cp_ask = ask;
	cp->cp_timeout = o->o_timeout_set ? o->o_timeout : -1;
	if ((rv = cli_pipe_open(&cp->cp_p, o, on_result, cp)) != 0)
		goto out_free;
	/* no more in flight than the broker's window: a send never waits
	 * inside the library, where stdin is not read */
	for (uint32_t i = CLI_CLIENT_WINDOW; i-- > 0; )
		if (i < troupe_client_window(cp->cp_p.p_c))
			slot_push(cp, &cp->cp_slot[i]);
	run(cp);
	cli_pipe_close(&cp->cp_p);	/* a lost link: code 7 */
	if (cp->cp_status == EX_UNAVAILABLE)
		cli_warn("lost the broker: %s", cli_client_text(TP_ECLOSED));
	rv = cp->cp_status != 0 ? cp->cp_status : cp->cp_failed;
out_free:
	free(cp);
	return rv;
}

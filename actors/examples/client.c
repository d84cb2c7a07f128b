/*
 * client — an example program that is not an actor: it opens a client
 * link to a troupe node (troupe(3), "The client API"), sends COUNT
 * messages to ACTOR without waiting for each, counts their results in a
 * callback, asks echo once and prints the reply as JSON.
 *
 * Build it against an installed libtroupe:
 *
 *	cc -o client client.c $(pkg-config --cflags --libs troupe)
 *
 * Run it with a node up (trouped's built-in configuration has the
 * actors sink and echo):
 *
 *	./client [-n COUNT] [-a ACTOR] [-t TIMEOUT_MS] [WHERE]
 *
 * WHERE is a control socket URL (ipc:///run/troupe/ctl.sock) or a run
 * dir; without it the library picks the default node as the troupe CLI
 * does ($TROUPE_BROKER, $TROUPE_RUN_DIR, $TROUPE_NODE, the default run
 * dir, the one zero-config node running here).
 *
 * Exit status as troupe(1): 0 every message placed and echo answered,
 * 1 the broker refused something, 64 usage, 69 no broker there,
 * 75 timeout, 77 not admitted.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <troupe.h>

#define EX_BROKER	1	/* the broker refused: troupe(1)'s status */

/* What the callback counts; the program owns it, the library only hands
 * the pointer back. */
struct tally {
	uint64_t	t_ok;
	uint64_t	t_failed;
	int		t_first_code;	/* of the first failure, for the exit */
};

static void
usage(void)
{
	fprintf(stderr, "usage: client [-n COUNT] [-a ACTOR] [-t TIMEOUT_MS] "
	    "[WHERE]\n");
	exit(EX_USAGE);
}

/* A library code as an exit status: positive codes are the broker's. */
static int
exit_of(int code)
{
	switch (code) {
	case 0:			return EX_OK;
	case TP_EINVAL:		return EX_USAGE;	/* a bad name */
	case TP_EUNREACH:	return EX_UNAVAILABLE;
	case TP_EPERM:
	case TROUPE_ERR_PERMISSION: return EX_NOPERM;
	case TP_ETIMEDOUT:
	case TROUPE_ERR_TIMEOUT: return EX_TEMPFAIL;
	default:		return EX_BROKER;
	}
}

/* "unknown actor (code 1)" for the broker's codes, the library's name
 * for its own. */
static const char *
text_of(int code, const char *message, char *buf, size_t len)
{
	if (code > 0)
		snprintf(buf, len, "%s (code %d)", message != NULL &&
		    *message != '\0' ? message : "refused by the broker",
		    code);
	else
		snprintf(buf, len, "%s", tp_strerror(code));
	return buf;
}

/*
 * Runs inside troupe_client_send/poll/flush/close when a result comes
 * in: only counts (it must not call back into the client).  A failure
 * is reported once, with the message's id.
 */
static void
on_result(void *arg, const struct troupe_result *r)
{
	struct tally *t = arg;
	char buf[300];

	if (r->tr_code == 0) {
		t->t_ok++;
		return;
	}
	if (t->t_failed++ == 0) {
		t->t_first_code = r->tr_code;
		/* the tag is the message's number; tr_id is the library's
		 * id, which starts anywhere */
		fprintf(stderr, "client: message %" PRIuPTR ": %s\n",
		    (uintptr_t)r->tr_tag, text_of(r->tr_code, r->tr_message, buf, sizeof(buf)));
	}
}

/* The body of message i: {"seq": i, "from": "client.c"}. */
static int
pack_msg(struct troupe_body *b, uint64_t i)
{
	troupe_body_map(b, 2);
	troupe_body_str(b, "seq");
	troupe_body_uint(b, i);
	troupe_body_str(b, "from");
	troupe_body_str(b, "client.c");
	return troupe_body_error(b);
}

/* COUNT asynchronous sends to actor, then waits for every result. */
static int
send_all(struct troupe_client *c, const char *actor, uint64_t count,
    int timeout_ms, struct tally *t)
{
	struct troupe_body b;
	char buf[300];
	int rv = 0;

	troupe_client_set_cb(c, on_result, t);
	for (uint64_t i = 1; i <= count && rv == 0; i++) {
		troupe_body_init(&b);
		if ((rv = pack_msg(&b, i)) == 0)
			rv = troupe_client_send(c, actor, troupe_body_data(&b),
			    troupe_body_len(&b), (void *)(uintptr_t)i, NULL);
		troupe_body_free(&b);
	}
	if (rv != 0)
		fprintf(stderr, "client: send to %s: %s\n", actor,
		    text_of(rv, NULL, buf, sizeof(buf)));
	else if ((rv = troupe_client_flush(c, timeout_ms)) != 0)
		fprintf(stderr, "client: %" PRIu32 " results not in: %s\n",
		    troupe_client_pending(c), tp_strerror(rv));
	printf("sent %" PRIu64 " to %s: %" PRIu64 " ok, %" PRIu64
	    " failed\n", count, actor, t->t_ok, t->t_failed);
	if (rv == 0 && t->t_failed > 0)
		rv = t->t_first_code;
	return rv;
}

/* Asks echo and prints its reply as JSON.  The reply is the caller's
 * to free whatever the ask returned. */
static int
ask_echo(struct troupe_client *c, uint64_t sent, int timeout_ms)
{
	struct troupe_reply reply;
	struct troupe_body b;
	char buf[300], *json = NULL;
	int rv;

	troupe_body_init(&b);
	troupe_body_map(&b, 2);
	troupe_body_str(&b, "hello");
	troupe_body_str(&b, troupe_client_name(c));
	troupe_body_str(&b, "sent");
	troupe_body_uint(&b, sent);
	if ((rv = troupe_body_error(&b)) != 0) {
		troupe_body_free(&b);
		fprintf(stderr, "client: ask echo: %s\n", tp_strerror(rv));
		return rv;
	}
	rv = troupe_client_ask(c, "echo", troupe_body_data(&b),
	    troupe_body_len(&b), timeout_ms, &reply);
	troupe_body_free(&b);
	if (rv < 0)
		fprintf(stderr, "client: ask echo: %s\n", tp_strerror(rv));
	else if (troupe_obj_to_json(&reply.r_obj, &json) != 0)
		fprintf(stderr, "client: ask echo: the reply has no JSON "
		    "form\n");
	else if (rv > 0)	/* the ERROR body: {"code", "message"} */
		fprintf(stderr, "client: ask echo: %s: %s\n",
		    text_of(rv, NULL, buf, sizeof(buf)), json);
	else
		printf("echo replied: %s\n", json);
	free(json);
	troupe_reply_free(&reply);
	return rv;
}

int
main(int argc, char **argv)
{
	struct troupe_client *c;
	struct tally t = { 0 };
	const char *actor = "sink";
	unsigned long long count = 1000;
	long timeout_ms = 10000;
	char *end;
	int ch, rv, arv;

	while ((ch = getopt(argc, argv, "a:n:t:")) != -1) {
		switch (ch) {
		case 'a':
			actor = optarg;
			break;
		case 'n':
			errno = 0;
			count = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || optarg[0] == '-' ||
			    count > 100000000)
				usage();
			break;
		case 't':
			errno = 0;
			timeout_ms = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || timeout_ms < 1 ||
			    timeout_ms > 3600000)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind > 1)
		usage();
	if ((rv = troupe_client_open(argc > optind ? argv[optind] : NULL,
	    (int)timeout_ms, &c)) != 0) {
		fprintf(stderr, "client: %s\n", troupe_client_open_error());
		return exit_of(rv);
	}
	printf("client %s on node %s\n", troupe_client_name(c),
	    troupe_client_node(c));
	rv = send_all(c, actor, count, (int)timeout_ms, &t);
	if (rv >= 0) {		/* the link still works: ask too */
		arv = ask_echo(c, t.t_ok, (int)timeout_ms);
		if (rv == 0)
			rv = arv;
	}
	troupe_client_close(c, (int)timeout_ms);
	return exit_of(rv);
}

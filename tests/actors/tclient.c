/*
 * tclient — a client of the client API for the process tests (never
 * installed).  The broker is the default one (TROUPE_RUN_DIR, ...).
 *
 *   tclient send TO N      sends the integers 1..N to TO asynchronously;
 *                          prints "ok K" (or "err K CODE MESSAGE") as
 *                          each result comes, flushed at once; exit 0
 *                          when all were placed, 1 if any failed.
 *   tclient rate TO SECS   sends 128-byte bodies to TO for SECS seconds;
 *                          prints "rate R" (confirmed messages a second).
 *   tclient ask TO         one ask with body "ping"; prints the reply as
 *                          JSON.
 *   tclient hold           opens a client link, prints "ready NAME", and
 *                          waits for stdin to close.
 *   tclient raw URL        dials URL with pair1 as a stranger would and
 *                          sends a hello and a SEND; prints "sent".
 * Exit 77 when the broker refused the client (permission), 69 when it is
 * unreachable, 2 on bad usage.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include "tp_env.h"
#include "tp_nng.h"
#include "troupe.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
open_client(struct troupe_client **c)
{
	int rv = troupe_client_open(NULL, 5000, c);

	if (rv == 0)
		return 0;
	fprintf(stderr, "tclient: %s\n", troupe_client_open_error());
	return rv == TP_EPERM ? 77 : 69;
}

static uint64_t confirmed, failed;

static void
on_result(void *arg, const struct troupe_result *r)
{
	uintptr_t k = (uintptr_t)r->tr_tag;

	if (r->tr_code == 0) {
		confirmed++;
		if (arg != NULL)
			printf("ok %lu\n", (unsigned long)k);
	} else {
		failed++;
		printf("err %lu %d %s\n", (unsigned long)k, r->tr_code,
		    r->tr_message != NULL ? r->tr_message : "");
	}
}

static int
cmd_send(const char *to, unsigned long n)
{
	struct troupe_client *c;
	int rv;

	if ((rv = open_client(&c)) != 0)
		return rv;
	troupe_client_set_cb(c, on_result, c);
	for (unsigned long k = 1; k <= n; k++) {
		struct troupe_body b;

		troupe_body_init(&b);
		troupe_body_uint(&b, k);
		rv = troupe_client_send(c, to, troupe_body_data(&b),
		    troupe_body_len(&b), (void *)(uintptr_t)k, NULL);
		troupe_body_free(&b);
		if (rv != 0) {
			fprintf(stderr, "tclient: send: %s\n", tp_strerror(rv));
			return 1;
		}
		if (troupe_client_poll(c, 0) < 0)
			return 1;
		fflush(stdout);
	}
	rv = troupe_client_flush(c, 30000);
	fflush(stdout);
	troupe_client_close(c, 1000);
	return rv == 0 && failed == 0 ? 0 : 1;
}

static int
cmd_rate(const char *to, double secs)
{
	static uint8_t body[128] = { 0xc4, 126 };
	struct troupe_client *c;
	double t0, t1;
	int rv;

	if ((rv = open_client(&c)) != 0)
		return rv;
	troupe_client_set_cb(c, on_result, NULL);
	t0 = now_s();
	while ((t1 = now_s()) - t0 < secs)
		for (int i = 0; i < 64; i++)
			if ((rv = troupe_client_send(c, to, body, sizeof(body),
			    NULL, NULL)) != 0) {
				fprintf(stderr, "tclient: send: %s\n",
				    tp_strerror(rv));
				return 1;
			}
	printf("rate %.0f\n", (double)confirmed / (t1 - t0));
	fflush(stdout);
	/* what is still in the window may wait on a slow actor: leave */
	troupe_client_close(c, 0);
	return 0;
}

static int
cmd_ask(const char *to)
{
	static const uint8_t ping[] = { 0xa4, 'p', 'i', 'n', 'g' };
	struct troupe_client *c;
	struct troupe_reply r;
	char *json = NULL;
	int rv;

	if ((rv = open_client(&c)) != 0)
		return rv;
	rv = troupe_client_ask(c, to, ping, sizeof(ping), 5000, &r);
	if (rv == 0 && troupe_obj_to_json(&r.r_obj, &json) == 0)
		printf("%s\n", json);
	else
		printf("error %d\n", rv);
	free(json);
	troupe_reply_free(&r);
	troupe_client_close(c, 1000);
	return rv == 0 ? 0 : 1;
}

static int
cmd_hold(void)
{
	struct troupe_client *c;
	char buf[64];
	int rv;

	if ((rv = open_client(&c)) != 0)
		return rv;
	printf("ready %s\n", troupe_client_name(c));
	fflush(stdout);
	while (fgets(buf, sizeof(buf), stdin) != NULL)
		;
	troupe_client_close(c, 1000);
	return 0;
}

/* A stranger: the same uid, another pid, on the granted socket. */
static int
cmd_raw(const char *url)
{
	static const uint8_t hello[] = { 0x81, 0xa2, 'o', 'p', 0xa5, 'h',
	    'e', 'l', 'l', 'o' };
	struct tp_env env = { .e_kind = TP_K_CONTROL, .e_body = hello,
	    .e_body_len = sizeof(hello) };
	struct tp_err err;
	msgpack_packer pk;
	nng_socket s;
	nng_msg *m;

	if (tp_sock_open(&s, TP_PAIR, NULL, &err) != 0 ||
	    tp_dial(s, url, true, &err) != 0) {
		fprintf(stderr, "tclient: %s\n", err.e_msg);
		return 69;
	}
	env.e_from = tp_slice_str("x@y");
	env.e_to = tp_slice_str("");
	for (int i = 0; i < 2; i++) {
		if (nng_msg_alloc(&m, 0) != 0)
			return 1;
		tp_packer_init_msg(&pk, m);
		tp_env_pack(&pk, &env);
		if (nng_sendmsg(s, m, 0) != 0)
			nng_msg_free(m);
		env.e_kind = TP_K_SEND;
		env.e_id = 1;
		env.e_to = tp_slice_str("sink");
	}
	printf("sent\n");
	fflush(stdout);
	nng_msleep(300);
	nng_close(s);
	return 0;
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && strcmp(argv[1], "send") == 0)
		return cmd_send(argv[2], strtoul(argv[3], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "rate") == 0)
		return cmd_rate(argv[2], strtod(argv[3], NULL));
	if (argc == 3 && strcmp(argv[1], "ask") == 0)
		return cmd_ask(argv[2]);
	if (argc == 2 && strcmp(argv[1], "hold") == 0)
		return cmd_hold();
	if (argc == 3 && strcmp(argv[1], "raw") == 0)
		return cmd_raw(argv[2]);
	fprintf(stderr, "usage: tclient send TO N | rate TO SECS | ask TO | "
	    "hold | raw URL\n");
	return 2;
}

/*
 * tsub — a topic subscriber for the process tests (never installed).
 *   TSUB_TOPICS    comma list of patterns, each troupe_subscribe'd in
 *                  init() (the link is ordered: they hold before any
 *                  publish sent after the actor is up)
 *   TSUB_DELAY_US  sleep that long per message (a slow subscriber)
 *   TSUB_FORWARD   publish each message's body again to this topic
 *   (arguments KEY=VALUE set any of these for this actor alone)
 *   TSUB_OUT       a file: one line "TO FROM BODYJSON\n" per message,
 *                  appended with one write(2) each (O_APPEND, no stdio
 *                  buffering), so a test reads what came in what order
 */
#define _GNU_SOURCE		/* asprintf */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "troupe.h"

struct tsub {
	unsigned long	 ts_delay_us;
	int		 ts_fd;
	const char	*ts_forward;	/* TSUB_FORWARD: publish each body on */
};

static void
tsub_receive(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	struct tsub *t = troupe_arg(ctx);
	char *json = NULL, *line = NULL;
	int len;

	if (t->ts_delay_us > 0)
		usleep(t->ts_delay_us);
	if (t->ts_forward != NULL && troupe_publish(ctx, t->ts_forward,
	    msg->m_body, msg->m_body_len) != 0)
		abort();
	if (t->ts_fd < 0)
		return;
	if (troupe_obj_to_json(&msg->m_obj, &json) != 0 ||
	    (len = asprintf(&line, "%s %s %s\n", msg->m_to, msg->m_from,
	    json)) < 0 || write(t->ts_fd, line, (size_t)len) != len)
		abort();	/* a test that lost a line must not pass */
	free(line);
	free(json);
}

/* Subscribes to each pattern of the comma list s (a copy is cut). */
static int
subscribe_all(struct troupe_ctx *ctx, const char *s)
{
	char *list, *p, *save = NULL;
	int rv = 0;

	if ((list = strdup(s)) == NULL)
		return -1;
	for (p = strtok_r(list, ",", &save); p != NULL && rv == 0;
	    p = strtok_r(NULL, ",", &save))
		if ((rv = troupe_subscribe(ctx, p)) != 0)
			fprintf(stderr, "tsub: subscribe '%s': %s\n", p,
			    tp_strerror(rv));
	free(list);
	return rv;
}

static int
tsub_init(struct troupe_ctx *ctx)
{
	struct tsub *t = troupe_arg(ctx);
	const char *s;

	if ((s = getenv("TSUB_DELAY_US")) != NULL)
		t->ts_delay_us = strtoul(s, NULL, 10);
	if ((s = getenv("TSUB_FORWARD")) != NULL && *s != '\0')
		t->ts_forward = s;
	if ((s = getenv("TSUB_OUT")) != NULL && *s != '\0' &&
	    (t->ts_fd = open(s, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) < 0)
		return -1;
	if ((s = getenv("TSUB_TOPICS")) != NULL && *s != '\0')
		return subscribe_all(ctx, s);
	return 0;
}

/* Arguments KEY=VALUE set those variables first: the actors of one
 * broker share its environment, their exec lines are their own. */
int
main(int argc, char **argv)
{
	static const struct troupe_actor_ops ops = {
		.init = tsub_init,
		.receive = tsub_receive,
	};
	struct tsub t = { .ts_fd = -1 };

	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq != NULL) {
			*eq = '\0';
			setenv(argv[i], eq + 1, 1);
		}
	}
	return troupe_actor_main(&ops, &t);
}

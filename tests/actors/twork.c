/*
 * twork — a pool worker for the process tests and benchmarks (never
 * installed).
 *   TWORK_OUT       a file: one line "PID BODYJSON\n" per message,
 *                   appended with one write(2) each (O_APPEND: all the
 *                   pool's instances may share it)
 *   TWORK_DELAY_US  sleep that long per message (a slow worker)
 *   TWORK_SLOW      NAME#k:US: only instance NAME#k sleeps US per message
 *   (arguments KEY=VALUE set any of these for this actor alone)
 *   TWORK_SPIN_US   instead, burn that much CPU per message (a
 *                   CPU-bound handler: what a pool spreads over cores)
 * An ASK is answered with the worker's pid (a msgpack int), so a test
 * sees which instance took it.
 */
#define _GNU_SOURCE		/* asprintf */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "troupe.h"

struct twork {
	unsigned long	 tw_delay_us;
	unsigned long	 tw_spin_us;
	int		 tw_fd;
};

/* Busy until us microseconds of this process's CPU time went by. */
static void
spin(unsigned long us)
{
	struct timespec ts;
	long long start, now;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	start = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	do {
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		now = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	} while (now - start < (long long)us);
}

static void
note(const struct twork *w, const struct troupe_msg *msg)
{
	char *json = NULL, *line = NULL;
	int len;

	if (troupe_obj_to_json(&msg->m_obj, &json) != 0 ||
	    (len = asprintf(&line, "%ld %s\n", (long)getpid(), json)) < 0 ||
	    write(w->tw_fd, line, (size_t)len) != len)
		abort();	/* a test that lost a line must not pass */
	free(line);
	free(json);
}

static void
twork_receive(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	struct twork *w = troupe_arg(ctx);
	struct troupe_body b;

	if (w->tw_spin_us > 0)
		spin(w->tw_spin_us);
	else if (w->tw_delay_us > 0)
		usleep(w->tw_delay_us);
	if (w->tw_fd >= 0)
		note(w, msg);
	if (msg->m_kind != TROUPE_ASK)
		return;
	troupe_body_init(&b);
	troupe_body_int(&b, getpid());
	troupe_reply(ctx, msg, troupe_body_data(&b), troupe_body_len(&b));
	troupe_body_free(&b);
}

static int
twork_init(struct troupe_ctx *ctx)
{
	struct twork *w = troupe_arg(ctx);
	const char *s;

	if ((s = getenv("TWORK_DELAY_US")) != NULL)
		w->tw_delay_us = strtoul(s, NULL, 10);
	if ((s = getenv("TWORK_SPIN_US")) != NULL)
		w->tw_spin_us = strtoul(s, NULL, 10);
	/* TWORK_SLOW=NAME#k:US: that one instance sleeps US per message */
	if ((s = getenv("TWORK_SLOW")) != NULL && getenv("TROUPE_ACTOR") &&
	    strncmp(s, getenv("TROUPE_ACTOR"), strcspn(s, ":")) == 0 &&
	    getenv("TROUPE_ACTOR")[strcspn(s, ":")] == '\0' &&
	    s[strcspn(s, ":")] == ':')
		w->tw_delay_us = strtoul(s + strcspn(s, ":") + 1, NULL, 10);
	if ((s = getenv("TWORK_OUT")) != NULL && *s != '\0' &&
	    (w->tw_fd = open(s, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) < 0)
		return -1;
	return 0;
}

/* Arguments KEY=VALUE set those variables first: the actors of one
 * broker share its environment, their exec lines are their own. */
int
main(int argc, char **argv)
{
	static const struct troupe_actor_ops ops = {
		.init = twork_init,
		.receive = twork_receive,
	};
	struct twork w = { .tw_fd = -1 };

	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (eq != NULL) {
			*eq = '\0';
			setenv(argv[i], eq + 1, 1);
		}
	}
	return troupe_actor_main(&ops, &w);
}

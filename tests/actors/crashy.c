/*
 * crashy — a misbehaving actor for the supervision tests (never
 * installed).  Each message's body is a number n.
 *   -c N     abort() on the first delivery of every n with n % N == 0,
 *            before doing anything with it: the broker redelivers it.
 *   -f NAME  forward n to actor NAME (troupe_send) before the ack.
 *   -o FILE  append "n redelivered\n" to FILE (one write per message).
 *   -s USEC  sleep that long per message (a slow consumer).
 *   -i       ignore SIGTERM once running (only SIGKILL stops it).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "troupe.h"

struct crashy {
	unsigned long	 cr_every;
	const char	*cr_fwd;
	const char	*cr_file;
	unsigned long	 cr_sleep_us;
	int		 cr_ignore_term;
	int		 cr_fd;
};

static void
crashy_receive(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	struct crashy *c = troupe_arg(ctx);
	uint64_t n = msg->m_obj.type == MSGPACK_OBJECT_POSITIVE_INTEGER ?
	    msg->m_obj.via.u64 : 0;
	char line[64];
	int len;

	if (c->cr_every > 0 && n % c->cr_every == 0 && !msg->m_redelivered)
		abort();
	if (c->cr_sleep_us > 0)
		usleep(c->cr_sleep_us);
	if (c->cr_fwd != NULL)
		troupe_send(ctx, c->cr_fwd, msg->m_body, msg->m_body_len);
	if (c->cr_fd >= 0) {
		len = snprintf(line, sizeof(line), "%llu %d\n",
		    (unsigned long long)n, msg->m_redelivered ? 1 : 0);
		if (write(c->cr_fd, line, (size_t)len) != len)
			abort();
	}
}

static int
crashy_init(struct troupe_ctx *ctx)
{
	struct crashy *c = troupe_arg(ctx);

	if (c->cr_ignore_term)
		signal(SIGTERM, SIG_IGN);
	if (c->cr_file != NULL && (c->cr_fd = open(c->cr_file, O_WRONLY |
	    O_CREAT | O_APPEND | O_CLOEXEC, 0600)) < 0)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct troupe_actor_ops ops = {
		.init = crashy_init,
		.receive = crashy_receive,
	};
	struct crashy c = { .cr_fd = -1 };
	int ch;

	while ((ch = getopt(argc, argv, "c:f:o:s:i")) != -1) {
		switch (ch) {
		case 'c': c.cr_every = strtoul(optarg, NULL, 10); break;
		case 'f': c.cr_fwd = optarg; break;
		case 'o': c.cr_file = optarg; break;
		case 's': c.cr_sleep_us = strtoul(optarg, NULL, 10); break;
		case 'i': c.cr_ignore_term = 1; break;
		default:
			fprintf(stderr, "usage: crashy [-c N] [-f ACTOR] "
			    "[-o FILE] [-s USEC] [-i]\n");
			return 2;
		}
	}
	return troupe_actor_main(&ops, &c);
}

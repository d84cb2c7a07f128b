/*
 * troupe-logger — appends every message as one JSON line
 *   {"id":..,"from":..,"kind":"send"|"ask","redelivered":bool,"body":..}
 * to argv[1], else $TROUPE_LOGGER_FILE, else $TROUPE_RUN_DIR/logger.jsonl.
 * Each line goes out in one write() on an O_APPEND descriptor, so lines of
 * concurrent writers never interleave.  An ask is answered {"ok":true}.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "troupe.h"

struct logger {
	const char	*lg_path;
	char		 lg_buf[PATH_MAX];
	int		 lg_fd;
};

static int
logger_path(struct logger *lg, int argc, char **argv)
{
	const char *s;

	if (argc > 1 && *argv[1] != '\0')
		lg->lg_path = argv[1];
	else if ((s = getenv("TROUPE_LOGGER_FILE")) != NULL && *s != '\0')
		lg->lg_path = s;
	else if ((s = getenv("TROUPE_RUN_DIR")) != NULL && *s != '\0') {
		if ((size_t)snprintf(lg->lg_buf, sizeof(lg->lg_buf),
		    "%s/logger.jsonl", s) >= sizeof(lg->lg_buf))
			return -1;
		lg->lg_path = lg->lg_buf;
	} else
		return -1;
	return 0;
}

static json_t *
logger_line(const struct troupe_msg *msg)
{
	json_t *body, *line;

	if (troupe_obj_json(&msg->m_obj, &body) != 0)
		body = json_null();
	line = json_pack("{s:I, s:s, s:s, s:b, s:o}",
	    "id", (json_int_t)msg->m_id, "from", msg->m_from,
	    "kind", msg->m_kind == TROUPE_ASK ? "ask" : "send",
	    "redelivered", msg->m_redelivered, "body", body);
	return line;
}

static int
logger_write(struct logger *lg, const struct troupe_msg *msg)
{
	json_t *line;
	char *s, *t;
	size_t n;
	ssize_t w;

	if ((line = logger_line(msg)) == NULL)
		return -1;
	s = json_dumps(line, JSON_COMPACT);
	json_decref(line);
	if (s == NULL)
		return -1;
	n = strlen(s);
	if ((t = realloc(s, n + 2)) == NULL) {
		free(s);
		return -1;
	}
	t[n++] = '\n';
	t[n] = '\0';
	do
		w = write(lg->lg_fd, t, n);
	while (w < 0 && errno == EINTR);
	free(t);
	return w == (ssize_t)n ? 0 : -1;
}

static void
logger_reply_ok(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	struct troupe_body b;

	troupe_body_init(&b);
	troupe_body_map(&b, 1);
	troupe_body_str(&b, "ok");
	if (troupe_body_bool(&b, true) == 0)
		troupe_reply(ctx, msg, troupe_body_data(&b),
		    troupe_body_len(&b));
	troupe_body_free(&b);
}

static void
logger_receive(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	struct logger *lg = troupe_state(ctx);

	if (logger_write(lg, msg) != 0) {
		fprintf(stderr, "troupe-logger: write %s: %s\n", lg->lg_path,
		    strerror(errno));
		if (msg->m_kind == TROUPE_ASK)
			troupe_reply_error(ctx, msg, TROUPE_ERR_REJECTED,
			    "cannot write the log");
		return;
	}
	if (msg->m_kind == TROUPE_ASK)
		logger_reply_ok(ctx, msg);
}

static int
logger_init(struct troupe_ctx *ctx)
{
	struct logger *lg = troupe_arg(ctx);

	lg->lg_fd = open(lg->lg_path, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0600);
	if (lg->lg_fd < 0) {
		fprintf(stderr, "troupe-logger: open %s: %s\n", lg->lg_path,
		    strerror(errno));
		return -1;
	}
	troupe_set_state(ctx, lg);
	return 0;
}

static void
logger_terminate(struct troupe_ctx *ctx, enum troupe_reason why)
{
	struct logger *lg = troupe_arg(ctx);

	if (lg->lg_fd >= 0)
		close(lg->lg_fd);
	lg->lg_fd = -1;
}

int
main(int argc, char **argv)
{
	static const struct troupe_actor_ops ops = {
		.init = logger_init,
		.receive = logger_receive,
		.terminate = logger_terminate,
	};
	struct logger lg = { .lg_fd = -1 };

	if (logger_path(&lg, argc, argv) != 0) {
		fprintf(stderr, "troupe-logger: no log file: give one as "
		    "argument, or set TROUPE_LOGGER_FILE or TROUPE_RUN_DIR\n");
		return 1;
	}
	return troupe_actor_main(&ops, &lg);
}

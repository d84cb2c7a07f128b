/*
 * cli_feed — stdin as bounded lines, and the wait of the streaming
 * commands on stdin and a client link together.
 *
 * The buffer always keeps one spare byte after f_end, so the last line
 * (no newline) can be NUL-terminated in place; its largest size holds a
 * longest line, its newline and that byte.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sysexits.h>

#include "cli_client.h"
#include "cli_feed.h"

#define BUF_MAX (CLI_FEED_LINE_MAX + 2)

/* Reads fd (0 for stdin; left open).  0, or -1 out of memory. */
static int
feed_init(struct cli_feed *f, int fd)
{
	memset(f, 0, sizeof(*f));
	f->f_fd = fd;
	f->f_cap = CLI_FEED_CHUNK;
	if ((f->f_buf = malloc(f->f_cap)) == NULL)
		return -1;
	return 0;
}

static void
feed_fini(struct cli_feed *f)
{
	free(f->f_buf);
	f->f_buf = NULL;
}

bool
cli_feed_eof(const struct cli_feed *f)
{
	return f->f_eof && f->f_start == f->f_end;
}

bool
cli_feed_ready(const struct cli_feed *f)
{
	size_t len = f->f_end - f->f_start;

	return len > 0 && (f->f_eof || f->f_skip || len > CLI_FEED_LINE_MAX ||
	    memchr(f->f_buf + f->f_start, '\n', len) != NULL);
}

/* Drops the rest of a line reported too long; false while its newline
 * has not come yet. */
static bool
skip_rest(struct cli_feed *f)
{
	char *nl = memchr(f->f_buf + f->f_start, '\n', f->f_end -
	    f->f_start);

	if (nl != NULL) {
		f->f_start = (size_t)(nl - f->f_buf) + 1;
		f->f_skip = false;
		return true;
	}
	f->f_start = f->f_end = 0;
	if (f->f_eof)
		f->f_skip = false;
	return !f->f_skip;
}

enum cli_feed_line
cli_feed_next(struct cli_feed *f, char **p, size_t *n)
{
	char *s, *nl;
	size_t len;

	if (f->f_skip && !skip_rest(f))
		return CLI_FEED_NONE;
	s = f->f_buf + f->f_start;
	len = f->f_end - f->f_start;
	if ((nl = memchr(s, '\n', len)) != NULL)
		len = (size_t)(nl - s);
	else if (len > CLI_FEED_LINE_MAX) {
		f->f_skip = true;
		f->f_start = f->f_end = 0;
		f->f_lineno++;
		return CLI_FEED_LONG;
	} else if (!f->f_eof || len == 0)
		return CLI_FEED_NONE;
	s[len] = '\0';		/* the newline, or the spare byte */
	f->f_start += len + (nl != NULL);
	f->f_lineno++;
	*p = s;
	*n = len;
	return CLI_FEED_LINE;
}

/* Room for a read: the unread part moves to the front when little is
 * left behind it; the buffer grows while a line fills it. */
static int
make_room(struct cli_feed *f)
{
	size_t keep = f->f_end - f->f_start;
	char *nb;

	if (keep == 0)
		f->f_start = f->f_end = 0;
	else if (f->f_cap - f->f_end < f->f_cap / 4) {
		memmove(f->f_buf, f->f_buf + f->f_start, keep);
		f->f_start = 0;
		f->f_end = keep;
	}
	if (f->f_end + 1 < f->f_cap || f->f_cap >= BUF_MAX)
		return 0;
	f->f_cap = f->f_cap * 2 < BUF_MAX ? f->f_cap * 2 : BUF_MAX;
	if ((nb = realloc(f->f_buf, f->f_cap)) == NULL) {
		errno = ENOMEM;
		return TP_ESYS;
	}
	f->f_buf = nb;
	return 0;
}

static int
feed_read(struct cli_feed *f)
{
	ssize_t r;

	if (make_room(f) != 0)
		return TP_ESYS;
	r = read(f->f_fd, f->f_buf + f->f_end, f->f_cap - f->f_end - 1);
	if (r < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : TP_ESYS;
	if (r == 0)
		f->f_eof = true;
	f->f_end += (size_t)r;
	return 0;
}

int
cli_feed_wait(struct cli_feed *f, struct troupe_client *c, bool want_input,
    int timeout_ms)
{
	struct pollfd pfd[2] = {
		{ .fd = troupe_client_fd(c), .events = POLLIN },
		{ .fd = f->f_fd, .events = POLLIN },
	};
	int got, rv;

	want_input = want_input && !f->f_eof;
	if ((got = troupe_client_poll(c, 0)) < 0)
		return got;
	if (got == 0 && timeout_ms != 0)
		fflush(stdout);		/* the reader may wait for these */
	rv = poll(pfd, want_input ? 2 : 1, got > 0 ? 0 : timeout_ms);
	if (rv < 0)
		return errno == EINTR ? 0 : TP_ESYS;
	if (pfd[0].revents != 0 && (rv = troupe_client_poll(c, 0)) < 0)
		return rv;
	if (want_input && pfd[1].revents != 0)
		return feed_read(f);
	return 0;
}

int
cli_pipe_open(struct cli_pipe *p, const struct cli_opts *o,
    troupe_client_cb *cb, void *arg)
{
	static char outbuf[64u << 10];
	int rv;

	memset(p, 0, sizeof(*p));
	if (feed_init(&p->p_in, STDIN_FILENO) != 0) {
		cli_warn("out of memory");
		return EX_OSERR;
	}
	msgpack_sbuffer_init(&p->p_sb);
	if ((rv = cli_client_open(o, &p->p_c)) == 0 &&
	    troupe_client_fd(p->p_c) < 0) {
		cli_warn("cannot poll the client link (no descriptor)");
		troupe_client_close(p->p_c, 0);
		rv = EX_OSERR;
	}
	if (rv != 0) {
		msgpack_sbuffer_destroy(&p->p_sb);
		feed_fini(&p->p_in);
		return rv;
	}
	/* ids and answers leave in lumps, flushed before every wait */
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	troupe_client_set_cb(p->p_c, cb, arg);
	return 0;
}

void
cli_pipe_close(struct cli_pipe *p)
{
	troupe_client_close(p->p_c, 0);
	msgpack_sbuffer_destroy(&p->p_sb);
	feed_fini(&p->p_in);
}

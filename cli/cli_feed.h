/*
 * cli_feed — standard input as lines for the streaming commands (`send
 * ACTOR -`, `send -`, `ask -`), and their one wait: stdin and a client
 * link polled together, so answers are written and flushed while the
 * command waits for more input (a program that writes a line and reads
 * its answer before the next never deadlocks with us).
 *
 * stdin is read with read(2), not stdio: bytes hidden in a FILE buffer
 * would make poll(2) lie.  The buffer starts at CLI_FEED_CHUNK bytes and
 * grows for a long line up to CLI_FEED_LINE_MAX bytes; a longer line is
 * reported once as too long and the rest of it is skipped, so memory
 * stays bounded whatever comes in.  A cli_pipe is what such a command
 * holds: this stdin, the body buffer it packs lines into and its link.
 */
#ifndef CLI_FEED_H
#define CLI_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "cli_opts.h"
#include "troupe.h"

#define CLI_FEED_CHUNK		(1u << 20)
#define CLI_FEED_LINE_MAX	(16u << 20)	/* bytes of a line, no '\n' */

struct cli_feed {
	int		 f_fd;
	char		*f_buf;
	size_t		 f_cap;
	size_t		 f_start;	/* first byte not taken yet */
	size_t		 f_end;		/* bytes read */
	uint64_t	 f_lineno;	/* lines taken so far */
	bool		 f_eof;
	bool		 f_skip;	/* inside a line reported too long */
};

/* What cli_feed_next found. */
enum cli_feed_line {
	CLI_FEED_NONE = 0,	/* nothing buffered: wait, or EOF came */
	CLI_FEED_LINE,		/* a line */
	CLI_FEED_LONG,		/* a line over CLI_FEED_LINE_MAX bytes */
};

/*
 * The next line buffered: CLI_FEED_LINE with *p (NUL-terminated in
 * place, the newline cut; valid until the next call) and *n its length,
 * or CLI_FEED_LONG; either way f_lineno is now its number.  The last
 * line counts without a newline too.  CLI_FEED_NONE when no whole line
 * is buffered (cli_feed_eof says whether more can come).
 */
enum cli_feed_line cli_feed_next(struct cli_feed *f, char **p, size_t *n);

/* True when cli_feed_next would find something without a read. */
bool cli_feed_ready(const struct cli_feed *f);

/* True once EOF was read and every line taken. */
bool cli_feed_eof(const struct cli_feed *f);

/*
 * One step of a streaming command: sends what the client queued and
 * takes the results there (callbacks run); if none came, flushes stdout
 * and waits up to timeout_ms (< 0: forever) for the client's fd, and for
 * stdin too when want_input, then takes what is readable (one read(2) of
 * stdin).  Returns 0; TP_ECLOSED once the link broke (its results were
 * reported as such); TP_ESYS when stdin cannot be read or poll fails
 * (errno says why).
 */
int cli_feed_wait(struct cli_feed *f, struct troupe_client *c,
    bool want_input, int timeout_ms);

/* What a streaming command holds: stdin, the body being packed, its
 * client link (results to the callback given to cli_pipe_open). */
struct cli_pipe {
	struct cli_feed	 p_in;
	msgpack_sbuffer	 p_sb;
	struct troupe_client *p_c;
};

/*
 * Reads stdin, opens the client link to the broker o names with
 * cb(arg) for its results, and gives stdout a buffer of its own (it is
 * flushed by cli_feed_wait and at exit).  Returns 0, or the exit status
 * with its one line printed (nothing is left to close).
 */
int cli_pipe_open(struct cli_pipe *p, const struct cli_opts *o,
    troupe_client_cb *cb, void *arg);

/* Closes the link (results still owed are reported TP_ECLOSED to the
 * callback, if one is still set) and frees what p holds. */
void cli_pipe_close(struct cli_pipe *p);

#endif

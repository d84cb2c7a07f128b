/*
 * troupe-stdio — runs a program as an actor and speaks JSON lines with it,
 * so that an actor can be written in any language:
 *
 *   exec = troupe-stdio [--max-line BYTES] -- python3 my_actor.py
 *
 * Each delivered message goes to the program's stdin as one line
 *   {"id":N,"from":"a@n","kind":"send"|"ask","redelivered":B,"body":JSON}
 * and the program answers on stdout with lines
 *   {"to":"name[@node]","body":JSON}	send a message
 *   {"reply_to":N,"body":JSON}		answer the ASK N (ends message N)
 *   {"done":N}				message N is handled
 * A message is acknowledged to the broker once its reply or done line came,
 * so a crash of the program loses nothing: the broker redelivers.  The
 * program's output is read while a message is being handled (it speaks
 * when spoken to).  Lines longer than --max-line (1 MiB) and lines that are
 * not such JSON objects are logged on stderr and skipped.
 *
 * The program's exit is the actor's crash: the shim exits with the same
 * status, or dies of the same signal, so the supervisor sees the program.
 * The program is started with posix_spawnp (no shell), stdin and stdout
 * on pipes, stderr shared with the shim's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "troupe.h"

#define LINE_MAX_DEF	(1u << 20)
#define LINE_MAX_LIM	(64u << 20)
#define READ_CHUNK	65536
#define STOP_GRACE_MS	2000
#define EX_USAGE	64

extern char **environ;

struct shim {
	pid_t		 s_pid;
	int		 s_in;		/* our end of the program's stdin */
	int		 s_out;		/* our end of the program's stdout */
	char		*s_line;	/* s_max bytes: the line being read */
	size_t		 s_len;
	size_t		 s_max;
	bool		 s_skipping;	/* inside an over-long line */
	const struct troupe_msg *s_cur;	/* the message being handled */
	bool		 s_done;
	struct troupe_ctx *s_ctx;
};

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t stopping;

static void
shim_log(const char *what, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
shim_log(const char *what, const char *fmt, ...)
{
	const char *name = getenv("TROUPE_ACTOR");
	va_list ap;

	fprintf(stderr, "troupe-stdio: level=warn actor=%s msg=\"%s\"",
	    name != NULL ? name : "?", what);
	if (fmt != NULL) {
		fputc(' ', stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
}

/* Ends this process the way the program ended.  Async-signal-safe: it also
 * runs inside the SIGCHLD handler. */
static void
die_like(int status)
{
	sigset_t set;
	int sig;

	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		kill(getpid(), sig);
		_exit(128 + sig);
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

/* The program may die while the library waits for the broker: only a
 * signal can tell us then, and the actor must die with it at once. */
static void
on_child(int sig)
{
	int status, saved = errno;

	(void)sig;
	if (!stopping && child_pid > 0 &&
	    waitpid((pid_t)child_pid, &status, WNOHANG) == (pid_t)child_pid)
		die_like(status);
	errno = saved;
}

/* The program closed its stdout: wait for its end and share it. */
static void
follow_child(struct shim *s)
{
	int status;

	for (;;) {
		if (waitpid(s->s_pid, &status, 0) == s->s_pid)
			die_like(status);
		if (errno != EINTR)
			pause();	/* the SIGCHLD handler reaped it */
	}
}

static int
spawn_attrs(posix_spawnattr_t *at)
{
	sigset_t none, dfl;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGCHLD);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	if (posix_spawnattr_init(at) != 0)
		return -1;
	posix_spawnattr_setsigmask(at, &none);
	posix_spawnattr_setsigdefault(at, &dfl);
	posix_spawnattr_setflags(at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	return 0;
}

static int
spawn_program(struct shim *s, char **argv)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int in[2], out[2], rv;

	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) != 0)
		goto out_in;
	if (posix_spawn_file_actions_init(&fa) != 0)
		goto out_out;
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	if (spawn_attrs(&at) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		goto out_out;
	}
	rv = posix_spawnp(&s->s_pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rv != 0) {
		shim_log("cannot start the program", "exec=\"%s\" error=\"%s\"",
		    argv[0], strerror(rv));
		goto out_out;
	}
	child_pid = s->s_pid;
	close(in[0]);
	close(out[1]);
	s->s_in = in[1];
	s->s_out = out[0];
	fcntl(s->s_in, F_SETFL, O_NONBLOCK);
	fcntl(s->s_out, F_SETFL, O_NONBLOCK);
	return 0;
out_out:
	close(out[0]);
	close(out[1]);
out_in:
	close(in[0]);
	close(in[1]);
	return -1;
}

/* --- the program's lines ------------------------------------------------- */

static void
line_send(struct shim *s, json_t *j)
{
	const json_t *to = json_object_get(j, "to");
	struct troupe_body b;
	int rv;

	if (!json_is_string(to)) {
		shim_log("line skipped: \"to\" is not a string", NULL);
		return;
	}
	troupe_body_init(&b);
	if ((rv = troupe_body_json(&b, json_object_get(j, "body"))) == 0 ||
	    rv == TP_EINVAL) {
		rv = troupe_send(s->s_ctx, json_string_value(to),
		    troupe_body_data(&b), troupe_body_len(&b));
		if (rv != 0)
			shim_log("send failed", "to=\"%s\" error=\"%s\"",
			    json_string_value(to), tp_strerror(rv));
	} else
		shim_log("line skipped: bad body", "error=\"%s\"",
		    tp_strerror(rv));
	troupe_body_free(&b);
}

/* Only the message being handled can be answered: the library's message
 * lives as long as its receive() call. */
static bool
is_current(struct shim *s, const json_t *id)
{
	if (s->s_cur == NULL || !json_is_integer(id) ||
	    (uint64_t)json_integer_value(id) != s->s_cur->m_id) {
		shim_log("line skipped: not the message being handled", NULL);
		return false;
	}
	return true;
}

static void
line_reply(struct shim *s, json_t *j)
{
	struct troupe_body b;
	int rv;

	if (!is_current(s, json_object_get(j, "reply_to")))
		return;
	s->s_done = true;
	if (s->s_cur->m_kind != TROUPE_ASK) {
		shim_log("reply to a send ignored", NULL);
		return;
	}
	troupe_body_init(&b);
	rv = troupe_body_json(&b, json_object_get(j, "body"));
	if (rv == 0 || rv == TP_EINVAL)
		rv = troupe_reply(s->s_ctx, s->s_cur, troupe_body_data(&b),
		    troupe_body_len(&b));
	if (rv != 0)
		shim_log("reply failed", "error=\"%s\"", tp_strerror(rv));
	troupe_body_free(&b);
}

static void
handle_line(struct shim *s, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *j;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len == 0)
		return;
	if ((j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		shim_log("line skipped: invalid JSON", "column=%d error=\"%s\"",
		    jerr.column, jerr.text);
		return;
	}
	if (!json_is_object(j))
		shim_log("line skipped: not a JSON object", NULL);
	else if (json_object_get(j, "to") != NULL)
		line_send(s, j);
	else if (json_object_get(j, "reply_to") != NULL)
		line_reply(s, j);
	else if (json_object_get(j, "done") != NULL)
		s->s_done = is_current(s, json_object_get(j, "done")) ||
		    s->s_done;
	else
		shim_log("line skipped: no \"to\", \"reply_to\" or \"done\"",
		    NULL);
	json_decref(j);
}

/* Splits what was read into lines; a line over s_max is dropped whole. */
static void
take_bytes(struct shim *s, const char *p, size_t n)
{
	const char *nl;
	size_t k;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		k = nl != NULL ? (size_t)(nl - p) : n;
		if (!s->s_skipping && s->s_len + k > s->s_max) {
			shim_log("line skipped: too long", "max=%zu", s->s_max);
			s->s_skipping = true;
		}
		if (!s->s_skipping) {
			memcpy(s->s_line + s->s_len, p, k);
			s->s_len += k;
		}
		if (nl == NULL)
			return;
		if (!s->s_skipping)
			handle_line(s, s->s_line, s->s_len);
		s->s_skipping = false;
		s->s_len = 0;
		p += k + 1;
		n -= k + 1;
	}
}

static void
read_program(struct shim *s)
{
	char buf[READ_CHUNK];
	ssize_t n;

	while ((n = read(s->s_out, buf, sizeof(buf))) > 0)
		take_bytes(s, buf, (size_t)n);
	if (n == 0)
		follow_child(s);
	if (errno != EAGAIN && errno != EINTR)
		follow_child(s);
}

/*
 * Writes buf to the program and handles its lines until the current
 * message is done.  Reading while writing keeps both pipes moving: a
 * program that answers before it read all of a long line never deadlocks
 * with us.
 */
static void
converse(struct shim *s, const char *buf, size_t len)
{
	struct pollfd pfd[2];
	size_t off = 0;
	ssize_t n;

	while (off < len || !s->s_done) {
		pfd[0] = (struct pollfd){ .fd = s->s_out, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = off < len ? s->s_in : -1,
		    .events = POLLOUT };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			follow_child(s);
		}
		if (pfd[0].revents != 0)
			read_program(s);
		if (pfd[1].revents == 0)
			continue;
		n = write(s->s_in, buf + off, len - off);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			follow_child(s);	/* EPIPE: it is gone */
	}
}

/* --- the actor ----------------------------------------------------------- */

static char *
message_line(const struct troupe_msg *msg)
{
	json_t *body = NULL, *j;
	char *text;
	size_t n;

	if (troupe_obj_json(&msg->m_obj, &body) != 0) {
		shim_log("body has no JSON form: sent as null", NULL);
		body = json_null();
	}
	j = json_pack("{s:I,s:s,s:s,s:b,s:o}", "id", (json_int_t)msg->m_id,
	    "from", msg->m_from, "kind", msg->m_kind == TROUPE_ASK ? "ask" :
	    "send", "redelivered", msg->m_redelivered, "body", body);
	if (j == NULL)
		return NULL;
	text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	if (text == NULL)
		return NULL;
	n = strlen(text);
	if ((text = realloc(text, n + 2)) != NULL)
		memcpy(text + n, "\n", 2);
	return text;
}

static void
shim_receive(struct troupe_ctx *ctx, const struct troupe_msg *msg)
{
	struct shim *s = troupe_arg(ctx);
	char *line;

	s->s_ctx = ctx;
	if ((line = message_line(msg)) == NULL) {
		shim_log("out of memory: message not passed on", NULL);
		return;
	}
	s->s_cur = msg;
	s->s_done = false;
	converse(s, line, strlen(line));
	s->s_cur = NULL;
	free(line);
}

/* A normal stop: EOF on its stdin, SIGTERM, then SIGKILL after a grace. */
static void
stop_program(struct shim *s)
{
	struct timespec ts = { 0, 20 * 1000000L };
	int status;

	if (s->s_pid <= 0)
		return;
	stopping = 1;
	close(s->s_in);
	kill(s->s_pid, SIGTERM);
	for (int i = 0; i < STOP_GRACE_MS / 20; i++) {
		if (waitpid(s->s_pid, &status, WNOHANG) == s->s_pid)
			goto out;
		nanosleep(&ts, NULL);
	}
	kill(s->s_pid, SIGKILL);
	waitpid(s->s_pid, &status, 0);
out:
	close(s->s_out);
	s->s_pid = 0;
}

static void
shim_terminate(struct troupe_ctx *ctx, enum troupe_reason why)
{
	(void)why;
	stop_program(troupe_arg(ctx));
}

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: troupe-stdio [--max-line BYTES] -- PROGRAM "
	    "[ARG]...\n");
}

static int
parse_args(int argc, char **argv, struct shim *s)
{
	static const struct option lo[] = {
		{ "max-line", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			s->s_max = strtoul(optarg, &end, 10);
			if (*end != '\0' || s->s_max < 16 ||
			    s->s_max > LINE_MAX_LIM) {
				fprintf(stderr, "troupe-stdio: bad --max-line "
				    "'%s'\n", optarg);
				return -1;
			}
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return -1;
	}
	return optind;
}

static int
catch_children(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	signal(SIGPIPE, SIG_IGN);
	return sigaction(SIGCHLD, &sa, NULL);
}

int
main(int argc, char **argv)
{
	static const struct troupe_actor_ops ops = {
		.receive = shim_receive,
		.terminate = shim_terminate,
	};
	struct shim s = { .s_max = LINE_MAX_DEF, .s_in = -1, .s_out = -1 };
	int first, rv;

	if ((first = parse_args(argc, argv, &s)) < 0)
		return EX_USAGE;
	if ((s.s_line = malloc(s.s_max)) == NULL || catch_children() != 0 ||
	    spawn_program(&s, argv + first) != 0) {
		free(s.s_line);
		return 1;
	}
	rv = troupe_actor_main(&ops, &s);
	stop_program(&s);
	free(s.s_line);
	return rv;
}

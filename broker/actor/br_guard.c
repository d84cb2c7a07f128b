/*
 * br_guard — refusal counters by socket kind and the mailbox gate.  The
 * callbacks here run on nng threads: they read and write only the gate's
 * atomics, /proc and the notify fd, never broker state.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "br_guard.h"

static _Atomic uint64_t refused[BR_GS_COUNT];
static const char *const names[BR_GS_COUNT] = { "mailbox", "control",
    "tap", "peer", "client" };

void
br_guard_count(enum br_gsock s)
{
	atomic_fetch_add_explicit(&refused[s], 1, memory_order_relaxed);
}

uint64_t
br_guard_refused(enum br_gsock s)
{
	return atomic_load_explicit(&refused[s], memory_order_relaxed);
}

const char *
br_guard_name(enum br_gsock s)
{
	return names[s];
}

/* ---- the mailbox gate ---- */

struct br_gate {
	_Atomic int64_t		 g_want;	/* 0, -1 spawning, or a pid */
	_Atomic uint32_t	 g_pipe;	/* admitted pipe id, 0 if none */
	_Atomic int64_t		 g_pipe_pid;	/* its peer pid */
	int			 g_fd;
	uint32_t		 g_tag;
	enum br_gsock		 g_kind;
};

/* Whether pid's parent is this process: the child posix_spawn is about
 * to name.  Without /proc (a bare chroot) nobody passes, and the actor's
 * dialer retries once its pid is known. */
static bool
is_our_child(uint64_t pid)
{
	char path[64], buf[512], *p;
	long ppid;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%llu/stat",
	    (unsigned long long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold spaces and parens */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %ld", &ppid) != 1)
		return false;
	return ppid == (long)getpid();
}

static bool
gate_wants(struct br_gate *g, uint64_t pid)
{
	int64_t want = atomic_load(&g->g_want);

	if (want > 0)
		return pid == (uint64_t)want;
	return want == BR_GATE_SPAWNING && is_our_child(pid);
}

/* The spawned pid may dial more than once (pair1 itself keeps one pipe
 * at a time): the latest admitted pipe is the actor's. */
static void
gate_add(struct br_gate *g, nng_pipe p)
{
	uint64_t pid = 0;

	if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_PID, &pid) == 0 &&
	    gate_wants(g, pid)) {
		atomic_store(&g->g_pipe_pid, (int64_t)pid);
		atomic_store(&g->g_pipe, (uint32_t)nng_pipe_id(p));
		return;
	}
	br_guard_count(g->g_kind);
	nng_pipe_close(p);
}

/* The admitted pipe stays admitted after it goes, so that the loop still
 * takes the last frames it left in the socket (acks of a dying actor). */
static void
gate_rem(struct br_gate *g, nng_pipe p)
{
	uint32_t id = (uint32_t)nng_pipe_id(p), msg[2] = { g->g_tag, id };

	if (atomic_load(&g->g_pipe) != id)
		return;		/* a refused stranger, or a forgotten pipe */
	if (write(g->g_fd, msg, sizeof(msg)) < 0)
		return;		/* a full pipe loses the hint; SIGCHLD tells */
}

static void
gate_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	if (ev == NNG_PIPE_EV_ADD_PRE)
		gate_add(arg, p);
	else if (ev == NNG_PIPE_EV_REM_POST)
		gate_rem(arg, p);
}

struct br_gate *
br_gate_new(int notify_fd, uint32_t tag, enum br_gsock kind)
{
	struct br_gate *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->g_fd = notify_fd;
	g->g_tag = tag;
	g->g_kind = kind;
	return g;
}

int
br_gate_attach(struct br_gate *g, nng_socket s)
{
	int rv;

	atomic_store(&g->g_want, 0);
	atomic_store(&g->g_pipe, 0);
	if ((rv = nng_pipe_notify(s, NNG_PIPE_EV_ADD_PRE, gate_cb, g)) != 0)
		return rv;
	return nng_pipe_notify(s, NNG_PIPE_EV_REM_POST, gate_cb, g);
}

void
br_gate_expect(struct br_gate *g, pid_t pid)
{
	uint32_t id;

	atomic_store(&g->g_want, (int64_t)pid);
	if (pid == 0 || pid == BR_GATE_SPAWNING) {
		atomic_store(&g->g_pipe, 0);
		return;
	}
	/* admitted as "a child of ours" while spawning, but not this one */
	id = atomic_load(&g->g_pipe);
	if (id != 0 && atomic_load(&g->g_pipe_pid) != (int64_t)pid &&
	    atomic_compare_exchange_strong(&g->g_pipe, &id, 0)) {
		nng_pipe p = NNG_PIPE_INITIALIZER;

		p.id = id;
		br_guard_count(g->g_kind);
		nng_pipe_close(p);
	}
}

uint32_t
br_gate_pipe(struct br_gate *g)
{
	return atomic_load(&g->g_pipe);
}

bool
br_gate_admits(struct br_gate *g, nng_msg *msg)
{
	nng_pipe p = nng_msg_get_pipe(msg);

	if ((uint32_t)nng_pipe_id(p) == atomic_load(&g->g_pipe))
		return true;
	br_guard_count(g->g_kind);
	nng_pipe_close(p);
	return false;
}

void
br_gate_free(struct br_gate *g)
{
	free(g);
}

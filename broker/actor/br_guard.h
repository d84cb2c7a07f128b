/*
 * br_guard — what each listening socket refused: process-wide counters by
 * socket kind, and the mailbox gate that admits only the spawned actor.
 *
 * Counters are C11 atomics so that nng's pipe callbacks, which run on nng
 * threads and touch no broker state (docs/ARCHITECTURE.md "Invariant"),
 * may bump them.  The loop thread reads them (br_guard_refused) into the
 * counters table, br_stat.h, for `troupe stats` and the metrics page.
 */
#ifndef BR_GUARD_H
#define BR_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <nng/nng.h>

enum br_gsock {
	BR_GS_MAILBOX,		/* RUN/mbx/NAME.sock */
	BR_GS_CONTROL,		/* RUN/ctl.sock */
	BR_GS_TAP,		/* RUN/tap.sock */
	BR_GS_PEER,		/* node.listen, the peer streams */
	BR_GS_CLIENT,		/* RUN/cli/N.sock, client links */
	BR_GS_COUNT
};

/* +1 refused connection or frame on a socket of kind s; any thread. */
void br_guard_count(enum br_gsock s);

/* The count so far. */
uint64_t br_guard_refused(enum br_gsock s);

/* "mailbox", "control", "tap", "peer", "client". */
const char *br_guard_name(enum br_gsock s);

/*
 * The mailbox gate: one per actor, shared with nng's pipe callbacks on
 * each mailbox socket the actor gets.  The loop says which pid it spawned;
 * at NNG_PIPE_EV_ADD_PRE a pipe whose peer is not that pid is closed
 * before the socket sees it, so a stranger can neither take the actor's
 * single pair1 slot nor cause a link event, and it is counted.  Only the
 * removal of the admitted pipe is reported to the loop.
 */
struct br_gate;

/*
 * A gate that, when the admitted pipe goes, writes tag and the pipe id
 * (two uint32) to notify_fd (non-blocking; a full pipe loses the hint),
 * and counts the pipes it refuses under kind (a mailbox, a client link).
 * Returns it (the caller owns it: br_gate_free), or NULL.
 */
struct br_gate *br_gate_new(int notify_fd, uint32_t tag,
    enum br_gsock kind);

/*
 * Arms g on a freshly opened mailbox socket s: nobody is admitted until
 * br_gate_expect.  Returns 0, or an nng error.
 */
int br_gate_attach(struct br_gate *g, nng_socket s);

/*
 * Loop thread: the pid to admit from now on.  0: nobody (and the admitted
 * pipe is forgotten).  BR_GATE_SPAWNING, just before posix_spawn: a child
 * of this process (its parent pid is ours), for the child may dial before
 * posix_spawn has returned its pid.  A pid, after posix_spawn: that pid;
 * a pipe admitted meanwhile from another child is closed.
 */
#define BR_GATE_SPAWNING ((pid_t)-1)
void br_gate_expect(struct br_gate *g, pid_t pid);

/* The id of the pipe last admitted for the expected pid (it may have
 * gone since), 0 if none. */
uint32_t br_gate_pipe(struct br_gate *g);

/* Whether frame msg came on the pipe g admitted.  If not, the pipe is
 * closed and counted under g's kind (one that raced a restart, or a
 * stranger): the caller drops the frame.  Loop thread. */
bool br_gate_admits(struct br_gate *g, nng_msg *msg);

/* Frees g; no socket it is attached to may still be open. */
void br_gate_free(struct br_gate *g);

#endif

/*
 * br_client — client links (docs/ARCHITECTURE.md "Client link"): a
 * program that is not a spawned actor (the CLI streaming stdin, `troupe
 * bench`, any program on libtroupe's client API) gets a streaming link
 * of its own, with the actor link's protocol, batching and credit
 * window, instead of one control request per message.
 *
 * A client asks for one on ctl.sock (CONTROL {"op":"client"}), so the
 * control socket's admission (br_acl: uids, group) decides who may; the
 * broker opens a pair1 socket at RUN/cli/N.sock (the control socket's
 * mode) whose gate (br_guard) admits only the pid that asked, and
 * answers its URL.  The client dials it and says hello; the broker
 * grants node.client_window credits.  Its SENDs are always confirmed:
 * ACK (or ERROR) with corr = the SEND's id once placed in the target's
 * mailbox (on disk for a durable one; for another node's actor, that
 * node's word).  ACKs for consecutive ids leave as one envelope,
 * corr 0 and body [first_id, count].  Its ASKs get their REPLY or ERROR
 * on the link.  A client is not supervised and owns no mailbox: nobody
 * can send to it.  When its pipe goes (closed, killed) the slot is
 * freed and what was sent for it is dropped; what it was told was
 * accepted stays accepted.
 *
 * Origins are BR_ORIGIN_CLIENT | generation << 16 | slot: an answer
 * for a client that has gone (its slot reused) finds another
 * generation and is dropped.  Loop thread only.
 */
#ifndef BR_CLIENT_H
#define BR_CLIENT_H

#include <stdint.h>

#include <msgpack.h>
#include <nng/nng.h>

struct br;

/* The client table (node.max_clients slots), its link-drop pipe and
 * its answer class.  0 or -1 (logged). */
int br_clients_init(struct br *br);
/* Closes every client link and frees the table. */
void br_clients_fini(struct br *br);

/*
 * The "client" control op: a new client link for the process behind
 * pipe (the control request's), its answer map packed into pk:
 * {"url", "name", "node", "window", "max_body"}.  Returns 0, or a wire
 * error code (BR_E_BUSY: no free slot; BR_E_SHUTDOWN; BR_E_BADREQ: no
 * peer pid) with its text in msg (len bytes).
 */
int br_client_open(struct br *br, nng_pipe pipe, msgpack_packer *pk,
    char *msg, size_t len);

/* Before the loop sleeps: what is owed to clients leaves. */
void br_clients_flush(struct br *br);

/* Once a tick: a slot whose client never said hello within its grace
 * is freed. */
void br_clients_tick(struct br *br, uint64_t now);

/* Client links open now (stats). */
uint32_t br_clients_count(const struct br *br);

#endif

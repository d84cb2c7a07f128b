/*
 * tp_nng — thin helpers over nng for sockets that carry troupe frames.
 *
 * Every socket opened here has NNG_OPT_RECVMAXSZ set (nng 1.5.2 defaults
 * to unlimited) and sized send/receive buffers (left at 0 they cut a
 * forwarder's throughput about 9-fold); every ipc listener gets explicit
 * NNG_OPT_IPC_PERMISSIONS.  nng errors come back as TP_ENNG with nng's own
 * words and what was being done.
 */
#ifndef TP_NNG_H
#define TP_NNG_H

#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>

#include "tp_env.h"
#include "tp_err.h"

enum tp_proto {
	TP_PAIR,	/* pair1: actor mailbox, peer link */
	TP_REQ,		/* req0: CLI side of the control socket */
	TP_REP_RAW,	/* raw rep0: broker side, answers out of order */
	TP_PUB,		/* pub0: watch tap */
	TP_SUB,		/* sub0: watch client */
};

struct tp_sockopts {
	size_t		 o_max_frame;	/* NNG_OPT_RECVMAXSZ, never 0 */
	int		 o_sendbuf;	/* messages, 0..8192 */
	int		 o_recvbuf;
	nng_duration	 o_send_timeout;	/* NNG_DURATION_DEFAULT = none */
	nng_duration	 o_recv_timeout;
};

extern const struct tp_sockopts tp_sockopts_default;

/* Opens a socket of proto with opts (NULL = defaults).  On failure *s is
 * untouched and nothing is left open. */
int tp_sock_open(nng_socket *s, enum tp_proto proto,
    const struct tp_sockopts *opts, struct tp_err *err);

/* Listens on url (ipc:// or tcp://).  ipc_perm (e.g. 0600) is applied to
 * ipc:// listeners before they start; ignored for tcp. */
int tp_listen(nng_socket s, const char *url, int ipc_perm,
    struct tp_err *err);

/* Listens on url like tp_listen (no ipc permissions: for tcp) and writes
 * the URL it is bound to into bound: for tcp with port 0, the port the
 * kernel chose (tcp://127.0.0.1:0 -> tcp://127.0.0.1:41234); else url.
 * On failure nothing is left listening. */
int tp_listen_bound(nng_socket s, const char *url, char *bound, size_t len,
    struct tp_err *err);

/* Dials url.  With wait, fails at once when nobody listens; without, nng
 * keeps redialling in the background. */
int tp_dial(nng_socket s, const char *url, bool wait, struct tp_err *err);

/* The pollable fd that turns readable when a message can be received. */
int tp_recv_fd(nng_socket s, int *fd, struct tp_err *err);

/* Binds a msgpack packer to append to msg (which the caller owns). */
void tp_packer_init_msg(msgpack_packer *pk, nng_msg *msg);

/*
 * Encodes env into a new message and sends it.  flags as nng_sendmsg
 * (NNG_FLAG_NONBLOCK).  On success nng owns the message; on failure it is
 * freed here.  Returns 0, TP_EAGAIN (non-blocking and full), TP_ETIMEDOUT,
 * TP_ECLOSED or TP_ENNG.
 */
int tp_send_env(nng_socket s, const struct tp_env *env, int flags,
    struct tp_err *err);

/* Receives one message; on success the caller owns *msg (nng_msg_free). */
int tp_recv_msg(nng_socket s, nng_msg **msg, int flags, struct tp_err *err);

/* Maps an nng error to a TP_E* code with "what: nng's message" in err. */
int tp_nng_err(struct tp_err *err, int nngrv, const char *what,
    const char *url);

#endif

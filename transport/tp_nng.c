#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "tp_nng.h"

/* Bytes of an envelope besides names and body: array, version, kind, id,
 * corr, flags and the two string headers, each at its widest. */
#define TP_ENV_HEAD_MAX 48

const struct tp_sockopts tp_sockopts_default = {
	.o_max_frame = 16u << 20,
	.o_sendbuf = 1024,
	.o_recvbuf = 1024,
	.o_send_timeout = NNG_DURATION_DEFAULT,
	.o_recv_timeout = NNG_DURATION_DEFAULT,
};

int
tp_nng_err(struct tp_err *err, int nngrv, const char *what, const char *url)
{
	int code;

	switch (nngrv) {
	case NNG_EAGAIN:	code = TP_EAGAIN; break;
	case NNG_ETIMEDOUT:	code = TP_ETIMEDOUT; break;
	case NNG_ECLOSED:	code = TP_ECLOSED; break;
	case NNG_ENOMEM:	code = TP_ENOMEM; break;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:	code = TP_EINVAL; break;
	default:		code = TP_ENNG; break;
	}
	return tp_err_set(err, code, "%s%s%s: %s", what, url ? " " : "",
	    url ? url : "", nng_strerror(nngrv));
}

static int
open_proto(nng_socket *s, enum tp_proto proto)
{
	switch (proto) {
	case TP_PAIR:		return nng_pair1_open(s);
	case TP_REQ:		return nng_req0_open(s);
	case TP_REP_RAW:	return nng_rep0_open_raw(s);
	case TP_PUB:		return nng_pub0_open(s);
	case TP_SUB:		return nng_sub0_open(s);
	}
	return NNG_ENOTSUP;
}

/*
 * NNG_OPT_RECVMAXSZ counts the protocol header nng carries on the wire
 * with the body: pair1's 4-byte hop count, req/rep's 4-byte request id
 * (no devices in between, so no further hops).  Adding it makes the limit
 * fall exactly on o_max_frame bytes of frame, the same bound the decoder
 * applies, instead of silently dropping frames 4 bytes under the limit.
 */
static size_t
proto_header_len(enum tp_proto proto)
{
	switch (proto) {
	case TP_PAIR:
	case TP_REQ:
	case TP_REP_RAW:
		return 4;
	case TP_PUB:
	case TP_SUB:
		return 0;
	}
	return 0;
}

static int
apply_opts(nng_socket s, enum tp_proto proto, const struct tp_sockopts *o)
{
	int rv;

	if ((rv = nng_socket_set_size(s, NNG_OPT_RECVMAXSZ,
	    (o->o_max_frame ? o->o_max_frame : 1) +
	    proto_header_len(proto))) != 0)
		return rv;
	/* A raw rep0 socket with a 0 buffer drops replies whenever its
	 * forwarder is not parked at that instant; req0 has no buffers. */
	if (proto != TP_REQ &&
	    ((rv = nng_socket_set_int(s, NNG_OPT_SENDBUF, o->o_sendbuf)) != 0
	    || (rv = nng_socket_set_int(s, NNG_OPT_RECVBUF, o->o_recvbuf))
	    != 0))
		return rv;
	if (proto == TP_PUB)	/* a slow watcher must never stall the loop */
		return 0;
	if (o->o_send_timeout != NNG_DURATION_DEFAULT &&
	    (rv = nng_socket_set_ms(s, NNG_OPT_SENDTIMEO,
	    o->o_send_timeout)) != 0)
		return rv;
	if (o->o_recv_timeout != NNG_DURATION_DEFAULT &&
	    (rv = nng_socket_set_ms(s, NNG_OPT_RECVTIMEO,
	    o->o_recv_timeout)) != 0)
		return rv;
	return 0;
}

int
tp_sock_open(nng_socket *s, enum tp_proto proto,
    const struct tp_sockopts *opts, struct tp_err *err)
{
	nng_socket ns;
	int rv;

	if (opts == NULL)
		opts = &tp_sockopts_default;
	if ((rv = open_proto(&ns, proto)) != 0)
		return tp_nng_err(err, rv, "open socket", NULL);
	if ((rv = apply_opts(ns, proto, opts)) != 0) {
		nng_close(ns);
		return tp_nng_err(err, rv, "set socket options", NULL);
	}
	if (proto == TP_SUB && (rv = nng_socket_set(ns, NNG_OPT_SUB_SUBSCRIBE,
	    "", 0)) != 0) {
		nng_close(ns);
		return tp_nng_err(err, rv, "subscribe", NULL);
	}
	*s = ns;
	return 0;
}

static int
listen_start(nng_socket s, const char *url, int ipc_perm, nng_listener *lp,
    struct tp_err *err)
{
	nng_listener l;
	int rv;

	if ((rv = nng_listener_create(&l, s, url)) != 0)
		return tp_nng_err(err, rv, "listen on", url);
	if (strncmp(url, "ipc://", 6) == 0 &&
	    (rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS,
	    ipc_perm)) != 0)
		goto out_close;
	if ((rv = nng_listener_start(l, 0)) != 0)
		goto out_close;
	*lp = l;
	return 0;
out_close:
	nng_listener_close(l);
	return tp_nng_err(err, rv, "listen on", url);
}

int
tp_listen(nng_socket s, const char *url, int ipc_perm, struct tp_err *err)
{
	nng_listener l;

	return listen_start(s, url, ipc_perm, &l, err);
}

/* Port 0 asks the kernel for a free port; nng tells which one it got. */
int
tp_listen_bound(nng_socket s, const char *url, char *bound, size_t len,
    struct tp_err *err)
{
	const char *colon = strrchr(url, ':');
	nng_listener l;
	int rv, port, n;

	if ((rv = listen_start(s, url, 0, &l, err)) != 0)
		return rv;
	if (strncmp(url, "tcp", 3) != 0 || colon == NULL) {
		n = snprintf(bound, len, "%s", url);
	} else if ((rv = nng_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT,
	    &port)) != 0) {
		nng_listener_close(l);
		return tp_nng_err(err, rv, "read the bound port of", url);
	} else
		n = snprintf(bound, len, "%.*s:%d", (int)(colon - url), url,
		    port);
	if (n < 0 || (size_t)n >= len) {
		nng_listener_close(l);
		return tp_err_set(err, TP_ETOOBIG, "listen URL %s is too "
		    "long", url);
	}
	return 0;
}

int
tp_dial(nng_socket s, const char *url, bool wait, struct tp_err *err)
{
	int rv;

	if ((rv = nng_dial(s, url, NULL, wait ? 0 : NNG_FLAG_NONBLOCK)) != 0)
		return tp_nng_err(err, rv, "connect to", url);
	return 0;
}

int
tp_recv_fd(nng_socket s, int *fd, struct tp_err *err)
{
	int rv;

	if ((rv = nng_socket_get_int(s, NNG_OPT_RECVFD, fd)) != 0)
		return tp_nng_err(err, rv, "get receive fd", NULL);
	return 0;
}

static int
msg_write(void *data, const char *buf, size_t len)
{
	return nng_msg_append(data, buf, len) == 0 ? 0 : -1;
}

void
tp_packer_init_msg(msgpack_packer *pk, nng_msg *msg)
{
	msgpack_packer_init(pk, msg, msg_write);
}

int
tp_send_env(nng_socket s, const struct tp_env *env, int flags,
    struct tp_err *err)
{
	msgpack_packer pk;
	nng_msg *msg;
	int rv;

	if ((rv = nng_msg_alloc(&msg, 0)) != 0)
		return tp_nng_err(err, rv, "allocate message", NULL);
	/* One allocation up front: nng grows a message by reallocating and
	 * zeroing it, and the packer appends field by field. */
	if ((rv = nng_msg_reserve(msg, env->e_body_len + env->e_from.s_len +
	    env->e_to.s_len + TP_ENV_HEAD_MAX)) != 0) {
		nng_msg_free(msg);
		return tp_nng_err(err, rv, "allocate message", NULL);
	}
	tp_packer_init_msg(&pk, msg);
	if (tp_env_pack(&pk, env) != 0) {
		nng_msg_free(msg);
		return tp_err_set(err, TP_ENOMEM, "cannot encode envelope");
	}
	if ((rv = nng_sendmsg(s, msg, flags)) != 0) {
		nng_msg_free(msg);
		return tp_nng_err(err, rv, "send", NULL);
	}
	return 0;
}

int
tp_recv_msg(nng_socket s, nng_msg **msg, int flags, struct tp_err *err)
{
	int rv;

	if ((rv = nng_recvmsg(s, msg, flags)) != 0)
		return tp_nng_err(err, rv, "receive", NULL);
	return 0;
}

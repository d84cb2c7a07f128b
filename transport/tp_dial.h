/*
 * tp_dial — a client's dial that knows what it reached.  nng's own dial
 * cannot tell a broker from a socket of another protocol (the pipe is
 * dropped at its start and the dialer retries in silence) nor bound the
 * wait for a peer that accepts but never answers the handshake (10 s in
 * nng 1.5.2).  tp_dial_wait dials without blocking, watches the pipe
 * events, and says within the caller's timeout which of these it was.
 */
#ifndef TP_DIAL_H
#define TP_DIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>

#include "tp_err.h"

/* The watch state.  It is shared with nng's pipe callbacks, so it must
 * live until the socket is closed: tp_dial_fini after nng_close. */
struct tp_dialw {
	pthread_mutex_t	 dw_mu;
	pthread_cond_t	 dw_cv;
	pthread_t	 dw_thread;	/* runs nng's blocking first dial */
	nng_socket	 dw_sock;
	const char	*dw_url;
	int		 dw_dial_rv;	/* its result, once dw_dialed */
	bool		 dw_dialed;
	bool		 dw_running;	/* dw_thread to be joined */
	uint32_t	 dw_pipe;	/* admitted pipe id, 0 while none */
	uint32_t	 dw_rejected;	/* pipes dropped before ADD_POST */
	bool		 dw_init;
};

/*
 * Dials url on s and waits at most timeout ms until a pipe of s's
 * protocol is up.  nng's blocking dial runs on a thread of its own, so
 * that a refused connection fails at once while a peer that never
 * answers costs no more than timeout.  For ipc:// the path is checked
 * first (exists, is a socket; it is never connected to by hand: a
 * connection closed during nng's handshake stops an nng 1.5.2 listener,
 * see tp_lsn.h).  Returns 0; TP_EPEER (the peer speaks another nng
 * protocol, or never completes the handshake), TP_EUNREACH (nothing
 * listens: err names why), TP_EPERM (no permission on the socket), or
 * TP_ENNG.  w must outlive s (see above).
 */
int tp_dial_wait(struct tp_dialw *w, nng_socket s, const char *url,
    nng_duration timeout, struct tp_err *err);

/* Releases w once its socket is closed (which ends a dial still
 * waiting); harmless on a w never used. */
void tp_dial_fini(struct tp_dialw *w);

#endif

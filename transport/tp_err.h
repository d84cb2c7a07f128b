/*
 * tp_err — error codes and messages shared by every troupe module.
 *
 * Functions return 0 on success or a negative TP_E* code; when the caller
 * passes a struct tp_err, it also gets one human-readable line saying what
 * failed and where (offset in a buffer, nng's own message, ...).
 */
#ifndef TP_ERR_H
#define TP_ERR_H

#include <stddef.h>

enum tp_errcode {
	TP_OK = 0,
	TP_EVERSION = -1,	/* unknown wire version */
	TP_ETYPE = -2,		/* a field has the wrong msgpack type */
	TP_ETRUNC = -3,		/* input ends inside a value */
	TP_ETOOBIG = -4,	/* a string, body, count or frame over a limit */
	TP_EDEPTH = -5,		/* nesting deeper than the limit */
	TP_ETRAILING = -6,	/* bytes after the last value */
	TP_ENOMEM = -7,
	TP_ENNG = -8,		/* nng call failed, see message */
	TP_EINVAL = -9,		/* bad argument or value */
	TP_EKIND = -10,		/* unknown envelope kind */
	TP_ESYS = -11,		/* system call failed, errno in message */
	TP_ETIMEDOUT = -12,
	TP_ECLOSED = -13,
	TP_EAGAIN = -14,	/* would block (no credit, queue full) */
	TP_EPEER = -15,		/* the peer is not what was dialed for */
	TP_EUNREACH = -16,	/* nothing listens there */
	TP_EPERM = -17,		/* no permission on the socket */
};

#define TP_ERR_MSGLEN 160

struct tp_err {
	int	 e_code;
	char	 e_msg[TP_ERR_MSGLEN];
};

/* Fills err (when not NULL) with code and a printf-formatted message;
 * returns code so callers can `return tp_err_set(err, TP_ETYPE, ...)`. */
int tp_err_set(struct tp_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Static name of a TP_E* code ("bad version", ...). */
const char *tp_strerror(int code);

#endif

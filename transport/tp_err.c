#include <stdarg.h>
#include <stdio.h>

#include "tp_err.h"

int
tp_err_set(struct tp_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->e_code = code;
	va_start(ap, fmt);
	vsnprintf(err->e_msg, sizeof(err->e_msg), fmt, ap);
	va_end(ap);
	return code;
}

const char *
tp_strerror(int code)
{
	switch (code) {
	case TP_OK:		return "ok";
	case TP_EVERSION:	return "unsupported version";
	case TP_ETYPE:		return "wrong type";
	case TP_ETRUNC:		return "truncated input";
	case TP_ETOOBIG:	return "over limit";
	case TP_EDEPTH:		return "nested too deep";
	case TP_ETRAILING:	return "trailing bytes";
	case TP_ENOMEM:		return "out of memory";
	case TP_ENNG:		return "transport error";
	case TP_EINVAL:		return "invalid argument";
	case TP_EKIND:		return "unknown kind";
	case TP_ESYS:		return "system error";
	case TP_ETIMEDOUT:	return "timed out";
	case TP_ECLOSED:	return "closed";
	case TP_EAGAIN:		return "would block";
	case TP_EPEER:		return "wrong peer";
	case TP_EUNREACH:	return "unreachable";
	case TP_EPERM:		return "permission denied";
	default:		return "unknown error";
	}
}

/*
 * cli_client — the CLI's door to the client API.
 */
#include <stdio.h>
#include <sysexits.h>

#include "cli_client.h"
#include "cli_cmd.h"
#include "cli_node.h"
#include "troupe.h"

int
cli_client_dial(const char *url, int timeout_ms, struct troupe_client **out,
    char *err, size_t len)
{
	int rv;

	if ((rv = troupe_client_open(url, timeout_ms, out)) == 0)
		return 0;
	snprintf(err, len, "%s", troupe_client_open_error());
	switch (rv) {
	case TP_EUNREACH:
	case TP_EPEER:
		return EX_UNAVAILABLE;
	case TP_EPERM:
		return EX_NOPERM;
	case TP_ETIMEDOUT:
		return EX_TEMPFAIL;
	case TP_ENOMEM:
		return EX_OSERR;
	default:		/* TP_EAGAIN: every client link in use */
		return 1;
	}
}

int
cli_client_open(const struct cli_opts *o, struct troupe_client **out)
{
	char url[CLI_URL_MAX], err[CLI_URL_MAX + 256];
	int rv;

	if ((rv = cli_broker_url(o, url, sizeof(url))) != 0)
		return rv;
	if ((rv = cli_client_dial(url, o->o_timeout, out, err,
	    sizeof(err))) != 0)
		cli_warn("%s", err);
	return rv;
}

int
cli_client_status(int code)
{
	if (code >= 0)
		return code == 0 ? 0 : cli_exit_for_code(code);
	switch (code) {
	case TP_ETIMEDOUT:
		return EX_TEMPFAIL;
	case TP_ECLOSED:
		return EX_UNAVAILABLE;
	case TP_ENOMEM:
		return EX_OSERR;
	default:
		return EX_DATAERR;
	}
}

int
cli_client_wire(int code)
{
	if (code >= 0)
		return code;
	switch (code) {
	case TP_ETIMEDOUT:
		return TROUPE_ERR_TIMEOUT;
	case TP_ECLOSED:
		return TROUPE_ERR_UNREACHABLE;
	default:
		return TROUPE_ERR_BAD_REQUEST;
	}
}

const char *
cli_client_text(int code)
{
	switch (code) {
	case TP_ETIMEDOUT:
		return "no answer within the timeout";
	case TP_ECLOSED:
		return "link to the broker lost";
	case TP_ETOOBIG:
		return "message over the broker's size limit";
	case TP_EINVAL:
		return "invalid actor name or body";
	case TP_ENOMEM:
		return "out of memory";
	default:
		return code > 0 ? "refused by the broker" : tp_strerror(code);
	}
}

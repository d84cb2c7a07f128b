/*
 * cli_opts — the CLI's one stderr line.
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli_opts.h"

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("troupe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

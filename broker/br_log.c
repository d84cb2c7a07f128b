#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "br_log.h"

static enum br_log_level log_min = BR_LOG_INFO;
static const char *level_names[] = { "debug", "info", "warn", "error" };

void
br_log_set_level(enum br_log_level lvl)
{
	log_min = lvl;
}

int
br_log_parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

/* One fprintf per line: stderr is unbuffered, so one write per event and
 * lines of concurrent processes on one terminal do not interleave. */
void
br_log(enum br_log_level lvl, const char *msg, const char *fmt, ...)
{
	char line[1024], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (lvl < log_min)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s msg=\"%s\"",
	    ts, now.tv_nsec / 1000000, level_names[lvl], msg);
	if (fmt != NULL && n > 0 && (size_t)n < sizeof(line) - 2) {
		line[n++] = ' ';
		va_start(ap, fmt);
		n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
		va_end(ap);
	}
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
}

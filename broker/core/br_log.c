#include <sys/uio.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "br_daemon.h"
#include "br_log.h"

#define LOG_LINE_MAX 1024
#define LOG_OUT_MAX (2 * LOG_LINE_MAX + 64)	/* escaped msg + fields */
#define LOG_INT_DIGITS 18	/* fits an int64 whatever the digits */

static struct {
	enum br_log_level	lg_min;
	enum br_log_format	lg_fmt;
	int			lg_fd;		/* -1: stderr */
	bool			lg_syslog;
	char			lg_path[PATH_MAX];
	char			lg_last_err[LOG_LINE_MAX];
} lg = { BR_LOG_INFO, BR_LOG_LOGFMT, -1, false, "", "" };

static const char *level_names[] = { "debug", "info", "warn", "error" };
static const char *format_names[] = { "logfmt", "json" };
static const int level_prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING,
    LOG_ERR };

void
br_log_set_level(enum br_log_level lvl)
{
	lg.lg_min = lvl;
}

int
br_log_parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

void
br_log_set_format(enum br_log_format fmt)
{
	lg.lg_fmt = fmt;
}

int
br_log_parse_format(const char *s)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(s, format_names[i]) == 0)
			return i;
	return -1;
}

const char *
br_log_last_error(void)
{
	return lg.lg_last_err;
}


static int
open_file(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
	    O_NOCTTY, 0640);
}

int
br_log_open(const struct br_log_opts *o, char *err, size_t len)
{
	char path[PATH_MAX];
	int fd = -1;

	if (o->lo_file != NULL) {
		if (br_abs_path(o->lo_file, path, sizeof(path)) != 0) {
			snprintf(err, len, "log file path too long: %s",
			    o->lo_file);
			return -1;
		}
		if ((fd = open_file(path)) < 0) {
			snprintf(err, len, "cannot open log file %s: %s",
			    path, strerror(errno));
			return -1;
		}
	}
	br_log_close();
	lg.lg_fmt = o->lo_format;
	if (fd >= 0) {
		lg.lg_fd = fd;
		memcpy(lg.lg_path, path, sizeof(path));
	} else if (o->lo_syslog) {
		openlog("trouped", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		lg.lg_syslog = true;
	}
	return 0;
}

int
br_log_reopen(void)
{
	int fd;

	if (lg.lg_fd < 0)
		return 0;
	if ((fd = open_file(lg.lg_path)) < 0) {
		log_error("cannot reopen log file", "path=%s error=\"%s\"",
		    lg.lg_path, strerror(errno));
		return -1;
	}
	close(lg.lg_fd);
	lg.lg_fd = fd;
	return 0;
}

void
br_log_close(void)
{
	if (lg.lg_fd >= 0)
		close(lg.lg_fd);
	if (lg.lg_syslog)
		closelog();
	lg.lg_fd = -1;
	lg.lg_syslog = false;
	lg.lg_path[0] = '\0';
}

static void
timestamp(char *ts, size_t len)
{
	struct timespec now;
	struct tm tm;
	char sec[24];

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts, len, "%s.%03ldZ", sec, now.tv_nsec / 1000000);
}

/* Quotes, backslashes and line breaks in msg would end the value early
 * or split the event over two lines for whoever parses the log. */
static size_t
escape(char *out, size_t len, const char *s)
{
	size_t n = 0;

	for (; *s != '\0' && n + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			out[n++] = '\\';
		if (*s == '\n' || *s == '\r') {
			out[n++] = '\\';
			out[n++] = *s == '\n' ? 'n' : 'r';
			continue;
		}
		out[n++] = *s;
	}
	out[n] = '\0';
	return n;
}

/* ---- json: the caller's key=value text parsed back into fields ---- */

/* jansson refuses invalid UTF-8; such bytes become '?' rather than the
 * whole event being lost. */
static json_t *
jstr(const char *s, size_t n)
{
	json_t *j;
	char *copy;

	if ((j = json_stringn(s, n)) != NULL)
		return j;
	if ((copy = malloc(n + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 && s[i] != '\0' ?
		    s[i] : '?';
	j = json_stringn(copy, n);
	free(copy);
	return j;
}

static bool
is_int(const char *s, size_t n)
{
	size_t i = n > 0 && s[0] == '-' ? 1 : 0;

	if (n == i || n - i > LOG_INT_DIGITS || (s[i] == '0' && n - i > 1))
		return false;
	for (; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static json_t *
jvalue(const char *s, size_t n)
{
	if (is_int(s, n))
		return json_integer(strtoll(s, NULL, 10));
	return jstr(s, n);
}

/* A field named like ts, level or msg must not overwrite the event's own
 * ones: it gets a leading underscore. */
static void
set_field(json_t *obj, const char *key, size_t klen, json_t *val)
{
	char name[128];

	if (val == NULL || klen == 0 || klen >= sizeof(name) - 1) {
		json_decref(val);
		return;
	}
	memcpy(name, key, klen);
	name[klen] = '\0';
	if (strcmp(name, "ts") == 0 || strcmp(name, "level") == 0 ||
	    strcmp(name, "msg") == 0) {
		memmove(name + 1, name, klen + 1);
		name[0] = '_';
	}
	json_object_set_new(obj, name, val);
}

/* Reads a double-quoted value at *p (past the opening quote), undoing
 * backslash escapes into out; leaves *p past the closing quote. */
static size_t
quoted(const char **p, char *out, size_t len)
{
	const char *s = *p;
	size_t n = 0;

	while (*s != '\0' && *s != '"') {
		if (*s == '\\' && s[1] != '\0') {
			s++;
			if (n < len)
				out[n++] = *s == 'n' ? '\n' : *s;
		} else if (n < len) {
			out[n++] = *s;
		}
		s++;
	}
	*p = *s == '"' ? s + 1 : s;
	return n;
}

static void
add_text(json_t *obj, const char *s, size_t n)
{
	json_t *old = json_object_get(obj, "text");
	char buf[LOG_LINE_MAX];
	int m;

	if (old == NULL) {
		set_field(obj, "text", 4, jstr(s, n));
		return;
	}
	m = snprintf(buf, sizeof(buf), "%s %.*s", json_string_value(old),
	    (int)n, s);
	if (m > 0)
		json_object_set_new(obj, "text", jstr(buf, strlen(buf)));
}

/* One token at *p: key=value, key="quoted value", or bare text. */
static void
parse_pair(json_t *obj, const char **p)
{
	const char *s = *p, *eq, *v;
	char val[LOG_LINE_MAX];
	size_t klen, n;

	klen = strcspn(s, "= ");
	eq = s + klen;
	if (*eq != '=') {
		add_text(obj, s, klen);
		*p = eq;
		return;
	}
	v = eq + 1;
	if (*v == '"') {
		v++;
		n = quoted(&v, val, sizeof(val));
		set_field(obj, s, klen, jstr(val, n));
		*p = v;
		return;
	}
	n = strcspn(v, " ");
	set_field(obj, s, klen, jvalue(v, n));
	*p = v + n;
}

static void
parse_fields(json_t *obj, const char *s)
{
	while (*s != '\0') {
		if (*s == ' ') {
			s++;
			continue;
		}
		parse_pair(obj, &s);
	}
}

/* Returns a malloc'ed line (caller frees) or NULL. */
static char *
format_json(const char *ts, enum br_log_level lvl, const char *msg,
    const char *kv)
{
	json_t *obj;
	char *line;

	if ((obj = json_object()) == NULL)
		return NULL;
	json_object_set_new(obj, "ts", json_string(ts));
	json_object_set_new(obj, "level", json_string(level_names[lvl]));
	json_object_set_new(obj, "msg", jstr(msg, strlen(msg)));
	parse_fields(obj, kv);
	line = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	return line;
}

static void
format_logfmt(char *line, size_t len, const char *ts,
    enum br_log_level lvl, const char *msg, const char *kv)
{
	char emsg[LOG_LINE_MAX];

	escape(emsg, sizeof(emsg), msg);
	/* syslog stamps the time itself */
	if (lg.lg_syslog)
		snprintf(line, len, "level=%s msg=\"%s\"%s%s",
		    level_names[lvl], emsg, *kv ? " " : "", kv);
	else
		snprintf(line, len, "ts=%s level=%s msg=\"%s\"%s%s", ts,
		    level_names[lvl], emsg, *kv ? " " : "", kv);
}

static void
remember_error(const char *msg, const char *kv)
{
	char *p;

	/* a long error is cut: the reason starts with what matters */
	if (snprintf(lg.lg_last_err, sizeof(lg.lg_last_err), "%s%s%s", msg,
	    *kv ? " " : "", kv) < 0)
		return;
	for (p = lg.lg_last_err; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

/* One write per event: lines of concurrent processes sharing a terminal
 * or an O_APPEND file do not interleave. */
static void
emit(enum br_log_level lvl, const char *line)
{
	struct iovec iov[2] = {
		{ (void *)(uintptr_t)line, strlen(line) },
		{ (void *)(uintptr_t)"\n", 1 },
	};
	int fd = lg.lg_fd >= 0 ? lg.lg_fd : STDERR_FILENO;

	if (lg.lg_syslog) {
		syslog(level_prio[lvl], "%s", line);
		return;
	}
	while (writev(fd, iov, 2) < 0 && errno == EINTR)
		;
}

void
br_log(enum br_log_level lvl, const char *msg, const char *fmt, ...)
{
	char line[LOG_OUT_MAX], kv[LOG_LINE_MAX] = "", ts[40];
	char *jline;
	va_list ap;
	int saved = errno;

	if (lvl < lg.lg_min || (unsigned)lvl > BR_LOG_ERROR)
		goto out;
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(kv, sizeof(kv), fmt, ap);
		va_end(ap);
	}
	if (lvl == BR_LOG_ERROR)
		remember_error(msg, kv);
	timestamp(ts, sizeof(ts));
	if (lg.lg_fmt == BR_LOG_JSON &&
	    (jline = format_json(ts, lvl, msg, kv)) != NULL) {
		emit(lvl, jline);
		free(jline);
		goto out;
	}
	format_logfmt(line, sizeof(line), ts, lvl, msg, kv);
	emit(lvl, line);
out:
	errno = saved;
}

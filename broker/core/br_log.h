/*
 * br_log — the daemon's voice: one line per event.
 *
 * logfmt (default):
 *   ts=2026-11-26T06:48:39.123Z level=info msg="actor started" actor=echo
 * json (--log-format json), one object per line, built with jansson:
 *   {"ts":"2026-11-26T06:48:39.123Z","level":"info","msg":"actor started",
 *    "actor":"echo"}
 *
 * Callers pass the message and then key=value pairs already formatted
 * (values with spaces in double quotes, backslash escapes inside). In json
 * mode those pairs are parsed back into fields: a value made only of
 * digits (with an optional '-') becomes a JSON integer, anything else a
 * string; text that is not a key=value pair goes to the field "text".
 *
 * Sinks: stderr (default), a file (--log-file, appended, reopened by
 * br_log_reopen), or syslog (daemonized without --log-file).
 *
 * Not thread-safe: only the event-loop thread logs (ARCHITECTURE.md,
 * "Invariant").
 */
#ifndef BR_LOG_H
#define BR_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum br_log_level { BR_LOG_DEBUG, BR_LOG_INFO, BR_LOG_WARN, BR_LOG_ERROR };
enum br_log_format { BR_LOG_LOGFMT, BR_LOG_JSON };

struct br_log_opts {
	const char		*lo_file;	/* NULL: no file */
	enum br_log_format	 lo_format;
	/* without lo_file: syslog rather than stderr */
	bool			 lo_syslog;
};

/*
 * Opens the sinks o names and makes them current (the previous file, if
 * any, is closed). A relative lo_file is made absolute against the
 * current directory, so br_log_reopen still finds it after a chdir("/").
 * The file is opened O_APPEND|O_CLOEXEC, mode 0640. Returns 0, or -1 with
 * a one-line reason in err (len bytes); on failure nothing changes.
 * o is not kept.
 */
int br_log_open(const struct br_log_opts *o, char *err, size_t len);

/*
 * Closes and reopens the log file by its path (after logrotate moved it:
 * call it on SIGHUP). No-op without a file. Returns 0, or -1 and keeps
 * writing to the old file (the failure is logged there).
 */
int br_log_reopen(void);

/* Closes the file and syslog; logging goes back to stderr. */
void br_log_close(void);

/* Minimum level printed; set from --log-level / TROUPE_LOG_LEVEL. */
void br_log_set_level(enum br_log_level lvl);
/* Parses "debug" | "info" | "warn" | "error"; -1 if unknown. */
int br_log_parse_level(const char *s);

/* Line format of later events (also settable through br_log_open). */
void br_log_set_format(enum br_log_format fmt);
/* Parses "logfmt" | "json"; -1 if unknown. */
int br_log_parse_format(const char *s);

/*
 * The last event logged at level error, as logfmt text without ts and
 * level ("cannot create run dir path=/x error=\"...\""), or "" if none:
 * the reason a daemon that failed to start hands to the parent waiting
 * for it (br_daemon_fail). Points into a static buffer, valid until the
 * next error is logged.
 */
const char *br_log_last_error(void);

/* msg is quoted; fmt (may be NULL) adds raw " key=value ..." text. */
void br_log(enum br_log_level lvl, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(m, ...) br_log(BR_LOG_DEBUG, m, __VA_ARGS__)
#define log_info(m, ...) br_log(BR_LOG_INFO, m, __VA_ARGS__)
#define log_warn(m, ...) br_log(BR_LOG_WARN, m, __VA_ARGS__)
#define log_error(m, ...) br_log(BR_LOG_ERROR, m, __VA_ARGS__)

#endif

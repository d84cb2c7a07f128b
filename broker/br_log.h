/*
 * br_log — the daemon's voice: one logfmt line per event on stderr,
 *   ts=2026-11-26T06:48:39.123Z level=info msg="actor started" actor=echo
 * Callers pass the message and then key=value pairs already formatted.
 */
#ifndef BR_LOG_H
#define BR_LOG_H

enum br_log_level { BR_LOG_DEBUG, BR_LOG_INFO, BR_LOG_WARN, BR_LOG_ERROR };

/* Minimum level printed; set from --log-level / TROUPE_LOG_LEVEL. */
void br_log_set_level(enum br_log_level lvl);
/* Parses "debug" | "info" | "warn" | "error"; -1 if unknown. */
int br_log_parse_level(const char *s);

/* msg is quoted; fmt (may be NULL) adds raw " key=value ..." text. */
void br_log(enum br_log_level lvl, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(m, ...) br_log(BR_LOG_DEBUG, m, __VA_ARGS__)
#define log_info(m, ...) br_log(BR_LOG_INFO, m, __VA_ARGS__)
#define log_warn(m, ...) br_log(BR_LOG_WARN, m, __VA_ARGS__)
#define log_error(m, ...) br_log(BR_LOG_ERROR, m, __VA_ARGS__)

#endif

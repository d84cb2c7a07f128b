/*
 * br_conf — the trouped configuration: parse (libinih), validate, print.
 *
 * inih as Debian builds it (55-1) calls the handler with a line number,
 * keeps multi-line values on (an indented line silently continues the
 * previous value), allows inline comments after a blank (`a = b ; c`),
 * truncates lines at 200 bytes and section names at 50, and never tells
 * the handler about a section without keys.  So we feed it through our own
 * reader: it refuses overlong lines and NUL bytes instead of letting inih
 * cut them, and it sees every section header, even an empty one, with its
 * line number.  inih still splits every line into section/key/value.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INI_HANDLER_LINENO 1
#include <ini.h>

#include "br_conf.h"

#define BR_LINE_MAX	1024		/* bytes per config line */
#define BR_FILE_MAX	(1 << 20)	/* bytes per config file */
#define BR_NKEYS_MAX	32
#define SEC_MS		1000ULL
#define HOUR_MS		(3600 * SEC_MS)

enum br_vt { VT_NAME, VT_URL, VT_PATH, VT_EXEC, VT_U32, VT_DUR, VT_SIZE,
    VT_ENUM, VT_WORD, VT_GROUP, VT_IPV4, VT_SEEDS, VT_HTTP, VT_UIDS,
    VT_OPTNAME, VT_OPTURL };

enum br_sect { SECT_NONE, SECT_NODE, SECT_CLUSTER, SECT_SUP, SECT_ACTOR };

struct br_key {
	const char		*k_name;
	enum br_vt		 k_vt;
	size_t			 k_off;
	size_t			 k_size;
	uint64_t		 k_min;
	uint64_t		 k_max;
	const char *const	*k_words;	/* VT_ENUM, VT_WORD */
};

/* Parse state: lives for one br_conf_load. */
struct br_ps {
	struct br_conf		*ps_conf;
	const char		*ps_name;	/* file name for messages */
	const char		*ps_buf;	/* what the reader has left */
	size_t			 ps_left;
	int			 ps_line;	/* lines handed to inih */
	enum br_sect		 ps_sect;
	size_t			 ps_idx;	/* current actor or sup */
	int			 ps_seen[BR_NKEYS_MAX];	/* key -> line */
	int			 ps_node_line, ps_cluster_line;
	int			 ps_node_ovr, ps_cluster_ovr;
	int			*ps_aovr;	/* actor -> last override */
	int			*ps_sovr;	/* sup -> last override */
	size_t			 ps_acap, ps_scap;
	const char *const	*ps_ovrs;
	int			 ps_cur_ovr;	/* 1-based, 0 = the file */
	char			*ps_err;
	size_t			 ps_errlen;
	bool			 ps_failed;
};

static const char *const ovf_words[] = { "block", "drop-newest",
    "drop-oldest", "reject", NULL };
static const char *const rs_words[] = { "permanent", "transient",
    "temporary", NULL };
static const char *const st_words[] = { "one_for_one", "one_for_all",
    "rest_for_one", NULL };
static const char *const disc_words[] = { "multicast", "seeds", "both",
    "off", NULL };
static const char *const onoff_words[] = { "on", "off", NULL };
static const char *const fsync_words[] = { "always", "batch", "off", NULL };
static const char *const bool_words[] = { "false", "true", NULL };

#define KS(st, f) offsetof(struct st, f), sizeof(((struct st *)0)->f)

static const struct br_key node_keys[] = {
	{ "name", VT_NAME, KS(br_conf, c_node), 0, 0, NULL },
	{ "listen", VT_URL, KS(br_conf, c_listen), 0, 0, NULL },
	{ "advertise", VT_OPTURL, KS(br_conf, c_advertise), 0, 0, NULL },
	{ "run_dir", VT_PATH, KS(br_conf, c_run_dir), 0, 0, NULL },
	{ "metrics", VT_HTTP, KS(br_conf, c_metrics), 0, 0, NULL },
	{ "drain_timeout", VT_DUR, KS(br_conf, c_drain_timeout_ms), 0,
	    HOUR_MS, NULL },
	{ "send_window", VT_U32, KS(br_conf, c_send_window), 1, 65536, NULL },
	{ "max_pending", VT_U32, KS(br_conf, c_max_pending), 1, 1 << 24,
	    NULL },
	{ "ask_ttl", VT_DUR, KS(br_conf, c_ask_ttl_ms), 1, 24 * HOUR_MS,
	    NULL },
	{ "max_body", VT_SIZE, KS(br_conf, c_max_body), 64, 64 << 20, NULL },
	{ "max_depth", VT_U32, KS(br_conf, c_max_depth), 1, 16, NULL },
	{ "data_dir", VT_PATH, KS(br_conf, c_data_dir), 0, 0, NULL },
	{ "fsync", VT_ENUM, KS(br_conf, c_fsync), 0, 0, fsync_words },
	{ "fsync_interval", VT_DUR, KS(br_conf, c_fsync_interval_ms), 1,
	    10 * SEC_MS, NULL },
	{ "allow_uids", VT_UIDS, KS(br_conf, c_allow_uids), 0, 0, NULL },
	{ "allow_group", VT_OPTNAME, KS(br_conf, c_allow_group), 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

static const struct br_key cluster_keys[] = {
	{ "name", VT_NAME, KS(br_conf, c_cluster_name), 0, 0, NULL },
	{ "discovery", VT_WORD, KS(br_conf, c_discovery), 0, 0, disc_words },
	{ "group", VT_GROUP, KS(br_conf, c_group), 0, 0, NULL },
	{ "interface", VT_IPV4, KS(br_conf, c_interface), 0, 0, NULL },
	{ "seeds", VT_SEEDS, KS(br_conf, c_seeds), 0, 0, NULL },
	{ "key_file", VT_PATH, KS(br_conf, c_key_file), 0, 0, NULL },
	{ "encrypt", VT_WORD, KS(br_conf, c_encrypt), 0, 0, onoff_words },
	{ "beacon_interval", VT_DUR, KS(br_conf, c_beacon_interval_ms), 10,
	    60 * SEC_MS, NULL },
	{ "suspect_after", VT_DUR, KS(br_conf, c_suspect_after_ms), 10,
	    HOUR_MS, NULL },
	{ "dead_after", VT_DUR, KS(br_conf, c_dead_after_ms), 10, HOUR_MS,
	    NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

static const struct br_key sup_keys[] = {
	{ "strategy", VT_ENUM, KS(br_conf_sup, cs_strategy), 0, 0, st_words },
	{ "intensity", VT_U32, KS(br_conf_sup, cs_intensity), 0, 10000,
	    NULL },
	{ "period", VT_DUR, KS(br_conf_sup, cs_period_ms), 1, 24 * HOUR_MS,
	    NULL },
	{ "parent", VT_NAME, KS(br_conf_sup, cs_parent), 0, 0, NULL },
	{ "backoff_min", VT_DUR, KS(br_conf_sup, cs_backoff_min_ms), 0,
	    HOUR_MS, NULL },
	{ "backoff_max", VT_DUR, KS(br_conf_sup, cs_backoff_max_ms), 0,
	    HOUR_MS, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

static const struct br_key actor_keys[] = {
	{ "exec", VT_EXEC, KS(br_conf_actor, ca_exec), 0, 0, NULL },
	{ "supervisor", VT_NAME, KS(br_conf_actor, ca_supervisor), 0, 0,
	    NULL },
	{ "restart", VT_ENUM, KS(br_conf_actor, ca_restart), 0, 0, rs_words },
	{ "mailbox", VT_U32, KS(br_conf_actor, ca_mailbox), 1, 1000000, NULL },
	{ "mailbox_bytes", VT_SIZE, KS(br_conf_actor, ca_mailbox_bytes), 1024,
	    1ULL << 30, NULL },
	{ "overflow", VT_ENUM, KS(br_conf_actor, ca_overflow), 0, 0,
	    ovf_words },
	{ "inflight", VT_U32, KS(br_conf_actor, ca_inflight), 1, 4096, NULL },
	{ "shutdown", VT_DUR, KS(br_conf_actor, ca_shutdown_ms), 0, HOUR_MS,
	    NULL },
	{ "durable", VT_ENUM, KS(br_conf_actor, ca_durable), 0, 0,
	    bool_words },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

const char br_conf_default_text[] =
    "; trouped built-in config: a local node with the built-in actors.\n"
    "[node]\n"
    "listen = tcp://127.0.0.1:7447\n"
    "\n"
    "[cluster]\n"
    "discovery = off\n"
    "\n"
    "[supervisor root]\n"
    "strategy = one_for_one\n"
    "intensity = 5\n"
    "period = 10s\n"
    "\n"
    "[actor echo]\n"
    "exec = troupe-echo\n"
    "\n"
    "[actor counter]\n"
    "exec = troupe-counter\n"
    "\n"
    "[actor sink]\n"
    "exec = troupe-sink\n"
    "mailbox = 65536\n"
    "overflow = drop-oldest\n"
    "\n"
    "[actor logger]\n"
    "exec = troupe-logger\n";

/* Copies s for an error message: bounded, control bytes made visible. */
static const char *
quote(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static void
rtrim(char *s)
{
	char *end;

	for (end = s + strlen(s); end > s && isspace((unsigned char)end[-1]);
	    end--)
		end[-1] = '\0';
}

static int ps_fail(struct br_ps *, int, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first error only: line > 0 names the file line, ovr > 0 the
 * override that caused it.  Always returns -1. */
static int
ps_fail(struct br_ps *ps, int line, int ovr, const char *fmt, ...)
{
	char raw[256], msg[256], q[128];
	va_list ap;

	if (ps->ps_failed)
		return -1;
	ps->ps_failed = true;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* msg may echo override or file bytes: keep the error one line. */
	quote(raw, msg, sizeof(msg));
	if (ovr > 0)
		snprintf(ps->ps_err, ps->ps_errlen, "override '%s': %s",
		    quote(ps->ps_ovrs[ovr - 1], q, sizeof(q)), msg);
	else if (line > 0)
		snprintf(ps->ps_err, ps->ps_errlen, "%s:%d: %s", ps->ps_name,
		    line, msg);
	else
		snprintf(ps->ps_err, ps->ps_errlen, "%s: %s", ps->ps_name,
		    msg);
	return -1;
}

static bool
name_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
	    "wxyz0123456789_.-");

	return n >= 1 && n < BR_NAME_MAX && s[n] == '\0';
}

/* Digits only: strtoull would take blanks, a sign and hex. */
static int
parse_u64(const char *s, const char **end, uint64_t *v)
{
	uint64_t n = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -1;
	*end = p;
	*v = n;
	return 0;
}

static int
scale(uint64_t n, uint64_t mul, uint64_t *out)
{
	if (n > UINT64_MAX / mul)
		return -1;
	*out = n * mul;
	return 0;
}

int
br_parse_duration(const char *s, uint64_t *ms)
{
	static const struct { const char *u; uint64_t mul; } units[] = {
		{ "", 1 }, { "ms", 1 }, { "s", SEC_MS }, { "m", 60 * SEC_MS },
		{ "h", HOUR_MS } };
	const char *end;
	uint64_t n;
	size_t i;

	if (parse_u64(s, &end, &n) != 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].u) == 0)
			return scale(n, units[i].mul, ms);
	return -1;
}

int
br_parse_size(const char *s, uint64_t *bytes)
{
	static const struct { const char *u; uint64_t mul; } units[] = {
		{ "", 1 }, { "K", 1ULL << 10 }, { "KiB", 1ULL << 10 },
		{ "M", 1ULL << 20 }, { "MiB", 1ULL << 20 },
		{ "G", 1ULL << 30 }, { "GiB", 1ULL << 30 } };
	const char *end;
	uint64_t n;
	size_t i;

	if (parse_u64(s, &end, &n) != 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].u) == 0)
			return scale(n, units[i].mul, bytes);
	return -1;
}

static int
word_index(const char *const *words, const char *s)
{
	int i;

	for (i = 0; words[i] != NULL; i++)
		if (strcmp(words[i], s) == 0)
			return i;
	return -1;
}

static int
port_ok(const char *s)
{
	const char *end;
	uint64_t port;

	return parse_u64(s, &end, &port) == 0 && *end == '\0' && port >= 1 &&
	    port <= 65535;
}

/* "A.B.C.D:PORT" with the address in 224.0.0.0/4. */
static bool
group_ok(const char *s)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	struct in_addr in;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return false;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (inet_pton(AF_INET, host, &in) != 1 || !port_ok(colon + 1))
		return false;
	return (ntohl(in.s_addr) >> 28) == 14;
}

static bool
seed_ok(const char *s, size_t len)
{
	char buf[BR_PATH_MAX];
	char *colon;
	size_t hl;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if ((colon = strrchr(buf, ':')) == NULL)
		return false;
	*colon = '\0';
	hl = strspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789.-");
	return hl > 0 && buf[hl] == '\0' && port_ok(colon + 1);
}

/* A uid in 0..2^32-2 ((uid_t)-1 means "no uid"). */
static bool
uid_ok(const char *s, size_t len)
{
	uint64_t v = 0;

	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return v < UINT32_MAX;
}

/* Checks a list "a, b" of items that ok accepts and stores it as "a, b"
 * (one blank after each comma) so that printing is canonical. */
static int
list_set(const char *s, char *dst, size_t size,
    bool (*ok)(const char *, size_t))
{
	size_t len, used = 0;
	const char *e;
	int n;

	while (*s != '\0') {
		s += strspn(s, " \t");
		e = s + strcspn(s, ",");
		len = (size_t)(e - s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (!ok(s, len))
			return -1;
		n = snprintf(dst + used, size - used, "%s%.*s",
		    used ? ", " : "", (int)len, s);
		if (n < 0 || (size_t)n >= size - used)
			return -1;
		used += (size_t)n;
		s = *e == ',' ? e + 1 : e;
		if (*e == ',' && *s == '\0')
			return -1;
	}
	dst[used] = '\0';
	return 0;
}

/* "" (off) or http://HOST:PORT/PATH, what nng's HTTP server binds. */
static bool
http_ok(const char *s)
{
	const char *host = s + 7, *slash, *colon = NULL, *p;
	char *end;
	unsigned long port;

	if (s[0] == '\0')
		return true;
	if (strncmp(s, "http://", 7) != 0 || strpbrk(s, " \t?#") != NULL ||
	    (slash = strchr(host, '/')) == NULL)
		return false;
	for (p = host; p < slash; p++)	/* the last ':' ([::1]:9464) */
		if (*p == ':')
			colon = p;
	if (colon == NULL || colon == host)
		return false;
	port = strtoul(colon + 1, &end, 10);
	return end == slash && end > colon + 1 && port > 0 && port <= 65535;
}

static bool
url_ok(const char *s)
{
	static const char *const schemes[] = { "tcp://", "tcp4://",
	    "tcp6://", "ipc://" };
	size_t i, n;

	if (strpbrk(s, " \t") != NULL)
		return false;
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		n = strlen(schemes[i]);
		if (strncmp(s, schemes[i], n) == 0 && s[n] != '\0')
			return true;
	}
	return false;
}

int
br_conf_split_exec(const char *exec, char *buf, size_t buflen,
    char *argv[BR_MAX_ARGV])
{
	char *p, *save = NULL;
	int argc = 0;

	if (strlen(exec) >= buflen)
		return -1;
	strcpy(buf, exec);
	for (p = strtok_r(buf, " \t", &save); p != NULL;
	    p = strtok_r(NULL, " \t", &save)) {
		if (argc == BR_MAX_ARGV - 1)
			return -1;
		argv[argc++] = p;
	}
	argv[argc] = NULL;
	return argc > 0 ? argc : -1;
}

static bool
str_ok(const struct br_key *k, const char *v)
{
	char buf[BR_PATH_MAX], *argv[BR_MAX_ARGV];

	switch (k->k_vt) {
	case VT_NAME:
		return name_ok(v);
	case VT_OPTNAME:
		return v[0] == '\0' || name_ok(v);
	case VT_URL:
		return url_ok(v);
	case VT_OPTURL:
		return v[0] == '\0' || url_ok(v);
	case VT_PATH:
		return v[0] == '\0' || v[0] == '/';
	case VT_EXEC:
		return br_conf_split_exec(v, buf, sizeof(buf), argv) > 0;
	case VT_GROUP:
		return group_ok(v);
	case VT_HTTP:
		return http_ok(v);
	default:
		return false;
	}
}

static int
num_set(const struct br_key *k, char *dst, const char *v)
{
	const char *end;
	uint64_t n;
	int rc;

	if (k->k_vt == VT_DUR)
		rc = br_parse_duration(v, &n);
	else if (k->k_vt == VT_SIZE)
		rc = br_parse_size(v, &n);
	else
		rc = parse_u64(v, &end, &n) == 0 && *end == '\0' ? 0 : -1;
	if (rc != 0 || n < k->k_min || n > k->k_max)
		return -1;
	if (k->k_vt == VT_U32)
		*(uint32_t *)(void *)dst = (uint32_t)n;
	else
		*(uint64_t *)(void *)dst = n;
	return 0;
}

static void
words_msg(const struct br_key *k, const char *q, char *msg, size_t len)
{
	size_t i, used;

	used = (size_t)snprintf(msg, len, "expected");
	for (i = 0; k->k_words[i] != NULL && used < len; i++)
		used += (size_t)snprintf(msg + used, len - used, "%s%s",
		    i ? "|" : " ", k->k_words[i]);
	if (used < len)
		snprintf(msg + used, len - used, ", got '%s'", q);
}

/* Says why v is not a good value for k. */
static void
key_msg(const struct br_key *k, const char *v, char *msg, size_t len)
{
	unsigned long long lo = k->k_min, hi = k->k_max;
	char q[80];

	quote(v, q, sizeof(q));
	switch (k->k_vt) {
	case VT_U32:
		snprintf(msg, len, "expected an integer in %llu..%llu, got "
		    "'%s'", lo, hi, q);
		break;
	case VT_DUR:
		snprintf(msg, len, "expected a duration in %llums..%llums "
		    "(e.g. 250ms, 10s, 2m, 1h), got '%s'", lo, hi, q);
		break;
	case VT_SIZE:
		snprintf(msg, len, "expected a size in %llu..%llu bytes "
		    "(e.g. 4096, 64KiB, 8MiB), got '%s'", lo, hi, q);
		break;
	case VT_ENUM:
	case VT_WORD:
		words_msg(k, q, msg, len);
		break;
	case VT_IPV4:
		snprintf(msg, len, "expected an IPv4 address, got '%s'", q);
		break;
	case VT_SEEDS:
		snprintf(msg, len, "expected host:port[, host:port...], got "
		    "'%s'", q);
		break;
	case VT_UIDS:
		snprintf(msg, len, "expected uid[, uid...] (numbers), got "
		    "'%s'", q);
		break;
	case VT_NAME:
	case VT_OPTNAME:
		snprintf(msg, len, "'%s' is not a valid name (1-63 of "
		    "A-Z a-z 0-9 _ . -)", q);
		break;
	case VT_URL:
	case VT_OPTURL:
		snprintf(msg, len, "expected a tcp:// or ipc:// URL, got '%s'",
		    q);
		break;
	case VT_PATH:
		snprintf(msg, len, "expected an absolute path, got '%s'", q);
		break;
	case VT_EXEC:
		if (v[0] == '\0')
			snprintf(msg, len, "empty command");
		else
			snprintf(msg, len, "more than %d words",
			    BR_MAX_ARGV - 1);
		break;
	case VT_GROUP:
		snprintf(msg, len, "expected an IPv4 multicast address:port "
		    "(224.0.0.0/4), got '%s'", q);
		break;
	case VT_HTTP:
		snprintf(msg, len, "expected http://HOST:PORT/PATH, got '%s'",
		    q);
		break;
	}
}

/* Parses v for key k into the field of obj; on failure msg says why. */
static int
key_set(const struct br_key *k, void *obj, const char *v, char *msg,
    size_t len)
{
	char *dst = (char *)obj + k->k_off;
	struct in_addr in;
	int i, rc = -1;

	switch (k->k_vt) {
	case VT_U32:
	case VT_DUR:
	case VT_SIZE:
		rc = num_set(k, dst, v);
		break;
	case VT_ENUM:
		if ((i = word_index(k->k_words, v)) >= 0) {
			*(unsigned int *)(void *)dst = (unsigned int)i;
			rc = 0;
		}
		break;
	case VT_SEEDS:
		rc = list_set(v, dst, k->k_size, seed_ok);
		break;
	case VT_UIDS:
		rc = list_set(v, dst, k->k_size, uid_ok);
		break;
	default:
		if (strlen(v) >= k->k_size) {
			snprintf(msg, len, "value too long (max %zu bytes)",
			    k->k_size - 1);
			return -1;
		}
		if (k->k_vt == VT_WORD)
			rc = word_index(k->k_words, v) >= 0 ? 0 : -1;
		else if (k->k_vt == VT_IPV4)
			rc = inet_pton(AF_INET, v, &in) == 1 ? 0 : -1;
		else
			rc = str_ok(k, v) ? 0 : -1;
		if (rc == 0)
			strcpy(dst, v);
		break;
	}
	if (rc != 0)
		key_msg(k, v, msg, len);
	return rc;
}

static void
default_node(char *dst, size_t size)
{
	char host[256];
	size_t i;

	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (!isalnum((unsigned char)host[i]) && host[i] != '_' &&
		    host[i] != '-')
			host[i] = '-';
	snprintf(dst, size, "%.*s", BR_NAME_MAX - 1,
	    host[0] != '\0' ? host : "localhost");
}

static void
conf_defaults(struct br_conf *c)
{
	default_node(c->c_node, sizeof(c->c_node));
	strcpy(c->c_listen, "tcp://0.0.0.0:7447");
	c->c_drain_timeout_ms = 10 * SEC_MS;
	c->c_send_window = 64;
	c->c_max_pending = 65536;
	c->c_ask_ttl_ms = 60 * SEC_MS;
	c->c_max_body = 1 << 20;
	c->c_max_depth = 16;
	c->c_fsync = BR_FSYNC_BATCH;
	c->c_fsync_interval_ms = 10;
	strcpy(c->c_cluster_name, "troupe");
	strcpy(c->c_discovery, "off");
	strcpy(c->c_encrypt, "on");
	strcpy(c->c_group, "239.255.42.99:7446");
	strcpy(c->c_interface, "127.0.0.1");
	c->c_beacon_interval_ms = SEC_MS;
	c->c_suspect_after_ms = 3 * SEC_MS;
	c->c_dead_after_ms = 10 * SEC_MS;
}

static void
sup_defaults(struct br_conf_sup *s, const char *name, int line)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->cs_name, sizeof(s->cs_name), "%s", name);
	if (strcmp(name, "root") != 0)
		strcpy(s->cs_parent, "root");
	s->cs_strategy = BR_ST_ONE_FOR_ONE;
	s->cs_intensity = 5;
	s->cs_period_ms = 10 * SEC_MS;
	s->cs_backoff_min_ms = 100;
	s->cs_backoff_max_ms = 5 * SEC_MS;
	s->cs_line = line;
}

static void
actor_defaults(struct br_conf_actor *a, const char *name, int line)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->ca_name, sizeof(a->ca_name), "%s", name);
	strcpy(a->ca_supervisor, "root");
	a->ca_restart = BR_RS_PERMANENT;
	a->ca_mailbox = 1024;
	a->ca_mailbox_bytes = 8 << 20;
	a->ca_overflow = BR_OVF_BLOCK;
	a->ca_inflight = 64;
	a->ca_shutdown_ms = 5 * SEC_MS;
	a->ca_line = line;
}

static long
find_sup(const struct br_conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->c_nsups; i++)
		if (strcmp(c->c_sups[i].cs_name, name) == 0)
			return (long)i;
	return -1;
}

static long
find_actor(const struct br_conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->c_nactors; i++)
		if (strcmp(c->c_actors[i].ca_name, name) == 0)
			return (long)i;
	return -1;
}

/* Grows *arr (elements of size sz) to hold n + 1, capped at max. */
static int
grow(void **arr, size_t *cap, size_t n, size_t sz, size_t max)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	if (n >= max)
		return -1;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > max)
		ncap = max;
	if ((p = realloc(*arr, ncap * sz)) == NULL)
		return -1;
	*arr = p;
	*cap = ncap;
	return 0;
}

static long
ps_add_sup(struct br_ps *ps, const char *name, int line)
{
	struct br_conf *c = ps->ps_conf;

	if (grow((void **)&c->c_sups, &ps->ps_scap, c->c_nsups,
	    sizeof(*c->c_sups), BR_MAX_SUPS) != 0)
		return ps_fail(ps, line, ps->ps_cur_ovr, "too many "
		    "supervisors (max %d)", BR_MAX_SUPS);
	sup_defaults(&c->c_sups[c->c_nsups], name, line);
	return (long)c->c_nsups++;
}

static long
ps_add_actor(struct br_ps *ps, const char *name, int line)
{
	struct br_conf *c = ps->ps_conf;

	if (grow((void **)&c->c_actors, &ps->ps_acap, c->c_nactors,
	    sizeof(*c->c_actors), BR_MAX_ACTORS) != 0)
		return ps_fail(ps, line, ps->ps_cur_ovr, "too many actors "
		    "(max %d)", BR_MAX_ACTORS);
	actor_defaults(&c->c_actors[c->c_nactors], name, line);
	c->c_actors[c->c_nactors].ca_exec[0] = '\0';
	return (long)c->c_nactors++;
}

/* Finds or (for an override) adds the actor or supervisor NAME. */
static long
ps_named(struct br_ps *ps, bool actor, const char *name, int line)
{
	const char *what = actor ? "actor" : "supervisor";
	char q[80];
	long i;

	if (name[0] == '\0')
		return ps_fail(ps, line, ps->ps_cur_ovr, "section [%s] needs "
		    "a name: [%s NAME]", what, what);
	if (!name_ok(name))
		return ps_fail(ps, line, ps->ps_cur_ovr, "bad %s name '%s' "
		    "(1-63 of A-Z a-z 0-9 _ . -)", what,
		    quote(name, q, sizeof(q)));
	i = actor ? find_actor(ps->ps_conf, name) :
	    find_sup(ps->ps_conf, name);
	if (i >= 0 && line > 0)
		return ps_fail(ps, line, 0, "duplicate section [%s %s] "
		    "(first at line %d)", what, name, actor ?
		    ps->ps_conf->c_actors[i].ca_line :
		    ps->ps_conf->c_sups[i].cs_line);
	if (i >= 0)
		return i;
	return actor ? ps_add_actor(ps, name, line) :
	    ps_add_sup(ps, name, line);
}

/* Makes type/name the current section; line 0 means an override. */
static int
ps_section(struct br_ps *ps, const char *type, const char *name, int line)
{
	int *seen = NULL;
	long i;

	memset(ps->ps_seen, 0, sizeof(ps->ps_seen));
	if (strcmp(type, "node") == 0 || strcmp(type, "cluster") == 0) {
		if (name[0] != '\0')
			return ps_fail(ps, line, ps->ps_cur_ovr, "section "
			    "[%s] takes no name", type);
		ps->ps_sect = type[0] == 'n' ? SECT_NODE : SECT_CLUSTER;
		seen = type[0] == 'n' ? &ps->ps_node_line :
		    &ps->ps_cluster_line;
		if (line > 0 && *seen > 0)
			return ps_fail(ps, line, 0, "duplicate section [%s] "
			    "(first at line %d)", type, *seen);
		if (line > 0)
			*seen = line;
		else
			*(type[0] == 'n' ? &ps->ps_node_ovr :
			    &ps->ps_cluster_ovr) = ps->ps_cur_ovr;
		return 0;
	}
	if (strcmp(type, "actor") != 0 && strcmp(type, "supervisor") != 0)
		return ps_fail(ps, line, ps->ps_cur_ovr, "unknown section "
		    "[%s%s%s]", type, name[0] ? " " : "", name);
	if ((i = ps_named(ps, type[0] == 'a', name, line)) < 0)
		return -1;
	ps->ps_sect = type[0] == 'a' ? SECT_ACTOR : SECT_SUP;
	ps->ps_idx = (size_t)i;
	if (line == 0)
		(type[0] == 'a' ? ps->ps_aovr : ps->ps_sovr)[i] =
		    ps->ps_cur_ovr;
	return 0;
}

static const struct br_key *
ps_keys(const struct br_ps *ps, void **obj, char *label, size_t len)
{
	struct br_conf *c = ps->ps_conf;

	switch (ps->ps_sect) {
	case SECT_NODE:
		*obj = c;
		snprintf(label, len, "[node]");
		return node_keys;
	case SECT_CLUSTER:
		*obj = c;
		snprintf(label, len, "[cluster]");
		return cluster_keys;
	case SECT_SUP:
		*obj = &c->c_sups[ps->ps_idx];
		snprintf(label, len, "[supervisor %s]",
		    c->c_sups[ps->ps_idx].cs_name);
		return sup_keys;
	case SECT_ACTOR:
		*obj = &c->c_actors[ps->ps_idx];
		snprintf(label, len, "[actor %s]",
		    c->c_actors[ps->ps_idx].ca_name);
		return actor_keys;
	default:
		return NULL;
	}
}

/* Why val would not read back from br_conf_print's output the same, or
 * NULL: inih takes ';' after a blank for a comment, lines end at '\n'. */
static const char *
value_why(const char *val)
{
	const char *p;

	if (val[0] == ';')
		return "value cannot start with ';'";
	for (p = val; *p != '\0'; p++) {
		if ((p[0] == ' ' || p[0] == '\t') && p[1] == ';')
			return "';' after a blank starts a comment";
		if (iscntrl((unsigned char)*p) && *p != '\t')
			return "control character in value";
	}
	return NULL;
}

/* Sets key = val in the current section; line 0 means an override. */
static int
ps_key(struct br_ps *ps, const char *key, const char *val, int line)
{
	const struct br_key *tab, *k;
	char label[BR_NAME_MAX + 16], msg[200], q[80];
	const char *why;
	int ovr = ps->ps_cur_ovr;
	void *obj = NULL;

	if ((tab = ps_keys(ps, &obj, label, sizeof(label))) == NULL)
		return ps_fail(ps, line, ovr, "key '%s' outside a section",
		    quote(key, q, sizeof(q)));
	for (k = tab; k->k_name != NULL; k++)
		if (strcmp(k->k_name, key) == 0)
			break;
	if (k->k_name == NULL)
		return ps_fail(ps, line, ovr, "unknown key '%s' in %s",
		    quote(key, q, sizeof(q)), label);
	if (line > 0 && ps->ps_seen[k - tab] > 0)
		return ps_fail(ps, line, 0, "duplicate key '%s' in %s (first "
		    "at line %d)", key, label, ps->ps_seen[k - tab]);
	if (line > 0)
		ps->ps_seen[k - tab] = line;
	if (tab == sup_keys && k->k_off == offsetof(struct br_conf_sup,
	    cs_parent) && strcmp(((struct br_conf_sup *)obj)->cs_name,
	    "root") == 0)
		return ps_fail(ps, line, ovr, "supervisor root cannot have a "
		    "parent");
	if ((why = value_why(val)) != NULL)
		return ps_fail(ps, line, ovr, "%s: %s", key, why);
	if (key_set(k, obj, val, msg, sizeof(msg)) != 0)
		return ps_fail(ps, line, ovr, "%s: %s", key, msg);
	return 0;
}

static int
ini_cb(void *user, const char *section, const char *key, const char *val,
    int lineno)
{
	struct br_ps *ps = user;

	/* The section comes from ps_scan: inih cuts names at 50 bytes. */
	(void)section;
	if (ps->ps_failed)
		return 0;
	return ps_key(ps, key, val, lineno) == 0;
}

/*
 * Sees a section header the way inih does ('[' after blanks, up to the
 * first ']'), and refuses what inih would ignore after the ']'.  A header
 * without ']' is left to inih, which reports it as a syntax error.
 */
static void
ps_scan(struct br_ps *ps, const char *line)
{
	char inner[BR_LINE_MAX], *type, *name;
	const char *close, *after;

	if (ps->ps_line == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
		line += 3;
	line += strspn(line, " \t\r\n\v\f");
	if (*line != '[' || (close = strchr(line, ']')) == NULL)
		return;
	after = close + 1 + strspn(close + 1, " \t\r\n");
	if (*after != '\0' && *after != ';') {
		ps_fail(ps, ps->ps_line, 0, "junk after section header");
		return;
	}
	memcpy(inner, line + 1, (size_t)(close - line - 1));
	inner[close - line - 1] = '\0';
	type = inner + strspn(inner, " \t");
	name = type + strcspn(type, " \t");
	if (*name != '\0')
		*name++ = '\0';
	name += strspn(name, " \t");
	rtrim(name);
	ps_section(ps, type, name, ps->ps_line);
}

/* An fgets for inih over ps_buf that counts lines and stops on error. */
static char *
ps_read(char *str, int num, void *stream)
{
	struct br_ps *ps = stream;
	const char *nl;
	size_t len;

	if (ps->ps_failed || ps->ps_left == 0)
		return NULL;
	nl = memchr(ps->ps_buf, '\n', ps->ps_left);
	len = nl != NULL ? (size_t)(nl - ps->ps_buf) + 1 : ps->ps_left;
	ps->ps_line++;
	if (memchr(ps->ps_buf, '\0', len) != NULL) {
		ps_fail(ps, ps->ps_line, 0, "NUL byte in line");
		return NULL;
	}
	if (num < 2 || len > (size_t)num - 1) {
		ps_fail(ps, ps->ps_line, 0, "line too long (max %d bytes)",
		    num - 2);
		return NULL;
	}
	memcpy(str, ps->ps_buf, len);
	str[len] = '\0';
	ps->ps_buf += len;
	ps->ps_left -= len;
	ps_scan(ps, str);
	return ps->ps_failed ? NULL : str;
}

static int
ps_parse(struct br_ps *ps, const char *text, size_t len)
{
	int rc;

	/* Process-wide inih settings: see the comment at the top. */
	ini_allow_multiline = false;
	ini_allow_bom = true;
	ini_allow_inline_comments = true;
	ini_allow_no_value = false;
	ini_stop_on_first_error = true;
	ini_use_stack = true;
	ini_max_line = BR_LINE_MAX;
	ps->ps_buf = text;
	ps->ps_left = len;
	rc = ini_parse_stream(ps_read, ps, ini_cb, ps);
	if (ps->ps_failed)
		return -1;
	if (rc > 0)
		return ps_fail(ps, rc, 0, "syntax error: expected [section] "
		    "or key = value");
	if (rc < 0)
		return ps_fail(ps, 0, 0, "out of memory");
	return 0;
}

/* The implicit root comes first, as br_conf_print shows it. */
static int
ps_ensure_root(struct br_ps *ps)
{
	struct br_conf *c = ps->ps_conf;

	if (find_sup(c, "root") >= 0)
		return 0;
	if (ps_add_sup(ps, "root", 0) < 0)
		return -1;
	memmove(&c->c_sups[1], &c->c_sups[0],
	    (c->c_nsups - 1) * sizeof(c->c_sups[0]));
	sup_defaults(&c->c_sups[0], "root", 0);
	return 0;
}

static int
ps_check_sup(struct br_ps *ps, size_t i)
{
	const struct br_conf *c = ps->ps_conf;
	const struct br_conf_sup *s = &c->c_sups[i];
	long p = (long)i;
	size_t n;

	if (s->cs_backoff_min_ms > s->cs_backoff_max_ms)
		return ps_fail(ps, s->cs_line, ps->ps_sovr[i], "supervisor "
		    "'%s': backoff_min is above backoff_max", s->cs_name);
	if (strcmp(s->cs_name, "root") == 0)
		return 0;
	if (find_sup(c, s->cs_parent) < 0)
		return ps_fail(ps, s->cs_line, ps->ps_sovr[i], "supervisor "
		    "'%s': parent '%s' does not exist", s->cs_name,
		    s->cs_parent);
	/* Every chain of parents must reach root within nsups steps. */
	for (n = 0; n <= c->c_nsups; n++) {
		if (strcmp(c->c_sups[p].cs_name, "root") == 0)
			return 0;
		if ((p = find_sup(c, c->c_sups[p].cs_parent)) < 0)
			return 0;	/* reported at that supervisor */
	}
	return ps_fail(ps, s->cs_line, ps->ps_sovr[i], "supervisor '%s': "
	    "parent cycle (via '%s')", s->cs_name, s->cs_parent);
}

static int
ps_check_actor(struct br_ps *ps, size_t i)
{
	const struct br_conf_actor *a = &ps->ps_conf->c_actors[i];

	if (a->ca_exec[0] == '\0')
		return ps_fail(ps, a->ca_line, ps->ps_aovr[i], "actor '%s': "
		    "exec is missing", a->ca_name);
	if (find_sup(ps->ps_conf, a->ca_supervisor) < 0)
		return ps_fail(ps, a->ca_line, ps->ps_aovr[i], "actor '%s': "
		    "supervisor '%s' does not exist", a->ca_name,
		    a->ca_supervisor);
	return 0;
}

static int
ps_check_cluster(struct br_ps *ps)
{
	const struct br_conf *c = ps->ps_conf;
	int line = ps->ps_cluster_line, ovr = ps->ps_cluster_ovr;

	if (c->c_suspect_after_ms <= c->c_beacon_interval_ms)
		return ps_fail(ps, line, ovr, "[cluster] suspect_after must "
		    "be above beacon_interval");
	if (c->c_dead_after_ms <= c->c_suspect_after_ms)
		return ps_fail(ps, line, ovr, "[cluster] dead_after must be "
		    "above suspect_after");
	if ((strcmp(c->c_discovery, "seeds") == 0 ||
	    strcmp(c->c_discovery, "both") == 0) && c->c_seeds[0] == '\0')
		return ps_fail(ps, line, ovr, "[cluster] discovery = %s needs "
		    "seeds", c->c_discovery);
	return 0;
}

static int
ps_validate(struct br_ps *ps)
{
	size_t i;

	for (i = 0; i < ps->ps_conf->c_nsups; i++)
		if (ps_check_sup(ps, i) != 0)
			return -1;
	for (i = 0; i < ps->ps_conf->c_nactors; i++)
		if (ps_check_actor(ps, i) != 0)
			return -1;
	return ps_check_cluster(ps);
}

/* "node.KEY=V", "cluster.KEY=V", "actor.NAME.KEY=V",
 * "supervisor.NAME.KEY=V"; blanks around KEY and V are dropped.  NAME may
 * hold dots, KEY never does. */
static int
ps_override(struct br_ps *ps, const char *ovr)
{
	char lhs[BR_LINE_MAX], val[BR_LINE_MAX], *eq, *sect, *name, *key;
	bool named;

	if (strlen(ovr) >= sizeof(lhs) || (eq = strchr(ovr, '=')) == NULL)
		return ps_fail(ps, 0, ps->ps_cur_ovr, "expected "
		    "SECTION.KEY=VALUE");
	snprintf(lhs, sizeof(lhs), "%.*s", (int)(eq - ovr), ovr);
	snprintf(val, sizeof(val), "%s", eq + 1 + strspn(eq + 1, " \t"));
	rtrim(lhs);
	rtrim(val);
	sect = lhs + strspn(lhs, " \t");
	if ((key = strchr(sect, '.')) == NULL)
		return ps_fail(ps, 0, ps->ps_cur_ovr, "expected "
		    "SECTION.KEY=VALUE");
	*key++ = '\0';
	name = key + strlen(key);	/* "" */
	named = strcmp(sect, "actor") == 0 || strcmp(sect, "supervisor") == 0;
	if (named) {
		name = key;
		if ((key = strrchr(name, '.')) == NULL)
			return ps_fail(ps, 0, ps->ps_cur_ovr, "expected "
			    "%s.NAME.KEY=VALUE", sect);
		*key++ = '\0';
	}
	if (ps_section(ps, sect, name, 0) != 0)
		return -1;
	return ps_key(ps, key, val, 0);
}

static void
ps_free(struct br_ps *ps)
{
	free(ps->ps_aovr);
	free(ps->ps_sovr);
}

static int
ps_init(struct br_ps *ps, const char *name, const char *const *ovrs,
    char *errbuf, size_t errlen)
{
	memset(ps, 0, sizeof(*ps));
	ps->ps_name = name;
	ps->ps_ovrs = ovrs;
	ps->ps_err = errbuf;
	ps->ps_errlen = errlen;
	ps->ps_aovr = calloc(BR_MAX_ACTORS, sizeof(int));
	ps->ps_sovr = calloc(BR_MAX_SUPS, sizeof(int));
	ps->ps_conf = calloc(1, sizeof(*ps->ps_conf));
	if (ps->ps_aovr == NULL || ps->ps_sovr == NULL ||
	    ps->ps_conf == NULL) {
		ps_fail(ps, 0, 0, "out of memory");
		return -1;
	}
	conf_defaults(ps->ps_conf);
	return 0;
}

static int
conf_load_buf(const char *text, size_t len, const char *name,
    const char *const *overrides, size_t noverrides, struct br_conf **out,
    char *errbuf, size_t errlen)
{
	struct br_ps ps;
	size_t i;

	if (ps_init(&ps, name, overrides, errbuf, errlen) != 0)
		goto out_free;
	if (ps_parse(&ps, text, len) != 0 || ps_ensure_root(&ps) != 0 ||
	    ps_validate(&ps) != 0)
		goto out_free;
	for (i = 0; i < noverrides; i++) {
		ps.ps_cur_ovr = (int)i + 1;
		if (ps_override(&ps, overrides[i]) != 0)
			goto out_free;
	}
	ps.ps_cur_ovr = 0;
	if (ps_validate(&ps) != 0)
		goto out_free;
	ps_free(&ps);
	*out = ps.ps_conf;
	return 0;
out_free:
	br_conf_free(ps.ps_conf);
	ps_free(&ps);
	return -1;
}

int
br_conf_load_string(const char *text, const char *name,
    const char *const *overrides, size_t noverrides, struct br_conf **out,
    char *errbuf, size_t errlen)
{
	return conf_load_buf(text, strlen(text), name, overrides, noverrides,
	    out, errbuf, errlen);
}

static int
read_file(const char *path, char **text, size_t *len, char *errbuf,
    size_t errlen)
{
	FILE *fp;
	char *buf;
	size_t n;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(errbuf, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	if ((buf = malloc(BR_FILE_MAX + 1)) == NULL) {
		snprintf(errbuf, errlen, "%s: out of memory", path);
		goto out_close;
	}
	n = fread(buf, 1, BR_FILE_MAX + 1, fp);
	if (ferror(fp) || n > BR_FILE_MAX) {
		snprintf(errbuf, errlen, "%s: %s", path, ferror(fp) ?
		    strerror(errno) : "file larger than 1 MiB");
		goto out_free;
	}
	fclose(fp);
	*text = buf;
	*len = n;
	return 0;
out_free:
	free(buf);
out_close:
	fclose(fp);
	return -1;
}

int
br_conf_load(const char *path, const char *const *overrides,
    size_t noverrides, struct br_conf **out, char *errbuf, size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	if (path == NULL)
		return br_conf_load_string(br_conf_default_text, "(built-in)",
		    overrides, noverrides, out, errbuf, errlen);
	if (read_file(path, &text, &len, errbuf, errlen) != 0)
		return -1;
	rc = conf_load_buf(text, len, path, overrides, noverrides, out,
	    errbuf, errlen);
	free(text);
	return rc;
}

void
br_conf_free(struct br_conf *conf)
{
	if (conf == NULL)
		return;
	free(conf->c_sups);
	free(conf->c_actors);
	free(conf);
}

static void
key_print(const struct br_key *k, const void *obj, FILE *fp)
{
	const char *p = (const char *)obj + k->k_off;

	fprintf(fp, "%s =%s", k->k_name, k->k_vt >= VT_U32 &&
	    k->k_vt <= VT_ENUM ? " " : p[0] != '\0' ? " " : "");
	switch (k->k_vt) {
	case VT_U32:
		fprintf(fp, "%u\n", *(const uint32_t *)(const void *)p);
		break;
	case VT_DUR:
		fprintf(fp, "%llums\n", (unsigned long long)
		    *(const uint64_t *)(const void *)p);
		break;
	case VT_SIZE:
		fprintf(fp, "%llu\n", (unsigned long long)
		    *(const uint64_t *)(const void *)p);
		break;
	case VT_ENUM:
		fprintf(fp, "%s\n", k->k_words[
		    *(const unsigned int *)(const void *)p]);
		break;
	default:
		fprintf(fp, "%s\n", p);
		break;
	}
}

static void
keys_print(const struct br_key *tab, const void *obj, bool root, FILE *fp)
{
	const struct br_key *k;

	for (k = tab; k->k_name != NULL; k++)
		if (!(root && tab == sup_keys && k->k_off ==
		    offsetof(struct br_conf_sup, cs_parent)))
			key_print(k, obj, fp);
}

void
br_conf_print(const struct br_conf *conf, FILE *fp)
{
	size_t i;

	fprintf(fp, "[node]\n");
	keys_print(node_keys, conf, false, fp);
	fprintf(fp, "\n[cluster]\n");
	keys_print(cluster_keys, conf, false, fp);
	for (i = 0; i < conf->c_nsups; i++) {
		fprintf(fp, "\n[supervisor %s]\n", conf->c_sups[i].cs_name);
		keys_print(sup_keys, &conf->c_sups[i],
		    strcmp(conf->c_sups[i].cs_name, "root") == 0, fp);
	}
	for (i = 0; i < conf->c_nactors; i++) {
		fprintf(fp, "\n[actor %s]\n", conf->c_actors[i].ca_name);
		keys_print(actor_keys, &conf->c_actors[i], false, fp);
	}
}

const struct br_conf_actor *
br_conf_actor(const struct br_conf *conf, const char *name)
{
	long i = find_actor(conf, name);

	return i < 0 ? NULL : &conf->c_actors[i];
}

const struct br_conf_sup *
br_conf_sup(const struct br_conf *conf, const char *name)
{
	long i = find_sup(conf, name);

	return i < 0 ? NULL : &conf->c_sups[i];
}

bool
br_conf_actor_same(const struct br_conf_actor *a,
    const struct br_conf_actor *b)
{
	return strcmp(a->ca_name, b->ca_name) == 0 &&
	    strcmp(a->ca_exec, b->ca_exec) == 0 &&
	    strcmp(a->ca_supervisor, b->ca_supervisor) == 0 &&
	    a->ca_restart == b->ca_restart && a->ca_mailbox == b->ca_mailbox &&
	    a->ca_mailbox_bytes == b->ca_mailbox_bytes &&
	    a->ca_overflow == b->ca_overflow &&
	    a->ca_inflight == b->ca_inflight &&
	    a->ca_shutdown_ms == b->ca_shutdown_ms &&
	    a->ca_durable == b->ca_durable;
}

bool
br_conf_sup_same(const struct br_conf_sup *a, const struct br_conf_sup *b)
{
	return strcmp(a->cs_name, b->cs_name) == 0 &&
	    strcmp(a->cs_parent, b->cs_parent) == 0 &&
	    a->cs_strategy == b->cs_strategy &&
	    a->cs_intensity == b->cs_intensity &&
	    a->cs_period_ms == b->cs_period_ms &&
	    a->cs_backoff_min_ms == b->cs_backoff_min_ms &&
	    a->cs_backoff_max_ms == b->cs_backoff_max_ms;
}

const char *
br_overflow_name(enum br_overflow o)
{
	return (unsigned)o < 4 ? ovf_words[o] : "?";
}

const char *
br_restart_name(enum br_restart r)
{
	return (unsigned)r < 3 ? rs_words[r] : "?";
}

const char *
br_strategy_name(enum br_strategy s)
{
	return (unsigned)s < 3 ? st_words[s] : "?";
}

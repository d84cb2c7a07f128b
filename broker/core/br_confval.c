/*
 * br_confval — the schema of the trouped configuration: the key tables of
 * every section, the value checks and parsers behind them, the defaults,
 * and the canonical printer.  br_conf.c drives libinih over these tables.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "br_conf.h"
#include "br_conf_int.h"
#include "tp_topic.h"

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

const struct br_key br_confval_node_keys[] = {
	{ "name", VT_NAME, KS(br_conf, c_node), 0, 0, NULL },
	{ "listen", VT_URL, KS(br_conf, c_listen), 0, 0, NULL },
	{ "advertise", VT_OPTURL, KS(br_conf, c_advertise), 0, 0, NULL },
	{ "run_dir", VT_PATH, KS(br_conf, c_run_dir), 0, 0, NULL },
	{ "metrics", VT_HTTP, KS(br_conf, c_metrics), 0, 0, NULL },
	{ "drain_timeout", VT_DUR, KS(br_conf, c_drain_timeout_ms), 0,
	    BR_HOUR_MS, NULL },
	{ "send_window", VT_U32, KS(br_conf, c_send_window), 1, 65536, NULL },
	{ "spin_us", VT_U32, KS(br_conf, c_spin_us), 0, BR_SPIN_US_MAX, NULL },
	{ "max_pending", VT_U32, KS(br_conf, c_max_pending), 1, 1 << 24,
	    NULL },
	{ "max_clients", VT_U32, KS(br_conf, c_max_clients), 1, 4096, NULL },
	{ "client_window", VT_U32, KS(br_conf, c_client_window), 1, 65536,
	    NULL },
	{ "ask_ttl", VT_DUR, KS(br_conf, c_ask_ttl_ms), 1, 24 * BR_HOUR_MS,
	    NULL },
	{ "max_body", VT_SIZE, KS(br_conf, c_max_body), 64, 64 << 20, NULL },
	{ "max_depth", VT_U32, KS(br_conf, c_max_depth), 1, 16, NULL },
	{ "data_dir", VT_PATH, KS(br_conf, c_data_dir), 0, 0, NULL },
	{ "fsync", VT_ENUM, KS(br_conf, c_fsync), 0, 0, fsync_words },
	{ "fsync_interval", VT_DUR, KS(br_conf, c_fsync_interval_ms), 1,
	    10 * BR_SEC_MS, NULL },
	{ "allow_uids", VT_UIDS, KS(br_conf, c_allow_uids), 0, 0, NULL },
	{ "allow_group", VT_OPTNAME, KS(br_conf, c_allow_group), 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

const struct br_key br_confval_cluster_keys[] = {
	{ "name", VT_NAME, KS(br_conf, c_cluster_name), 0, 0, NULL },
	{ "discovery", VT_WORD, KS(br_conf, c_discovery), 0, 0, disc_words },
	{ "group", VT_GROUP, KS(br_conf, c_group), 0, 0, NULL },
	{ "interface", VT_IPV4, KS(br_conf, c_interface), 0, 0, NULL },
	{ "seeds", VT_SEEDS, KS(br_conf, c_seeds), 0, 0, NULL },
	{ "key_file", VT_PATH, KS(br_conf, c_key_file), 0, 0, NULL },
	{ "encrypt", VT_WORD, KS(br_conf, c_encrypt), 0, 0, onoff_words },
	{ "beacon_interval", VT_DUR, KS(br_conf, c_beacon_interval_ms), 10,
	    60 * BR_SEC_MS, NULL },
	{ "suspect_after", VT_DUR, KS(br_conf, c_suspect_after_ms), 10,
	    BR_HOUR_MS, NULL },
	{ "dead_after", VT_DUR, KS(br_conf, c_dead_after_ms), 10, BR_HOUR_MS,
	    NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

const struct br_key br_confval_sup_keys[] = {
	{ "strategy", VT_ENUM, KS(br_conf_sup, cs_strategy), 0, 0, st_words },
	{ "intensity", VT_U32, KS(br_conf_sup, cs_intensity), 0, 10000,
	    NULL },
	{ "period", VT_DUR, KS(br_conf_sup, cs_period_ms), 1, 24 * BR_HOUR_MS,
	    NULL },
	{ "parent", VT_NAME, KS(br_conf_sup, cs_parent), 0, 0, NULL },
	{ "backoff_min", VT_DUR, KS(br_conf_sup, cs_backoff_min_ms), 0,
	    BR_HOUR_MS, NULL },
	{ "backoff_max", VT_DUR, KS(br_conf_sup, cs_backoff_max_ms), 0,
	    BR_HOUR_MS, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

const struct br_key br_confval_actor_keys[] = {
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
	{ "shutdown", VT_DUR, KS(br_conf_actor, ca_shutdown_ms), 0, BR_HOUR_MS,
	    NULL },
	{ "durable", VT_ENUM, KS(br_conf_actor, ca_durable), 0, 0,
	    bool_words },
	{ "instances", VT_U32, KS(br_conf_actor, ca_instances), 0,
	    BR_POOL_MAX, NULL },
	{ "subscribe", VT_TOPICS, KS(br_conf_actor, ca_subscribe), 0, 0,
	    NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL }
};

/* Copies s for an error message: bounded, control bytes made visible. */
const char *
br_confval_quote(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

bool
br_confval_name_ok(const char *s)
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

struct unit {
	const char	*u_name;
	uint64_t	 u_mul;
};

/* Parses digits then one of the n unit suffixes; out = number * unit. */
static int
parse_units(const char *s, const struct unit *units, size_t n,
    uint64_t *out)
{
	const char *end;
	uint64_t v;
	size_t i;

	if (parse_u64(s, &end, &v) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcmp(end, units[i].u_name) != 0)
			continue;
		if (v > UINT64_MAX / units[i].u_mul)
			return -1;
		*out = v * units[i].u_mul;
		return 0;
	}
	return -1;
}

int
br_parse_duration(const char *s, uint64_t *ms)
{
	static const struct unit units[] = {
		{ "", 1 }, { "ms", 1 }, { "s", BR_SEC_MS },
		{ "m", 60 * BR_SEC_MS }, { "h", BR_HOUR_MS } };

	return parse_units(s, units, sizeof(units) / sizeof(units[0]), ms);
}

int
br_parse_size(const char *s, uint64_t *bytes)
{
	static const struct unit units[] = {
		{ "", 1 }, { "K", 1ULL << 10 }, { "KiB", 1ULL << 10 },
		{ "M", 1ULL << 20 }, { "MiB", 1ULL << 20 },
		{ "G", 1ULL << 30 }, { "GiB", 1ULL << 30 } };

	return parse_units(s, units, sizeof(units) / sizeof(units[0]),
	    bytes);
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

/* "A.B.C.D:PORT" with the address in 224.0.0.0/4, or "auto" (drawn from
 * the cluster key by br_disc, as zero-config nodes do). */
static bool
group_ok(const char *s)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	struct in_addr in;

	if (strcmp(s, "auto") == 0)
		return true;
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

/* A subscription pattern (tp_topic: words, `*`, a last `>`). */
static bool
topic_ok(const char *s, size_t len)
{
	return tp_topic_pattern_ok(s, len);
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
		return br_confval_name_ok(v);
	case VT_OPTNAME:
		return v[0] == '\0' || br_confval_name_ok(v);
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

	br_confval_quote(v, q, sizeof(q));
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
	case VT_TOPICS:
		snprintf(msg, len, "expected topic patterns \"a.b, c.*, d.>\" "
		    "(words of A-Z a-z 0-9 _ -, `*` one word, a last `>` the "
		    "rest; %d at most, %d bytes in all), got '%s'", BR_SUBS_MAX,
		    BR_SUBS_TEXT - 1, q);
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
		    "(224.0.0.0/4) or auto, got '%s'", q);
		break;
	case VT_HTTP:
		snprintf(msg, len, "expected http://HOST:PORT/PATH, got '%s'",
		    q);
		break;
	}
}

/* Parses v for key k into the field of obj; on failure msg says why. */
int
br_confval_set(const struct br_key *k, void *obj, const char *v,
    char *msg, size_t len)
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
	case VT_TOPICS:
		rc = v[0] == '\0' ? (dst[0] = '\0', 0) :
		    list_set(v, dst, k->k_size, topic_ok);
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

void
br_confval_defaults(struct br_conf *c)
{
	default_node(c->c_node, sizeof(c->c_node));
	strcpy(c->c_listen, "tcp://0.0.0.0:7447");
	c->c_drain_timeout_ms = 10 * BR_SEC_MS;
	c->c_send_window = 1024;
	c->c_max_pending = 65536;
	c->c_max_clients = 64;
	c->c_client_window = 1024;
	c->c_ask_ttl_ms = 60 * BR_SEC_MS;
	c->c_max_body = 1 << 20;
	c->c_max_depth = 16;
	c->c_fsync = BR_FSYNC_BATCH;
	c->c_fsync_interval_ms = 10;
	strcpy(c->c_cluster_name, "troupe");
	strcpy(c->c_discovery, "off");
	strcpy(c->c_encrypt, "on");
	strcpy(c->c_group, "239.255.42.99:7446");
	strcpy(c->c_interface, "127.0.0.1");
	c->c_beacon_interval_ms = BR_SEC_MS;
	c->c_suspect_after_ms = 3 * BR_SEC_MS;
	c->c_dead_after_ms = 4500;	/* B7: failure declared < 5 s */
}

void
br_confval_sup_defaults(struct br_conf_sup *s, const char *name,
    int line)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->cs_name, sizeof(s->cs_name), "%s", name);
	if (strcmp(name, "root") != 0)
		strcpy(s->cs_parent, "root");
	s->cs_strategy = BR_ST_ONE_FOR_ONE;
	s->cs_intensity = 5;
	s->cs_period_ms = 10 * BR_SEC_MS;
	s->cs_backoff_min_ms = 100;
	s->cs_backoff_max_ms = 5 * BR_SEC_MS;
	s->cs_line = line;
}

void
br_confval_actor_defaults(struct br_conf_actor *a, const char *name,
    int line)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->ca_name, sizeof(a->ca_name), "%s", name);
	strcpy(a->ca_supervisor, "root");
	a->ca_restart = BR_RS_PERMANENT;
	a->ca_mailbox = 4096;
	a->ca_mailbox_bytes = 8 << 20;
	a->ca_overflow = BR_OVF_BLOCK;
	a->ca_inflight = 0;	/* br_conf: 1024, or BR_POOL_INFLIGHT */
	a->ca_shutdown_ms = 5 * BR_SEC_MS;
	a->ca_line = line;
}

/* Why val would not read back from br_conf_print's output the same, or
 * NULL: inih takes ';' after a blank for a comment, lines end at '\n'. */
const char *
br_confval_why(const char *val)
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
		if (!(root && tab == br_confval_sup_keys && k->k_off ==
		    offsetof(struct br_conf_sup, cs_parent)))
			key_print(k, obj, fp);
}

void
br_conf_print(const struct br_conf *conf, FILE *fp)
{
	size_t i;

	fprintf(fp, "[node]\n");
	keys_print(br_confval_node_keys, conf, false, fp);
	fprintf(fp, "\n[cluster]\n");
	keys_print(br_confval_cluster_keys, conf, false, fp);
	for (i = 0; i < conf->c_nsups; i++) {
		fprintf(fp, "\n[supervisor %s]\n", conf->c_sups[i].cs_name);
		keys_print(br_confval_sup_keys, &conf->c_sups[i],
		    strcmp(conf->c_sups[i].cs_name, "root") == 0, fp);
	}
	for (i = 0; i < conf->c_nactors; i++) {
		fprintf(fp, "\n[actor %s]\n", conf->c_actors[i].ca_name);
		keys_print(br_confval_actor_keys, &conf->c_actors[i], false,
		    fp);
	}
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
